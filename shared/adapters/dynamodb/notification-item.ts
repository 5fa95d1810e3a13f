// A notification as one DynamoDB item: the schema every read is parsed with (it must describe the domain type
// exactly), and the mapping both ways.
import * as z from 'zod';
import {
  CHANNELS,
  FAILURE_REASONS,
  isAwaitingAttempt,
  isTerminal,
  NOTIFICATION_STATUSES,
  type Notification,
  PRIORITIES,
} from '../../domain/notification.js';
import { count, DAY_SECONDS, epochSeconds, type Item, parseItem, timestamp } from './items.js';
import { statusIndexKeys } from './status-index.js';
import {
  DUE_AT_ATTRIBUTE,
  DUE_SHARD_ATTRIBUTE,
  dueShardOf,
  PARTITION_KEY,
  STATUS_AT_ATTRIBUTE,
  STATUS_SHARD_ATTRIBUTE,
  TTL_ATTRIBUTE,
} from './table.js';

const failureReason = z.enum(FAILURE_REASONS);

export const notificationSchema = z.object({
  id: z.string().min(1),
  recipient: z.object({ phone: z.string().min(1), name: z.string().optional(), email: z.string().optional() }),
  category: z.string().min(1),
  channel: z.enum(CHANNELS),
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
  instance: z.string().min(1).optional(),
  routedTo: z.string().min(1).optional(),
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
      channel: z.enum(CHANNELS).optional(),
      errorType: z.string().optional(),
      durationMs: z.number().nonnegative(),
    }),
  ),
  inFlight: z.object({ token: z.string(), since: timestamp, leaseUntil: timestamp }).optional(),
  queuedAt: timestamp.optional(),
  idempotencyKey: z.string().min(1).optional(),
  caller: z.string().min(1).optional(),
  callbackUrl: z.string().min(1).optional(),
  callbackExhausted: z
    .array(
      z.object({
        eventId: z.string(),
        type: z.string(),
        at: timestamp,
        attempts: count,
        lastError: z.string(),
      }),
    )
    .optional(),
  operatorActions: z
    .array(
      z.object({
        at: timestamp,
        action: z.enum(['cancel', 'redrive']),
        by: z.string().optional(),
        reason: z.string().optional(),
        from: z.enum(NOTIFICATION_STATUSES),
      }),
    )
    .optional(),
  firstFailureAt: timestamp.optional(),
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

/** A notification snapshot kept elsewhere (an idempotency record), parsed as stored ones are. */
export const parseNotification = (key: string, value: Item): Notification => parseItem(notificationSchema, key, value);

/**
 * The item stored for a notification: its fields, the status index's keys, the due index's key while it awaits an
 * attempt, a TTL once final.
 */
export function toItem(notification: Notification, now: Date, retentionDays: number): Item {
  const item: Item = { ...notification, [PARTITION_KEY]: notification.id, ...statusIndexKeys(notification) };
  if (isAwaitingAttempt(notification.status) && notification.nextAttemptAt !== undefined) {
    item[DUE_SHARD_ATTRIBUTE] = dueShardOf(notification.priority, notification.id);
  } else {
    // Only records awaiting an attempt carry a due time (keeps the index sparse and the record honest).
    delete item[DUE_AT_ATTRIBUTE];
  }
  if (isTerminal(notification.status)) {
    item[TTL_ATTRIBUTE] = epochSeconds(now) + retentionDays * DAY_SECONDS;
  }
  return item;
}

/** A stored item back to a notification, or CorruptItemError naming what is wrong. */
export function toNotification(item: Item): Notification {
  const {
    [PARTITION_KEY]: pk,
    [DUE_SHARD_ATTRIBUTE]: _shard,
    [STATUS_SHARD_ATTRIBUTE]: _statusShard,
    [STATUS_AT_ATTRIBUTE]: _statusAt,
    [TTL_ATTRIBUTE]: _ttl,
    ...fields
  } = item;
  return parseItem(notificationSchema, String(pk), fields);
}
