// The notifications table's shape, in one place: the CDK stack, the local stack and the tests
// all build the table from these names, so they cannot drift apart.
import {
  type AttributeDefinition,
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { type Notification, type NotificationStatus, PRIORITIES, type Priority } from '../../domain/notification.js';

/** Partition key (S): the notification id, or a prefixed key for the other item kinds. */
export const PARTITION_KEY = 'pk';
/** The sparse due-work index: only records awaiting an attempt carry its partition key. */
export const DUE_INDEX_NAME = 'due-index';
/** Due-index partition key (S): the notification priority, set only while the notification awaits an attempt. */
export const DUE_SHARD_ATTRIBUTE = 'dueShard';
/** Due-index sort key (S): ISO 8601 instant of the next attempt (the Notification field itself). */
export const DUE_AT_ATTRIBUTE = 'nextAttemptAt';
/** The status index: every notification by status and last change, for operators' lists and exports. */
export const STATUS_INDEX_NAME = 'status-index';
/** Status-index partition key (S): `${status}#${shard}`, the shard a stable hash of the id (statusIndexKeys). */
export const STATUS_SHARD_ATTRIBUTE = 'statusShard';
/** Status-index sort key (S): `${updatedAt}#${id}`; unique, so that a page never stops between equal keys. */
export const STATUS_AT_ATTRIBUTE = 'statusAt';
/**
 * Shards per status. One index partition takes about 1,000 writes a second, and a status change writes to two
 * (the old key out, the new one in): 8 shards keep 1,000 changes a second into one status at ~125 per partition.
 */
export const STATUS_SHARDS = 8;
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

/** FNV-1a: stable across processes and releases (a shard must not move when the code is deployed again). */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** The status-index keys a notification's item carries. */
export function statusIndexKeys(n: Pick<Notification, 'id' | 'status' | 'updatedAt'>): {
  [STATUS_SHARD_ATTRIBUTE]: string;
  [STATUS_AT_ATTRIBUTE]: string;
} {
  return {
    [STATUS_SHARD_ATTRIBUTE]: `${n.status}#${stableHash(n.id) % STATUS_SHARDS}`,
    [STATUS_AT_ATTRIBUTE]: `${n.updatedAt}#${n.id}`,
  };
}

/** Every status-index partition of `status`. */
export const statusPartitions = (status: NotificationStatus): string[] =>
  Array.from({ length: STATUS_SHARDS }, (_, shard) => `${status}#${shard}`);

const STATUS_INDEX_ATTRIBUTES: AttributeDefinition[] = [
  { AttributeName: STATUS_SHARD_ATTRIBUTE, AttributeType: 'S' },
  { AttributeName: STATUS_AT_ATTRIBUTE, AttributeType: 'S' },
];

const STATUS_INDEX: GlobalSecondaryIndex = {
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
 * Creates the table when it is missing, adds the status index to one from before it, and waits until the table
 * and its indexes are ACTIVE. Safe to call concurrently on a missing or current table: a lost creation race
 * (ResourceInUseException) just waits. For the local engines and the tests: the CDK owns the table on AWS.
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
  } else if (!hasStatusIndex(table)) {
    table = await addStatusIndex(client, tableName);
  }
  while (!isActive(table)) {
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} is not ACTIVE after waiting (status ${table?.TableStatus ?? 'unknown'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    table = await describe(client, tableName);
  }
}

// ---- Upgrading a table from before the status index (local data kept with --persist) ------------------------

type RawItem = Record<string, AttributeValue>;

const hasStatusIndex = (table: TableDescription | undefined): boolean =>
  (table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === STATUS_INDEX_NAME);

/** Notifications are keyed by their bare id; the other item kinds by a prefixed key. */
const isNotificationItem = (item: RawItem): boolean => item[PARTITION_KEY]?.S?.includes('#') === false;

function withStatusIndexKeys(item: RawItem): RawItem {
  const [id, status, updatedAt] = [item.id?.S, item.status?.S, item.updatedAt?.S];
  if (!isNotificationItem(item) || id === undefined || status === undefined || updatedAt === undefined) return item;
  const keys = statusIndexKeys({ id, status: status as NotificationStatus, updatedAt });
  return {
    ...item,
    [STATUS_SHARD_ATTRIBUTE]: { S: keys[STATUS_SHARD_ATTRIBUTE] },
    [STATUS_AT_ATTRIBUTE]: { S: keys[STATUS_AT_ATTRIBUTE] },
  };
}

/**
 * Adds the index, then gives the notifications already stored its keys (only writes carry them). dynalite cannot
 * add an index to a table: there the table is rebuilt with its items. Reading every item is fine here, on local
 * data at start-up, and nowhere else.
 */
async function addStatusIndex(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  const items = await scanAll(client, tableName);
  const added = await createStatusIndex(client, tableName);
  if (!added) await recreateTable(client, tableName);
  await putAll(client, tableName, (added ? items.filter(isNotificationItem) : items).map(withStatusIndexKeys));
  return describe(client, tableName);
}

/** UpdateTable's index creation; false when the engine refuses or ignores it (dynalite). */
async function createStatusIndex(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: STATUS_INDEX_ATTRIBUTES,
        GlobalSecondaryIndexUpdates: [{ Create: STATUS_INDEX }],
      }),
    );
  } catch (error) {
    if (!hasName(error, 'ValidationException')) throw error;
  }
  // A concurrent upgrade may have added it although this call was refused.
  return hasStatusIndex(await describe(client, tableName));
}

async function recreateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  while ((await describe(client, tableName)) !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  await client.send(new CreateTableCommand(createTableInput(tableName)));
}

async function scanAll(client: DynamoDBClient, tableName: string): Promise<RawItem[]> {
  const items: RawItem[] = [];
  let startKey: RawItem | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** BatchWriteItem takes 25 items a call, and may hand some back to be sent again. */
async function putAll(client: DynamoDBClient, tableName: string, items: readonly RawItem[]): Promise<void> {
  for (let start = 0; start < items.length; start += 25) {
    let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
      requests = (result.UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
        request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
      );
    }
  }
}
