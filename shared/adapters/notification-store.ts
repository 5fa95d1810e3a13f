// The notification store: one DynamoDB table, single-item conditional writes, a sparse
// due-work index, hourly counters, alert cooldowns and provider state. No Scan, no transactions.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  isAwaitingAttempt,
  isTerminal,
  NOTIFICATION_STATUSES,
  type Notification,
  PRIORITIES,
  type Priority,
} from '../domain/notification.js';
import type { DueCursor, ProviderState } from '../domain/provider-circuit.js';
import { type Log, silentLog } from '../observability/logger.js';
import {
  DUE_AT_ATTRIBUTE,
  DUE_INDEX_NAME,
  DUE_SHARD_ATTRIBUTE,
  DUE_SHARDS,
  KEY_PREFIX,
  PARTITION_KEY,
  TTL_ATTRIBUTE,
} from './table.js';

/** The conditional write lost: someone else changed the item since it was read. */
export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}
export class NotificationNotFoundError extends Error {
  override name = 'NotificationNotFoundError';
}
export class DuplicateNotificationError extends Error {
  override name = 'DuplicateNotificationError';
}
/** A stored item does not have the shape its key promises (hand edit gone wrong, foreign writer). */
export class CorruptItemError extends Error {
  override name = 'CorruptItemError';
  constructor(
    readonly key: string,
    readonly issues: string,
  ) {
    super(`Stored item ${key} is malformed: ${issues}`);
  }
}

export interface HourlyCounts {
  attempts: number;
  sent: number;
  temporaryFailures: number;
  permanentFailures: number;
  held: number;
  expired: number;
}

export type { ProviderState } from '../domain/provider-circuit.js';

export interface NotificationStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** How long terminal notifications are kept (TTL), in days. Default 90. */
  retentionDays?: number;
  /** How long an idempotency key is remembered, in hours. Default 48. */
  idempotencyTtlHours?: number;
  /** Items per Query page on the due index; unset lets DynamoDB fill its 1 MB pages. Tests make it small. */
  queryPageSize?: number;
  /** Where skipped corrupt due items are reported. */
  log?: Log;
}

const COUNTER_FIELDS = ['attempts', 'sent', 'temporaryFailures', 'permanentFailures', 'held', 'expired'] as const;
const COUNTER_TTL_DAYS = 40;
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ATTEMPTS = 8;
const HOUR_MS = 3_600_000;
const DAY_SECONDS = 86_400;

/** The DocumentClient the store expects: optional fields left undefined are dropped, not rejected. */
export function notificationDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

// ---- Item shapes ---------------------------------------------------------------------------

const timestamp = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();
const failureReason = z.enum([
  'temporary_error',
  'permanent_error',
  'provider_unavailable',
  'max_retries_exceeded',
  'validity_expired',
  'cancelled_by_operator',
]);

const notificationSchema = z.object({
  id: z.string().min(1),
  recipient: z.object({ phone: z.string().min(1), name: z.string().optional() }),
  category: z.string().min(1),
  channel: z.literal('whatsapp'),
  title: z.string(),
  message: z.string(),
  priority: z.enum(PRIORITIES),
  status: z.enum(NOTIFICATION_STATUSES),
  attempts: count,
  maxAttempts: count,
  nextAttemptAt: timestamp.optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
  sentAt: timestamp.optional(),
  expiresAt: timestamp.optional(),
  externalMessageId: z.string().optional(),
  lastError: z
    .object({
      type: z.string(),
      message: z.string(),
      httpStatus: z.number().int().optional(),
      classification: z.enum(['temporary', 'permanent']),
      scope: z.enum(['recipient', 'provider', 'transient']),
      reason: failureReason,
      at: timestamp,
    })
    .optional(),
  reason: failureReason.optional(),
  history: z.array(
    z.object({
      at: timestamp,
      outcome: z.enum(['sent', 'failed', 'permanent_failure', 'held', 'unknown']),
      errorType: z.string().optional(),
      durationMs: z.number().nonnegative(),
    }),
  ),
  inFlight: z.object({ token: z.string(), since: timestamp, leaseUntil: timestamp }).optional(),
  queuedAt: timestamp.optional(),
  idempotencyKey: z.string().min(1).optional(),
  version: count,
});

