// What the use cases need from the outside world, in their own words, with the errors they may meet. Adapters
// (shared/adapters/<tech>/) implement these; use cases import nothing else from outside the domain.

import * as z from 'zod';
import type { CallbackTarget, OutgoingCallback } from '../domain/callbacks.js';
import type { HourlyCounts } from '../domain/counters.js';
import type { FailureVerdict } from '../domain/error-classifier.js';
import type {
  CallbackExhaustion,
  ChannelName,
  FailureReason,
  Notification,
  NotificationStatus,
  Priority,
  QueueTicket,
} from '../domain/notification.js';
import type { DueCursor, ProviderState } from '../domain/provider-circuit.js';
import { INSTANCE_NAME } from '../domain/wachap-instances.js';
import { callbackEventSchema } from '../http/callback-events.js';

// ---- Errors ----------------------------------------------------------------------------------------------

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
/**
 * An idempotency key is claimed by a request that may still be writing its notification (the claim is younger than
 * the ingest function's time limit): its outcome is not known yet. Ask again in `retryAfterSeconds`.
 */
export class IdempotentRequestInFlightError extends Error {
  override name = 'IdempotentRequestInFlightError';
  constructor(readonly retryAfterSeconds: number) {
    super(`a request with this idempotency key is still being processed; retry in ${retryAfterSeconds} s`);
  }
}

// ---- Stores ----------------------------------------------------------------------------------------------

/** What operators list: notifications in some statuses, newest created first, optionally narrowed. */
export interface ListQuery {
  /** Empty: every status. */
  statuses: readonly NotificationStatus[];
  /** Bounds on createdAt, both inclusive. */
  from?: Date;
  to?: Date;
  category?: string;
  /** E.164, as stored. */
  phone?: string;
  reason?: FailureReason;
  /** Only those with fewer attempts than this (a raised retry sweep's limit). */
  attemptsBelow?: number;
  /** Only those still valid at this instant: no expiresAt, or one after it. */
  validAt?: Date;
  /** Notifications per page, at most. */
  limit: number;
  /** Where the previous page of the same query stopped (opaque); another query's cursor is InvalidInputError. */
  cursor?: string;
}

/** What operators count: the notifications of each status created in a window, each count stopped at `cap`. */
export interface CountQuery {
  /** Empty: every status. */
  statuses: readonly NotificationStatus[];
  /** Bounds on createdAt, both inclusive. */
  from?: Date;
  to?: Date;
  /** A status's count stops here (capped: true): a count reads every item it counts. */
  cap: number;
}

/** How many notifications each counted status holds; `capped`: at least `count`, the cap was reached. */
export type StatusCounts = Partial<Record<NotificationStatus, { count: number; capped: boolean }>>;

/**
 * The fingerprint of the request that claimed an idempotency key (requestFingerprint), kept with the key so that a
 * reuse with another request can be told from a repeat; absent for keys claimed before fingerprints were kept.
 */
export interface IdempotencyFingerprint {
  fingerprint?: string;
}

/** The notifications, the source of truth. Every write is conditional on the version that was read. */
export interface NotificationRepository {
  /**
   * Writes a new notification. With an idempotency key, a repeat of the key returns the first notification
   * (created: false), even if the first caller died between its writes.
   */
  create(
    notification: Notification,
    now?: Date,
    fingerprint?: string,
  ): Promise<{ created: boolean; notification: Notification } & IdempotencyFingerprint>;
  /**
   * The notification a live idempotency key of `caller` points at (written from its snapshot if the first caller
   * died), if any. Keys are scoped per caller: two callers' equal keys are two keys.
   */
  findByIdempotencyKey(
    key: string,
    now: Date,
    caller?: string,
  ): Promise<({ notification: Notification } & IdempotencyFingerprint) | undefined>;
  get(id: string): Promise<Notification | undefined>;
  /** Writes `next` over `expectedVersion` (next.version must be expectedVersion + 1), or ConcurrentUpdateError. */
  save(next: Notification, expectedVersion: number, now?: Date): Promise<void>;
  /** Due work, high priority first, oldest first, at most `limit`. */
  dueNotifications(input: { now: Date; limit: number }): Promise<Notification[]>;
  /**
   * One page of due work up to `until`, from `cursor` (or the start; or only after `after`), high priority
   * first. The returned cursor resumes just after the page; none means the end. Cursors are plain data.
   */
  dueNotificationsPage(input: {
    until: Date;
    after?: Date;
    cursor?: DueCursor;
    limit: number;
  }): Promise<{ notifications: Notification[]; cursor?: DueCursor }>;
  /** How much is due (counted up to `cap`), and since when. */
  dueBacklog(input: { now: Date; cap: number }): Promise<{ count: number; capped: boolean; oldestDueAt?: string }>;
  /**
   * One page of `query`, newest createdAt first, from its cursor. Its cost follows the page, not the table: a page
   * stops early (with a cursor, maybe with fewer notifications) when the filters reject what it reads. No cursor
   * means the end. A notification changed between two pages keeps its place (the order is the creation's): each
   * comes once, but one whose status leaves the listed ones before its page comes may be missing.
   */
  listNotifications(query: ListQuery): Promise<{ notifications: Notification[]; cursor?: string }>;
  /** How many notifications of each status `query` matches, each count bounded by its cap. */
  countNotifications(query: CountQuery): Promise<StatusCounts>;
}

