// The send queue (SQS): only the fast path. The table is the source of truth, so a message that
// never arrives only delays a notification until the next sweep.
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_QUEUE_DELAY_SECONDS, type SendMessage, type SendQueue } from '../../application/ports.js';
import { type Lane, laneOf, type Priority, type QueueTicket } from '../../domain/notification.js';

/** SQS allows 10 entries per SendMessageBatch and 900 s of DelaySeconds. */
const SQS_BATCH_LIMIT = 10;

export interface SendQueueOptions {
  client: SQSClient;
  /** The standard lane. */
  queueUrl: string;
  /** The priority lane (OTPs, critical categories); without it, every notification takes `queueUrl`. */
  priorityQueueUrl?: string;
  dlqUrl?: string;
}

export class SqsSendQueue implements SendQueue {
  constructor(private readonly options: SendQueueOptions) {}

  private urlOf(lane: Lane): string {
    return lane === 'priority' ? (this.options.priorityQueueUrl ?? this.options.queueUrl) : this.options.queueUrl;
  }

  async enqueue(message: SendMessage, options: { priority: Priority; delaySeconds?: number }): Promise<void> {
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.urlOf(laneOf(options)),
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(Math.max(0, Math.ceil(options.delaySeconds ?? 0)), MAX_QUEUE_DELAY_SECONDS),
      }),
    );
  }

  /** Enqueues by batches of ten, each to its lane; reports which SQS refused instead of throwing for them. */
  async enqueueMany<T extends QueueTicket>(tickets: readonly T[]): Promise<{ queued: T[]; failed: T[] }> {
    const queued: T[] = [];
    const failed: T[] = [];
    // The priority lane first: those are the ones somebody is waiting for.
    for (const lane of ['priority', 'standard'] as const) {
      const onLane = tickets.filter((ticket) => laneOf(ticket) === lane);
      for (let start = 0; start < onLane.length; start += SQS_BATCH_LIMIT) {
        const chunk = onLane.slice(start, start + SQS_BATCH_LIMIT);
        try {
          const result = await this.options.client.send(
            new SendMessageBatchCommand({
              QueueUrl: this.urlOf(lane),
              Entries: chunk.map((t, index) => ({ Id: String(index), MessageBody: JSON.stringify({ id: t.id }) })),
            }),
          );
          const refused = new Set((result.Failed ?? []).map((entry) => Number(entry.Id)));
          chunk.forEach((ticket, index) => {
            (refused.has(index) ? failed : queued).push(ticket);
          });
        } catch {
          failed.push(...chunk);
        }
      }
    }
    return { queued, failed };
  }

  /** Messages waiting in the dead-letter queue (visible + in flight), or undefined without a DLQ. */
  async dlqDepth(): Promise<number | undefined> {
    return this.options.dlqUrl ? queueDepth(this.options.client, this.options.dlqUrl) : undefined;
  }
}

/** A queue's name, the last part of its URL (and of its ARN). */
export const queueNameOf = (queueUrl: string): string =>
  new URL(queueUrl).pathname.split('/').filter(Boolean).at(-1) ?? '';

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
