// The per-recipient counters and the idempotency look-up of a refusal, on every available engine: a slot is a
// conditional ADD (a refusal writes nothing, a race for the last slot has one winner), keyed by a hash of the
// number, expiring with its window.
import { createHash } from 'node:crypto';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines, type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { recipientCounterKey } from '../../shared/adapters/dynamodb/recipient-counters.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import type { RecipientSlot } from '../../shared/application/ports.js';
import { localDynamoDbClient, randomTableName } from '../support/dynamodb.js';
import { makeNotification } from '../support/fixtures.js';

const WINDOW_START = new Date('2025-03-10T12:00:00.000Z');
const epoch = (date: Date): number => Math.floor(date.getTime() / 1000);

let nextNumber = 0;
const slotFor = (overrides: Partial<RecipientSlot> = {}): RecipientSlot => ({
  phone: `+22376${String(100_000 + nextNumber++)}`,
  category: 'otp',
  windowStart: WINDOW_START,
  windowSeconds: 600,
  ...overrides,
});

describe.each(availableEngines())('Recipient counters on %s', (engineName) => {
  let engine: RunningDynamoDb;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let tableName: string;
  let store: Store;

  const counterItem = async (slot: RecipientSlot) =>
    (
      await doc.send(
        new GetCommand({ TableName: tableName, Key: { pk: recipientCounterKey(slot) }, ConsistentRead: true }),
      )
    ).Item;

  async function countItems(): Promise<number> {
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: tableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  beforeAll(async () => {
    engine = await startDynamoDb({ engine: engineName });
    client = localDynamoDbClient(engine.endpoint);
    doc = notificationDocumentClient(client);
    tableName = randomTableName();
    await ensureTable(client, tableName);
    store = dynamoDbStore({ client: doc, tableName });
  });

  afterAll(async () => {
    client?.destroy();
    await engine?.stop();
  });

  describe('acquireRecipientSlot', () => {
    it('gives `max` slots, answering how many are taken, then refuses without writing anything', async () => {
      const slot = slotFor();
      const taken = [];
      for (let i = 0; i < 3; i++) taken.push(await store.acquireRecipientSlot(slot, 3));
      const before = await counterItem(slot);
      const items = await countItems();

      const refused = await store.acquireRecipientSlot(slot, 3);

      expect(taken).toEqual([1, 2, 3]);
      expect(refused).toBe(false);
      expect(await counterItem(slot)).toEqual(before);
      expect(await countItems()).toBe(items);
    });

    it('lets exactly `max` of 30 concurrent requests for one window win', async () => {
      const slot = slotFor();

      const answers = await Promise.all(Array.from({ length: 30 }, () => store.acquireRecipientSlot(slot, 5)));

      expect(answers.filter(Boolean)).toHaveLength(5);
      expect((await counterItem(slot))?.count).toBe(5);
    });

    it('keys the item by a SHA-256 of the number, never the number, and expires it when its window ends', async () => {
      const slot = slotFor();

      await store.acquireRecipientSlot(slot, 5);

      const digest = createHash('sha256').update(slot.phone).digest('hex');
      const item = await counterItem(slot);
      expect(item).toEqual({
        pk: `recipient#otp#600#${epoch(WINDOW_START)}#${digest}`,
        count: 1,
        category: 'otp',
        windowStart: WINDOW_START.toISOString(),
        ttl: epoch(WINDOW_START) + 600,
      });
      expect(JSON.stringify(item)).not.toContain(slot.phone.slice(1));
    });

    it('counts each number, category and window on its own', async () => {
      const slot = slotFor();
      await store.acquireRecipientSlot(slot, 1);

      const answers = await Promise.all([
        store.acquireRecipientSlot(slot, 1),
        store.acquireRecipientSlot({ ...slot, phone: slotFor().phone }, 1),
        store.acquireRecipientSlot({ ...slot, category: 'colis_arrive' }, 1),
        store.acquireRecipientSlot({ ...slot, windowStart: new Date(WINDOW_START.getTime() + 600_000) }, 1),
        store.acquireRecipientSlot({ ...slot, windowSeconds: 3600 }, 1),
      ]);

      expect(answers).toEqual([false, 1, 1, 1, 1]);
    });
  });

  describe('releaseRecipientSlot', () => {
    it('gives a slot back, so that the next request gets it', async () => {
      const slot = slotFor();
      await store.acquireRecipientSlot(slot, 1);

      await store.releaseRecipientSlot(slot);

      expect((await counterItem(slot))?.count).toBe(0);
      expect(await store.acquireRecipientSlot(slot, 1)).toBe(1);
    });

    it('never goes below zero, and never writes a window that is not there', async () => {
      const taken = slotFor();
      await store.acquireRecipientSlot(taken, 1);
      await store.releaseRecipientSlot(taken);
      const gone = slotFor();
      const items = await countItems();

      await store.releaseRecipientSlot(taken);
      await store.releaseRecipientSlot(gone);

      expect((await counterItem(taken))?.count).toBe(0);
      expect(await counterItem(gone)).toBeUndefined();
      expect(await countItems()).toBe(items);
    });
  });

  describe('findByIdempotencyKey', () => {
    const NOW = new Date('2025-03-10T12:00:00.000Z');

    it('finds the notification of a live key, and nothing for an unknown one', async () => {
      const notification = makeNotification({ idempotencyKey: `find-${engineName}-1` });
      await store.create(notification, NOW);

      expect(await store.findByIdempotencyKey(`find-${engineName}-1`, NOW)).toEqual({ notification });
      expect(await store.findByIdempotencyKey(`find-${engineName}-unknown`, NOW)).toBeUndefined();
    });

    it('counts an expired key as absent, as the claim does', async () => {
      const key = `find-${engineName}-expired`;
      await store.create(makeNotification({ idempotencyKey: key }), NOW);

      const later = new Date(NOW.getTime() + 49 * 3_600_000);

      expect(await store.findByIdempotencyKey(key, later)).toBeUndefined();
    });

    it('writes the notification from the snapshot when the first caller died between its two writes', async () => {
      const notification = makeNotification({ idempotencyKey: `find-${engineName}-crashed` });
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `idempotency#${notification.idempotencyKey}`,
            notificationId: notification.id,
            notification,
            ttl: epoch(NOW) + 3600,
          },
        }),
      );

      expect(await store.findByIdempotencyKey(notification.idempotencyKey!, NOW)).toEqual({ notification });
      expect(await store.get(notification.id)).toEqual(notification);
    });
  });
});
