// The status index: the keys each notification's item carries (its status's shard and its creation), and the
// upgrade of a table from before the index: adding it, and giving the notifications already stored its keys.
import {
  type AttributeValue,
  type DynamoDBClient,
  ScanCommand,
  type TableDescription,
  UpdateItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { NOTIFICATION_STATUSES, type Notification, type NotificationStatus } from '../../domain/notification.js';
import { type Log, silentLog } from '../../observability/logger.js';
import {
  describe,
  hasName,
  PARTITION_KEY,
  STATUS_AT_ATTRIBUTE,
  STATUS_INDEX,
  STATUS_INDEX_ATTRIBUTES,
  STATUS_INDEX_NAME,
  STATUS_SHARD_ATTRIBUTE,
  stableHash,
} from './table.js';

/**
 * Shards per status. The index projects its keys and a few small attributes that change only with the status
 * (STATUS_INDEX_PROJECTED), so an entry is well under 1 KB: one write unit. A write that keeps the status and those
 * attributes (a claim) writes nothing to it; a status change moves the entry (a delete from the old status's
 * partition, a put into the new one), the sort key being the creation. A partition takes 1,000 write units a
 * second: 8 shards split 1,000 moves a second into one status into ~125 per partition.
 */
export const STATUS_SHARDS = 8;

/** The status-index keys a notification's item carries. */
export function statusIndexKeys(n: Pick<Notification, 'id' | 'status' | 'createdAt'>): {
  [STATUS_SHARD_ATTRIBUTE]: string;
  [STATUS_AT_ATTRIBUTE]: string;
} {
  return {
    [STATUS_SHARD_ATTRIBUTE]: `${n.status}#${stableHash(n.id) % STATUS_SHARDS}`,
    [STATUS_AT_ATTRIBUTE]: `${n.createdAt}#${n.id}`,
  };
}

/** Every status-index partition of `status`. */
export const statusPartitions = (status: NotificationStatus): string[] =>
  Array.from({ length: STATUS_SHARDS }, (_, shard) => `${status}#${shard}`);

// ---- Upgrading a table from before the status index ------------------------------------------------------------

/** The table lacks the status index and this engine cannot add one (dynalite): nothing was changed. */
export class StatusIndexUpgradeError extends Error {
  override name = 'StatusIndexUpgradeError';
  constructor(
    readonly tableName: string,
    /** What the engine answered to UpdateTable, if it refused (dynalite asks for provisioned throughput). */
    readonly refusal?: string,
  ) {
    super(
      `table ${tableName} was created before the status index (${STATUS_INDEX_NAME}), and this DynamoDB engine ` +
        'cannot add an index to an existing table (dynalite cannot); nothing was changed. Either start from an ' +
        'empty table: delete the data directory (rm -rf .local-data/dynamodb, or $LOCAL_DATA_DIR/dynamodb), or ' +
        'keep it aside with LOCAL_DATA_DIR=.local-data-2 npm start -- --persist. Or use DynamoDB Local (Java 17+), ' +
        'which adds the index in place: DYNAMODB_ENGINE=dynamodb-local npm start -- --persist. DynamoDB Local keeps ' +
        "its own file in that directory: it upgrades data it wrote, but does not read dynalite's.",
    );
  }
}

type RawItem = Record<string, AttributeValue>;

export const hasStatusIndex = (table: TableDescription | undefined): boolean =>
  (table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === STATUS_INDEX_NAME);

/** Adds the index (UpdateTable), or StatusIndexUpgradeError when the engine refuses or ignores it (dynalite). */
export async function addStatusIndex(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  let refusal: string | undefined;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: STATUS_INDEX_ATTRIBUTES,
        GlobalSecondaryIndexUpdates: [{ Create: STATUS_INDEX }],
      }),
    );
  } catch (error) {
    // A concurrent upgrade may be adding it (ResourceInUse, or "already exists"): the description tells.
    if (!hasName(error, 'ValidationException') && !hasName(error, 'ResourceInUseException')) throw error;
    refusal = (error as Error).message;
  }
  const table = await describe(client, tableName);
  if (!hasStatusIndex(table)) throw new StatusIndexUpgradeError(tableName, refusal);
  return table;
}

/** What a backfill found and did. */
export interface BackfillCounts {
  /** Notification items read (the table's other items are not counted). */
  scanned: number;
  /** Already carrying the index keys (written since the index exists): left alone. */
  alreadyIndexed: number;
  /** Given the keys (with dryRun: would have been). */
  updated: number;
  /** Changed or deleted between the read and the write: left to the writer, whose write carries the keys. */
  skipped: number;
  /** Lacking the id, status, createdAt or version the keys come from: left alone, and logged. */
  malformed: number;
}

