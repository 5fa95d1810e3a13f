// The store's cheaper paths (issue 13, P2) keep their promises: the due index's shards are all read (the sweep's
// read, the release's cursor, the backlog), a claim leaves the due entry where it is and a crash after it is
// recovered by the first sweep after its lease, two claims of one record still have one winner, a record whose
// enqueue was lost is still found, and counters written once per batch add up to what the moves count.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines, type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { DUE_SHARDS, dueShardOf } from '../../shared/adapters/dynamodb/table.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { applyTransition } from '../../shared/application/apply-transition.js';
import { counterBatch } from '../../shared/application/counter-batch.js';
import { ConcurrentUpdateError } from '../../shared/application/ports.js';
import { runRetrySweep } from '../../shared/application/retry-sweep.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import { classifyWaChapError, type WaChapFailure } from '../../shared/domain/error-classifier.js';
import type { Notification, Priority } from '../../shared/domain/notification.js';
import { IllegalTransitionError } from '../../shared/domain/transitions.js';
import { silentLog } from '../../shared/observability/logger.js';
import { localDynamoDbClient, randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);
const MINUTE = 60_000;
const LEASE_MS = 2 * MINUTE;
const TIMEOUT: WaChapFailure = { type: 'timeout', message: 'No answer within 15000 ms' };

/** Notifications, one per due shard (both priorities), each due a minute apart, oldest first. */
function onePerShard(): Notification[] {
  const found = new Map<string, Notification>();
  for (const priority of ['high', 'normal'] as Priority[]) {
    while ([...found.keys()].filter((shard) => shard.startsWith(priority)).length < DUE_SHARDS.length / 2) {
      const id = ulid();
      const shard = dueShardOf(priority, id);
      if (!found.has(shard)) found.set(shard, makeNotification({ id, priority }));
    }
  }
  return DUE_SHARDS.map((shard, i) => ({ ...found.get(shard)!, nextAttemptAt: at(-(60 - i) * MINUTE).toISOString() }));
}

