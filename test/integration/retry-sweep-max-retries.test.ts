// The original's `retry_failed_notifications --max-retries=N`, a limit for one run, on real engines: lowered, it
// leaves what reached it for later and exhausts only at a notification's own limit; raised, it re-drives what ended
// at its own limit up to the run's, which then ends there again; a dry run plans the same and writes nothing.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import type { SweepEntry, SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { formatSweepReport } from '../../shared/presentation/sweep-report.js';
import { randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext, sqsEvent } from '../support/lambda.js';

type SweepHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<SweepSummary>;
type SenderHandler = (
  event: ReturnType<typeof sqsEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<SQSBatchResponse>;

const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };

let engines: TestEngines;
let sandbox: WaChapSandbox;
let dynamo: DynamoDBClient;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const minutesAhead = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

/** The ids waiting on both lanes, taken off the queues. */
async function drainQueues(): Promise<string[]> {
  const ids: string[] = [];
  for (const queueUrl of [engines.priorityQueueUrl, engines.queueUrl]) {
    for (;;) {
      const { Messages } = await engines.sqsClient.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!Messages?.length) break;
      ids.push(...Messages.map((m) => (JSON.parse(m.Body!) as { id: string }).id));
    }
  }
  return ids;
}

/** MAX_RETRIES is 10 (the default): a table of its own, and the sweep and the sender on it. */
async function world() {
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  vi.resetModules();
  vi.unstubAllEnvs();
  for (const [key, value] of Object.entries({
    ...engines.env,
    ...CREDENTIALS,
    WACHAP_BASE_URL: sandbox.url,
    WACHAP_TIMEOUT_MS: '400',
    CIRCUIT_CACHE_SECONDS: '0',
    TABLE_NAME: tableName,
  })) {
    vi.stubEnv(key, value);
  }
  const sweep = ((await import('../../functions/retry-sweep/handler.js')) as unknown as { handler: SweepHandler })
    .handler;
  const sender = ((await import('../../functions/sender/handler.js')) as unknown as { handler: SenderHandler }).handler;
  const store: Store = dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });
  return {
    store,
    sweep: (payload: Record<string, unknown>) => sweep(payload, lambdaContext('retry-sweep')),
    async seed(...notifications: Notification[]) {
      for (const n of notifications) await store.create(n);
      return notifications;
    },
    /** Everything on the queues goes to the sender, as the event sources would hand it over. */
    async deliverQueued() {
      const ids = await drainQueues();
      if (ids.length > 0) await sender(sqsEvent(ids.map((id) => JSON.stringify({ id }))), lambdaContext('sender'));
      return ids;
    },
    /** A failed notification's backoff skipped: due now. */
    async makeDue(id: string) {
      const n = (await store.get(id))!;
      await store.save({ ...n, nextAttemptAt: minutesAgo(1), version: n.version + 1 }, n.version);
    },
  };
}

const byId = (summary: SweepSummary) =>
  Object.fromEntries((summary.notifications ?? []).map((e) => [e.id, e])) as Record<string, SweepEntry>;
/** What a plan says, without the fields that only a real run or the clock decide. */
const plan = (summary: SweepSummary) => {
  const { dryRun: _dryRun, now: _now, notifications, ...counts } = summary;
  return { counts, entries: notifications?.map(({ note: _note, ...entry }) => entry) };
};

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([
    startTestEngines(),
    startWaChapSandbox({ instanceId: CREDENTIALS.WACHAP_INSTANCE_ID, accessToken: CREDENTIALS.WACHAP_ACCESS_TOKEN }),
  ]);
  dynamo = engines.dynamoClient;
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});
beforeEach(async () => {
  sandbox.reset();
  await drainQueues();
});