// The schema must describe Notification exactly: same keys, mutually assignable. A field added to
// the domain type without a schema change fails the typecheck here instead of being stripped on read.
type ParsedNotification = z.infer<typeof notificationSchema>;
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesDomain: SameKeys<ParsedNotification, Notification> &
  MutuallyAssignable<ParsedNotification, Notification> = true;
void schemaMatchesDomain;

const providerStateSchema = z.object({
  status: z.enum(['healthy', 'unavailable']),
  since: timestamp,
  reason: z.string().optional(),
  errorType: z.string().optional(),
  recommendation: z.string().optional(),
  forced: z.boolean().optional(),
  lastProbeAt: timestamp.optional(),
  lastProbeResult: z.string().optional(),
  releasePending: z.boolean().optional(),
  release: z
    .object({
      pass: z.enum(['sweep', 'verify']),
      resume: z
        .object({ shard: z.string(), after: z.object({ dueAt: timestamp, id: z.string() }).optional() })
        .optional(),
      found: count.optional(),
      unqueued: z.array(z.string()).optional(),
    })
    .optional(),
  version: z.number().int().positive(),
});

const idempotencyRecordSchema = z.object({
  notificationId: z.string().min(1),
  notification: z.record(z.string(), z.unknown()),
});

type Item = Record<string, unknown>;

function parseItem<T>(schema: z.ZodType<T>, key: string, item: Item): T {
  const result = schema.safeParse(item);
  if (!result.success) throw new CorruptItemError(key, z.prettifyError(result.error).replaceAll('\n', '; '));
  return result.data;
}

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
const hourOf = (date: Date): string => date.toISOString().slice(0, 13);

export const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ConditionalCheckFailedException');

// ---- The store -----------------------------------------------------------------------------

