// The notifications: one item per notification keyed by its id, every write conditional on the version that was
// read, a sparse due-work index of keys only (only records awaiting an attempt carry its key, sharded per priority;
// the items it points at are read by BatchGetItem),
// and idempotency keys whose record repairs a crash between its two writes; operators list through the status index
// (notification-list.ts). No Scan, no transactions.
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  ConcurrentUpdateError,
  type CountQuery,
  DuplicateNotificationError,
  type IdempotencyFingerprint,
  IdempotentRequestInFlightError,
  type ListQuery,
  NotificationNotFoundError,
  type NotificationRepository,
  type StatusCounts,
} from '../../application/ports.js';
import { isAwaitingAttempt, type Notification, PRIORITIES } from '../../domain/notification.js';
import type { DueCursor } from '../../domain/provider-circuit.js';
import { type Log, silentLog } from '../../observability/logger.js';
import { batchGetItems } from './batch-get.js';
import { CorruptItemError, epochSeconds, type Item, isConditionalCheckFailed, parseItem } from './items.js';
import { parseNotification, toItem, toNotification } from './notification-item.js';
import { countNotifications, listNotifications } from './notification-list.js';
import {
  DUE_AT_ATTRIBUTE,
  DUE_INDEX_NAME,
  DUE_SHARD_ATTRIBUTE,
  DUE_SHARDS,
  dueShardsOf,
  KEY_PREFIX,
  PARTITION_KEY,
  TTL_ATTRIBUTE,
} from './table.js';

export interface DynamoDbNotificationsOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** How long terminal notifications are kept (TTL), in days. Default 90. */
  retentionDays?: number;
  /** How long an idempotency key is remembered, in hours. Default 48. */
  idempotencyTtlHours?: number;
  /**
   * How long a claimed key whose notification is not written yet counts as a request in flight (IdempotentRequest-
   * InFlightError) rather than one that died: the ingest function's time limit. Default 10 s.
   */
  idempotencyInFlightSeconds?: number;
  /** Items per Query page on the due index; unset lets DynamoDB fill its 1 MB pages. Tests make it small. */
  queryPageSize?: number;
  /** Where skipped corrupt due items are reported. */
  log?: Log;
}

const idempotencyRecordSchema = z.object({
  notificationId: z.string().min(1),
  notification: z.record(z.string(), z.unknown()),
  // Absent on records written before fingerprints were kept.
  fingerprint: z.string().optional(),
  // Set when the request that claimed it failed before writing its notification (abandonClaim).
  abandoned: z.boolean().optional(),
});

export class DynamoDbNotifications implements NotificationRepository {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionDays: number;
  private readonly idempotencyTtlHours: number;
  private readonly inFlightSeconds: number;
  private readonly queryPageSize: number | undefined;
  private readonly log: Log;

  constructor(options: DynamoDbNotificationsOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionDays = options.retentionDays ?? 90;
    this.idempotencyTtlHours = options.idempotencyTtlHours ?? 48;
    this.inFlightSeconds = options.idempotencyInFlightSeconds ?? 10;
    this.queryPageSize = options.queryPageSize;
    this.log = options.log ?? silentLog;
  }

