// The callback queue (SQS): the movers put each status callback on it; the dispatcher takes them off, sends a failed
// one back with a delay (a new message per try: no Lambda waits), and puts what it gives up on in the callback DLQ.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  type CallbackMessage,
  type CallbackQueue,
  type CallbackRetryQueue,
  MAX_QUEUE_DELAY_SECONDS,
} from '../../application/ports.js';
import type { CallbackTarget, OutgoingCallback } from '../../domain/callbacks.js';

export class SqsCallbackQueue implements CallbackQueue, CallbackRetryQueue {
  constructor(
    private readonly options: {
      client: SQSClient;
      queueUrl: string;
      /** The dispatcher's only: where exhausted and unreadable messages go. */
      dlqUrl?: string;
      clock?: () => Date;
    },
  ) {}

  async enqueue(callback: OutgoingCallback, target: CallbackTarget): Promise<void> {
    const message: CallbackMessage = {
      id: callback.id,
      event: callback.event,
      target,
      emittedAt: (this.options.clock ?? (() => new Date()))().toISOString(),
      attempts: 0,
    };
    await this.send(this.options.queueUrl, JSON.stringify(message));
  }

  async retry(message: CallbackMessage, delaySeconds: number): Promise<void> {
    const delay = Math.min(Math.max(0, Math.ceil(delaySeconds)), MAX_QUEUE_DELAY_SECONDS);
    await this.send(this.options.queueUrl, JSON.stringify(message), delay);
  }

  async deadLetter(body: string): Promise<void> {
    if (!this.options.dlqUrl) throw new Error('no callback DLQ configured');
    await this.send(this.options.dlqUrl, body);
  }

  private async send(queueUrl: string, body: string, delaySeconds?: number): Promise<void> {
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}),
      }),
    );
  }
}
