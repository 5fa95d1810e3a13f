import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext } from '../support/lambda.js';

type Handler = (
  event: unknown,
  context: ReturnType<typeof lambdaContext>,
) => Promise<SweepSummary & Record<string, unknown>>;

let engines: TestEngines;
let handler: Handler;
const invoke = (payload: unknown) => handler(payload, lambdaContext('retry-sweep'));

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const minutesAhead = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

/** The ids on one lane's queue. */
async function drainLane(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages } = await engines.sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
      }),
    );
    if (!Messages?.length) return ids;
    ids.push(...Messages.map((m) => (JSON.parse(m.Body!) as { id: string }).id));
  }
}

/** The ids on both lanes' queues. */
const drainQueue = async (): Promise<string[]> => [
  ...(await drainLane(engines.priorityQueueUrl)),
  ...(await drainLane(engines.queueUrl)),
];

async function seed(...notifications: Notification[]): Promise<Notification[]> {
  for (const n of notifications) await engines.store.create(n);
  return notifications;
}

beforeAll(async () => {
  engines = await startTestEngines();
  vi.resetModules();
  for (const [key, value] of Object.entries(engines.env)) vi.stubEnv(key, value);
  handler = ((await import('../../functions/retry-sweep/handler.js')) as unknown as { handler: Handler }).handler;
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await engines?.stop();
});

describe('retry-sweep handler', () => {
  let due: Notification[];
  beforeEach(async () => {
    // Everything due from earlier tests is settled first, so each test sees only its own seed.
    await invoke({ limit: 1000 });
    await drainQueue();
    due = await seed(
      makeNotification({ status: 'failed', attempts: 2, nextAttemptAt: minutesAgo(5), priority: 'normal' }),
      makeNotification({
        status: 'failed',
        attempts: 3,
        nextAttemptAt: minutesAgo(1),
        priority: 'high',
        category: 'otp',
      }),
      makeNotification({ status: 'pending', attempts: 0, nextAttemptAt: minutesAgo(40) }),
    );
    await seed(
      makeNotification({ status: 'failed', attempts: 1, nextAttemptAt: minutesAhead(30) }),
      makeNotification({ status: 'sent', attempts: 1, nextAttemptAt: undefined, sentAt: minutesAgo(3) }),
    );
  });

  it('dry run reports what it would do and changes nothing anywhere', async () => {
    const before = await Promise.all(due.map((n) => engines.store.get(n.id)));
    const summary = await invoke({ dryRun: true, verbose: true });
    expect(summary).toMatchObject({ dryRun: true, found: 3, queued: 3, exhausted: 0, skipped: 0, maxRetries: 10 });
    expect(summary.notifications?.map((n) => n.action)).toEqual(['queue', 'queue', 'queue']);
    expect(summary.notifications?.[0]?.recipient).toBe('*******3456');
    expect(await Promise.all(due.map((n) => engines.store.get(n.id)))).toEqual(before);
    expect(await drainQueue()).toEqual([]);
  });

  it('queues due work, high priority first and in its lane, and hides it from the next sweep', async () => {
    const summary = await invoke({ verbose: true });
    expect(summary).toMatchObject({ dryRun: false, found: 3, queued: 3 });
    expect(summary.notifications?.[0]?.priority).toBe('high');
    expect(await drainLane(engines.priorityQueueUrl)).toEqual([due[1]!.id]);
    expect((await drainLane(engines.queueUrl)).sort()).toEqual([due[0]!.id, due[2]!.id].sort());
    const again = await invoke({});
    expect(again.found).toBe(0);
  });

  it('two overlapping sweeps never enqueue the same notification twice', async () => {
    const [a, b] = await Promise.all([invoke({}), invoke({})]);
    expect(a.queued + b.queued).toBe(3);
    const ids = await drainQueue();
    expect(ids.length).toBe(3);
    expect(new Set(ids).size).toBe(3);
  });

  it('leaves alone, for a later run, what reached a lowered maxRetries below its own limit', async () => {
    const summary = await invoke({ maxRetries: 3, verbose: true });
    expect(summary).toMatchObject({ found: 3, queued: 2, exhausted: 0, skipped: 1, maxRetries: 3 });
    expect(await engines.store.get(due[1]!.id)).toEqual(due[1]);
  });

  it('honours the limit', async () => {
    const summary = await invoke({ limit: 2 });
    expect(summary.found).toBe(2);
    expect(summary.notifications).toBeUndefined();
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ dryRun: 'yes' }, 'dryRun'],
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ unexpected: true }, 'unexpected'],
    ['hello', ''],
  ])('refuses the payload %j with a validation error naming %s', async (payload, path) => {
    const result = (await invoke(payload)) as unknown as {
      statusCode: number;
      error: string;
      details: { path: string }[];
    };
    expect(result.statusCode).toBe(400);
    expect(result.error).toBe('validation_error');
    expect(result.details.map((d) => d.path)).toContain(path);
    expect(await engines.store.get(due[0]!.id)).toMatchObject({ version: due[0]!.version });
  });

  it('runs with the defaults on an EventBridge scheduled event', async () => {
    const summary = await invoke({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
    expect(summary).toMatchObject({ dryRun: false, found: 3, queued: 3, limit: 500 });
  });
});
