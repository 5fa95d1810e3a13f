// Status callbacks, the rules: which move of a notification makes an event for its caller, what the event says, its
// id, and how long its delivery is retried. Plain data in, plain data out: the queue, the signing and the HTTP POST
// are the adapters'.
import { CALLBACK_EVENT_TYPES, type CallbackEvent, type CallbackStatus } from '../http/callback-events.js';
import type { CallbackExhaustion, Notification } from './notification.js';

/** An event ready to go: its id is the `webhook-id` header, the receiver's key for deduplication. */
export interface OutgoingCallback {
  id: string;
  event: CallbackEvent;
}

/** Where a notification's callbacks go, and whose secret signs them. */
export interface CallbackTarget {
  url: string;
  /** The upstream caller's API key id; none for a notification made before callers were recorded. */
  caller?: string;
}

const isCallbackStatus = (status: string): status is CallbackStatus => Object.hasOwn(CALLBACK_EVENT_TYPES, status);

/**
 * The event id of the state `n` is in. Deterministic: whoever emits the event of one move (the mover, or a retry
 * that finds the move already made) emits the same id, so the receiver keeps one.
 */
export const callbackEventId = (n: Pick<Notification, 'id' | 'version'>): string => `${n.id}.v${n.version}`;

export const callbackTargetOf = (n: Notification): CallbackTarget | undefined =>
  n.callbackUrl ? { url: n.callbackUrl, ...(n.caller ? { caller: n.caller } : {}) } : undefined;

/**
 * The event a move from `before` to `after` makes, if the caller asked for callbacks and the move matters to it:
 * → sent, → permanent_failure, → expired, → cancelled, and every failed attempt (→ failed with one more attempt,
 * recorded as failed). Not a claim, an enqueue, a hold for the provider (no attempt was made), a release, a re-drive,
 * nor the settling of an abandoned claim (an attempt whose outcome nobody knows: its history says `unknown`).
 */
export function callbackEventOf(before: Notification, after: Notification): OutgoingCallback | undefined {
  if (!after.callbackUrl) return undefined;
  switch (after.status) {
    case 'sent':
    case 'permanent_failure':
    case 'expired':
    case 'cancelled':
      return before.status === after.status ? undefined : callbackEventFor(after);
    case 'failed': {
      const failedAttempt = after.attempts > before.attempts && after.history.at(-1)?.outcome === 'failed';
      return failedAttempt ? callbackEventFor(after) : undefined;
    }
    case 'pending':
      return undefined;
    default: {
      const unhandled: never = after.status;
      throw new Error(`unhandled status ${String(unhandled)}`);
    }
  }
}

/**
 * The event for the state `n` is in now, with the id of the move that put it there: what a retry re-emits when it
 * finds the move already made (the mover may have died between its write and the queue).
 */
export function callbackEventFor(n: Notification): OutgoingCallback | undefined {
  if (!n.callbackUrl || !isCallbackStatus(n.status)) return undefined;
  const status = n.status;
  const failure = status === 'failed' || status === 'permanent_failure' || status === 'expired';
  const { lastError } = n;
  return {
    id: callbackEventId(n),
    event: {
      type: CALLBACK_EVENT_TYPES[status],
      // The move's instant: every move sets updatedAt, and nothing else does.
      timestamp: n.updatedAt,
      data: {
        id: n.id,
        status,
        category: n.category,
        attempts: n.attempts,
        ...(n.idempotencyKey !== undefined ? { idempotencyKey: n.idempotencyKey } : {}),
        ...(n.reason !== undefined ? { reason: n.reason } : {}),
        ...(status === 'failed' && n.nextAttemptAt !== undefined ? { nextAttemptAt: n.nextAttemptAt } : {}),
        ...(status === 'sent' && n.sentAt !== undefined ? { sentAt: n.sentAt } : {}),
        ...(failure && lastError
          ? {
              error: {
                type: lastError.type,
                message: lastError.message,
                classification: lastError.classification,
                scope: lastError.scope,
                reason: lastError.reason,
              },
            }
          : {}),
      },
    },
  };
}

// ---- Delivery: retries and their end ----------------------------------------------------------------------

const HOUR_SECONDS = 3600;

/**
 * Seconds before the next try after the 1st, 2nd, … failed one; the last step repeats. Short at first (a receiver
 * restarting), hours later (a receiver down for the night), so that a day holds about a dozen tries.
 */
export const CALLBACK_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  30,
  60,
  120,
  300,
  600,
  1800,
  HOUR_SECONDS,
  2 * HOUR_SECONDS,
  4 * HOUR_SECONDS,
  8 * HOUR_SECONDS,
];
/** The schedule's first step: a deployment may shorten every step in proportion (the local stack, the tests). */
export const CALLBACK_RETRY_BASE_SECONDS = CALLBACK_RETRY_SCHEDULE_SECONDS[0]!;
/** How long a callback is retried, from when it was emitted; past it, it is given up (exhausted). */
export const CALLBACK_RETRY_WINDOW_SECONDS = 24 * HOUR_SECONDS;

export interface CallbackRetryPolicy {
  /** The first step, in seconds; the others keep their ratio to it. CALLBACK_RETRY_BASE_SECONDS in production. */
  baseSeconds: number;
  /** CALLBACK_RETRY_WINDOW_SECONDS in production. */
  windowSeconds: number;
}

export const DEFAULT_CALLBACK_RETRY_POLICY: CallbackRetryPolicy = {
  baseSeconds: CALLBACK_RETRY_BASE_SECONDS,
  windowSeconds: CALLBACK_RETRY_WINDOW_SECONDS,
};

/** Seconds to wait after `failedAttempts` failed tries (1 or more). */
export function callbackRetryDelaySeconds(
  failedAttempts: number,
  policy: Pick<CallbackRetryPolicy, 'baseSeconds'> = DEFAULT_CALLBACK_RETRY_POLICY,
): number {
  const step =
    CALLBACK_RETRY_SCHEDULE_SECONDS[Math.min(Math.max(failedAttempts, 1), CALLBACK_RETRY_SCHEDULE_SECONDS.length) - 1]!;
  return (step * policy.baseSeconds) / CALLBACK_RETRY_BASE_SECONDS;
}

/**
 * After a failed try: when to try again, or `exhausted` when that would fall past the window that began when the
 * event was emitted.
 */
export function nextCallbackAttempt(input: {
  emittedAt: Date;
  failedAttempts: number;
  now: Date;
  policy?: CallbackRetryPolicy;
}): { at: Date } | { exhausted: true } {
  const policy = input.policy ?? DEFAULT_CALLBACK_RETRY_POLICY;
  const at = input.now.getTime() + callbackRetryDelaySeconds(input.failedAttempts, policy) * 1000;
  if (at > input.emittedAt.getTime() + policy.windowSeconds * 1000) return { exhausted: true };
  return { at: new Date(at) };
}

// ---- What operators see of an exhausted callback (GET /v1/notifications/{id}) ------------------------------------------------------------

/** Only the last ones are kept: a notification's item must stay small. */
export const CALLBACK_EXHAUSTED_LIMIT = 10;

/** Adds an exhausted callback to the list (once per event id: a redelivered message adds nothing), keeping the last. */
export function appendCallbackExhausted(
  list: readonly CallbackExhaustion[] | undefined,
  entry: CallbackExhaustion,
): CallbackExhaustion[] {
  const kept = (list ?? []).filter((existing) => existing.eventId !== entry.eventId);
  return [...kept, entry].slice(-CALLBACK_EXHAUSTED_LIMIT);
}
