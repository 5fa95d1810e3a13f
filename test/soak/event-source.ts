// The SQS event source of the send queue, as the soak plays it: each sender instance takes batches of
// ten, partial batch failures come back after the queue's visibility timeout (in virtual time, then
// the DLQ after the redrive count), and some messages are delivered twice, as SQS may.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../../local/aws-events.js';
import { recordOf } from '../../local/event-source.js';
import { SEND_QUEUE_VISIBILITY_SECONDS } from '../../shared/adapters/sqs/queue-settings.js';
import { QUEUE_ARN, REGION } from './engines.js';
import type { MessageTrace } from './message-trace.js';
import { SECOND } from './support.js';

export type SenderHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

export class SoakEventSource {
  duplicatesInjected = 0;
  private readonly redeliveries: { handle: string; at: number }[] = [];

  constructor(
    private readonly options: {
      sqs: SQSClient;
      queueUrl: string;
      /** One handler per sender instance, each with its own state (its circuit cache). */
      senders: readonly SenderHandler[];
      clock: () => number;
      random: () => number;
      /** Share of received messages delivered a second time. */
      duplicateRate: number;
      /** Where each receipt and its outcome are noted. */
      trace?: MessageTrace;
    },
  ) {}

  /** When the next failed message becomes visible again, if any. */
  nextRedelivery(): number {
    return Math.min(Number.POSITIVE_INFINITY, ...this.redeliveries.map((r) => r.at));
  }

  /** One round: each sender instance takes a batch. Returns the number of messages taken. */
  async round(): Promise<number> {
    const { sqs, queueUrl, senders, clock } = this.options;
    for (let i = this.redeliveries.length - 1; i >= 0; i--) {
      if (this.redeliveries[i]!.at > clock()) continue;
      const { handle } = this.redeliveries.splice(i, 1)[0]!;
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }),
      );
    }
    const batches = await Promise.all(senders.map(() => this.receive()));
    await Promise.all(batches.map((batch, i) => (batch.length > 0 ? this.deliver(batch, senders[i]!) : undefined)));
    return batches.reduce((total, batch) => total + batch.length, 0);
  }

  private async receive(): Promise<Message[]> {
    const { Messages } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        // Hidden until this source deletes them or makes them visible again (virtual time rules, not fauxqs's).
        VisibilityTimeout: 43_200,
        AttributeNames: ['All'],
      }),
    );
    return Messages ?? [];
  }

  private async deliver(messages: Message[], sender: SenderHandler): Promise<void> {
    const { sqs, queueUrl, random, clock } = this.options;
    const event: SQSEvent = { Records: messages.map((m) => recordOf(m, QUEUE_ARN, REGION)) };
    for (const m of messages) {
      if (random() < this.options.duplicateRate) {
        this.duplicatesInjected++;
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.Body ?? '' }));
      }
    }
    let failed: Set<string>;
    try {
      const result = (await sender(event, lambdaContext('sender'))) as SQSBatchResponse;
      failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(messages.map((m) => m.MessageId!));
    }
    for (const m of messages) {
      const receipt = `received (receive count ${m.Attributes?.ApproximateReceiveCount ?? '?'})`;
      if (failed.has(m.MessageId!)) {
        this.options.trace?.noteBody(m.Body, `${receipt}: failed, visible again in ${SEND_QUEUE_VISIBILITY_SECONDS} s`);
        this.redeliveries.push({ handle: m.ReceiptHandle!, at: clock() + SEND_QUEUE_VISIBILITY_SECONDS * SECOND });
      } else {
        this.options.trace?.noteBody(m.Body, `${receipt}: done`);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }
}