export interface BackfillOptions {
  /** Parallel Scan segments. Default 4. */
  segments?: number;
  /** Only count what would be written. */
  dryRun?: boolean;
  /** Items per Scan page; unset lets DynamoDB fill its 1 MB pages. Tests make it small. */
  pageSize?: number;
  log?: Log;
}

/** UpdateItem calls one segment keeps in flight. */
const BACKFILL_CONCURRENCY = 16;

/**
 * Gives the status index's keys to the notifications stored without them (written before the index existed), so
 * that lists and exports find them. A parallel Scan of the table, reading only the notifications' key fields, and
 * for each one lacking the keys an UpdateItem conditional on the version read and on the keys still missing: never
 * a Put of what was read, so a notification changed meanwhile keeps its newer state (it is skipped; a write by a
 * release with the index gave it the keys, and a later run gives them to any other). Safe to run again, and while
 * the functions run.
 */
export async function backfillStatusIndex(
  client: DynamoDBClient,
  tableName: string,
  options: BackfillOptions = {},
): Promise<BackfillCounts> {
  const segments = options.segments ?? 4;
  if (!Number.isInteger(segments) || segments < 1 || segments > 1_000_000) {
    throw new RangeError(`backfillStatusIndex: segments must be a whole number from 1, got ${segments}`);
  }
  const log = options.log ?? silentLog;
  const counts: BackfillCounts = { scanned: 0, alreadyIndexed: 0, updated: 0, skipped: 0, malformed: 0 };
  await Promise.all(
    Array.from({ length: segments }, (_, segment) =>
      backfillSegment(client, tableName, { ...options, segment, segments, log }, counts),
    ),
  );
  log.info('Status index backfill done', { tableName, dryRun: options.dryRun === true, ...counts });
  return counts;
}

async function backfillSegment(
  client: DynamoDBClient,
  tableName: string,
  options: BackfillOptions & { segment: number; segments: number; log: Log },
  counts: BackfillCounts,
): Promise<void> {
  let startKey: RawItem | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        Segment: options.segment,
        TotalSegments: options.segments,
        // Notifications are keyed by their bare id, the other item kinds by a prefixed key (KEY_PREFIX).
        FilterExpression: 'NOT contains(#pk, :prefixed)',
        ProjectionExpression: '#pk, #id, #status, #createdAt, #version, #shard',
        ExpressionAttributeNames: {
          '#pk': PARTITION_KEY,
          '#id': 'id',
          '#status': 'status',
          '#createdAt': 'createdAt',
          '#version': 'version',
          '#shard': STATUS_SHARD_ATTRIBUTE,
        },
        ExpressionAttributeValues: { ':prefixed': { S: '#' } },
        ...(options.pageSize ? { Limit: options.pageSize } : {}),
        ExclusiveStartKey: startKey,
      }),
    );
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += BACKFILL_CONCURRENCY) {
      await Promise.all(
        items.slice(i, i + BACKFILL_CONCURRENCY).map((item) => backfillItem(client, tableName, item, options, counts)),
      );
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

async function backfillItem(
  client: DynamoDBClient,
  tableName: string,
  item: RawItem,
  options: BackfillOptions & { log: Log },
  counts: BackfillCounts,
): Promise<void> {
  counts.scanned += 1;
  if (item[STATUS_SHARD_ATTRIBUTE] !== undefined) {
    counts.alreadyIndexed += 1;
    return;
  }
  const [pk, id, status, createdAt, version] = [
    item[PARTITION_KEY]?.S,
    item.id?.S,
    item.status?.S,
    item.createdAt?.S,
    item.version?.N,
  ];
  if (
    pk === undefined ||
    id !== pk ||
    !NOTIFICATION_STATUSES.includes(status as NotificationStatus) ||
    createdAt === undefined ||
    version === undefined
  ) {
    counts.malformed += 1;
    options.log.warn('Status index backfill: not a well-formed notification, left alone', { key: pk });
    return;
  }
  if (options.dryRun) {
    counts.updated += 1;
    return;
  }
  const keys = statusIndexKeys({ id, status: status as NotificationStatus, createdAt });
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { [PARTITION_KEY]: { S: pk } },
        UpdateExpression: 'SET #shard = :shard, #at = :at',
        ConditionExpression: '#version = :version AND attribute_not_exists(#shard)',
        ExpressionAttributeNames: {
          '#shard': STATUS_SHARD_ATTRIBUTE,
          '#at': STATUS_AT_ATTRIBUTE,
          '#version': 'version',
        },
        ExpressionAttributeValues: {
          ':shard': { S: keys[STATUS_SHARD_ATTRIBUTE] },
          ':at': { S: keys[STATUS_AT_ATTRIBUTE] },
          ':version': { N: version },
        },
      }),
    );
    counts.updated += 1;
  } catch (error) {
    if (!hasName(error, 'ConditionalCheckFailedException')) throw error;
    counts.skipped += 1;
  }
}