export class NotificationStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionDays: number;
  private readonly idempotencyTtlHours: number;
  private readonly queryPageSize: number | undefined;
  private readonly log: Log;

  constructor(options: NotificationStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionDays = options.retentionDays ?? 90;
    this.idempotencyTtlHours = options.idempotencyTtlHours ?? 48;
    this.queryPageSize = options.queryPageSize;
    this.log = options.log ?? silentLog;
  }

  async create(
    notification: Notification,
    now = new Date(),
  ): Promise<{ created: boolean; notification: Notification }> {
    const key = notification.idempotencyKey;
    if (key === undefined) {
      await this.putNew(notification, now);
      return { created: true, notification };
    }

    const idempotencyPk = KEY_PREFIX.idempotency + key;
    // Claim the key first: whoever writes this record owns the creation. An expired record
    // (TTL deletion lags up to days on AWS) counts as absent.
    for (let attempt = 1; !(await this.claimIdempotencyKey(idempotencyPk, notification, now)); attempt++) {
      const existing = await this.resolveIdempotent(idempotencyPk, now);
      if (existing) return { created: false, notification: existing };
      // The record vanished between our claim and our read (expired, or given back): claim again.
      if (attempt >= 3) throw new ConcurrentUpdateError(`Idempotency key ${key} keeps changing; retry later`);
    }

    try {
      await this.putNew(notification, now);
      return { created: true, notification };
    } catch (error) {
      if (!(error instanceof DuplicateNotificationError)) throw error;
      const existing = await this.get(notification.id);
      // A concurrent retry saw our key record before our second write and repaired the
      // notification from the snapshot: the notification is ours.
      if (existing?.idempotencyKey === key) return { created: true, notification: existing };
      // A genuine id collision: give the key back so it does not point at someone else's notification.
      await this.client
        .send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { [PARTITION_KEY]: idempotencyPk },
            ConditionExpression: 'notificationId = :id',
            ExpressionAttributeValues: { ':id': notification.id },
          }),
        )
        .catch((deleteError: unknown) => {
          if (!isConditionalCheckFailed(deleteError)) throw deleteError;
        });
      throw error;
    }
  }

  async get(id: string): Promise<Notification | undefined> {
    const item = await this.getItem(id);
    return item === undefined ? undefined : this.toNotification(item);
  }

  async save(next: Notification, expectedVersion: number, now = new Date()): Promise<void> {
    if (next.version !== expectedVersion + 1) {
      throw new Error(`save(${next.id}): next.version must be ${expectedVersion + 1}, got ${next.version}`);
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(next, now),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // Only on the failure path: tell "gone" from "changed".
      if ((await this.getItem(next.id)) === undefined) {
        throw new NotificationNotFoundError(`Notification ${next.id} does not exist`);
      }
      throw new ConcurrentUpdateError(`Notification ${next.id} is no longer at version ${expectedVersion}`);
    }
  }

  async dueNotifications(input: { now: Date; limit: number }): Promise<Notification[]> {
    const due: Notification[] = [];
    for (const shard of DUE_SHARDS) {
      let startKey: Item | undefined;
      do {
        const remaining = input.limit - due.length;
        if (remaining <= 0) return due;
        const page = await this.client.send(
          new QueryCommand({
            ...this.dueQuery(shard, input.now),
            Limit: Math.min(remaining, this.queryPageSize ?? remaining),
            ExclusiveStartKey: startKey,
          }),
        );
        due.push(...this.parseDue(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return due;
  }

  /**
   * One page of a due-index shard, in due order, from just after `cursor` (or from the start, or from just after
   * `after`) up to `until`. For readers that page forward over many calls, and may stop and resume in another
   * process: the cursor is plain data.
   */
  async dueNotificationsPage(input: {
    shard: Priority;
    until: Date;
    after?: Date;
    cursor?: DueCursor;
    limit: number;
  }): Promise<{ notifications: Notification[]; cursor?: DueCursor }> {
    const query = this.dueQuery(input.shard, input.until);
    if (input.after) {
      query.KeyConditionExpression = '#shard = :shard AND #due BETWEEN :from AND :now';
      (query.ExpressionAttributeValues as Item)[':from'] = new Date(input.after.getTime() + 1).toISOString();
    }
    const page = await this.client.send(
      new QueryCommand({
        ...query,
        Limit: input.limit,
        ...(input.cursor
          ? {
              ExclusiveStartKey: {
                [PARTITION_KEY]: input.cursor.id,
                [DUE_SHARD_ATTRIBUTE]: input.shard,
                [DUE_AT_ATTRIBUTE]: input.cursor.dueAt,
              },
            }
          : {}),
      }),
    );
    const notifications = this.parseDue(page.Items ?? []);
    const last = page.LastEvaluatedKey;
    return last
      ? { notifications, cursor: { id: String(last[PARTITION_KEY]), dueAt: String(last[DUE_AT_ATTRIBUTE]) } }
      : { notifications };
  }

  async dueBacklog(input: {
    now: Date;
    cap: number;
  }): Promise<{ count: number; capped: boolean; oldestDueAt?: string }> {
    let total = 0;
    let capped = false;
    const oldest: string[] = [];
    for (const [index, shard] of DUE_SHARDS.entries()) {
      let shardCount = 0;
      let startKey: Item | undefined;
      do {
        const remaining = input.cap - total;
        if (remaining <= 0) break;
        const page = await this.client.send(
          new QueryCommand({
            ...this.dueQuery(shard, input.now),
            Select: 'COUNT',
            Limit: remaining,
            ExclusiveStartKey: startKey,
          }),
        );
        shardCount += page.Count ?? 0;
        total += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      // Stopped at the cap with more possibly left (this shard's next page, or shards not read).
      if (total >= input.cap && (startKey !== undefined || index < DUE_SHARDS.length - 1)) capped = true;
      if (shardCount > 0) {
        const first = await this.client.send(
          new QueryCommand({
            ...this.dueQuery(shard, input.now),
            Limit: 1,
            ProjectionExpression: '#due',
          }),
        );
        const dueAt = first.Items?.[0]?.[DUE_AT_ATTRIBUTE];
        if (typeof dueAt === 'string') oldest.push(dueAt);
      }
      if (capped) break;
    }
    const oldestDueAt = oldest.sort()[0];
    return oldestDueAt === undefined ? { count: total, capped } : { count: total, capped, oldestDueAt };
  }

  async incrementCounters(at: Date, delta: Partial<HourlyCounts>): Promise<void> {
    const fields = COUNTER_FIELDS.filter((field) => delta[field] !== undefined && delta[field] !== 0);
    if (fields.length === 0) return;
    const names: Record<string, string> = { '#ttl': TTL_ATTRIBUTE, '#hour': 'hour' };
    const values: Record<string, unknown> = {};
    for (const field of fields) {
      const amount = delta[field]!;
      if (!Number.isInteger(amount)) throw new Error(`incrementCounters: ${field} must be an integer, got ${amount}`);
      names[`#${field}`] = field;
      values[`:${field}`] = amount;
    }
    const hour = hourOf(at);
    const hourStart = new Date(`${hour}:00:00.000Z`);
    values[':ttl'] = epochSeconds(hourStart) + COUNTER_TTL_DAYS * DAY_SECONDS;
    values[':hour'] = hour;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: KEY_PREFIX.counter + hour },
        UpdateExpression: `ADD ${fields.map((f) => `#${f} :${f}`).join(', ')} SET #ttl = :ttl, #hour = :hour`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async readCounters(now: Date, hours: number): Promise<Array<{ hour: string } & HourlyCounts>> {
    if (!Number.isInteger(hours) || hours < 0)
      throw new Error(`readCounters: hours must be a whole number, got ${hours}`);
    const currentHourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    const wanted = Array.from({ length: hours }, (_, i) =>
      hourOf(new Date(currentHourStart - (hours - 1 - i) * HOUR_MS)),
    );

    const found = new Map<string, Item>();
    for (let start = 0; start < wanted.length; start += BATCH_GET_LIMIT) {
      let keys: Item[] = wanted
        .slice(start, start + BATCH_GET_LIMIT)
        .map((hour) => ({ [PARTITION_KEY]: KEY_PREFIX.counter + hour }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > BATCH_GET_ATTEMPTS) throw new Error(`readCounters: ${keys.length} keys still unprocessed`);
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25));
        const result = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) found.set(String(item[PARTITION_KEY]), item);
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }

    return wanted.map((hour) => {
      const item = found.get(KEY_PREFIX.counter + hour);
      const counts = {} as HourlyCounts;
      for (const field of COUNTER_FIELDS) {
        const value = item?.[field];
        counts[field] = typeof value === 'number' ? value : 0;
      }
      return { hour, ...counts };
    });
  }

  async acquireAlertCooldown(kind: string, now: Date, cooldownMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PARTITION_KEY]: KEY_PREFIX.alert + kind, kind, lastSentAt: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(#pk) OR lastSentAt <= :threshold',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':threshold': new Date(now.getTime() - cooldownMs).toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async releaseAlertCooldown(kind: string, acquiredAt: Date): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: KEY_PREFIX.alert + kind },
          ConditionExpression: 'lastSentAt = :acquired',
          ExpressionAttributeValues: { ':acquired': acquiredAt.toISOString() },
        }),
      );
    } catch (error) {
      // Someone acquired it again since: theirs now, leave it.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async getProviderState(name: string): Promise<ProviderState | undefined> {
    const key = KEY_PREFIX.provider + name;
    const item = await this.getItem(key);
    if (item === undefined) return undefined;
    const { [PARTITION_KEY]: _pk, ...state } = item;
    return parseItem(providerStateSchema, key, state);
  }

  async putProviderState(name: string, state: ProviderState, expectedVersion: number): Promise<void> {
    if (state.version !== expectedVersion + 1) {
      throw new Error(`putProviderState(${name}): state.version must be ${expectedVersion + 1}, got ${state.version}`);
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...state, [PARTITION_KEY]: KEY_PREFIX.provider + name },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw new ConcurrentUpdateError(`Provider state ${name} is no longer at version ${expectedVersion}`);
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private async putNew(notification: Notification, now: Date): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(notification, now),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw new DuplicateNotificationError(`Notification ${notification.id} already exists`);
    }
  }

  private async claimIdempotencyKey(idempotencyPk: string, notification: Notification, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PARTITION_KEY]: idempotencyPk,
            notificationId: notification.id,
            notification,
            [TTL_ATTRIBUTE]: epochSeconds(now) + this.idempotencyTtlHours * 3600,
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** The key is taken: return its notification, writing it from the snapshot if the first caller crashed. */
  private async resolveIdempotent(idempotencyPk: string, now: Date): Promise<Notification | undefined> {
    const item = await this.getItem(idempotencyPk);
    if (item === undefined) return undefined;
    const record = parseItem(idempotencyRecordSchema, idempotencyPk, item);
    const existing = await this.get(record.notificationId);
    if (existing) return existing;
    const snapshot = parseItem(notificationSchema, idempotencyPk, record.notification);
    try {
      await this.putNew(snapshot, now);
      return snapshot;
    } catch (error) {
      if (!(error instanceof DuplicateNotificationError)) throw error;
      // Lost the repair race to the original writer or another retry: theirs is the one.
      const written = await this.get(record.notificationId);
      if (!written) throw error;
      return written;
    }
  }

  private parseDue(items: Item[]): Notification[] {
    const due: Notification[] = [];
    for (const item of items) {
      try {
        due.push(this.toNotification(item));
      } catch (error) {
        // One bad hand edit must not stop every sweep: skip it loudly.
        if (!(error instanceof CorruptItemError)) throw error;
        this.log.warn('Skipping a malformed due notification', { key: error.key, issues: error.issues });
      }
    }
    return due;
  }

  private async getItem(pk: string): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: pk }, ConsistentRead: true }),
    );
    return result.Item;
  }

  private dueQuery(shard: string, now: Date): QueryCommandInput {
    return {
      TableName: this.tableName,
      IndexName: DUE_INDEX_NAME,
      KeyConditionExpression: '#shard = :shard AND #due <= :now',
      ExpressionAttributeNames: { '#shard': DUE_SHARD_ATTRIBUTE, '#due': DUE_AT_ATTRIBUTE },
      ExpressionAttributeValues: { ':shard': shard, ':now': now.toISOString() },
      ScanIndexForward: true,
    };
  }

  private toItem(notification: Notification, now: Date): Item {
    const item: Item = { ...notification, [PARTITION_KEY]: notification.id };
    if (isAwaitingAttempt(notification.status) && notification.nextAttemptAt !== undefined) {
      item[DUE_SHARD_ATTRIBUTE] = notification.priority;
    } else {
      // Only records awaiting an attempt carry a due time (keeps the index sparse and the record honest).
      delete item[DUE_AT_ATTRIBUTE];
    }
    if (isTerminal(notification.status)) {
      item[TTL_ATTRIBUTE] = epochSeconds(now) + this.retentionDays * DAY_SECONDS;
    }
    return item;
  }

  private toNotification(item: Item): Notification {
    const { [PARTITION_KEY]: pk, [DUE_SHARD_ATTRIBUTE]: _shard, [TTL_ATTRIBUTE]: _ttl, ...fields } = item;
    return parseItem(notificationSchema, String(pk), fields);
  }
}
