// Each notification travels its priority's lane: high (OTPs, critical categories) on the priority queue, the rest
// on the standard queue, whichever way it is queued (one at a time or by batches), on the real SQS engine.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { createNotification } from '../../shared/domain/new-notification.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';

let engines: TestEngines;
let queue: SqsSendQueue;

async function drain(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages } = await engines.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return ids.sort();
    ids.push(...Messages.map((m) => (JSON.parse(m.Body!) as { id: string }).id));
  }
}

beforeAll(async () => {
  engines = await startTestEngines();
  queue = new SqsSendQueue({
    client: engines.sqsClient,
    queueUrl: engines.queueUrl,
    priorityQueueUrl: engines.priorityQueueUrl,
  });
});
afterAll(async () => {
  await engines?.stop();
});

describe('send lanes', () => {
  it('queues one notification on its lane', async () => {
    const [high, normal] = [ulid(), ulid()];

    await queue.enqueue({ id: high }, { priority: 'high' });
    await queue.enqueue({ id: normal }, { priority: 'normal', delaySeconds: 0 });

    expect(await drain(engines.priorityQueueUrl)).toEqual([high]);
    expect(await drain(engines.queueUrl)).toEqual([normal]);
  });

  it('splits a mixed batch of 25 by lane, and reports every ticket it queued', async () => {
    const tickets = Array.from({ length: 25 }, (_, i) => ({
      id: ulid(),
      priority: i % 3 === 0 ? ('high' as const) : ('normal' as const),
    }));

    const result = await queue.enqueueMany(tickets);

    expect(result.failed).toEqual([]);
    expect(result.queued.map((t) => t.id).sort()).toEqual(tickets.map((t) => t.id).sort());
    const ids = (priority: string) =>
      tickets
        .filter((t) => t.priority === priority)
        .map((t) => t.id)
        .sort();
    expect(await drain(engines.priorityQueueUrl)).toEqual(ids('high'));
    expect(await drain(engines.queueUrl)).toEqual(ids('normal'));
  });

  it('puts configured critical categories on the priority lane, unless the caller says otherwise', () => {
    const policy = { maxAttempts: 5, validitySeconds: {}, criticalCategories: ['otp', 'alerte_douane'] };
    const now = new Date();
    const make = (category: string, priority?: 'high' | 'normal') =>
      createNotification(
        { recipient: { phone: '+22370123456' }, category, message: 'x', ...(priority ? { priority } : {}) },
        { id: ulid(), now, policy },
      ).priority;

    expect(make('alerte_douane')).toBe('high');
    expect(make('otp')).toBe('high');
    expect(make('colis_arrive')).toBe('normal');
    expect(make('alerte_douane', 'normal')).toBe('normal');
    expect(make('colis_arrive', 'high')).toBe('high');
  });
});
