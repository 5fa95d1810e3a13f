// The notifications table's shape, in one place: the CDK stack, the local stack and the tests
// all build the table from these names, so they cannot drift apart.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
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
/** TTL attribute (N, epoch seconds); enable it on the table (CDK `timeToLiveAttribute`). */
export const TTL_ATTRIBUTE = 'ttl';

/** The due-index shards in the order work is taken: high priority first. */
export const DUE_SHARDS: readonly Priority[] = PRIORITIES;

/** Prefixes of the item kinds that share the table with notifications (ULIDs never contain '#'). */
export const KEY_PREFIX = {
  idempotency: 'idempotency#',
  counter: 'counter#',
  alert: 'alert#',
  provider: 'provider#',
  recipient: 'recipient#',
} as const;

export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: DUE_SHARD_ATTRIBUTE, AttributeType: 'S' },
      { AttributeName: DUE_AT_ATTRIBUTE, AttributeType: 'S' },
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
    ],
  };
}

const isActive = (table: TableDescription | undefined): boolean =>
  table?.TableStatus === 'ACTIVE' &&
  (table.GlobalSecondaryIndexes ?? []).every(
    (index) => index.IndexStatus === undefined || index.IndexStatus === 'ACTIVE',
  );

const hasName = (error: unknown, name: string): boolean =>
  typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || hasName(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/**
 * Creates the table when it is missing and waits until it and its index are ACTIVE.
 * Safe to call concurrently: a lost creation race (ResourceInUseException) just waits.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let table = await describe(client, tableName);
  if (!table) {
    try {
      table = (await client.send(new CreateTableCommand(createTableInput(tableName)))).TableDescription;
    } catch (error) {
      if (!(error instanceof ResourceInUseException || hasName(error, 'ResourceInUseException'))) throw error;
    }
  }
  while (!isActive(table)) {
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} is not ACTIVE after waiting (status ${table?.TableStatus ?? 'unknown'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    table = await describe(client, tableName);
  }
}