export interface HourlyCounters {
  /**
   * Adds `delta` to the hour of `at`. `resetFailureStreak`: a delivered send sets that hour's failureStreak to 0, or,
   * when `delta` has a failureStreak too (a batch's moves added up, counter-batch.ts), to that: the run since.
   */
  incrementCounters(at: Date, delta: Partial<HourlyCounts>, options?: { resetFailureStreak?: boolean }): Promise<void>;
  /** The last `hours` hours, oldest first, zeros where nothing happened. */
  readCounters(now: Date, hours: number): Promise<Array<{ hour: string } & HourlyCounts>>;
}

/** One alert of a kind per cooldown, whoever asks first (a conditional write). */
export interface AlertCooldowns {
  acquireAlertCooldown(kind: string, now: Date, cooldownMs: number): Promise<boolean>;
  /** Gives the cooldown back (nobody was told), unless someone acquired it again since. */
  releaseAlertCooldown(kind: string, acquiredAt: Date): Promise<void>;
}

/** The provider circuit's record, written only over the version that was read. */
export interface ProviderStates {
  getProviderState(name: string): Promise<ProviderState | undefined>;
  putProviderState(name: string, state: ProviderState, expectedVersion: number): Promise<void>;
}

// ---- Queue -----------------------------------------------------------------------------------------------

/** Queues delay a message by at most this long (SQS's limit). */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** What travels on the send queue: the id, and optionally an outcome that could not be written to the table. */
export const sendMessageSchema = z.strictObject({
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a notification id (ULID)'),
  /** Set when the provider accepted the message but the table write failed: record it, never resend. */
  accepted: z
    .strictObject({
      at: z.iso.datetime(),
      externalMessageId: z.string().max(256).optional(),
      durationMs: z.number().nonnegative(),
      /** The WaChap instance that sent it, and the one it was routed to when a stand-in did (failover). */
      instance: z.string().regex(INSTANCE_NAME).optional(),
      routedTo: z.string().regex(INSTANCE_NAME).optional(),
    })
    .optional(),
});
export type SendMessage = z.infer<typeof sendMessageSchema>;

/**
 * The fast path to the sender. The table stays the source of truth: a lost message only waits for a sweep.
 * Each notification goes to its priority's lane (domain/notification laneOf).
 */
export interface SendQueue {
  enqueue(message: SendMessage, options: { priority: Priority; delaySeconds?: number }): Promise<void>;
  /** Queues notifications, reporting which ones the queue refused instead of throwing for them. */
  enqueueMany<T extends QueueTicket>(tickets: readonly T[]): Promise<{ queued: T[]; failed: T[] }>;
  /** Messages waiting in the dead-letter queue, or undefined when there is none to watch. */
  dlqDepth(): Promise<number | undefined>;
}

// ---- Status callbacks ------------------------------------------------------------------------------------

/**
 * What travels on the callback queue: the event (signed anew at each try, so its timestamp is fresh), where it goes,
 * and where its retries stand. SQS delays a message by 15 minutes at most, so a longer wait travels as `notBefore`:
 * a message received earlier is sent back with the remaining delay.
 */
export const callbackMessageSchema = z.strictObject({
  /** The webhook-id (domain/callbacks callbackEventId). */
  id: z.string().min(1).max(256),
  event: callbackEventSchema,
  target: z.strictObject({ url: z.url().max(2048), caller: z.string().min(1).max(256).optional() }),
  /** When the event was emitted: its retries end a window (24 h) after this. */
  emittedAt: z.iso.datetime(),
  /** Tries made so far. */
  attempts: z.int().min(0),
  /** Not to be tried before this instant. */
  notBefore: z.iso.datetime().optional(),
  /**
   * Set on the copy put in the callback DLQ once the retries ran out. Sent back to the callback queue (an operator's
   * DLQ redrive), the message starts a new window of retries.
   */
  exhausted: z.strictObject({ at: z.iso.datetime(), lastError: z.string() }).optional(),
});
export type CallbackMessage = z.infer<typeof callbackMessageSchema>;

/**
 * Where status callbacks wait for their delivery (the callback queue): the mover hands the event over and goes on,
 * the dispatcher POSTs it, so that a slow receiver never slows sending.
 */
export interface CallbackQueue {
  enqueue(callback: OutgoingCallback, target: CallbackTarget): Promise<void>;
}

/** The dispatcher's side of the callback queue: a retry is a new message, a message given up on goes to the DLQ. */
export interface CallbackRetryQueue {
  /** Sends `message` again, hidden for `delaySeconds` (at most MAX_QUEUE_DELAY_SECONDS). */
  retry(message: CallbackMessage, delaySeconds: number): Promise<void>;
  /** Puts `body` in the callback DLQ, where operators see it (an alarm watches it). */
  deadLetter(body: string): Promise<void>;
}

