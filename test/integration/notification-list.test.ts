// The status index and operators' lists on the real engines: every notification exactly once across pages, newest
// change first, bounds and filters, cursors that resume only their own query, a cost that follows the page and not
// the table, and a table from before the index upgraded in place.
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
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { toItem } from '../../shared/adapters/dynamodb/notification-item.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import {
  createTableInput,
  ensureTable,
  STATUS_INDEX_NAME,
  STATUS_SHARDS,
  statusIndexKeys,
} from '../../shared/adapters/dynamodb/table.js';
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

/** Newest change first, ties broken by id as the index does. */
const newestFirst = (a: Notification, b: Notification): number =>
  a.updatedAt === b.updatedAt ? (a.id < b.id ? 1 : -1) : a.updatedAt < b.updatedAt ? 1 : -1;

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
    it('carries the status index keys, moves with the status, and never hands them back', async () => {
      const { tableName, store } = await freshStore();
      const n = makeNotification({ updatedAt: instant(0) });
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

      expect(await raw()).toMatchObject({ statusShard: `cancelled#${shard}`, statusAt: `${instant(5)}#${n.id}` });
      const read = await store.get(n.id);
      expect(read).toEqual(cancelled);
      expect(read).not.toHaveProperty('statusShard');
      expect(read).not.toHaveProperty('statusAt');
    });

    it('spreads one status evenly over its shards, each id always on the same one', () => {
      const perShard = new Map<string, number>();
      for (let i = 0; i < 4_000; i++) {
        const { statusShard } = statusIndexKeys({ id: ulid(), status: 'sent', updatedAt: instant(0) });
        perShard.set(statusShard, (perShard.get(statusShard) ?? 0) + 1);
      }

      expect(perShard.size).toBe(STATUS_SHARDS);
      for (const count of perShard.values()) expect(count).toBeGreaterThan(4_000 / STATUS_SHARDS / 2);
      // Pinned: a shard that moved between releases would hide every notification written before.
      expect(statusIndexKeys({ id: '01JCZ7V3Q8N2M4K6H8F0D2B4X6', status: 'failed', updatedAt: instant(0) })).toEqual({
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
      // 230 notifications over 3 statuses; 40 instants, so that many share an updatedAt (ties sort by id).
      seeded = Array.from({ length: 230 }, (_, i) =>
        makeNotification({
          status: statusOf(i),
          updatedAt: instant(i % 40),
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

    it('returns every notification exactly once across pages of 50, newest change first', async () => {
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

    it('bounds updatedAt by from and to, both inclusive', async () => {
      const { ids } = await allPages(store, {
        statuses: ['pending', 'failed', 'sent'],
        from: new Date(instant(10)),
        to: new Date(instant(19)),
        limit: 17,
      });

      const expected = seeded.filter((n) => n.updatedAt >= instant(10) && n.updatedAt <= instant(19));
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
  });

  describe('cost', () => {
    let store: Store;
    let tableName: string;

    beforeAll(async () => {
      ({ store, tableName } = await freshStore());
      const sent = Array.from({ length: 2_000 }, (_, i) =>
        makeNotification({ status: 'sent', updatedAt: instant(i % 600), nextAttemptAt: undefined }),
      );
      const failed = Array.from({ length: 10 }, (_, i) =>
        makeNotification({ status: 'failed', reason: 'temporary_error', updatedAt: instant(i) }),
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
        updatedAt: instant(-1),
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

  describe('ensureTable on a table from before the status index', () => {
    it('adds the index, gives the stored notifications its keys, and keeps every other item', async () => {
      // Prepare: the table as it was, with a notification and a counter written then.
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
      const before = makeNotification({ status: 'failed', reason: 'temporary_error', updatedAt: instant(3) });
      const { statusShard: _s, statusAt: _a, ...oldItem } = toItem(before, new Date(T0), 90);
      await doc.send(new PutCommand({ TableName: tableName, Item: oldItem }));
      await doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'counter#2025-03-10T12', sent: 4 } }));
      const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).not.toContain(STATUS_INDEX_NAME);

      // Act
      await ensureTable(client, tableName);
      await ensureTable(client, tableName); // idempotent

      // Assess
      const after = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect(after.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === STATUS_INDEX_NAME)?.IndexStatus).toBe(
        'ACTIVE',
      );
      const store = dynamoDbStore({ client: doc, tableName });
      expect((await store.listNotifications({ statuses: ['failed'], limit: 10 })).notifications).toEqual([before]);
      expect(await store.get(before.id)).toEqual(before);
      const counter = await doc.send(
        new GetCommand({ TableName: tableName, Key: { pk: 'counter#2025-03-10T12' }, ConsistentRead: true }),
      );
      expect(counter.Item).toEqual({ pk: 'counter#2025-03-10T12', sent: 4 });
    }, 60_000);
  });
});
