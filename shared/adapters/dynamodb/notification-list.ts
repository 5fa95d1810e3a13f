// Operators' lists: a k-way merge of the status index's partitions (every shard of every status asked for), newest
// created first. A partition is read only when its next item might come before the best one at hand, and a read asks
// for about what the page still lacks, so a page costs about its own size plus a small read per partition, however
// large the table. The cursor is the sort key the page stopped at: every partition resumes below it. The sort key
// (createdAt#id) holds while the status does, so a notification written again between two pages stays where it
// was: each one comes once, and one whose status changes between pages (into another listed status) keeps its place.
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { InvalidInputError } from '../../application/errors.js';
import type { CountQuery, ListQuery, StatusCounts } from '../../application/ports.js';
import { NOTIFICATION_STATUSES, type Notification, type NotificationStatus } from '../../domain/notification.js';
import type { Log } from '../../observability/logger.js';
import { batchGetItems } from './batch-get.js';
import { CorruptItemError, type Item } from './items.js';
import { toNotification } from './notification-item.js';
import { statusPartitions } from './status-index.js';
import { PARTITION_KEY, STATUS_AT_ATTRIBUTE, STATUS_INDEX_NAME, STATUS_SHARD_ATTRIBUTE } from './table.js';

/** Items one call may read, per notification of the page and per partition: the bound on a page's cost. */
const READ_FACTOR = 10;

interface ListTable {
  client: DynamoDBDocumentClient;
  tableName: string;
  log: Log;
}

/** One call's reading: its query, where it resumes, and how much it has read of what it may. */
interface ListCall {
  table: ListTable;
  query: ListQuery;
  /** The cursor's sort key: every partition resumes below it. */
  resumeAt: string | undefined;
  partitions: number;
  cap: number;
  read: number;
}

/** One status-index partition as the merge reads it, newest first. */
interface Partition {
  key: string;
  /** Read and not yet taken, newest first. */
  buffer: Item[];
  /** Every unread item sorts below this (exclusive); undefined: nothing read yet and no cursor. */
  below?: string;
  startKey?: Item;
  lastLimit?: number;
  done: boolean;
}

export async function listNotifications(
  table: ListTable,
  query: ListQuery,
): Promise<{ notifications: Notification[]; cursor?: string }> {
  const fingerprint = fingerprintOf(query);
  if (query.from && query.to && query.from > query.to) {
    throw new InvalidInputError([{ path: 'from', message: 'must not be after to' }]);
  }
  const resumeAt = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint);
  // Only a forged cursor points below the range (a key condition's bounds must be in order).
  if (resumeAt !== undefined && query.from && resumeAt < query.from.toISOString()) throw invalidCursor();
  const partitions: Partition[] = statusesOf(query)
    .flatMap(statusPartitions)
    .map((key) => ({ key, buffer: [], done: false, ...(resumeAt !== undefined ? { below: resumeAt } : {}) }));
  const call: ListCall = {
    table,
    query,
    resumeAt,
    partitions: partitions.length,
    cap: READ_FACTOR * (query.limit + partitions.length),
    read: 0,
  };
  // The index projects keys and the filtered attributes: the page is its entries, whose items are read at the end.
  const page: Item[] = [];
  let last: string | undefined;
  const finish = async (cursor?: string) => {
    const notifications = await readPage(table, page);
    return cursor === undefined ? { notifications } : { notifications, cursor };
  };

  while (page.length < query.limit) {
    const best = newestBuffered(partitions);
    const head = best?.buffer[0] === undefined ? undefined : sortKeyOf(best.buffer[0]);
    // A partition with nothing at hand may hold something newer than the best item at hand: read it first.
    const unknown = partitions.filter(
      (p) => !p.done && p.buffer.length === 0 && (head === undefined || p.below === undefined || p.below > head),
    );
    if (unknown.length > 0) {
      if (call.read >= call.cap) {
        // Everything at or above the newest unread bound has been taken or filtered out: resume below it.
        const stop = unknown.map((p) => p.below ?? '').sort();
        return finish(encodeCursor(stop.at(-1)!, fingerprint));
      }
      const remaining = query.limit - page.length;
      // Reads of one round run together: they share what is left of the budget.
      const budget = Math.max(1, Math.floor((call.cap - call.read) / unknown.length));
      await Promise.all(unknown.map((p) => readPartition(call, p, remaining, budget)));
      continue;
    }
    if (!best) return finish();
    const item = best.buffer.shift()!;
    last = sortKeyOf(item);
    page.push(item);
  }
  const more = partitions.some((p) => !p.done || p.buffer.length > 0);
  return finish(more && last !== undefined ? encodeCursor(last, fingerprint) : undefined);
}

