import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines, type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { CorruptItemError, notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import type { DynamoDbNotificationsOptions } from '../../shared/adapters/dynamodb/notifications.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { dueShardOf } from '../../shared/adapters/dynamodb/table.js';
import {
  ConcurrentUpdateError,
  DuplicateNotificationError,
  IdempotentRequestInFlightError,
  NotificationNotFoundError,
} from '../../shared/application/ports.js';
import type { Notification, NotificationStatus } from '../../shared/domain/notification.js';
import { localDynamoDbClient, randomTableName } from '../support/dynamodb.js';
import { makeNotification } from '../support/fixtures.js';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const at = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY_SECONDS = 86_400;
const epoch = (date: Date): number => Math.floor(date.getTime() / 1000);

describe('startDynamoDb', () => {
  it('auto picks the first available engine, says why, and stops it', async () => {
    const lines: string[] = [];
    const log = { debug() {}, info: (m: string) => lines.push(m), warn() {}, error() {} };

    const engine = await startDynamoDb({ engine: 'auto', log });
    const answered = await fetch(engine.endpoint, { method: 'POST', body: '{}' }).then(() => true);
    await engine.stop();

    expect(engine.engine).toBe(availableEngines()[0]);
    expect(lines[0]).toMatch(new RegExp(`^DynamoDB engine: ${engine.engine}`));
    expect(answered).toBe(true);
    await expect(fetch(engine.endpoint, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});

describe.each(availableEngines())('Store on %s', (engineName) => {
  let engine: RunningDynamoDb;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let tableName: string;
  let store: Store;

  /** A store on its own fresh table, for tests that read the whole due index. */
  async function freshStore(options: Partial<DynamoDbNotificationsOptions> = {}) {
    const name = randomTableName();
    await ensureTable(client, name);
    return { name, store: dynamoDbStore({ client: doc, tableName: name, ...options }) };
  }

  const rawItem = async (pk: string, table = tableName) =>
    (await doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    engine = await startDynamoDb({ engine: engineName });
    client = localDynamoDbClient(engine.endpoint);
    doc = notificationDocumentClient(client);
    tableName = randomTableName();
    await ensureTable(client, tableName);
    await ensureTable(client, tableName); // idempotent
    store = dynamoDbStore({ client: doc, tableName });
  });

  afterAll(async () => {
    client?.destroy();
    await engine?.stop();
  });

  describe('create and get', () => {
    it('round-trips every field, nested ones included, as top-level attributes', async () => {
      const notification = makeNotification({
        recipient: { phone: '+22376543210', name: 'Moussa Keïta' },
        priority: 'high',
        status: 'failed',
        attempts: 2,
        nextAttemptAt: at(30 * MINUTE),
        expiresAt: at(DAY_SECONDS * 1000),
        externalMessageId: 'wa-123',
        reason: 'temporary_error',
        lastError: {
          type: 'timeout',
          message: 'WaChap did not answer in 10 s',
          httpStatus: 504,
          classification: 'temporary',
          scope: 'transient',
          reason: 'temporary_error',
          at: at(-MINUTE),
        },
        history: [
          { at: at(-31 * MINUTE), outcome: 'failed', errorType: 'timeout', durationMs: 10_000 },
          { at: at(-MINUTE), outcome: 'failed', errorType: 'timeout', durationMs: 10_001 },
        ],
        inFlight: { token: 'tok-1', since: at(0), leaseUntil: at(5 * MINUTE) },
        queuedAt: at(-2 * MINUTE),
        version: 3,
      });

      const result = await store.create(notification, NOW);

      expect(result).toEqual({ created: true, notification });
      expect(await store.get(notification.id)).toEqual(notification);
      const item = await rawItem(notification.id);
      expect(item).toMatchObject({
        pk: notification.id,
        dueShard: dueShardOf('high', notification.id),
        id: notification.id,
        status: 'failed',
        attempts: 2,
        nextAttemptAt: notification.nextAttemptAt,
        category: 'colis_arrive',
        priority: 'high',
        recipient: { phone: '+22376543210', name: 'Moussa Keïta' },
        lastError: notification.lastError,
      });
      expect(item).not.toHaveProperty('ttl');
    });

    it('answers undefined for an unknown id', async () => {
      expect(await store.get('01JNOPE0000000000000000000')).toBeUndefined();
    });

    it('refuses a second notification with the same id', async () => {
      const notification = makeNotification();
      await store.create(notification, NOW);

      await expect(store.create({ ...notification, title: 'other' }, NOW)).rejects.toBeInstanceOf(
        DuplicateNotificationError,
      );
      expect((await store.get(notification.id))?.title).toBe(notification.title);
    });

    it('reports a malformed stored item with a typed error', async () => {
      const notification = makeNotification();
      await store.create(notification, NOW);
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: notification.id },
          UpdateExpression: 'SET #status = :bad',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':bad': 'exploded' },
        }),
      );

      await expect(store.get(notification.id)).rejects.toBeInstanceOf(CorruptItemError);
    });
  });

  describe('idempotency', () => {
    it('returns the first notification for a repeated key and writes nothing new', async () => {
      const key = `order-${Math.random()}`;
      const first = makeNotification({ idempotencyKey: key });
      const second = makeNotification({ idempotencyKey: key, title: 'second' });

      const a = await store.create(first, NOW);
      const b = await store.create(second, NOW);

      expect(a).toEqual({ created: true, notification: first });
      expect(b).toEqual({ created: false, notification: first });
      expect(await store.get(second.id)).toBeUndefined();
      const record = await rawItem(`idempotency#${key}`);
      expect(record).toMatchObject({ notificationId: first.id, notification: first });
      expect(record?.ttl).toBe(epoch(NOW) + 48 * 3600);
    });

    it('repairs a crash between the key record and the notification', async () => {
      const key = `order-${Math.random()}`;
      const original = makeNotification({ idempotencyKey: key });
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `idempotency#${key}`,
            notificationId: original.id,
            notification: original,
            ttl: epoch(NOW) + 3600,
          },
        }),
      );

      const retry = await store.create(makeNotification({ idempotencyKey: key }), NOW);

      expect(retry).toEqual({ created: false, notification: original });
      expect(await store.get(original.id)).toEqual(original);
    });

    it('answers "in flight" for a claim younger than the ingest time limit whose notification is not written, then repairs it', async () => {
      const key = `order-${Math.random()}`;
      const original = makeNotification({ idempotencyKey: key, createdAt: at(-2000) });
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `idempotency#${key}`,
            notificationId: original.id,
            notification: original,
            ttl: epoch(NOW) + 3600,
          },
        }),
      );

      const early = store.create(makeNotification({ idempotencyKey: key }), NOW);
      await expect(early).rejects.toBeInstanceOf(IdempotentRequestInFlightError);
      await expect(early).rejects.toMatchObject({ retryAfterSeconds: 8 });
      expect(await store.get(original.id)).toBeUndefined();

      // Past the ingest function's 10 s, the first request is dead: the repeat writes its notification.
      const later = await store.create(makeNotification({ idempotencyKey: key }), new Date(NOW.getTime() + 8000));
      expect(later).toEqual({ created: false, notification: original });
      expect(await store.get(original.id)).toEqual(original);
    });

    it('repairs at once a claim whose request failed before writing (abandoned), instead of answering "in flight"', async () => {
      const key = `order-${Math.random()}`;
      const original = makeNotification({ idempotencyKey: key, createdAt: NOW.toISOString() });
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `idempotency#${key}`,
            notificationId: original.id,
            notification: original,
            abandoned: true,
            ttl: epoch(NOW) + 3600,
          },
        }),
      );

      expect(await store.create(makeNotification({ idempotencyKey: key }), NOW)).toEqual({
        created: false,
        notification: original,
      });
    });

    it("scopes keys per caller: two callers' equal keys are two notifications, each caller's repeat its own", async () => {
      const key = `order-${Math.random()}`;
      const tms = makeNotification({ idempotencyKey: key, caller: 'tmskey01' });
      const shop = makeNotification({ idempotencyKey: key, caller: 'shopkey2' });

      expect(await store.create(tms, NOW)).toEqual({ created: true, notification: tms });
      expect(await store.create(shop, NOW)).toEqual({ created: true, notification: shop });
      expect(await store.create(makeNotification({ idempotencyKey: key, caller: 'tmskey01' }), NOW)).toEqual({
        created: false,
        notification: tms,
      });
      expect(await rawItem(`callerkey#tmskey01#${key}`)).toMatchObject({ notificationId: tms.id });
      expect(await rawItem(`callerkey#shopkey2#${key}`)).toMatchObject({ notificationId: shop.id });
      expect(await store.findByIdempotencyKey(key, NOW, 'shopkey2')).toEqual({ notification: shop });
      expect(await store.findByIdempotencyKey(key, NOW, 'otherkey')).toBeUndefined();
    });

    it('still answers a repeat of a key claimed before keys were scoped per caller (the bare key)', async () => {
      const key = `order-${Math.random()}`;
      const before = makeNotification({ idempotencyKey: key });
      await store.create(before, NOW);

      const repeat = await store.create(makeNotification({ idempotencyKey: key, caller: 'tmskey01' }), NOW);

      expect(repeat).toEqual({ created: false, notification: before });
      expect(await rawItem(`callerkey#tmskey01#${key}`)).toBeUndefined();
      expect(await store.findByIdempotencyKey(key, NOW, 'tmskey01')).toEqual({ notification: before });
    });

    it('converges when callers race on the same key', async () => {
      const key = `order-${Math.random()}`;
      const candidates = Array.from({ length: 6 }, () => makeNotification({ idempotencyKey: key }));

      const results = await Promise.all(candidates.map((c) => store.create(c, NOW)));

      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.notification.id)).size).toBe(1);
      const winner = results[0]!.notification;
      expect(await store.get(winner.id)).toEqual(winner);
    });

    it("gives the key back when the new notification's id collides with another one, so a retry is not answered with a stranger's", async () => {
      const key = `order-${Math.random()}`;
      const stranger = makeNotification();
      await store.create(stranger, NOW);
      const colliding = makeNotification({ id: stranger.id, idempotencyKey: key, title: 'mine' });

      await expect(store.create(colliding, NOW)).rejects.toBeInstanceOf(DuplicateNotificationError);

      expect(await rawItem(`idempotency#${key}`)).toBeUndefined();
      const retry = makeNotification({ idempotencyKey: key, title: 'mine' });
      expect(await store.create(retry, NOW)).toEqual({ created: true, notification: retry });
    });

    it('treats an expired key record as absent', async () => {
      const key = `order-${Math.random()}`;
      const old = makeNotification({ idempotencyKey: key });
      await store.create(old, new Date(NOW.getTime() - 49 * HOUR));
      const fresh = makeNotification({ idempotencyKey: key });

      expect(await store.create(fresh, NOW)).toEqual({ created: true, notification: fresh });
    });
  });

  describe('save', () => {
    it('writes the next version over the expected one and refuses a stale one', async () => {
      const notification = makeNotification();
      await store.create(notification, NOW);
      const next = { ...notification, attempts: 1, status: 'failed' as const, version: 2 };

      await store.save(next, 1, NOW);

      expect(await store.get(notification.id)).toEqual(next);
      await expect(store.save({ ...notification, title: 'stale', version: 2 }, 1, NOW)).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      expect(await store.get(notification.id)).toEqual(next);
    });

    it('rejects a next version that is not expected + 1 as a programming error', async () => {
      const notification = makeNotification();
      await expect(store.save({ ...notification, version: 5 }, 1, NOW)).rejects.toThrow(/version must be 2/);
    });

    it('says NotificationNotFoundError when there is nothing to save over', async () => {
      await expect(store.save(makeNotification({ version: 2 }), 1, NOW)).rejects.toBeInstanceOf(
        NotificationNotFoundError,
      );
    });

    it('lets exactly one of two concurrent saves from the same read win, every time', async () => {
      for (let round = 0; round < 20; round++) {
        const notification = makeNotification();
        await store.create(notification, NOW);
        const read = (await store.get(notification.id))!;

        const outcomes = await Promise.allSettled([
          store.save({ ...read, status: 'sent', nextAttemptAt: undefined, sentAt: at(0), version: 2 }, 1, NOW),
          store.save({ ...read, status: 'failed', attempts: 1, version: 2 }, 1, NOW),
        ]);

        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.filter((o) => o.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrentUpdateError);
      }
    });
  });

  describe('due work', () => {
    it('returns what is due, high before normal, oldest first, and nothing else', async () => {
      const { store: due } = await freshStore();
      const make = (overrides: Partial<Notification>) => makeNotification(overrides);
      const highOld = make({ priority: 'high', nextAttemptAt: at(-3 * HOUR) });
      const highRecent = make({ priority: 'high', nextAttemptAt: at(-30 * MINUTE) });
      const normalOld = make({ nextAttemptAt: at(-2 * HOUR) });
      const normalNow = make({ nextAttemptAt: at(0) });
      const failedDue = make({ status: 'failed', attempts: 1, nextAttemptAt: at(-10 * MINUTE) });
      const excluded = [
        make({ nextAttemptAt: at(MINUTE) }),
        make({ priority: 'high', status: 'failed', nextAttemptAt: at(HOUR) }),
        make({ status: 'sent', nextAttemptAt: at(-HOUR), sentAt: at(-HOUR) }),
        make({ status: 'cancelled', nextAttemptAt: at(-HOUR), reason: 'cancelled_by_operator' }),
        make({ status: 'permanent_failure', priority: 'high', nextAttemptAt: at(-HOUR) }),
        make({ status: 'pending', nextAttemptAt: undefined }),
      ];
      for (const n of [normalNow, highRecent, failedDue, ...excluded, normalOld, highOld]) await due.create(n, NOW);

      const all = await due.dueNotifications({ now: NOW, limit: 100 });
      const three = await due.dueNotifications({ now: NOW, limit: 3 });
      const one = await due.dueNotifications({ now: NOW, limit: 1 });

      expect(all.map((n) => n.id)).toEqual([highOld, highRecent, normalOld, failedDue, normalNow].map((n) => n.id));
      expect(all[0]).toEqual(highOld);
      expect(three.map((n) => n.id)).toEqual([highOld.id, highRecent.id, normalOld.id]);
      expect(one.map((n) => n.id)).toEqual([highOld.id]);
    });

    it('pages through more items than a page holds', async () => {
      const { store: due } = await freshStore({ queryPageSize: 2 });
      const high = Array.from({ length: 5 }, (_, i) =>
        makeNotification({ priority: 'high', nextAttemptAt: at(-(10 - i) * MINUTE) }),
      );
      const normal = Array.from({ length: 7 }, (_, i) => makeNotification({ nextAttemptAt: at(-(20 - i) * MINUTE) }));
      await Promise.all([...high, ...normal].map((n) => due.create(n, NOW)));

      const all = await due.dueNotifications({ now: NOW, limit: 50 });
      const some = await due.dueNotifications({ now: NOW, limit: 8 });

      expect(all.map((n) => n.id)).toEqual([...high, ...normal].map((n) => n.id));
      expect(some.map((n) => n.id)).toEqual([...high, ...normal].slice(0, 8).map((n) => n.id));
    });

    it('drops a record from the due index when it goes from failed to sent (sparse index)', async () => {
      const { name, store: due } = await freshStore();
      const failed = makeNotification({ status: 'failed', attempts: 1, nextAttemptAt: at(-MINUTE) });
      await due.create(failed, NOW);
      expect((await due.dueNotifications({ now: NOW, limit: 10 })).map((n) => n.id)).toEqual([failed.id]);

      const sent = { ...failed, status: 'sent' as const, nextAttemptAt: undefined, sentAt: at(0), version: 2 };
      await due.save(sent, 1, NOW);

      expect(await due.dueNotifications({ now: NOW, limit: 10 })).toEqual([]);
      const item = await rawItem(failed.id, name);
      expect(item).not.toHaveProperty('dueShard');
      expect(item).not.toHaveProperty('nextAttemptAt');
      expect(await due.get(failed.id)).toEqual(sent);
    });

    it('keeps no due time on a record that no longer awaits an attempt, even if the caller left one', async () => {
      const cancelled = makeNotification({ status: 'cancelled', nextAttemptAt: at(-MINUTE) });
      await store.create(cancelled, NOW);

      const item = await rawItem(cancelled.id);

      expect(item).not.toHaveProperty('dueShard');
      expect(item).not.toHaveProperty('nextAttemptAt');
    });

    it('makes a failed notification due when an operator moves nextAttemptAt to the past by hand', async () => {
      const { name, store: due } = await freshStore();
      const failed = makeNotification({ status: 'failed', attempts: 3, nextAttemptAt: at(12 * HOUR) });
      await due.create(failed, NOW);
      expect(await due.dueNotifications({ now: NOW, limit: 10 })).toEqual([]);

      await doc.send(
        new UpdateCommand({
          TableName: name,
          Key: { pk: failed.id },
          UpdateExpression: 'SET nextAttemptAt = :past',
          ExpressionAttributeValues: { ':past': at(-HOUR) },
        }),
      );

      expect((await due.dueNotifications({ now: NOW, limit: 10 })).map((n) => n.id)).toEqual([failed.id]);
    });

    it('skips a malformed due item instead of failing the whole sweep', async () => {
      const warnings: unknown[] = [];
      const log = { debug() {}, info() {}, warn: (...args: unknown[]) => warnings.push(args), error() {} };
      const { name, store: due } = await freshStore({ log });
      const good = makeNotification({ nextAttemptAt: at(-MINUTE) });
      await due.create(good, NOW);
      await doc.send(
        new PutCommand({
          TableName: name,
          Item: {
            pk: 'broken',
            id: 'broken',
            dueShard: dueShardOf('normal', 'broken'),
            nextAttemptAt: at(-HOUR),
            status: 'pending',
          },
        }),
      );

      const result = await due.dueNotifications({ now: NOW, limit: 10 });

      expect(result.map((n) => n.id)).toEqual([good.id]);
      expect(warnings).toHaveLength(1);
    });

    it('measures the backlog within a cap', async () => {
      const { store: due } = await freshStore();
      expect(await due.dueBacklog({ now: NOW, cap: 100 })).toEqual({ count: 0, capped: false });
      const items = [
        makeNotification({ priority: 'high', nextAttemptAt: at(-MINUTE) }),
        makeNotification({ priority: 'high', nextAttemptAt: at(-2 * MINUTE) }),
        makeNotification({ nextAttemptAt: at(-5 * HOUR) }),
        makeNotification({ nextAttemptAt: at(-HOUR) }),
        makeNotification({ nextAttemptAt: at(-3 * HOUR) }),
        makeNotification({ nextAttemptAt: at(HOUR) }),
        makeNotification({ status: 'sent', sentAt: at(0), nextAttemptAt: undefined }),
      ];
      await Promise.all(items.map((n) => due.create(n, NOW)));

      expect(await due.dueBacklog({ now: NOW, cap: 100 })).toEqual({
        count: 5,
        capped: false,
        oldestDueAt: at(-5 * HOUR),
      });
      expect(await due.dueBacklog({ now: NOW, cap: 3 })).toMatchObject({ count: 3, capped: true });
      // Capped, the oldest is still the oldest anywhere: every shard is read at once.
      expect(await due.dueBacklog({ now: NOW, cap: 2 })).toEqual({
        count: 2,
        capped: true,
        oldestDueAt: at(-5 * HOUR),
      });
    });
  });

  describe('retention', () => {
    it.each<[NotificationStatus, boolean]>([
      ['pending', false],
      ['failed', false],
      ['sent', true],
      ['permanent_failure', true],
      ['cancelled', true],
      ['expired', true],
    ])('status %s carries a ttl: %s', async (status, hasTtl) => {
      const retained = dynamoDbStore({ client: doc, tableName, retentionDays: 7 });
      const notification = makeNotification({ status });

      await retained.create(notification, NOW);

      const item = await rawItem(notification.id);
      if (hasTtl) expect(item?.ttl).toBe(epoch(NOW) + 7 * DAY_SECONDS);
      else expect(item).not.toHaveProperty('ttl');
    });

    it('sets the ttl when a save reaches a terminal state', async () => {
      const notification = makeNotification();
      await store.create(notification, NOW);
      const later = new Date(NOW.getTime() + HOUR);

      await store.save({ ...notification, status: 'expired', reason: 'validity_expired', version: 2 }, 1, later);

      expect((await rawItem(notification.id))?.ttl).toBe(epoch(later) + 90 * DAY_SECONDS);
    });
  });

  describe('hourly counters', () => {
    it('sums concurrent increments exactly', async () => {
      const { store: counters, name } = await freshStore();
      const hour = new Date('2025-03-10T08:15:00.000Z');

      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          counters.incrementCounters(
            hour,
            i % 5 === 0 ? { attempts: 1, temporaryFailures: 1 } : { attempts: 1, sent: 1 },
          ),
        ),
      );

      const [row] = await counters.readCounters(hour, 1);
      expect(row).toEqual({
        hour: '2025-03-10T08',
        attempts: 50,
        sent: 40,
        temporaryFailures: 10,
        permanentFailures: 0,
        held: 0,
        expired: 0,
        otpFailures: 0,
        failureStreak: 0,
      });
      const item = await rawItem('counter#2025-03-10T08', name);
      expect(item?.ttl).toBe(epoch(new Date('2025-03-10T08:00:00.000Z')) + 40 * DAY_SECONDS);
    });

    it('reads the last hours oldest first, with zeros where nothing happened and exact hour boundaries', async () => {
      const { store: counters } = await freshStore();
      await counters.incrementCounters(new Date('2025-03-10T09:59:59.999Z'), { held: 2 });
      await counters.incrementCounters(new Date('2025-03-10T10:00:00.000Z'), { expired: 1, permanentFailures: 3 });
      await counters.incrementCounters(new Date('2025-03-10T12:59:00.000Z'), { attempts: 4 });
      await counters.incrementCounters(new Date('2025-03-10T13:00:00.000Z'), { attempts: 100 }); // after now

      const rows = await counters.readCounters(new Date('2025-03-10T12:30:00.000Z'), 4);

      const zero = {
        ...{ attempts: 0, sent: 0, temporaryFailures: 0, permanentFailures: 0, held: 0, expired: 0 },
        ...{ otpFailures: 0, failureStreak: 0 },
      };
      expect(rows).toEqual([
        { ...zero, hour: '2025-03-10T09', held: 2 },
        { ...zero, hour: '2025-03-10T10', expired: 1, permanentFailures: 3 },
        { ...zero, hour: '2025-03-10T11' },
        { ...zero, hour: '2025-03-10T12', attempts: 4 },
      ]);
    });

    it('reads more hours than one BatchGetItem takes', async () => {
      const { store: counters } = await freshStore();
      const now = new Date('2025-03-10T12:30:00.000Z');
      await counters.incrementCounters(new Date(now.getTime() - 149 * HOUR), { sent: 1 });
      await counters.incrementCounters(now, { sent: 2 });

      const rows = await counters.readCounters(now, 150);

      expect(rows).toHaveLength(150);
      expect(rows[0]).toMatchObject({ hour: '2025-03-04T07', sent: 1 });
      expect(rows[149]).toMatchObject({ hour: '2025-03-10T12', sent: 2 });
      expect(rows.reduce((sum, row) => sum + row.sent, 0)).toBe(3);
      expect(await counters.readCounters(now, 0)).toEqual([]);
    });
  });

  describe('alert cooldown', () => {
    const COOLDOWN = HOUR;

    it('lets exactly one of two concurrent callers send, then honours the cooldown', async () => {
      const kind = `dlq-${Math.random()}`;

      const race = await Promise.all([
        store.acquireAlertCooldown(kind, NOW, COOLDOWN),
        store.acquireAlertCooldown(kind, NOW, COOLDOWN),
      ]);

      expect(race.filter(Boolean)).toHaveLength(1);
      expect(await store.acquireAlertCooldown(kind, new Date(NOW.getTime() + 59 * MINUTE), COOLDOWN)).toBe(false);
      expect(await store.acquireAlertCooldown(kind, new Date(NOW.getTime() + COOLDOWN), COOLDOWN)).toBe(true);
      expect(await store.acquireAlertCooldown(kind, new Date(NOW.getTime() + COOLDOWN + MINUTE), COOLDOWN)).toBe(false);
    });

    it('gives the cooldown back only to the caller that holds it', async () => {
      const kind = `backlog-${Math.random()}`;
      expect(await store.acquireAlertCooldown(kind, NOW, COOLDOWN)).toBe(true);

      await store.releaseAlertCooldown(kind, new Date(NOW.getTime() - HOUR)); // not ours: no effect
      expect(await store.acquireAlertCooldown(kind, new Date(NOW.getTime() + MINUTE), COOLDOWN)).toBe(false);

      await store.releaseAlertCooldown(kind, NOW);
      expect(await store.acquireAlertCooldown(kind, new Date(NOW.getTime() + MINUTE), COOLDOWN)).toBe(true);
    });
  });

  describe('provider state', () => {
    it('is written only over the version that was read', async () => {
      const name = `wachap-${Math.random()}`;
      expect(await store.getProviderState(name)).toBeUndefined();
      const unavailable = { status: 'unavailable' as const, since: at(0), reason: 'instance disconnected', version: 1 };

      await store.putProviderState(name, unavailable, 0);
      await expect(store.putProviderState(name, unavailable, 0)).rejects.toBeInstanceOf(ConcurrentUpdateError);
      const healthy = { status: 'healthy' as const, since: at(HOUR), lastProbeAt: at(HOUR), version: 2 };
      await store.putProviderState(name, healthy, 1);
      await expect(store.putProviderState(name, { ...unavailable, version: 2 }, 1)).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      await expect(store.putProviderState(name, { ...healthy, version: 2 }, 2)).rejects.toThrow(/version must be 3/);

      expect(await store.getProviderState(name)).toEqual(healthy);
    });
  });
});
