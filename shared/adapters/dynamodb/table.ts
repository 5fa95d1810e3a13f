// The notifications table's shape, in one place: the CDK stack, the local stack and the tests
// all build the table from these names, so they cannot drift apart. The status index's keys and the upgrade of a
// table from before it are in status-index.ts; creating the table and waiting for it, in ensure-table.ts.
import {
  type AttributeDefinition,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceNotFoundException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { PRIORITIES, type Priority } from '../../domain/notification.js';

/** Partition key (S): the notification id, or a prefixed key for the other item kinds. */
export const PARTITION_KEY = 'pk';
/**
 * The sparse due-work index: only records awaiting an attempt carry its partition key. It projects the keys only
 * (a write that keeps the due time writes nothing to it), and the sweep reads the items it points at. Its name
 * changed with its projection and its sharded key (an index's projection or key cannot change in place): the
 * README's upgrade note.
 */
export const DUE_INDEX_NAME = 'due-v2';
/**
 * Due-index partition key (S): `${priority}#${shard}`, the shard a stable hash of the id (dueShardOf); set only while
 * the notification awaits an attempt.
 */
export const DUE_SHARD_ATTRIBUTE = 'dueShard';
/** Due-index sort key (S): ISO 8601 instant of the next attempt (the Notification field itself). */
export const DUE_AT_ATTRIBUTE = 'nextAttemptAt';
/**
 * The status index: every notification by status and creation, for operators' lists and exports. It projects its
 * keys and what the lists filter on (STATUS_INDEX_PROJECTED), none of which a claim changes, so only a status change
 * writes to it; a list page reads the items it points at. Named anew with that projection (README's upgrade note).
 */
export const STATUS_INDEX_NAME = 'status-v2';
/** Status-index partition key (S): `${status}#${shard}`, the shard a stable hash of the id (statusIndexKeys). */
export const STATUS_SHARD_ATTRIBUTE = 'statusShard';
/**
 * Status-index sort key (S): `${createdAt}#${id}`; unique, so that a page never stops between equal keys, and
 * fixed while the status holds, so that a write between two pages never moves an item across the cursor.
 */
export const STATUS_AT_ATTRIBUTE = 'statusAt';
/** TTL attribute (N, epoch seconds); enable it on the table (CDK `timeToLiveAttribute`). */
export const TTL_ATTRIBUTE = 'ttl';

/**
 * Due-index partitions per priority. A notification writes its due entry twice on the happy path (created, then
 * removed when sent), one write unit each: a partition's 1,000 write units a second would cap one priority near 500
 * deliveries a second; 4 shards lift that to ~2,000 (README, scale on paper). The sweep reads them in parallel.
 */
export const DUE_SHARD_COUNT = 4;

/** FNV-1a: stable across processes and releases (a shard must not move when the code is deployed again). */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** The due-index partition of a notification: its priority's, and a shard fixed by its id. */
export const dueShardOf = (priority: Priority, id: string): string => `${priority}#${stableHash(id) % DUE_SHARD_COUNT}`;

/** The due-index shards of one priority. */
export const dueShardsOf = (priority: Priority): string[] =>
  Array.from({ length: DUE_SHARD_COUNT }, (_, shard) => `${priority}#${shard}`);

/** Every due-index shard in the order work is taken: high priority first, then shard by shard. */
export const DUE_SHARDS: readonly string[] = PRIORITIES.flatMap(dueShardsOf);

/** Prefixes of the item kinds that share the table with notifications (ULIDs never contain '#'). */
export const KEY_PREFIX = {
  /** An idempotency key of no particular caller: the keys claimed before keys were scoped per caller. */
  idempotency: 'idempotency#',
  /** An idempotency key of one caller: `callerkey#<API key id>#<key>` (a key id is letters and digits, no '#'). */
  callerIdempotency: 'callerkey#',
  counter: 'counter#',
  alert: 'alert#',
  provider: 'provider#',
  recipient: 'recipient#',
  /** A WaChap rate's schedule: `rate#<instance>#<lane>` (rate-schedule.ts). */
  rate: 'rate#',
} as const;

/** The status index's keys and definition: the table's from its creation, and the upgrade's (status-index.ts). */
export const STATUS_INDEX_ATTRIBUTES: AttributeDefinition[] = [
  { AttributeName: STATUS_SHARD_ATTRIBUTE, AttributeType: 'S' },
  { AttributeName: STATUS_AT_ATTRIBUTE, AttributeType: 'S' },
];

/**
 * What the status index carries besides its keys: the attributes operators' lists filter on (notification-list.ts).
 * None changes without the status (a claim writes none of them), so a claim never writes to the index.
 */
export const STATUS_INDEX_PROJECTED = ['category', 'recipient', 'reason', 'attempts', 'expiresAt'];

export const STATUS_INDEX: GlobalSecondaryIndex = {
  IndexName: STATUS_INDEX_NAME,
  KeySchema: [
    { AttributeName: STATUS_SHARD_ATTRIBUTE, KeyType: 'HASH' },
    { AttributeName: STATUS_AT_ATTRIBUTE, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: STATUS_INDEX_PROJECTED },
};

export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: DUE_SHARD_ATTRIBUTE, AttributeType: 'S' },
      { AttributeName: DUE_AT_ATTRIBUTE, AttributeType: 'S' },
      ...STATUS_INDEX_ATTRIBUTES,
    ],
    KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: DUE_INDEX_NAME,
        KeySchema: [
          { AttributeName: DUE_SHARD_ATTRIBUTE, KeyType: 'HASH' },
          { AttributeName: DUE_AT_ATTRIBUTE, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      STATUS_INDEX,
    ],
  };
}

export const hasName = (error: unknown, name: string): boolean =>
  typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;

export async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || hasName(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}
