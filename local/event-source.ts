// The SQS event source mapping, on a laptop: poll a queue (a send lane, the callback queue), hand its function batches
// of up to ten in Lambda's event shape, delete only what it did not report as failed (ReportBatchItemFailures);
// the rest reappears after the visibility timeout and reaches the DLQ after maxReceiveCount receives.
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Consumer } from 'sqs-consumer';
import { SEND_BATCH_SIZE } from '../shared/adapters/sqs/queue-settings.js';
import { lambdaContext } from './aws-events.js';
import type { LambdaHandler } from './functions.js';

export interface EventSourceOptions {
  /** The function it triggers, as its context names it ('sender' unless given). */
  functionName?: string;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: LambdaHandler;
  /** Concurrent pollers, as the mapping's maximum concurrency. */
  maxConcurrency: number;
  /** Messages per batch (the mapping's batch size); SEND_BATCH_SIZE by default. */
  batchSize?: number;
  /** Long-poll wait; Lambda uses 20 s, the tests less. */
  waitTimeSeconds?: number;
  onError?: (error: Error) => void;
}

/** One received SQS message as Lambda's event source mapping hands it to the function. */
export function recordOf(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export function startEventSource(options: EventSourceOptions): { stop(): Promise<void> } {
  const region = options.queueArn.split(':')[3] ?? 'us-east-1';
  const queueName = options.queueArn.split(':').at(-1);
  // Batches being handled: stopping waits for them, as Lambda lets a running invocation finish, so that none
  // writes to an engine the stack has already stopped.
  const running = new Set<Promise<unknown>>();
  const consumers = Array.from({ length: options.maxConcurrency }, (_, poller) =>
    Consumer.create({
      queueUrl: options.queueUrl,
      sqs: options.sqs,
      batchSize: options.batchSize ?? SEND_BATCH_SIZE,
      waitTimeSeconds: options.waitTimeSeconds ?? 20,
      pollingWaitTimeMs: 0,
      attributeNames: ['All'],
      handleMessageBatch: async (messages) => {
        const event: SQSEvent = { Records: messages.map((m) => recordOf(m, options.queueArn, region)) };
        let result: SQSBatchResponse | undefined;
        try {
          // One execution environment per poller, as on Lambda: per-instance state (the sender's pacing) is its own.
          const context = lambdaContext(options.functionName ?? 'sender', { instance: `${queueName}/${poller}` });
          const invocation = options.handler(event, context);
          running.add(invocation);
          try {
            result = (await invocation) as SQSBatchResponse | undefined;
          } finally {
            running.delete(invocation);
          }
        } catch (error) {
          // A function error: Lambda deletes nothing, the whole batch comes back later.
          options.onError?.(error as Error);
          return [];
        }
        const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        return messages.filter((m) => !failed.has(m.MessageId!));
      },
    }),
  );
  let stopping = false;
  // Aborting the long polls on stop is expected, not worth a line.
  const report = (error: Error) => {
    if (!stopping) options.onError?.(error);
  };
  for (const consumer of consumers) {
    consumer.on('error', report);
    consumer.on('processing_error', report);
    consumer.start();
  }
  return {
    async stop() {
      stopping = true;
      await Promise.all(
        consumers.map(
          (consumer) =>
            new Promise<void>((resolve) => {
              if (!consumer.status.isRunning) return resolve();
              consumer.once('stopped', () => resolve());
              consumer.stop({ abort: true });
            }),
        ),
      );
      await Promise.allSettled([...running]);
    },
  };
}
