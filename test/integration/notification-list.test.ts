// The status index and operators' lists on the real engines: every notification exactly once across pages (even
// when they change between pages), newest created first, bounds and filters, cursors that resume only their own
// query, a cost that follows the page and not the table, a table from before the index upgraded in place where the
// engine can (refused, untouched, where it cannot), and the backfill of the index keys.
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines, type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { toItem } from '../../shared/adapters/dynamodb/notification-item.js';
import {
  backfillStatusIndex,
  STATUS_SHARDS,
  StatusIndexUpgradeError,
  statusIndexKeys,
} from '../../shared/adapters/dynamodb/status-index.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { createTableInput, DUE_INDEX_NAME, STATUS_INDEX_NAME } from '../../shared/adapters/dynamodb/table.js';
import { InvalidInputError } from '../../shared/application/errors.js';
import type { ListQuery } from '../../shared/application/ports.js';
import type { FailureReason, Notification, NotificationStatus } from '../../shared/domain/notification.js';
import { localDynamoDbClient, putNotifications, randomTableName } from '../support/dynamodb.js';
import { makeNotification } from '../support/fixtures.js';

const T0 = Date.parse('2025-03-10T12:00:00.000Z');
const instant = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** Items DynamoDB evaluated for Query calls (ScannedCount: what is read and billed), and the calls. */
function countReads(client: DynamoDBClient): { items: number; queries: number } {
  const counter = { items: 0, queries: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') {
        counter.queries += 1;
        counter.items += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'countQueryReads' },
  );
  return counter;
}

/** A notification's item as a release from before the status index wrote it: no index keys. */
function withoutIndexKeys(n: Notification) {
  const { statusShard: _shard, statusAt: _at, ...item } = toItem(n, new Date(T0), 90);
  return item;
}

/** Newest created first, ties broken by id as the index does. */
const newestFirst = (a: Notification, b: Notification): number =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

