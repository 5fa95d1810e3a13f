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
/** The sparse due-work index: only records awaiting an attempt carry its partition key. */
export const DUE_INDEX_NAME = 'due-index';
/** Due-index partition key (S): the notification priority, set only while the notification awaits an attempt. */
export const DUE_SHARD_ATTRIBUTE = 'dueShard';
/** Due-index sort key (S): ISO 8601 instant of the next attempt (the Notification field itself). */
export const DUE_AT_ATTRIBUTE = 'nextAttemptAt';
/** The status index: every notification by status and creation, for operators' lists and exports. */
export const STATUS_INDEX_NAME = 'status-index';
/** Status-index partition key (S): `${status}#${shard}`, the shard a stable hash of the id (statusIndexKeys). */
export const STATUS_SHARD_ATTRIBUTE = 'statusShard';
/**
 * Status-index sort key (S): `${createdAt}#${id}`; unique, so that a page never stops between equal keys, and
 * fixed while the status holds, so that a write between two pages never moves an item across the cursor.
 */
export const STATUS_AT_ATTRIBUTE = 'statusAt';
/** TTL attribute (N, epoch seconds); enable it on the table (CDK `timeToLiveAttribute`). */
export const TTL_ATTRIBUTE = 'ttl';

/** The due-index shards in the order work is taken: high priority first. */
export const DUE_SHARDS: readonly Priority[] = PRIORITIES;

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

export const STATUS_INDEX: GlobalSecondaryIndex = {
  IndexName: STATUS_INDEX_NAME,
  KeySchema: [
    { AttributeName: STATUS_SHARD_ATTRIBUTE, KeyType: 'HASH' },
    { AttributeName: STATUS_AT_ATTRIBUTE, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'ALL' },
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
        Projection: { ProjectionType: 'ALL' },
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
