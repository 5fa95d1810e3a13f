// What happened to each notification's queue messages during a soak, in virtual time: every message put on the
// send queue (by the ingest, a sweep, the release, a sender's delayed look, or the event source's duplicates),
// every receipt and what the sender made of it, and what the functions logged about it. The audit reads it back
// for the held notification attempted last, so a slow recovery says where its time went.
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

const idOf = (body: string | undefined): string | undefined => {
  try {
    const parsed = JSON.parse(body ?? '') as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
};

export class MessageTrace {
  private readonly events = new Map<string, string[]>();

  constructor(private readonly clock: () => number) {}

  note(id: string, what: string): void {
    const lines = this.events.get(id) ?? [];
    lines.push(`${new Date(this.clock()).toISOString()} ${what}`);
    this.events.set(id, lines);
  }

  /** A message body's notification id, when it has one. */
  noteBody(body: string | undefined, what: string): void {
    const id = idOf(body);
    if (id !== undefined) this.note(id, what);
  }

  of(id: string): string[] {
    return this.events.get(id) ?? [];
  }

  /** Notes every message `sqs` sends to the queue at `queueUrl` (other queues are not traced). */
  watch(sqs: SQSClient, queueUrl: string): void {
    const send = sqs.send.bind(sqs) as (...args: unknown[]) => Promise<unknown>;
    sqs.send = ((command: unknown, ...rest: unknown[]) => {
      if (command instanceof SendMessageCommand && command.input.QueueUrl === queueUrl) {
        const delay = command.input.DelaySeconds ? ` (delay ${command.input.DelaySeconds} s)` : '';
        this.noteBody(command.input.MessageBody, `queued${delay}`);
      } else if (command instanceof SendMessageBatchCommand && command.input.QueueUrl === queueUrl) {
        for (const entry of command.input.Entries ?? []) this.noteBody(entry.MessageBody, 'queued (batch)');
      }
      return send(command, ...rest);
    }) as typeof sqs.send;
  }
}