/**
 * The page's notifications as they are now, in the page's order (one BatchGetItem: a page is at most 100). One gone
 * since the index showed it (TTL) is left out; one changed since is shown as it is now (the index lags the table a
 * little, as it always did).
 */
async function readPage(table: ListTable, entries: readonly Item[]): Promise<Notification[]> {
  const ids = entries.map((entry) => String(entry[PARTITION_KEY]));
  const items = await batchGetItems(table.client, table.tableName, ids);
  const notifications: Notification[] = [];
  for (const id of ids) {
    const item = items.get(id);
    const notification = item === undefined ? undefined : parse(table.log, item);
    if (notification) notifications.push(notification);
  }
  return notifications;
}

/**
 * How many notifications of each status match: a Select COUNT query of each status's partitions, in rounds where
 * every unfinished partition reads its share of what is left below the cap, so a count reads about `cap` items at
 * most (plus one per partition), however large the status. The shards are spread evenly by a hash: a capped count
 * has read each of them about as far.
 */
export async function countNotifications(table: ListTable, query: CountQuery): Promise<StatusCounts> {
  if (query.from && query.to && query.from > query.to) {
    throw new InvalidInputError([{ path: 'from', message: 'must not be after to' }]);
  }
  const listQuery: ListQuery = { ...query, limit: query.cap };
  const counted = await Promise.all(
    statusesOf(listQuery).map(async (status) => [status, await countStatus(table, listQuery, status)] as const),
  );
  return Object.fromEntries(counted);
}

async function countStatus(
  table: ListTable,
  query: ListQuery,
  status: NotificationStatus,
): Promise<{ count: number; capped: boolean }> {
  let open = statusPartitions(status).map((key) => ({ key, startKey: undefined as Item | undefined }));
  let count = 0;
  while (open.length > 0 && count < query.limit) {
    const share = Math.max(1, Math.ceil((query.limit - count) / open.length));
    const reads = await Promise.all(
      open.map(async (p) => {
        const page = await table.client.send(
          new QueryCommand({
            ...partitionQuery(table.tableName, query, p.key, undefined),
            Select: 'COUNT',
            Limit: share,
            ExclusiveStartKey: p.startKey,
          }),
        );
        p.startKey = page.LastEvaluatedKey;
        return page.Count ?? 0;
      }),
    );
    count += reads.reduce((sum, n) => sum + n, 0);
    open = open.filter((p) => p.startKey !== undefined);
  }
  // At the cap with partitions unread, or past it (the last round's shares rounded up): at least the cap.
  const capped = count > query.limit || (count === query.limit && open.length > 0);
  return { count: Math.min(count, query.limit), capped };
}

const statusesOf = (query: ListQuery) =>
  [...new Set(query.statuses.length > 0 ? query.statuses : NOTIFICATION_STATUSES)].sort();

const sortKeyOf = (item: Item): string => String(item[STATUS_AT_ATTRIBUTE]);

function newestBuffered(partitions: readonly Partition[]): Partition | undefined {
  let best: Partition | undefined;
  for (const p of partitions) {
    const head = p.buffer[0];
    if (head !== undefined && (best === undefined || sortKeyOf(head) > sortKeyOf(best.buffer[0]!))) best = p;
  }
  return best;
}

/**
 * How many items one read evaluates: at first the partition's share of the page; then, unfiltered, what the page
 * still lacks (plus one, to learn whether more follow); filtered, twice the last read, the filter's yield being
 * unknown. Never past the read's share of the call's budget.
 */
function readLimit(call: ListCall, p: Partition, remaining: number, budget: number): number {
  const { query } = call;
  const filtered =
    query.category !== undefined ||
    query.phone !== undefined ||
    query.reason !== undefined ||
    query.attemptsBelow !== undefined ||
    query.validAt !== undefined;
  const wanted =
    p.lastLimit === undefined
      ? Math.ceil(remaining / call.partitions) + 1
      : filtered
        ? Math.max(2 * p.lastLimit, remaining + 1)
        : remaining + 1;
  return Math.min(wanted, budget);
}