describe.each(availableEngines())('due-index shards on %s', (engineName) => {
  let engine: RunningDynamoDb;
  let store: Store;

  beforeAll(async () => {
    engine = await startDynamoDb({ engine: engineName });
    const client = localDynamoDbClient(engine.endpoint);
    const tableName = randomTableName();
    await ensureTable(client, tableName);
    store = dynamoDbStore({ client: notificationDocumentClient(client), tableName, queryPageSize: 1 });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('finds a due notification in every shard: the sweep, the backlog and a cursor walking the shards', async () => {
    const due = onePerShard();
    expect(new Set(due.map((n) => dueShardOf(n.priority, n.id))).size).toBe(DUE_SHARDS.length);
    for (const n of due) await store.create(n, NOW);
    await store.create(makeNotification({ nextAttemptAt: at(MINUTE).toISOString() }), NOW);

    const swept = await store.dueNotifications({ now: NOW, limit: 100 });
    const walked: string[] = [];
    let cursor: Awaited<ReturnType<Store['dueNotificationsPage']>>['cursor'];
    let pages = 0;
    do {
      const page = await store.dueNotificationsPage({ until: NOW, limit: 1, ...(cursor ? { cursor } : {}) });
      walked.push(...page.notifications.map((n) => n.id));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 100);
    const backlog = await store.dueBacklog({ now: NOW, cap: 100 });

    // High first, then oldest due first across a priority's shards.
    const expected = [...due].sort((a, b) =>
      a.priority === b.priority ? a.nextAttemptAt!.localeCompare(b.nextAttemptAt!) : a.priority === 'high' ? -1 : 1,
    );
    expect(swept.map((n) => n.id)).toEqual(expected.map((n) => n.id));
    expect(swept[0]).toEqual(expected[0]);
    expect(walked.sort()).toEqual(due.map((n) => n.id).sort());
    expect(backlog).toEqual({ count: due.length, capped: false, oldestDueAt: due[0]!.nextAttemptAt });
    expect(await store.dueBacklog({ now: NOW, cap: 3 })).toMatchObject({ count: 3, capped: true });
    // A limit below what is due takes the oldest of the high shards.
    expect((await store.dueNotifications({ now: NOW, limit: 2 })).map((n) => n.id)).toEqual(
      expected.slice(0, 2).map((n) => n.id),
    );

    // A release's cursor saved before the due index was sharded (a bare priority) starts the pass again: the first
    // shard's first page, never an error that would stop every probe tick.
    const legacy = await store.dueNotificationsPage({
      until: NOW,
      limit: 1,
      cursor: { shard: 'high', after: { dueAt: NOW.toISOString(), id: due[0]!.id } },
    });
    const first = await store.dueNotificationsPage({ until: NOW, limit: 1 });
    expect(legacy).toEqual(first);
  });
});

describe('claims, sweeps and batched counters on the real engines', () => {
  let engines: TestEngines;
  let queue: SqsSendQueue;
  const deps = (now: Date) => ({
    store: engines.store,
    queue,
    log: silentLog,
    clock: () => now,
    queueLeaseMs: 20 * MINUTE,
    writeConcurrency: 4,
  });
  const sweep = (now: Date) =>
    runRetrySweep({ dryRun: false, verbose: true, limit: 100, maxRetries: 5, configuredMaxRetries: 5 }, deps(now));
  const rawItem = async (id: string) =>
    (
      await notificationDocumentClient(engines.dynamoClient).send(
        new GetCommand({ TableName: engines.tableName, Key: { pk: id }, ConsistentRead: true }),
      )
    ).Item;
  async function queued(): Promise<string[]> {
    const ids: string[] = [];
    for (const url of [engines.priorityQueueUrl, engines.queueUrl]) {
      for (;;) {
        const { Messages } = await engines.sqsClient.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!Messages?.length) break;
        ids.push(...Messages.map((m) => (JSON.parse(m.Body!) as { id: string }).id));
      }
    }
    return ids;
  }
  const claim = (n: Notification, when: Date, token: string) =>
    applyTransition(
      { store: engines.store, log: silentLog },
      n,
      { type: 'claim', at: when, token, leaseMs: LEASE_MS },
      0,
    );

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

  it('a claim keeps the due entry; a crash after it is recovered by the first sweep after the lease', async () => {
    // Far in the past of the clock the other tests use, so that only this test's sweeps see it.
    const start = new Date('2020-01-01T00:00:00.000Z');
    const n = makeNotification({ nextAttemptAt: start.toISOString(), createdAt: start.toISOString() });
    await engines.store.create(n, start);
    const before = await rawItem(n.id);

    const claimed = await claim(n, new Date(start.getTime() + 1000), 'tok-dead');

    // The due index's keys did not move: the claim wrote nothing to it.
    const after = await rawItem(n.id);
    expect(after?.nextAttemptAt).toBe(before?.nextAttemptAt);
    expect(after?.dueShard).toBe(before?.dueShard);
    expect(claimed.inFlight?.token).toBe('tok-dead');

    // The sender dies. Within the lease, a sweep sees it due but leaves it to its holder.
    const during = await sweep(new Date(start.getTime() + LEASE_MS - 1000));
    expect(during.notifications?.find((e) => e.id === n.id)).toMatchObject({
      action: 'skip',
      note: 'an attempt is in flight',
    });
    expect(await queued()).not.toContain(n.id);
    expect((await engines.store.get(n.id))?.version).toBe(claimed.version);

    // Past the lease, the next sweep recovers it: queued again, the abandoned claim counted as an attempt.
    const past = await sweep(new Date(start.getTime() + LEASE_MS + 2000));
    expect(past.notifications?.find((e) => e.id === n.id)).toMatchObject({ action: 'recover' });
    expect(await queued()).toContain(n.id);
    const recovered = await engines.store.get(n.id);
    expect(recovered).toMatchObject({ attempts: 1, status: 'pending' });
    expect(recovered?.inFlight).toBeUndefined();
    expect(recovered?.history.at(-1)).toMatchObject({ outcome: 'unknown' });
  });

  it('of two workers claiming one record, exactly one wins', async () => {
    const n = makeNotification({ nextAttemptAt: at(-MINUTE).toISOString() });
    await engines.store.create(n, NOW);

    const results = await Promise.allSettled([claim(n, NOW, 'tok-a'), claim(n, NOW, 'tok-b')]);

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConcurrentUpdateError);
    const stored = await engines.store.get(n.id);
    expect(stored?.inFlight?.token).toBe((won[0] as PromiseFulfilledResult<Notification>).value.inFlight?.token);
    // And a third, after, is refused: the claim is live.
    await expect(claim(stored!, NOW, 'tok-c')).rejects.toBeInstanceOf(IllegalTransitionError);
  });

  it('finds a record whose enqueue was lost', async () => {
    const start = new Date('2021-01-01T00:00:00.000Z');
    const n = makeNotification({ nextAttemptAt: start.toISOString(), createdAt: start.toISOString() });
    // Written, never queued (the ingest's enqueue failed).
    await engines.store.create(n, start);

    const summary = await sweep(new Date(start.getTime() + MINUTE));

    expect(summary.notifications?.find((e) => e.id === n.id)).toMatchObject({ action: 'queue' });
    expect(await queued()).toContain(n.id);
  });

  it('counters written once per batch add up to what each move counts, the failure streak included', async () => {
    const hour = new Date('2022-06-01T10:00:00.000Z');
    const when = (s: number) => new Date(hour.getTime() + s * 1000);
    // The hour starts with a run of 5 failures already counted.
    await engines.store.incrementCounters(when(0), { failureStreak: 5, attempts: 5, temporaryFailures: 5 });
    const notifications = Array.from({ length: 4 }, () =>
      makeNotification({ nextAttemptAt: when(0).toISOString(), createdAt: when(0).toISOString() }),
    );
    for (const n of notifications) await engines.store.create(n, when(0));

    const batch = counterBatch(engines.store, silentLog);
    const mover = { store: engines.store, log: silentLog, counters: batch };
    const failure = (n: Notification, s: number, token: string) =>
      applyTransition(mover, n, {
        type: 'failure',
        at: when(s),
        token,
        error: TIMEOUT,
        verdict: classifyWaChapError(TIMEOUT),
        durationMs: 10,
        policy: DEFAULT_RETRY_POLICY,
        providerHoldMs: 30 * MINUTE,
        random: () => 0.5,
      });
    const sent = (n: Notification, s: number) =>
      applyTransition(mover, n, { type: 'sent', at: when(s), durationMs: 10, externalMessageId: `wamid.${n.id}` });
    // failure, sent (the run ends), failure, failure: the hour's run is 2 after the batch.
    const [a, b, c, d] = notifications as [Notification, Notification, Notification, Notification];
    await failure(await claim(a, when(1), 'a'), 2, 'a');
    await sent(await claim(b, when(3), 'b'), 4);
    await failure(await claim(c, when(5), 'c'), 6, 'c');
    await failure(await claim(d, when(7), 'd'), 8, 'd');

    // Nothing is written before the flush.
    const [unflushed] = await engines.store.readCounters(when(10), 1);
    expect(unflushed).toMatchObject({ attempts: 5, sent: 0, failureStreak: 5 });

    await batch.flush();
    await batch.flush(); // nothing left: written once

    const [counted] = await engines.store.readCounters(when(10), 1);
    expect(counted).toMatchObject({ attempts: 9, sent: 1, temporaryFailures: 8, failureStreak: 2 });

    // A batch without a delivered send adds to the run.
    const more = counterBatch(engines.store, silentLog);
    await more.incrementCounters(when(20), { attempts: 1, temporaryFailures: 1, failureStreak: 1 });
    await more.flush();
    const [added] = await engines.store.readCounters(when(30), 1);
    expect(added).toMatchObject({ attempts: 10, temporaryFailures: 9, failureStreak: 3 });
  });
});
