// The send queue (SQS): only the fast path. The table is the source of truth, so a message that
// never arrives only delays a notification until the next sweep.
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_QUEUE_DELAY_SECONDS, type SendMessage, type SendQueue } from '../../application/ports.js';

/** SQS allows 10 entries per SendMessageBatch and 900 s of DelaySeconds. */
const SQS_BATCH_LIMIT = 10;

export interface SendQueueOptions {
  client: SQSClient;
  queueUrl: string;
  dlqUrl?: string;
}

export class SqsSendQueue implements SendQueue {
  constructor(private readonly options: SendQueueOptions) {}

  async enqueue(message: SendMessage, delaySeconds = 0): Promise<void> {
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(Math.max(0, Math.ceil(delaySeconds)), MAX_QUEUE_DELAY_SECONDS),
      }),
    );
  }

  /** Enqueues ids by batches of ten; reports which ids SQS refused instead of throwing for them. */
  async enqueueMany(ids: readonly string[]): Promise<{ queued: string[]; failed: string[] }> {
    const queued: string[] = [];
    const failed: string[] = [];
    for (let start = 0; start < ids.length; start += SQS_BATCH_LIMIT) {
      const chunk = ids.slice(start, start + SQS_BATCH_LIMIT);
      try {
        const result = await this.options.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((id, index) => ({ Id: String(index), MessageBody: JSON.stringify({ id }) })),
          }),
        );
        const refused = new Set((result.Failed ?? []).map((entry) => Number(entry.Id)));
        chunk.forEach((id, index) => {
          (refused.has(index) ? failed : queued).push(id);
        });
      } catch {
        failed.push(...chunk);
      }
    }
    return { queued, failed };
  }

  /** Messages waiting in the dead-letter queue (visible + in flight), or undefined without a DLQ. */
  async dlqDepth(): Promise<number | undefined> {
    return this.options.dlqUrl ? queueDepth(this.options.client, this.options.dlqUrl) : undefined;
  }
}

/** Messages in a queue, visible or in flight. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}