describe('retry sweep: a lowered --max-retries', () => {
  it('exhausts nothing below its own limit: what reached the run limit is skipped and queued by a later run', async () => {
    const w = await world();
    const [reached, ownLimit, fresh] = await w.seed(
      makeNotification({ status: 'failed', attempts: 3, maxAttempts: 10, nextAttemptAt: minutesAgo(5) }),
      // Its own limit (5) reached by an attempt whose sender died: that one ends.
      makeNotification({
        status: 'failed',
        attempts: 4,
        maxAttempts: 5,
        nextAttemptAt: minutesAgo(3),
        inFlight: { token: 'dead', since: minutesAgo(30), leaseUntil: minutesAgo(28) },
      }),
      makeNotification({ status: 'failed', attempts: 1, maxAttempts: 10, nextAttemptAt: minutesAgo(1) }),
    );
    const stored = async () => Promise.all([reached, ownLimit, fresh].map((n) => w.store.get(n!.id)));
    const before = await stored();

    // Dry run: the plan, nothing written, nothing queued.
    const dry = await w.sweep({ maxRetries: 3, dryRun: true, verbose: true });
    expect(dry).toMatchObject({
      maxRetries: 3,
      configuredMaxRetries: 10,
      maxRetriesChange: 'lowered',
      found: 3,
      queued: 1,
      exhausted: 1,
      skipped: 1,
      redriven: 0,
    });
    expect(byId(dry)[reached!.id]).toMatchObject({ action: 'skip', attempts: 3, maxAttempts: 10 });
    expect(byId(dry)[reached!.id]?.note).toContain("reached this run's limit of 3, left for a later run");
    expect(byId(dry)[ownLimit!.id]).toMatchObject({ action: 'exhaust' });
    expect(byId(dry)[fresh!.id]).toMatchObject({ action: 'queue' });
    expect(await stored()).toEqual(before);
    expect(await drainQueues()).toEqual([]);
    const report = formatSweepReport(dry);
    expect(report).toContain('Limite de tentatives : 3 (abaissée pour cette exécution, MAX_RETRIES = 10');
    expect(report).toContain('Tentatives: 3/10');

    // The real run does what the dry run said.
    const run = await w.sweep({ maxRetries: 3, verbose: true });
    expect(plan(run)).toEqual(plan(dry));
    expect(await w.store.get(reached!.id)).toEqual(before[0]);
    expect(await w.store.get(ownLimit!.id)).toMatchObject({
      status: 'permanent_failure',
      reason: 'max_retries_exceeded',
      attempts: 5,
    });
    expect(await drainQueues()).toEqual([fresh!.id]);

    // Not permanent for good: the next run with the usual limit queues it.
    const next = await w.sweep({ verbose: true });
    expect(next).toMatchObject({ maxRetries: 10, maxRetriesChange: 'none', queued: 1, exhausted: 0 });
    expect(await drainQueues()).toEqual([reached!.id]);
    expect(formatSweepReport(next)).toMatch(/Limite de tentatives : 10\n/);
  });
});

