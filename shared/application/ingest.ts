// Accepting a notification: check what only now can tell, count it against its recipient's limit, write the
// record (the source of truth), then enqueue its id.
// The enqueue is only the fast path: if it fails, the record is due and the next sweep sends it.
import type { CountryCode } from 'libphonenumber-js';
import { ulid } from 'ulid';
import * as z from 'zod';
import { type CallbackUrlPolicy, callbackUrlProblem } from '../domain/callback-url-policy.js';
import { createNotification, type NotificationPolicy } from '../domain/new-notification.js';
import type { Notification, Priority } from '../domain/notification.js';
import { InvalidPhoneNumberError, maskPhone, normalisePhone } from '../domain/phone.js';
import { limitWindow, type RecipientLimits, recipientLimitFor, secondsUntilEnd } from '../domain/recipient-limits.js';
import { requestFingerprint } from '../domain/request-fingerprint.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import {
  type FieldProblem,
  IdempotencyKeyReusedError,
  InvalidInputError,
  type RecipientLimitRefusal,
  RecipientRateLimitedError,
} from './errors.js';
import {
  MAX_QUEUE_DELAY_SECONDS,
  type NotificationRepository,
  type RecipientCounters,
  type RecipientSlot,
  type SendQueue,
} from './ports.js';

const MAX_SCHEDULE_AHEAD_MS = 30 * 86_400_000;

/** An Idempotency-Key: whatever the caller chose, within reason. */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'must be 1 to 128 printable ASCII characters without spaces');

/** A request as the edge has checked it (its shape); ingest checks the rest (the phone, dates against now). */
export interface IngestRequest {
  recipient: { phone: string; name?: string | undefined; email?: string | undefined };
  category: string;
  title?: string | undefined;
  message: string;
  priority?: Priority | undefined;
  /** ISO 8601 date-times. */
  expiresAt?: string | undefined;
  ttlSeconds?: number | undefined;
  sendAt?: string | undefined;
  idempotencyKey?: string | undefined;
  callbackUrl?: string | undefined;
}

export interface IngestDependencies {
  store: Pick<NotificationRepository, 'create' | 'findByIdempotencyKey'>;
  /** Where notifications are counted per recipient, category and window, against `recipientLimits`. */
  recipientCounters: RecipientCounters;
  recipientLimits: RecipientLimits;
  queue: Pick<SendQueue, 'enqueue'>;
  log: Log;
  /** The function's telemetry: each notification accepted (a repeat is not). */
  metrics?: Telemetry | undefined;
  clock: () => Date;
  newId: () => string;
  policy: NotificationPolicy;
  defaultCountry: CountryCode;
  /** Where a callbackUrl may point (CALLBACK_URLS); `public-https` when not given. */
  callbackUrls?: CallbackUrlPolicy;
}

/** Where a request comes from: its Idempotency-Key header, and its caller (the API key's id). */
export interface IngestSource {
  idempotencyHeader?: string | undefined;
  /** Keys are scoped per caller: two upstream systems' equal keys are two keys. */
  caller?: string | undefined;
}

/** The recipient's limit for the category, as the acceptance left it: the caller's RateLimit-* headers. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window ends and the count starts again. */
  resetSeconds: number;
}

export interface IngestResult {
  created: boolean;
  id: string;
  status: string;
  /** Absent for a repeat (nothing was counted) and for a category without a limit. */
  rateLimit?: RateLimitState;
}