describe.each(availableEngines())('Status index and lists on %s', (engineName) => {
  let engine: RunningDynamoDb;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let reads: { items: number; queries: number };

  async function freshStore(): Promise<{ tableName: string; store: Store }> {
    const tableName = randomTableName();
    await ensureTable(client, tableName);
    return { tableName, store: dynamoDbStore({ client: doc, tableName }) };
  }

  const seed = (tableName: string, notifications: readonly Notification[]) =>
    putNotifications(doc, tableName, notifications, new Date(T0));

  const rawOf = async (tableName: string, pk: string) =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }))).Item;

  /** Every page of `query`, following cursors; the reads each call made. */
  async function allPages(store: Store, query: ListQuery) {
    const pages: { notifications: Notification[]; read: number }[] = [];
    let cursor: string | undefined;
    do {
      const before = reads.items;
      const page = await store.listNotifications({ ...query, ...(cursor ? { cursor } : {}) });
      pages.push({ notifications: page.notifications, read: reads.items - before });
      cursor = page.cursor;
    } while (cursor && pages.length < 1_000);
    return { pages, ids: pages.flatMap((p) => p.notifications.map((n) => n.id)) };
  }

  const statusOf = (i: number): NotificationStatus => (['pending', 'failed', 'sent'] as const)[i % 3]!;

  beforeAll(async () => {
    engine = await startDynamoDb({ engine: engineName });
    client = localDynamoDbClient(engine.endpoint);
    reads = countReads(client);
    doc = notificationDocumentClient(client);
  });

  afterAll(async () => {
    client?.destroy();
    await engine?.stop();
  });

  describe('the item', () => {
    it('carries the status index keys, moves with the status but not with a later change, and never hands them back', async () => {
      const { tableName, store } = await freshStore();
      const n = makeNotification({ createdAt: instant(0), updatedAt: instant(0) });
      await store.create(n, new Date(T0));
      const raw = async () =>
        (await doc.send(new GetCommand({ TableName: tableName, Key: { pk: n.id }, ConsistentRead: true }))).Item;

      expect(await raw()).toMatchObject({
        statusShard: expect.stringMatching(new RegExp(`^pending#[0-${STATUS_SHARDS - 1}]$`)),
        statusAt: `${instant(0)}#${n.id}`,
      });
      const shard = (await raw())?.statusShard.split('#')[1];

      const cancelled: Notification = {
        ...n,
        status: 'cancelled',
        reason: 'cancelled_by_operator',
        updatedAt: instant(5),
        version: 2,
      };
      delete cancelled.nextAttemptAt;
      await store.save(cancelled, 1, new Date(T0));

      // Another shard of the same number in the new status; the sort key is still the creation.
      expect(await raw()).toMatchObject({ statusShard: `cancelled#${shard}`, statusAt: `${instant(0)}#${n.id}` });
      const read = await store.get(n.id);
      expect(read).toEqual(cancelled);
      expect(read).not.toHaveProperty('statusShard');
      expect(read).not.toHaveProperty('statusAt');
    });

    it('spreads one status evenly over its shards, each id always on the same one', () => {
      const perShard = new Map<string, number>();
      for (let i = 0; i < 4_000; i++) {
        const { statusShard } = statusIndexKeys({ id: ulid(), status: 'sent', createdAt: instant(0) });
        perShard.set(statusShard, (perShard.get(statusShard) ?? 0) + 1);
      }

      expect(perShard.size).toBe(STATUS_SHARDS);
      for (const count of perShard.values()) expect(count).toBeGreaterThan(4_000 / STATUS_SHARDS / 2);
      // Pinned: a shard that moved between releases would hide every notification written before.
      expect(statusIndexKeys({ id: '01JCZ7V3Q8N2M4K6H8F0D2B4X6', status: 'failed', createdAt: instant(0) })).toEqual({
        statusShard: 'failed#4',
        statusAt: `${instant(0)}#01JCZ7V3Q8N2M4K6H8F0D2B4X6`,
      });
    });
  });

  describe('listNotifications', () => {
    let store: Store;
    let seeded: Notification[];

    beforeAll(async () => {
      const fresh = await freshStore();
      store = fresh.store;
      // 230 notifications over 3 statuses; 40 instants, so that many share a createdAt (ties sort by id). Their
      // last changes run in another order: the list does not follow them.
      seeded = Array.from({ length: 230 }, (_, i) =>
        makeNotification({
          status: statusOf(i),
          createdAt: instant(i % 40),
          updatedAt: instant(40 + ((i * 7) % 40)),
          category: i % 5 === 0 ? 'otp' : 'colis_arrive',
          recipient: { phone: i % 7 === 0 ? '+22376000007' : '+22370123456' },
          ...(statusOf(i) === 'failed'
            ? { reason: (i % 2 === 0 ? 'provider_unavailable' : 'temporary_error') as FailureReason }
            : {}),
          ...(statusOf(i) === 'sent' ? { nextAttemptAt: undefined } : {}),
        }),
      );
      await seed(fresh.tableName, seeded);
    });

    it('returns every notification exactly once across pages of 50, newest created first', async () => {
      const { pages, ids } = await allPages(store, { statuses: ['pending', 'failed', 'sent'], limit: 50 });

      expect(pages.map((p) => p.notifications.length)).toEqual([50, 50, 50, 50, 30]);
      expect(ids).toEqual([...seeded].sort(newestFirst).map((n) => n.id));
    });

    it('lists one status, and every status when none is named', async () => {
      const failed = await allPages(store, { statuses: ['failed'], limit: 13 });
      const every = await allPages(store, { statuses: [], limit: 100 });

      expect(failed.ids).toEqual(
        seeded
          .filter((n) => n.status === 'failed')
          .sort(newestFirst)
          .map((n) => n.id),
      );
      expect(every.ids).toHaveLength(230);
      expect(new Set(every.ids).size).toBe(230);
    });

    it('bounds createdAt by from and to, both inclusive', async () => {
      const { ids } = await allPages(store, {
        statuses: ['pending', 'failed', 'sent'],
        from: new Date(instant(10)),
        to: new Date(instant(19)),
        limit: 17,
      });

      const expected = seeded.filter((n) => n.createdAt >= instant(10) && n.createdAt <= instant(19));
      expect(expected.length).toBeGreaterThan(50);
      expect(ids).toEqual(expected.sort(newestFirst).map((n) => n.id));
    });

    it('filters by category, phone and reason, alone and together', async () => {
      const cases: [Partial<ListQuery>, (n: Notification) => boolean][] = [
        [{ category: 'otp' }, (n) => n.category === 'otp'],
        [{ phone: '+22376000007' }, (n) => n.recipient.phone === '+22376000007'],
        [{ statuses: ['failed'], reason: 'provider_unavailable' }, (n) => n.reason === 'provider_unavailable'],
        [
          { statuses: ['failed'], reason: 'temporary_error', category: 'otp' },
          (n) => n.reason === 'temporary_error' && n.category === 'otp',
        ],
      ];
      for (const [filter, matches] of cases) {
        const statuses = filter.statuses ?? (['pending', 'failed', 'sent'] as const);
        const { ids } = await allPages(store, { statuses, limit: 7, ...filter });

        const expected = seeded.filter((n) => statuses.includes(n.status) && matches(n)).sort(newestFirst);
        expect(expected.length).toBeGreaterThan(0);
        expect(ids).toEqual(expected.map((n) => n.id));
      }
    });

    it('refuses a cursor from another query, or one it never gave, naming the cursor', async () => {
      const page = await store.listNotifications({ statuses: ['failed'], limit: 5 });
      expect(page.cursor).toBeDefined();

      const refusal = (query: ListQuery) => store.listNotifications(query).catch((error: unknown) => error);
      const other = await refusal({ statuses: ['sent'], limit: 5, cursor: page.cursor! });
      const narrower = await refusal({ statuses: ['failed'], category: 'otp', limit: 5, cursor: page.cursor! });
      const garbage = await refusal({ statuses: ['failed'], limit: 5, cursor: 'not-a-cursor' });

      for (const error of [other, narrower, garbage]) {
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).problems).toEqual([{ path: 'cursor', message: expect.any(String) }]);
      }
      // The page size is not part of the query: a cursor resumes with another.
      const next = await store.listNotifications({ statuses: ['failed'], limit: 9, cursor: page.cursor! });
      expect(next.notifications).toHaveLength(9);
    });

    it('refuses from after to', async () => {
      const error = await store
        .listNotifications({ statuses: ['sent'], from: new Date(instant(2)), to: new Date(instant(1)), limit: 5 })
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems[0]?.path).toBe('from');
    });

    describe('while notifications change between pages', () => {
      /** 30 failed notifications created a minute apart, written by the store. */
      async function thirtyFailed() {
        const fresh = await freshStore();
        const failed = Array.from({ length: 30 }, (_, i) =>
          makeNotification({
            status: 'failed',
            reason: 'temporary_error',
            attempts: 1,
            createdAt: instant(i),
            updatedAt: instant(i),
          }),
        );
        await seed(fresh.tableName, failed);
        return { ...fresh, failed };
      }

      /** Saves a later version of `n` (the store's conditional write), changed by `change`. */
      const rewrite = async (store: Store, n: Notification, change: Partial<Notification>) => {
        const next = { ...n, updatedAt: instant(500), ...change, version: n.version + 1 };
        await store.save(next, n.version, new Date(T0));
        return next;
      };

      /** The first page, then `between`, then every page after it. */
      async function listAround(store: Store, query: ListQuery, between: (firstPage: string[]) => Promise<void>) {
        const first = await store.listNotifications(query);
        expect(first.cursor).toBeDefined();
        const firstIds = first.notifications.map((n) => n.id);
        await between(firstIds);
        const rest = await allPages(store, { ...query, cursor: first.cursor! });
        return { firstIds, ids: [...firstIds, ...rest.ids] };
      }

      it('returns each one exactly once when some are written again keeping their status (a repeated failure)', async () => {
        const { store, failed } = await thirtyFailed();
        const byId = new Map(failed.map((n) => [n.id, n]));

        const { firstIds, ids } = await listAround(store, { statuses: ['failed'], limit: 10 }, async (firstPage) => {
          // Failed again, later: two already listed, the next one due, and two further down.
          const unlisted = failed.filter((n) => !firstPage.includes(n.id)).sort(newestFirst);
          const again = [byId.get(firstPage[0]!)!, byId.get(firstPage[9]!)!, unlisted[0]!, unlisted[7]!, unlisted[19]!];
          for (const n of again) await rewrite(store, n, { attempts: 2 });
        });

        expect(firstIds).toHaveLength(10);
        expect(ids).toEqual([...failed].sort(newestFirst).map((n) => n.id));
      });

      it('never repeats one whose status changes between pages; one that leaves the listed statuses may be missing', async () => {
        const { store, failed } = await thirtyFailed();
        const byId = new Map(failed.map((n) => [n.id, n]));
        let listedThenPending = '';
        let laterPending = '';
        let laterSent = '';

        const { ids } = await listAround(store, { statuses: ['failed', 'pending'], limit: 10 }, async (firstPage) => {
          const unlisted = failed.filter((n) => !firstPage.includes(n.id)).sort(newestFirst);
          listedThenPending = firstPage[3]!;
          laterPending = unlisted[2]!.id;
          laterSent = unlisted[5]!.id;
          // Re-driven into pending (both listed statuses), and one sent at last (out of the listed ones).
          await rewrite(store, byId.get(listedThenPending)!, { status: 'pending', nextAttemptAt: instant(500) });
          await rewrite(store, byId.get(laterPending)!, { status: 'pending', nextAttemptAt: instant(500) });
          const { nextAttemptAt: _next, reason: _reason, ...sent } = byId.get(laterSent)!;
          await rewrite(store, sent as Notification, { status: 'sent', sentAt: instant(500) });
        });

        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.filter((id) => id === listedThenPending)).toHaveLength(1);
        expect(ids.filter((id) => id === laterPending)).toHaveLength(1);
        expect(ids).not.toContain(laterSent);
        expect(ids).toEqual(
          [...failed]
            .sort(newestFirst)
            .map((n) => n.id)
            .filter((id) => id !== laterSent),
        );
      });
    });
  });

  describe('cost', () => {
    let store: Store;
    let tableName: string;

    beforeAll(async () => {
      ({ store, tableName } = await freshStore());
      const sent = Array.from({ length: 2_000 }, (_, i) =>
        makeNotification({ status: 'sent', createdAt: instant(i % 600), nextAttemptAt: undefined }),
      );
      const failed = Array.from({ length: 10 }, (_, i) =>
        makeNotification({ status: 'failed', reason: 'temporary_error', createdAt: instant(i) }),
      );
      await seed(tableName, [...sent, ...failed]);
    }, 120_000);

    it('reads about the page, not the table: 10 failed among 2,000 sent', async () => {
      const before = { ...reads };

      const page = await store.listNotifications({ statuses: ['failed'], limit: 10 });

      expect(page.notifications).toHaveLength(10);
      expect(reads.items - before.items).toBeLessThanOrEqual(10 + STATUS_SHARDS);
      expect(reads.queries - before.queries).toBeLessThanOrEqual(2 * STATUS_SHARDS);
    });

    it('reads about the page, not the status: 10 of 2,000 sent', async () => {
      const before = reads.items;

      const page = await store.listNotifications({ statuses: ['sent'], limit: 10 });

      expect(page.notifications).toHaveLength(10);
      expect(page.cursor).toBeDefined();
      // A share of the page and one more from each shard, then what the page still lacks from the shards it drains.
      expect(reads.items - before).toBeLessThanOrEqual(2 * (10 + 2 * STATUS_SHARDS));
    });

    it('stops a selective filter at its read budget with a cursor, and finds the match by following it', async () => {
      const needle = makeNotification({
        status: 'sent',
        createdAt: instant(-1),
        recipient: { phone: '+22376999999' },
        nextAttemptAt: undefined,
      });
      await seed(tableName, [needle]);

      const { pages, ids } = await allPages(store, { statuses: ['sent'], phone: '+22376999999', limit: 5 });

      expect(ids).toEqual([needle.id]);
      expect(pages.length).toBeGreaterThan(1);
      // The budget: 10 × (page + partitions), and at most one item more per partition in the last round.
      for (const page of pages) expect(page.read).toBeLessThanOrEqual(10 * (5 + STATUS_SHARDS) + STATUS_SHARDS);
    });
  });

  describe('counts by status', () => {
    let store: Store;

    beforeAll(async () => {
      let tableName: string;
      ({ store, tableName } = await freshStore());
      const sent = Array.from({ length: 300 }, (_, i) =>
        makeNotification({ status: 'sent', createdAt: instant(i % 100), nextAttemptAt: undefined }),
      );
      const failed = Array.from({ length: 7 }, (_, i) =>
        makeNotification({ status: 'failed', reason: 'temporary_error', createdAt: instant(i * 10) }),
      );
      await seed(tableName, [...sent, ...failed]);
    }, 120_000);

    it('counts each status exactly under the cap, and names every status asked for', async () => {
      const counts = await store.countNotifications({ statuses: [], cap: 1_000 });

      expect(counts).toEqual({
        pending: { count: 0, capped: false },
        sent: { count: 300, capped: false },
        failed: { count: 7, capped: false },
        permanent_failure: { count: 0, capped: false },
        cancelled: { count: 0, capped: false },
        expired: { count: 0, capped: false },
      });
    });

    it('counts within from and to, both inclusive', async () => {
      const counts = await store.countNotifications({
        statuses: ['failed', 'sent'],
        from: new Date(instant(10)),
        to: new Date(instant(30)),
        cap: 1_000,
      });

      // failed at 10, 20, 30; sent at 10..30 three times over (i % 100).
      expect(counts).toEqual({ failed: { count: 3, capped: false }, sent: { count: 63, capped: false } });
    });

    it('stops at the cap, says so, and reads about the cap rather than the status', async () => {
      const before = reads.items;

      const counts = await store.countNotifications({ statuses: ['sent'], cap: 50 });

      expect(counts).toEqual({ sent: { count: 50, capped: true } });
      expect(reads.items - before).toBeLessThanOrEqual(50 + 2 * STATUS_SHARDS);
    });

    it('refuses from after to', async () => {
      await expect(
        store.countNotifications({ statuses: ['sent'], from: new Date(instant(5)), to: new Date(instant(1)), cap: 10 }),
      ).rejects.toBeInstanceOf(InvalidInputError);
    });
  });

  describe('ensureTable on a table from before the status index', () => {
    /** The table as it was before the index, with a failed notification and a counter written then. */
    async function oldTable() {
      const tableName = randomTableName();
      const input = createTableInput(tableName);
      const old = {
        ...input,
        AttributeDefinitions: input.AttributeDefinitions?.filter((a) => !a.AttributeName?.startsWith('status')),
        GlobalSecondaryIndexes: input.GlobalSecondaryIndexes?.filter(
          (index: GlobalSecondaryIndex) => index.IndexName !== STATUS_INDEX_NAME,
        ),
      };
      await client.send(new CreateTableCommand(old));
      while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const before = makeNotification({
        status: 'failed',
        reason: 'temporary_error',
        createdAt: instant(1),
        updatedAt: instant(3),
      });
      await doc.send(new PutCommand({ TableName: tableName, Item: withoutIndexKeys(before) }));
      await doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'counter#2025-03-10T12', sent: 4 } }));
      const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).not.toContain(STATUS_INDEX_NAME);
      return { tableName, before };
    }

    if (engineName === 'dynalite') {
      it('refuses on dynalite, which cannot add an index, saying what to do, and changes nothing', async () => {
        const { tableName, before } = await oldTable();

        const error = await ensureTable(client, tableName).catch((caught: unknown) => caught);

        expect(error).toBeInstanceOf(StatusIndexUpgradeError);
        expect((error as Error).message).toContain(`table ${tableName} was created before the status index`);
        expect((error as Error).message).toContain('rm -rf .local-data/dynamodb');
        expect((error as Error).message).toContain('DYNAMODB_ENGINE=dynamodb-local npm start -- --persist');
        const after = await client.send(new DescribeTableCommand({ TableName: tableName }));
        expect(after.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([DUE_INDEX_NAME]);
        expect(await rawOf(tableName, before.id)).toEqual(withoutIndexKeys(before));
        expect(await rawOf(tableName, 'counter#2025-03-10T12')).toEqual({ pk: 'counter#2025-03-10T12', sent: 4 });
      });
    } else {
      it('adds the index, gives the stored notifications its keys, and keeps every other item', async () => {
        const { tableName, before } = await oldTable();

        await ensureTable(client, tableName);
        await ensureTable(client, tableName); // idempotent

        const after = await client.send(new DescribeTableCommand({ TableName: tableName }));
        expect(after.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === STATUS_INDEX_NAME)?.IndexStatus).toBe(
          'ACTIVE',
        );
        const store = dynamoDbStore({ client: doc, tableName });
        expect((await store.listNotifications({ statuses: ['failed'], limit: 10 })).notifications).toEqual([before]);
        expect(await store.get(before.id)).toEqual(before);
        expect(await rawOf(tableName, before.id)).toEqual(toItem(before, new Date(T0), 90));
        expect(await rawOf(tableName, 'counter#2025-03-10T12')).toEqual({ pk: 'counter#2025-03-10T12', sent: 4 });
      }, 60_000);
    }
  });

  describe('backfillStatusIndex', () => {
    /** A table with the index (as the CDK deploys it) holding notifications written before it, and others. */
    async function deployedTable() {
      const { tableName, store } = await freshStore();
      const statuses: NotificationStatus[] = ['pending', 'failed', 'sent', 'permanent_failure', 'cancelled'];
      const old = Array.from({ length: 23 }, (_, i) =>
        makeNotification({ status: statuses[i % 5]!, createdAt: instant(i), updatedAt: instant(100 + i) }),
      );
      for (const n of old) await doc.send(new PutCommand({ TableName: tableName, Item: withoutIndexKeys(n) }));
      const current = Array.from({ length: 4 }, (_, i) =>
        makeNotification({ status: 'failed', createdAt: instant(50 + i) }),
      );
      await seed(tableName, current);
      // One indexed by a release whose keys differ: the backfill leaves what it finds indexed alone.
      const odd = makeNotification({ status: 'failed', createdAt: instant(60) });
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...toItem(odd, new Date(T0), 90), statusShard: 'failed#0', statusAt: `${odd.updatedAt}#${odd.id}` },
        }),
      );
      const others = [
        { pk: 'counter#2025-03-10T12', sent: 4 },
        { pk: `idempotency#order-42`, notificationId: old[0]!.id, notification: old[0]! },
        { pk: 'provider#wachap', status: 'available', version: 3 },
        { pk: 'recipient#+22370123456#2025-03-10', count: 2 },
        // A hand edit gone wrong: a bare key without the fields the keys come from.
        { pk: 'BROKEN', id: 'BROKEN', status: 'failed', version: 1 },
      ];
      for (const item of others) await doc.send(new PutCommand({ TableName: tableName, Item: item }));
      return { tableName, store, old, current, odd, others };
    }

    it('gives the keys to the notifications without them, and leaves indexed ones and other items untouched', async () => {
      const { tableName, store, old, current, odd, others } = await deployedTable();
      const untouched = [...current, odd].map((n) => n.id).concat(others.map((o) => o.pk));
      const before = await Promise.all(untouched.map((pk) => rawOf(tableName, pk)));
      expect((await store.listNotifications({ statuses: [], limit: 100 })).notifications).toHaveLength(5);

      const counts = await backfillStatusIndex(client, tableName, { segments: 3, pageSize: 4 });

      expect(counts).toEqual({ scanned: 29, alreadyIndexed: 5, updated: 23, skipped: 0, malformed: 1 });
      for (const n of old) expect(await rawOf(tableName, n.id)).toEqual(toItem(n, new Date(T0), 90));
      expect(await Promise.all(untouched.map((pk) => rawOf(tableName, pk)))).toEqual(before);
      const listed = await allPages(store, { statuses: [], limit: 10 });
      expect(new Set(listed.ids)).toEqual(new Set([...old, ...current, odd].map((n) => n.id)));
      expect(listed.ids).toHaveLength(28);

      // Again: nothing left to do.
      expect(await backfillStatusIndex(client, tableName)).toEqual({
        scanned: 29,
        alreadyIndexed: 28,
        updated: 0,
        skipped: 0,
        malformed: 1,
      });
    });

    it('with dryRun counts and writes nothing', async () => {
      const { tableName, old } = await deployedTable();

      const counts = await backfillStatusIndex(client, tableName, { dryRun: true });

      expect(counts).toMatchObject({ alreadyIndexed: 5, updated: 23, skipped: 0 });
      for (const n of old) expect(await rawOf(tableName, n.id)).toEqual(withoutIndexKeys(n));
    });

    it('skips one changed between its read and its write, which keeps its newer state', async () => {
      const { tableName, store, old } = await deployedTable();
      const [byCurrent, byOld] = [old[1]!, old[6]!];
      const sentByCurrent = { ...byCurrent, status: 'sent' as const, sentAt: instant(300), updatedAt: instant(300) };
      delete sentByCurrent.nextAttemptAt;
      const failedByOld = { ...byOld, attempts: 3, updatedAt: instant(301), version: byOld.version + 1 };
      // A client whose first Scan page lets two writers in before the backfill writes: the current release (its
      // save carries the keys) and one from before the index (a Put without them).
      const racing = localDynamoDbClient(engine.endpoint);
      let raced = false;
      racing.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'ScanCommand' && !raced) {
            raced = true;
            await store.save({ ...sentByCurrent, version: byCurrent.version + 1 }, byCurrent.version, new Date(T0));
            await doc.send(new PutCommand({ TableName: tableName, Item: withoutIndexKeys(failedByOld) }));
          }
          return result;
        },
        { step: 'initialize', name: 'raceTheBackfill' },
      );

      const counts = await backfillStatusIndex(racing, tableName, { segments: 1 });
      racing.destroy();

      expect(counts).toEqual({ scanned: 29, alreadyIndexed: 5, updated: 21, skipped: 2, malformed: 1 });
      const current = { ...sentByCurrent, version: byCurrent.version + 1 };
      expect(await rawOf(tableName, byCurrent.id)).toEqual(toItem(current, new Date(T0), 90));
      expect(await rawOf(tableName, byOld.id)).toEqual(withoutIndexKeys(failedByOld));
      // A run once no writer from before the index is left gives the last one its keys, from its newer state.
      expect(await backfillStatusIndex(client, tableName)).toMatchObject({ updated: 1, skipped: 0 });
      expect(await rawOf(tableName, byOld.id)).toEqual(toItem(failedByOld, new Date(T0), 90));
    });
  });
});