describe('retry sweep: a raised --max-retries', () => {
  it('re-drives a notification exhausted at 10 up to 15 attempts, which then ends at 15 again', async () => {
    const w = await world();
    const exhausted = (overrides: Partial<Notification>) =>
      makeNotification({
        status: 'permanent_failure',
        reason: 'max_retries_exceeded',
        attempts: 10,
        maxAttempts: 10,
        nextAttemptAt: undefined,
        updatedAt: minutesAgo(60),
        ...overrides,
      });
    const [atTen, badNumber, atFifteen, staleOtp] = await w.seed(
      exhausted({}),
      exhausted({ reason: 'permanent_error', attempts: 1 }),
      exhausted({ attempts: 15, maxAttempts: 15 }),
      // An OTP whose validity ran out: re-driving it would send a dead code.
      exhausted({ category: 'otp', priority: 'high', expiresAt: minutesAgo(50) }),
    );
    const all = [atTen, badNumber, atFifteen, staleOtp].map((n) => n!.id);
    const before = await Promise.all(all.map((id) => w.store.get(id)));

    // Dry run: the plan, nothing written.
    const dry = await w.sweep({ maxRetries: 15, dryRun: true, verbose: true });
    expect(dry).toMatchObject({
      maxRetries: 15,
      configuredMaxRetries: 10,
      maxRetriesChange: 'raised',
      found: 1,
      redriven: 1,
      queued: 1,
      exhausted: 0,
    });
    expect(dry.notifications).toEqual([
      expect.objectContaining({ id: atTen!.id, action: 'redrive', attempts: 10, maxAttempts: 10, maxRetries: 15 }),
    ]);
    expect(await Promise.all(all.map((id) => w.store.get(id)))).toEqual(before);
    expect(await drainQueues()).toEqual([]);
    const report = formatSweepReport(dry);
    expect(report).toContain('Limite de tentatives : 15 (relevée pour cette exécution, MAX_RETRIES = 10');
    expect(report).toContain('re-driven: limit raised to 15, queued (attempt 11)');
    expect(report).toContain('Relancées          : 1');

    // The real run: raised to 15, awaiting an attempt, queued; the others untouched.
    const run = await w.sweep({ maxRetries: 15, verbose: true });
    expect(plan(run)).toEqual(plan(dry));
    const redriven = await w.store.get(atTen!.id);
    expect(redriven).toMatchObject({ status: 'failed', attempts: 10, maxAttempts: 15 });
    expect(redriven?.reason).toBeUndefined();
    expect(redriven?.queuedAt).toBeDefined();
    expect(redriven?.operatorActions?.at(-1)).toMatchObject({
      action: 'redrive',
      by: 'retry-sweep',
      from: 'permanent_failure',
    });
    expect(redriven?.operatorActions?.at(-1)?.reason).toContain('--max-retries=15');
    expect(await Promise.all(all.slice(1).map((id) => w.store.get(id)))).toEqual(before.slice(1));

    // WaChap keeps failing: attempts 11 to 15, each made due and queued by a sweep with the same limit.
    sandbox.configure({ mode: 'unavailable' });
    expect(await w.deliverQueued()).toEqual([atTen!.id]);
    for (let attempt = 12; attempt <= 15; attempt++) {
      expect(await w.store.get(atTen!.id)).toMatchObject({ status: 'failed', attempts: attempt - 1 });
      await w.makeDue(atTen!.id);
      expect(await w.sweep({ maxRetries: 15 })).toMatchObject({ queued: 1, redriven: 0, exhausted: 0 });
      expect(await w.deliverQueued()).toEqual([atTen!.id]);
    }
    expect(await w.store.get(atTen!.id)).toMatchObject({
      status: 'permanent_failure',
      reason: 'max_retries_exceeded',
      attempts: 15,
      maxAttempts: 15,
    });

    // At 15 it is done for a run limited to 15 (or the usual 10); only a higher limit would take it again.
    expect(await w.sweep({ maxRetries: 15 })).toMatchObject({ found: 0, redriven: 0 });
    expect(await w.sweep({})).toMatchObject({ found: 0, redriven: 0 });
    const higher = await w.sweep({ maxRetries: 20, dryRun: true, verbose: true });
    expect(higher.notifications?.map((e) => e.id).sort()).toEqual([atTen!.id, atFifteen!.id].sort());
  });

  it('carries on, instead of exhausting, a due notification whose last attempt was abandoned', async () => {
    const w = await world();
    const [lastAttempt] = await w.seed(
      makeNotification({
        status: 'failed',
        attempts: 9,
        maxAttempts: 10,
        nextAttemptAt: minutesAgo(3),
        inFlight: { token: 'dead', since: minutesAgo(30), leaseUntil: minutesAgo(28) },
      }),
    );

    const run = await w.sweep({ maxRetries: 15, verbose: true });

    expect(run).toMatchObject({ found: 1, redriven: 1, queued: 1, exhausted: 0 });
    const stored = await w.store.get(lastAttempt!.id);
    expect(stored).toMatchObject({ status: 'failed', attempts: 10, maxAttempts: 15 });
    // One re-drive straight from failed (then marked queued): it was never ended, so no failure was counted.
    expect(stored?.version).toBe(lastAttempt!.version + 2);
    expect(stored?.operatorActions).toEqual([expect.objectContaining({ action: 'redrive', from: 'failed' })]);
    expect(await drainQueues()).toEqual([lastAttempt!.id]);
    const hours = await w.store.readCounters(new Date(), 2);
    expect(hours.reduce((sum, hour) => sum + hour.permanentFailures, 0)).toBe(0);
  });

  it('reaches the eligible ones behind many ineligible newer ones in one run (the query filters them)', async () => {
    const w = await world();
    const ended = (minutes: number, overrides: Partial<Notification>) =>
      makeNotification({
        status: 'permanent_failure',
        reason: 'max_retries_exceeded',
        attempts: 10,
        maxAttempts: 10,
        nextAttemptAt: undefined,
        createdAt: minutesAgo(minutes),
        updatedAt: minutesAgo(minutes),
        ...overrides,
      });
    // Newest: 120 the run may not take (OTPs whose code expired, or already at the run's limit of 15).
    await w.seed(
      ...Array.from({ length: 120 }, (_, i) =>
        i % 2 === 0
          ? ended(i + 1, { category: 'otp', priority: 'high', expiresAt: minutesAgo(i) })
          : ended(i + 1, { attempts: 15, maxAttempts: 15 }),
      ),
    );
    const eligible = await w.seed(...Array.from({ length: 5 }, (_, i) => ended(600 + i, {})));

    const run = await w.sweep({ maxRetries: 15, limit: 5, verbose: true });

    expect(run).toMatchObject({ found: 5, redriven: 5, queued: 5 });
    expect(run.moreToRedrive).toBeUndefined();
    expect(new Set(run.notifications?.map((e) => e.id))).toEqual(new Set(eligible.map((n) => n.id)));
    expect(new Set(await drainQueues())).toEqual(new Set(eligible.map((n) => n.id)));
  });

  it('re-drives within the run limit, after the due work, and says when some are left', async () => {
    const w = await world();
    await w.seed(
      makeNotification({ status: 'failed', attempts: 1, maxAttempts: 10, nextAttemptAt: minutesAgo(1) }),
      makeNotification({
        status: 'permanent_failure',
        reason: 'max_retries_exceeded',
        attempts: 10,
        maxAttempts: 10,
        nextAttemptAt: undefined,
        expiresAt: minutesAhead(600),
      }),
    );

    expect(await w.sweep({ maxRetries: 15, limit: 1 })).toMatchObject({
      found: 1,
      queued: 1,
      redriven: 0,
      moreToRedrive: true,
    });
    const next = await w.sweep({ maxRetries: 15, limit: 1 });
    expect(next).toMatchObject({ found: 1, redriven: 1 });
    expect(next.moreToRedrive).toBeUndefined();
  });
});