/** The caller's signing secret (Standard Webhooks: base64, with or without `whsec_`); none: the `default` one. */
export type CallbackSecrets = (caller: string | undefined) => Promise<string>;

/** A signed callback POST, as the transport makes it. */
export interface CallbackRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type CallbackPostOutcome =
  | { ok: true; status: number }
  /** `type`: http_status (a non-2xx answer), timeout, refused_address (the URL policy), network (DNS, refused…). */
  | { ok: false; type: string; message: string; status?: number };

export type CallbackPoster = (request: CallbackRequest) => Promise<CallbackPostOutcome>;

/** Marks a notification with a callback given up on, so that operators see it with the notification. */
export interface CallbackExhaustedMarks {
  /** False when the notification is gone (its retention ran out). */
  markCallbackExhausted(id: string, exhaustion: CallbackExhaustion): Promise<boolean>;
}

// ---- Delivery --------------------------------------------------------------------------------------------

/** Why a delivery failed, as the channel saw it; the verdict says what to do about it. */
export interface DeliveryError {
  type: string;
  message: string;
  httpStatus?: number;
}

export type DeliveryOutcome =
  | { ok: true; messageId?: string; durationMs: number }
  | { ok: false; error: DeliveryError; verdict: FailureVerdict; durationMs: number };

/**
 * A way to reach a recipient (WhatsApp through WaChap today). It renders the notification its own way, sends
 * it, and classifies its own failures: the sender only acts on the verdict.
 */
export interface DeliveryChannel {
  /** `via`: the WaChap instance to send through (absent: the only one). */
  deliver(
    notification: Pick<Notification, 'recipient' | 'title' | 'message'>,
    via?: { instance: string },
  ): Promise<DeliveryOutcome>;
}

/**
 * The channels a sender may deliver through, by name: WhatsApp always, the others when configured (email: an SES
 * identity). Which one a notification uses is the channel policy's answer (domain/channel-policy), never the sender's.
 */
export type DeliveryChannels = { whatsapp: DeliveryChannel } & Partial<Record<ChannelName, DeliveryChannel>>;

/** Asks the provider whether it would take messages now (WaChap: get_qrcode), without sending any. */
export interface ProviderProbe {
  checkConnection(): Promise<{ ok: true } | { ok: false; error: DeliveryError }>;
}

// ---- Alerts ----------------------------------------------------------------------------------------------

export interface Email {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(email: Email): Promise<unknown>;
}

/** Who the alerts go to; a channel without its contact is not configured. */
export interface AdminContacts {
  email?: string;
  /** E.164. */
  phone?: string;
  /** Why a contact is missing (a malformed or unreadable secret), naming the field, never its value. */
  problems?: string[];
}

/** Reads the admin's contacts when an alert is to be addressed (in AWS a secret, re-read after its max age). */
export type AdminContactsSource = () => Promise<AdminContacts>;

// ---- Per-recipient limits --------------------------------------------------------------------------------

/** One count: a recipient (E.164), a category, and a fixed window (domain/recipient-limits limitWindow). */
export interface RecipientSlot {
  phone: string;
  category: string;
  windowStart: Date;
  windowSeconds: number;
}

/** Notifications accepted per recipient, category and window; of two requests for the last slot, one gets it. */
export interface RecipientCounters {
  /** Takes one of `max` slots and answers how many are now taken, or false having written nothing. */
  acquireRecipientSlot(slot: RecipientSlot, max: number): Promise<number | false>;
  /** Gives a slot back: never below zero, never re-creating a window that is gone. */
  releaseRecipientSlot(slot: RecipientSlot): Promise<void>;
}

// ---- A provider's rate, shared by every sender ----------------------------------------------------------

/**
 * When sends at a provider may go, one schedule per rate (a WaChap instance's lane) shared by every sender, so that
 * together they stay under the provider's ceiling in any rolling second, and a busy sender may use what an idle one
 * does not.
 */
export interface RateSchedule {
  /**
   * Books `count` sends from `at` on and answers each one's instant (epoch ms): `intervalMs` apart after the last
   * one booked, or from `at` when nothing is booked from `at` on. With `burst`, a rate that sent nothing in the
   * second before `at` lets up to `burst.size` sends go at once, booked by the first booking and any other within
   * `burst.windowMs` of it. With `onlyIfIdle`, books only when nothing is booked from `at` on (a borrower's
   * condition), and otherwise answers undefined having written nothing.
   */
  bookSends(rate: string, request: RateBooking): Promise<BookedSend[] | undefined>;
}

/**
 * Every form of booking lost its race to other senders' bookings, several rounds running: the schedule is busy, not
 * broken. The caller books again a moment later; it must not pace on its own meanwhile (the others use the whole
 * rate, and its own share on top would go over the ceiling).
 */
export class RateScheduleContendedError extends Error {
  override name = 'RateScheduleContendedError';
}

/** A send booked: its instant, and for a burst's, the end of the burst's window (it may go any time until then). */
export interface BookedSend {
  at: number;
  burstUntil?: number;
}

export interface RateBooking {
  at: number;
  count: number;
  intervalMs: number;
  burst?: { size: number; windowMs: number };
  onlyIfIdle?: boolean;
}
