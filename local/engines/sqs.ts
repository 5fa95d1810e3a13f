// SQS on a laptop: fauxqs (AWS JSON protocol, visibility timeouts, DLQ redrive), with the send queues, the callback
// queue and their DLQs created as the CDK stack creates them.
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import {
  CALLBACK_QUEUE_MAX_RECEIVE_COUNT,
  CALLBACK_QUEUE_VISIBILITY_SECONDS,
  SEND_DLQ_RETENTION_SECONDS,
  SEND_QUEUE_MAX_RECEIVE_COUNT,
  SEND_QUEUE_VISIBILITY_SECONDS,
} from '../../shared/adapters/sqs/queue-settings.js';

export interface RunningSqs {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * fauxqs names its queues http://sqs.<region>.localhost:<port>/<account>/<name>; SDK clients send
 * to their configured endpoint, and fauxqs finds the queue by that URL, so no DNS is involved.
 */
export async function startSqs(options: { port?: number } = {}): Promise<RunningSqs> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

export interface SendQueues {
  /** The standard lane. */
  queueUrl: string;
  /** The priority lane (OTPs, critical categories). */
  priorityQueueUrl: string;
  /** Both lanes' dead-letter queue. */
  dlqUrl: string;
}

/** Creates (or finds) the two send queues and their DLQ with the deployed redrive policy. */
export async function createSendQueues(
  client: SQSClient,
  options: { name?: string; visibilityTimeoutSeconds?: number } = {},
): Promise<SendQueues> {
  const name = options.name ?? 'notifications-send';
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq`,
      Attributes: { MessageRetentionPeriod: String(SEND_DLQ_RETENTION_SECONDS) },
    }),
  );
  const dlqUrl = dlq.QueueUrl!;
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const [queueUrl, priorityQueueUrl] = await Promise.all(
    [name, `${name}-priority`].map(async (queueName) => {
      const queue = await client.send(
        new CreateQueueCommand({
          QueueName: queueName,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? SEND_QUEUE_VISIBILITY_SECONDS),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: Attributes?.QueueArn,
              maxReceiveCount: SEND_QUEUE_MAX_RECEIVE_COUNT,
            }),
          },
        }),
      );
      return queue.QueueUrl!;
    }),
  );
  return { queueUrl: queueUrl!, priorityQueueUrl: priorityQueueUrl!, dlqUrl };
}

export interface CallbackQueues {
  callbackQueueUrl: string;
  callbackDlqUrl: string;
}

/** Creates (or finds) the callback queue and its DLQ, as the CDK stack creates them. */
export async function createCallbackQueues(
  client: SQSClient,
  options: { name?: string; visibilityTimeoutSeconds?: number } = {},
): Promise<CallbackQueues> {
  const name = options.name ?? 'notifications-callbacks';
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq`,
      Attributes: { MessageRetentionPeriod: String(SEND_DLQ_RETENTION_SECONDS) },
    }),
  );
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? CALLBACK_QUEUE_VISIBILITY_SECONDS),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: CALLBACK_QUEUE_MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  return { callbackQueueUrl: queue.QueueUrl!, callbackDlqUrl: dlq.QueueUrl! };
}