/** Checks what the schema cannot: the phone number, and dates relative to now. */
function interpret(body: IngestRequest, headerKey: string | undefined, deps: IngestDependencies) {
  const now = deps.clock();
  const problems: FieldProblem[] = [];
  let phone = '';
  try {
    phone = normalisePhone(body.recipient.phone, deps.defaultCountry);
  } catch (error) {
    if (!(error instanceof InvalidPhoneNumberError)) throw error;
    // Not a number, or one WhatsApp cannot reach (toll-free…): the reason says which, without the number.
    problems.push({ path: 'recipient.phone', message: error.reason });
  }
  const sendAt = body.sendAt ? new Date(body.sendAt) : undefined;
  const expiresAt = body.expiresAt ? new Date(body.expiresAt) : undefined;
  if (sendAt && sendAt.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS) {
    problems.push({ path: 'sendAt', message: 'must be within 30 days' });
  }
  if (expiresAt && expiresAt <= now) problems.push({ path: 'expiresAt', message: 'must be in the future' });
  const parsedHeader = headerKey === undefined ? undefined : idempotencyKey.safeParse(headerKey);
  if (parsedHeader && !parsedHeader.success) {
    problems.push({ path: 'headers.Idempotency-Key', message: parsedHeader.error.issues[0]?.message ?? 'invalid' });
  }
  const callbackProblem = body.callbackUrl && callbackUrlProblem(body.callbackUrl, deps.callbackUrls ?? 'public-https');
  if (callbackProblem) problems.push({ path: 'callbackUrl', message: callbackProblem });
  if (body.idempotencyKey && headerKey !== undefined && body.idempotencyKey !== headerKey) {
    problems.push({ path: 'idempotencyKey', message: 'differs from the Idempotency-Key header' });
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  const key = body.idempotencyKey ?? headerKey;
  return {
    now,
    keyField: body.idempotencyKey ? ('idempotencyKey' as const) : ('headers.Idempotency-Key' as const),
    request: {
      recipient: {
        phone,
        ...(body.recipient.name ? { name: body.recipient.name } : {}),
        ...(body.recipient.email ? { email: body.recipient.email } : {}),
      },
      category: body.category,
      message: body.message,
      ...(body.title ? { title: body.title } : {}),
      ...(body.priority ? { priority: body.priority } : {}),
      ...(expiresAt ? { expiresAt } : {}),
      ...(body.ttlSeconds ? { ttlSeconds: body.ttlSeconds } : {}),
      ...(sendAt ? { sendAt } : {}),
      ...(key ? { idempotencyKey: key } : {}),
      ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
    },
  };
}

/**
 * Accepts a request whose shape the edge has checked; refuses what only now can tell (InvalidInputError) and
 * what its recipient's limit does not allow (RecipientRateLimitedError).
 */
export async function ingestNotification(
  body: IngestRequest,
  source: IngestSource,
  deps: IngestDependencies,
): Promise<IngestResult> {
  const { now, request, keyField } = interpret(body, source.idempotencyHeader, deps);
  const { caller } = source;
  const notification = createNotification(
    { ...request, ...(caller ? { caller } : {}) },
    { id: deps.newId(), now, policy: deps.policy },
  );
  const fingerprint = request.idempotencyKey === undefined ? undefined : requestFingerprint(request);
  // A repeat is the first answer only if it is the same request; a key claimed before fingerprints were kept
  // (no fingerprint) is taken as a repeat, as it was then.
  const repeatOf = (first: { notification: Notification; fingerprint?: string }) => {
    if (first.fingerprint !== undefined && first.fingerprint !== fingerprint) {
      throw new IdempotencyKeyReusedError(keyField);
    }
    return answerRepeat(first.notification, now, deps);
  };

  // The order, so that a refused request writes nothing and a repeat is neither refused nor counted twice:
  // 1. take a slot in the recipient's window (one conditional UpdateItem: the only extra write of an acceptance);
  // 2. none left: a repeat of an accepted request (its idempotency key is live) is answered as before; anything
  //    else is refused, having written nothing (a failed condition writes nothing, the key is only read);
  // 3. create (claim the key, then put the notification): a repeat found there, or a failure, gives the slot back.
  // A key found in 2 or 3 with another request's fingerprint is refused (422), having written nothing.
  // Reading the key before taking the slot would cost every keyed request a read; this way only a refusal reads.
  // A scheduled notification (sendAt) counts in the window of its acceptance, not of its sending.
  const admission = await admit(notification, now, deps);
  if (admission.kind === 'refused') {
    const key = notification.idempotencyKey;
    const first = key === undefined ? undefined : await deps.store.findByIdempotencyKey(key, now, caller);
    if (first) return repeatOf(first);
    throw new RecipientRateLimitedError(admission.refusal);
  }
  const giveBack = () => (admission.kind === 'counted' ? releaseSlot(admission.slot, deps) : Promise.resolve());
  let outcome: Awaited<ReturnType<IngestDependencies['store']['create']>>;
  try {
    outcome = await deps.store.create(notification, now, fingerprint);
  } catch (error) {
    await giveBack();
    throw error;
  }
  const { created, notification: stored } = outcome;
  if (!created) {
    await giveBack();
    return repeatOf(outcome);
  }

  await enqueue(stored, now, deps);
  deps.metrics?.count('NotificationsAccepted', 1, { category: stored.category, priority: stored.priority });
  deps.log.info('notification accepted', {
    notificationId: stored.id,
    category: stored.category,
    priority: stored.priority,
    to: maskPhone(stored.recipient.phone),
  });
  return {
    created: true,
    id: stored.id,
    status: stored.status,
    ...(admission.kind === 'counted' ? { rateLimit: admission.rateLimit } : {}),
  };
}

async function answerRepeat(stored: Notification, now: Date, deps: IngestDependencies): Promise<IngestResult> {
  deps.log.info('idempotent repeat; nothing written', { notificationId: stored.id });
  // The first request may have failed after writing (a throttle, a timeout: its caller got a 5xx) and never
  // queued it; this repeat may even have just repaired the record. Queue it again while it waits for its first
  // attempt: the claim makes a second message harmless, and an OTP must not wait for the sweep.
  if (awaitsFirstAttempt(stored)) await enqueue(stored, now, deps);
  return { created: false, id: stored.id, status: stored.status };
}

type Admission =
  | { kind: 'unlimited' }
  | { kind: 'counted'; slot: RecipientSlot; rateLimit: RateLimitState }
  | { kind: 'refused'; refusal: RecipientLimitRefusal };

/** Counts the notification against its recipient's limit for its category, if it has one. */
async function admit(notification: Notification, now: Date, deps: IngestDependencies): Promise<Admission> {
  const { category } = notification;
  const limit = recipientLimitFor(deps.recipientLimits, category);
  if (!limit) return { kind: 'unlimited' };
  const window = limitWindow(limit, now);
  const slot = {
    phone: notification.recipient.phone,
    category,
    windowStart: window.start,
    windowSeconds: window.seconds,
  };
  const taken = await deps.recipientCounters.acquireRecipientSlot(slot, limit.max);
  if (taken !== false) {
    const rateLimit = {
      limit: limit.max,
      remaining: Math.max(0, limit.max - taken),
      resetSeconds: secondsUntilEnd(window, now),
    };
    return { kind: 'counted', slot, rateLimit };
  }
  return {
    kind: 'refused',
    refusal: {
      category,
      max: limit.max,
      windowSeconds: limit.windowSeconds,
      recipient: maskPhone(notification.recipient.phone),
      windowEndsAt: window.end.toISOString(),
      retryAfterSeconds: secondsUntilEnd(window, now),
    },
  };
}

/** Best effort: a slot not given back only makes the window stricter until it ends. */
async function releaseSlot(slot: RecipientSlot, deps: IngestDependencies): Promise<void> {
  try {
    await deps.recipientCounters.releaseRecipientSlot(slot);
  } catch (error) {
    deps.log.warn('recipient slot not given back', { category: slot.category, error: String(error) });
  }
}

const awaitsFirstAttempt = (n: Notification): boolean =>
  n.status === 'pending' && n.attempts === 0 && n.inFlight === undefined && n.history.length === 0;

/** The fast path to the sender; if it fails, the record is due and the next sweep sends it. */
async function enqueue(stored: Notification, now: Date, deps: IngestDependencies): Promise<void> {
  const delayMs = Date.parse(stored.nextAttemptAt ?? stored.createdAt) - now.getTime();
  if (delayMs > MAX_QUEUE_DELAY_SECONDS * 1000) return;
  try {
    // One second of slack so that the sender never finds it a hair before it is due.
    await deps.queue.enqueue(
      { id: stored.id },
      { priority: stored.priority, delaySeconds: delayMs > 0 ? delayMs / 1000 + 1 : 0 },
    );
  } catch (error) {
    deps.log.warn('enqueue failed; the next sweep will send it', { notificationId: stored.id, error: String(error) });
  }
}

/**
 * The 80 random bits of the ids, from the CSPRNG but drawn a few ids' worth at a time: ulid() alone asks the system
 * for one byte per character, sixteen calls an id (about 20 µs of an acceptance's CPU time). Small on purpose: a
 * pool is state, and a copied process (a snapshot, a fork) would hand out the rest of it twice.
 */
const RANDOM_POOL = new Uint8Array(16 * 8);
let randomAt = RANDOM_POOL.length;
const pooledRandom = (): number => {
  if (randomAt === RANDOM_POOL.length) {
    crypto.getRandomValues(RANDOM_POOL);
    randomAt = 0;
  }
  return RANDOM_POOL[randomAt++]! / 256;
};

export const newNotificationId = (): string => ulid(undefined, pooledRandom);