  async create(
    notification: Notification,
    now = new Date(),
    fingerprint?: string,
  ): Promise<{ created: boolean; notification: Notification } & IdempotencyFingerprint> {
    const key = notification.idempotencyKey;
    if (key === undefined) {
      await this.putNew(notification, now);
      return { created: true, notification };
    }

    const idempotencyPk = idempotencyKeyOf(key, notification.caller);
    // Keys claimed before they were scoped per caller are remembered for idempotencyTtlHours under the bare key: a
    // caller's repeat of such a request is still a repeat. One read per keyed request, until those records expire.
    if (notification.caller !== undefined) {
      const legacy = await this.resolveIdempotent(KEY_PREFIX.idempotency + key, now);
      if (legacy) return { created: false, ...legacy };
    }
    // Claim the key first: whoever writes this record owns the creation. An expired record
    // (TTL deletion lags up to days on AWS) counts as absent.
    for (let attempt = 1; !(await this.claimIdempotencyKey(idempotencyPk, notification, now, fingerprint)); attempt++) {
      const existing = await this.resolveIdempotent(idempotencyPk, now);
      if (existing) return { created: false, ...existing };
      // The record vanished between our claim and our read (expired, or given back): claim again.
      if (attempt >= 3) throw new ConcurrentUpdateError(`Idempotency key ${key} keeps changing; retry later`);
    }

    try {
      await this.putNew(notification, now);
      return { created: true, notification };
    } catch (error) {
      if (!(error instanceof DuplicateNotificationError)) {
        // This request's answer is a failure: its claim is no longer in flight, and a repeat may write the
        // notification from the snapshot at once (if the write did land, the repeat finds it) instead of a 409.
        await this.abandonClaim(idempotencyPk, notification.id);
        throw error;
      }
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

  async findByIdempotencyKey(
    key: string,
    now: Date,
    caller?: string,
  ): Promise<({ notification: Notification } & IdempotencyFingerprint) | undefined> {
    const scoped = await this.resolveIdempotent(idempotencyKeyOf(key, caller), now);
    if (scoped || caller === undefined) return scoped;
    return this.resolveIdempotent(KEY_PREFIX.idempotency + key, now);
  }

  async get(id: string): Promise<Notification | undefined> {
    const item = await this.getItem(id);
    return item === undefined ? undefined : toNotification(item);
  }

  async save(next: Notification, expectedVersion: number, now = new Date()): Promise<void> {
    if (next.version !== expectedVersion + 1) {
      throw new Error(`save(${next.id}): next.version must be ${expectedVersion + 1}, got ${next.version}`);
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(next, now, this.retentionDays),
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
    for (const priority of PRIORITIES) {
      const remaining = input.limit - due.length;
      if (remaining <= 0) break;
      // The priority's shards in parallel, each up to what is still wanted; the oldest due first across them.
      const keys = (
        await Promise.all(dueShardsOf(priority).map((shard) => this.dueKeys(shard, input.now, remaining)))
      ).flat();
      keys.sort(byDueThenId);
      due.push(...(await this.readDue(keys.slice(0, remaining))));
    }
    return due;
  }

  async dueNotificationsPage(input: {
    until: Date;
    after?: Date;
    cursor?: DueCursor;
    limit: number;
  }): Promise<{ notifications: Notification[]; cursor?: DueCursor }> {
    // A cursor naming a shard this table no longer has (one saved before the due index was sharded, or under another
    // shard count) starts the pass again from the first shard: a release reads some pages twice, never none.
    const known = input.cursor ? DUE_SHARDS.indexOf(input.cursor.shard) : 0;
    const start = Math.max(0, known);
    const shard = DUE_SHARDS[start]!;
    const query = this.dueQuery(shard, input.until);
    if (input.after) {
      query.KeyConditionExpression = '#shard = :shard AND #due BETWEEN :from AND :now';
      (query.ExpressionAttributeValues as Item)[':from'] = new Date(input.after.getTime() + 1).toISOString();
    }
    const after = known >= 0 ? input.cursor?.after : undefined;
    const page = await this.client.send(
      new QueryCommand({
        ...query,
        Limit: input.limit,
        ...(after
          ? {
              ExclusiveStartKey: {
                [PARTITION_KEY]: after.id,
                [DUE_SHARD_ATTRIBUTE]: shard,
                [DUE_AT_ATTRIBUTE]: after.dueAt,
              },
            }
          : {}),
      }),
    );
    const notifications = await this.readDue(page.Items ?? []);
    const last = page.LastEvaluatedKey;
    if (last) {
      return {
        notifications,
        cursor: { shard, after: { dueAt: String(last[DUE_AT_ATTRIBUTE]), id: String(last[PARTITION_KEY]) } },
      };
    }
    // This shard is read to its end: the next page starts the next one, if any.
    const next = DUE_SHARDS[start + 1];
    return next ? { notifications, cursor: { shard: next } } : { notifications };
  }

  async dueBacklog(input: {
    now: Date;
    cap: number;
  }): Promise<{ count: number; capped: boolean; oldestDueAt?: string }> {
    // Every shard in parallel, each counted up to the cap: the sum is capped once, the oldest is the shards' oldest.
    const shards = await Promise.all(
      DUE_SHARDS.map(async (shard) => {
        let count = 0;
        let startKey: Item | undefined;
        do {
          const remaining = input.cap - count;
          if (remaining <= 0) break;
          const page = await this.client.send(
            new QueryCommand({
              ...this.dueQuery(shard, input.now),
              Select: 'COUNT',
              Limit: remaining,
              ExclusiveStartKey: startKey,
            }),
          );
          count += page.Count ?? 0;
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        let oldestDueAt: string | undefined;
        if (count > 0) {
          const first = await this.client.send(
            new QueryCommand({ ...this.dueQuery(shard, input.now), Limit: 1, ProjectionExpression: '#due' }),
          );
          const dueAt = first.Items?.[0]?.[DUE_AT_ATTRIBUTE];
          if (typeof dueAt === 'string') oldestDueAt = dueAt;
        }
        return { count, more: startKey !== undefined, oldestDueAt };
      }),
    );
    const sum = shards.reduce((total, shard) => total + shard.count, 0);
    // At the cap with more possibly left (a shard's next page), or past it (the shards' counts together).
    const capped = sum > input.cap || (sum === input.cap && shards.some((shard) => shard.more));
    const count = Math.min(sum, input.cap);
    const oldestDueAt = shards
      .map((shard) => shard.oldestDueAt)
      .filter((dueAt): dueAt is string => dueAt !== undefined)
      .sort()[0];
    return oldestDueAt === undefined ? { count, capped } : { count, capped, oldestDueAt };
  }

  async listNotifications(query: ListQuery): Promise<{ notifications: Notification[]; cursor?: string }> {
    return listNotifications({ client: this.client, tableName: this.tableName, log: this.log }, query);
  }

  async countNotifications(query: CountQuery): Promise<StatusCounts> {
    return countNotifications({ client: this.client, tableName: this.tableName, log: this.log }, query);
  }

  // ---- internals ---------------------------------------------------------------------------

  private async putNew(notification: Notification, now: Date): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(notification, now, this.retentionDays),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw new DuplicateNotificationError(`Notification ${notification.id} already exists`);
    }
  }

  private async claimIdempotencyKey(
    idempotencyPk: string,
    notification: Notification,
    now: Date,
    fingerprint: string | undefined,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PARTITION_KEY]: idempotencyPk,
            notificationId: notification.id,
            notification,
            ...(fingerprint === undefined ? {} : { fingerprint }),
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

  /** Best effort: without the mark, a repeat waits for the in-flight window to pass (409) before repairing. */
  private async abandonClaim(idempotencyPk: string, notificationId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: idempotencyPk },
          UpdateExpression: 'SET abandoned = :true',
          ConditionExpression: 'notificationId = :id',
          ExpressionAttributeValues: { ':true': true, ':id': notificationId },
        }),
      );
    } catch (error) {
      this.log.warn('idempotency claim not marked abandoned', { notificationId, error: String(error) });
    }
  }

  /**
   * The key is taken: return its notification (writing it from the snapshot if the first caller crashed) and the
   * fingerprint of the request that claimed it.
   */
  private async resolveIdempotent(
    idempotencyPk: string,
    now: Date,
  ): Promise<({ notification: Notification } & IdempotencyFingerprint) | undefined> {
    const item = await this.getItem(idempotencyPk);
    // An expired record counts as absent, as it does for the claim.
    if (item === undefined || (typeof item[TTL_ATTRIBUTE] === 'number' && item[TTL_ATTRIBUTE] < epochSeconds(now))) {
      return undefined;
    }
    const record = parseItem(idempotencyRecordSchema, idempotencyPk, item);
    const answer = (notification: Notification) =>
      record.fingerprint === undefined ? { notification } : { notification, fingerprint: record.fingerprint };
    const existing = await this.get(record.notificationId);
    if (existing) return answer(existing);
    const snapshot = parseNotification(idempotencyPk, record.notification);
    // Claimed, not written: the request that claimed it may still be writing (its claim is younger than the ingest
    // function's time limit), and then its outcome is not known yet (409, try again); past that limit it died
    // between its two writes, and this repeat writes the notification from the snapshot.
    const claimAgeMs = now.getTime() - Date.parse(snapshot.createdAt);
    if (record.abandoned !== true && claimAgeMs < this.inFlightSeconds * 1000) {
      throw new IdempotentRequestInFlightError(Math.max(1, Math.ceil(this.inFlightSeconds - claimAgeMs / 1000)));
    }
    try {
      await this.putNew(snapshot, now);
      return answer(snapshot);
    } catch (error) {
      if (!(error instanceof DuplicateNotificationError)) throw error;
      // Lost the repair race to the original writer or another retry: theirs is the one.
      const written = await this.get(record.notificationId);
      if (!written) throw error;
      return answer(written);
    }
  }

  /** The due index's entries' keys, up to `limit`, oldest due first. */
  private async dueKeys(shard: string, now: Date, limit: number): Promise<Item[]> {
    const keys: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          ...this.dueQuery(shard, now),
          Limit: Math.min(limit - keys.length, this.queryPageSize ?? limit),
          ExclusiveStartKey: startKey,
        }),
      );
      keys.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && keys.length < limit);
    return keys;
  }

  /**
   * The notifications the due index's entries point at (it projects keys only), read as they are now, in the
   * entries' order. One the index still shows but that no longer awaits an attempt (sent or ended meanwhile: the
   * index lags the table a little) or that is gone is not due work, and is left out.
   */
  private async readDue(entries: Item[]): Promise<Notification[]> {
    const ids = entries.map((entry) => String(entry[PARTITION_KEY]));
    const items = await batchGetItems(this.client, this.tableName, ids);
    const due: Notification[] = [];
    for (const id of ids) {
      const item = items.get(id);
      if (item === undefined) continue;
      try {
        const notification = toNotification(item);
        if (isAwaitingAttempt(notification.status)) due.push(notification);
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
}

/** Oldest due first; equal instants (a release's) by id, as the index orders them. */
const byDueThenId = (a: Item, b: Item): number => {
  const dueA = String(a[DUE_AT_ATTRIBUTE]);
  const dueB = String(b[DUE_AT_ATTRIBUTE]);
  if (dueA !== dueB) return dueA < dueB ? -1 : 1;
  return String(a[PARTITION_KEY]) < String(b[PARTITION_KEY]) ? -1 : 1;
};

/** Where an idempotency key is claimed: under its caller when there is one (keys are per caller), else bare. */
const idempotencyKeyOf = (key: string, caller: string | undefined): string =>
  caller === undefined ? KEY_PREFIX.idempotency + key : `${KEY_PREFIX.callerIdempotency}${caller}#${key}`;