async function readPartition(call: ListCall, p: Partition, remaining: number, budget: number): Promise<void> {
  p.lastLimit = readLimit(call, p, remaining, budget);
  const page = await call.table.client.send(
    new QueryCommand({
      ...partitionQuery(call.table.tableName, call.query, p.key, call.resumeAt),
      Limit: p.lastLimit,
      ExclusiveStartKey: p.startKey,
    }),
  );
  const items = page.Items ?? [];
  call.read += page.ScannedCount ?? items.length;
  // The cursor's bound is inclusive (a key condition has one comparison): its own item, already taken, is dropped.
  p.buffer.push(...items.filter((item) => sortKeyOf(item) !== call.resumeAt));
  p.startKey = page.LastEvaluatedKey;
  if (p.startKey === undefined) p.done = true;
  else p.below = sortKeyOf(p.startKey);
}

function partitionQuery(
  tableName: string,
  query: ListQuery,
  partition: string,
  resumeAt: string | undefined,
): QueryCommandInput {
  const names: Record<string, string> = { '#shard': STATUS_SHARD_ATTRIBUTE };
  const values: Record<string, unknown> = { ':shard': partition };
  // Sort keys are `${createdAt}#${id}`: the bare instant sorts before every key at it, and '$' after ('$' > '#').
  const lower = query.from?.toISOString();
  const upper = resumeAt ?? (query.to ? `${query.to.toISOString()}$` : undefined);
  let range = '';
  if (lower !== undefined && upper !== undefined) range = ' AND #at BETWEEN :lower AND :upper';
  else if (lower !== undefined) range = ' AND #at >= :lower';
  else if (upper !== undefined) range = ' AND #at <= :upper';
  if (range) names['#at'] = STATUS_AT_ATTRIBUTE;
  if (lower !== undefined) values[':lower'] = lower;
  if (upper !== undefined) values[':upper'] = upper;

  const filters: string[] = [];
  if (query.category !== undefined) {
    filters.push('#category = :category');
    names['#category'] = 'category';
    values[':category'] = query.category;
  }
  if (query.phone !== undefined) {
    filters.push('#recipient.#phone = :phone');
    names['#recipient'] = 'recipient';
    names['#phone'] = 'phone';
    values[':phone'] = query.phone;
  }
  if (query.reason !== undefined) {
    filters.push('#reason = :reason');
    names['#reason'] = 'reason';
    values[':reason'] = query.reason;
  }
  if (query.attemptsBelow !== undefined) {
    filters.push('#attempts < :attemptsBelow');
    names['#attempts'] = 'attempts';
    values[':attemptsBelow'] = query.attemptsBelow;
  }
  if (query.validAt !== undefined) {
    // Stored instants are toISOString()'s, which sort as they compare.
    filters.push('(attribute_not_exists(#expiresAt) OR #expiresAt > :validAt)');
    names['#expiresAt'] = 'expiresAt';
    values[':validAt'] = query.validAt.toISOString();
  }
  return {
    TableName: tableName,
    IndexName: STATUS_INDEX_NAME,
    KeyConditionExpression: `#shard = :shard${range}`,
    ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
  };
}

function parse(log: Log, item: Item): Notification | undefined {
  try {
    return toNotification(item);
  } catch (error) {
    // One bad hand edit must not hide the rest of a list: skip it loudly.
    if (!(error instanceof CorruptItemError)) throw error;
    log.warn('Skipping a malformed notification in a list', { key: error.key, issues: error.issues });
    return undefined;
  }
}

// ---- Cursor: base64url JSON of where the page stopped and which query it belongs to ---------------------------

const cursorSchema = z.strictObject({ after: z.string().min(1), query: z.string() });

/** The query's filters (not its page size), so that a cursor resumes only the query it came from. */
function fingerprintOf(query: ListQuery): string {
  const filters = {
    statuses: statusesOf(query),
    from: query.from?.toISOString(),
    to: query.to?.toISOString(),
    category: query.category,
    phone: query.phone,
    reason: query.reason,
    attemptsBelow: query.attemptsBelow,
    validAt: query.validAt?.toISOString(),
  };
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

const encodeCursor = (after: string, query: string): string =>
  Buffer.from(JSON.stringify({ after, query })).toString('base64url');

const invalidCursor = () => new InvalidInputError([{ path: 'cursor', message: 'is not a cursor this list gave' }]);

function decodeCursor(cursor: string, fingerprint: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) throw invalidCursor();
  if (parsed.data.query !== fingerprint) {
    throw new InvalidInputError([{ path: 'cursor', message: 'belongs to another query (other filters)' }]);
  }
  return parsed.data.after;
}
