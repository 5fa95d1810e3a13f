// The one place that moves a notification between states. Every write in the system is the
// result of `transition`, stored conditionally on the version it was computed from.
import { type RetryPolicy, retryDelayMs } from './backoff.js';
import type { FailureVerdict } from './error-classifier.js';
import {
  type AttemptRecord,
  appendHistory,
  appendOperatorAction,
  type ChannelName,
  type FailureReason,
  isAwaitingAttempt,
  isTerminal,
  type Notification,
  type NotificationStatus,
} from './notification.js';

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly from: NotificationStatus,
    readonly event: NotificationEvent['type'],
    readonly why: string,
  ) {
    super(`cannot ${event} a ${from} notification: ${why}`);
  }
}

export type NotificationEvent =
  /** A sweep puts it on the queue; `leaseMs` hides it from the next sweeps meanwhile. */
  | { type: 'enqueue'; at: Date; leaseMs: number }
  /** A sender takes the attempt; only one holder at a time, until `leaseMs` runs out. */
  | { type: 'claim'; at: Date; token: string; leaseMs: number }
  /** The provider accepted the message; whoever made the attempt (even one whose claim lapsed) records it. */
  | {
      type: 'sent';
      at: Date;
      externalMessageId?: string;
      durationMs: number;
      /** The WaChap instance that sent it, and the one it was routed to when a stand-in did. */
      instance?: string;
      routedTo?: string;
    }
  | {
      type: 'failure';
      at: Date;
      token: string;
      error: { type: string; message: string; httpStatus?: number };
      verdict: FailureVerdict;
      durationMs: number;
      policy: RetryPolicy;
      /** How long a notification waits when the provider is down, before it is looked at again. */
      providerHoldMs: number;
      /** A hold ends there at the latest: the instant it may fall back to another channel (domain/channel-policy). */
      holdUntil?: Date;
      random: () => number;
      /** The instance the attempt went through: a hold waits for its circuit. */
      instance?: string;
    }
  | { type: 'expire'; at: Date }
  /** An operator stops it for good (`by`: who, `reason`: why); never under a live claim, whose outcome decides. */
  | { type: 'cancel'; at: Date; by?: string; reason?: string }
  /**
   * An operator (or a sweep with a raised --max-retries) sends it again now: a pending or failed one becomes due at
   * once, a permanent_failure or expired one leaves its final state, awaiting an attempt. Its validity is never
   * renewed: one still ahead is kept. One that ran out: with `validityWindow`, the re-drive is refused (stale content,
   * see isStale); without, it is removed (an explicit expiresAt, e.g. a colis_arrive's: the operator chose to send it
   * late, and keeping it would expire it again at the next sweep).
   */
  | {
      type: 'redrive';
      at: Date;
      by?: string;
      reason?: string;
      /**
       * Out of a final state only: the fresh budget, in attempts beyond those made (its limit becomes attempts +
       * maxAttempts). A pending or failed one keeps its own limit, whatever this says.
       */
      maxAttempts: number;
      /**
       * A total the limit is then raised to when it is lower, from any re-drivable state; never lowers it. The sweep's
       * raised --max-retries: a due notification at its own limit goes on up to the run's, without being ended first.
       */
      raiseMaxAttemptsTo?: number;
      /** Its category has a validity window (policy.validitySeconds, e.g. otp): see isStale. */
      validityWindow?: boolean;
    }
  /** The sweep gives up on a notification whose attempts reached the limit. */
  | { type: 'exhaust'; at: Date; maxAttempts: number }
  /**
   * The provider circuit is open: wait for it without calling WaChap and without burning an attempt. `until`: the
   * hold ends there at the latest (the instant it may fall back to another channel, domain/channel-policy).
   * `instance`: the WaChap instance whose circuit is open (several instances), whose release frees it.
   */
  | { type: 'hold'; at: Date; holdMs: number; until?: Date; instance?: string }
  /**
   * It leaves its channel for `to` (domain/channel-policy nextChannel), due at once on the new one. With `attempt`,
   * the failed attempt that decided it, recorded as the failure event would, by the claim's holder (`token`);
   * without, no attempt was made (its provider is down and its validity is running out).
   */
  | {
      type: 'switch_channel';
      at: Date;
      to: ChannelName;
      attempt?: {
        token: string;
        error: { type: string; message: string; httpStatus?: number };
        verdict: FailureVerdict;
        durationMs: number;
      };
    }
  /**
   * The provider is back: a held notification becomes due at `dueAt` (default: now), or stays where it is if it
   * was due earlier. The probe passes the instant the circuit closed, so that every released notification sits
   * behind the release's read position in the due index and is never read twice.
   */
  | { type: 'release'; at: Date; dueAt?: Date };

/** Final states an operator's re-drive may reopen: nothing was delivered, and nobody chose to stop it. */
export const REDRIVABLE_FINAL_STATUSES: readonly NotificationStatus[] = ['permanent_failure', 'expired'];

const iso = (date: Date): string => date.toISOString();
const later = (date: Date, ms: number): string => new Date(date.getTime() + ms).toISOString();
/** The end of a hold: holdMs from now, or earlier at `until` (never before now). */
const holdEnd = (at: Date, holdMs: number, until: Date | undefined): string =>
  until !== undefined && until.getTime() < at.getTime() + holdMs
    ? iso(new Date(Math.max(until.getTime(), at.getTime())))
    : later(at, holdMs);
const earliest = (due: string | undefined, date: Date): string =>
  due !== undefined && Date.parse(due) < date.getTime() ? due : iso(date);

/** A claim whose lease ran out belongs to a sender that died mid-attempt. */
export const hasLiveClaim = (n: Notification, at: Date): boolean =>
  n.inFlight !== undefined && Date.parse(n.inFlight.leaseUntil) > at.getTime();

export const isDue = (n: Notification, at: Date): boolean =>
  isAwaitingAttempt(n.status) && n.nextAttemptAt !== undefined && Date.parse(n.nextAttemptAt) <= at.getTime();

export const isExpired = (n: Notification, at: Date): boolean =>
  n.expiresAt !== undefined && Date.parse(n.expiresAt) <= at.getTime();

/**
 * A notification whose category has a validity window (an OTP: its code dies with that validity) is stale once the
 * validity ran out (expired, or past its expiresAt): no re-drive sends it; only a new notification from the upstream
 * system, with a new code, replaces it.
 */
export const isStale = (n: Notification, at: Date, validityWindow: boolean): boolean =>
  validityWindow && (n.status === 'expired' || isExpired(n, at));

/** A failed attempt (a hold by the open circuit is none: nothing was attempted). */
export const isFailedAttempt = (record: AttemptRecord): boolean =>
  record.outcome === 'failed' ||
  record.outcome === 'permanent_failure' ||
  (record.outcome === 'held' && record.errorType !== 'circuit_open');

/**
 * When it first failed, for a move that is a failure (a failed attempt, or its expiry): kept once set; a notification
 * stored before the field existed takes its history's first failed attempt, if still there.
 */
const firstFailureAt = (n: Notification, at: Date): string =>
  n.firstFailureAt ?? n.history.find(isFailedAttempt)?.at ?? iso(at);

/** A claim whose holder died before recording an outcome: WaChap may or may not have the message. */
export const hasAbandonedClaim = (n: Notification, at: Date): boolean =>
  n.inFlight !== undefined && !hasLiveClaim(n, at);

/** Attempts made so far, counting an abandoned claim as the attempt it may have been. */
export const attemptsMade = (n: Notification, at: Date): number => n.attempts + (hasAbandonedClaim(n, at) ? 1 : 0);

/**
 * Writes down an abandoned claim as what it was: an attempt with an unknown outcome. Every move
 * starts from this, so that no move (a claim, a hold, giving up) can erase that attempt.
 */
function settleAbandonedClaim(n: Notification, at: Date): Notification {
  if (!hasAbandonedClaim(n, at)) return n;
  const { inFlight, ...rest } = n;
  return {
    ...rest,
    attempts: n.attempts + 1,
    history: appendHistory(n.history, { at: inFlight!.since, outcome: 'unknown', durationMs: 0 }),
  };
}

/** Fields every move resets: the next version, the time, and the attempt bookkeeping. */
function settled(n: Notification, at: Date): Notification {
  const { inFlight: _inFlight, queuedAt: _queuedAt, ...rest } = n;
  return { ...rest, version: n.version + 1, updatedAt: iso(at) };
}

function withoutReason(n: Notification): Notification {
  const { reason: _reason, ...rest } = n;
  return rest;
}

function terminal(n: Notification, at: Date, status: NotificationStatus, reason?: FailureReason): Notification {
  const { nextAttemptAt: _next, ...rest } = settled(n, at);
  return { ...rest, status, ...(reason ? { reason } : {}) };
}

export function transition(current: Notification, event: NotificationEvent): Notification {
  const fail = (why: string): never => {
    throw new IllegalTransitionError(current.status, event.type, why);
  };
  const reopens = event.type === 'redrive' && REDRIVABLE_FINAL_STATUSES.includes(current.status);
  if (isTerminal(current.status) && !reopens) fail('it is final');
  const at = event.at;
  // The outcome events belong to whoever made the attempt (a late one still counts as that attempt).
  const outcomeEvent =
    event.type === 'sent' || event.type === 'failure' || (event.type === 'switch_channel' && event.attempt);
  const n = outcomeEvent ? current : settleAbandonedClaim(current, at);

  switch (event.type) {
    case 'enqueue': {
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      if (!isDue(n, at)) fail('it is not due');
      return {
        ...n,
        version: n.version + 1,
        updatedAt: iso(at),
        queuedAt: iso(at),
        nextAttemptAt: later(at, event.leaseMs),
      };
    }
    case 'claim': {
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      if (isExpired(n, at)) fail('its validity ran out');
      // Counted after an abandoned claim is settled: at 9 of 10 with an abandoned claim, the limit is reached.
      if (n.attempts >= n.maxAttempts) fail(`its ${n.maxAttempts} attempts are used up`);
      // Due, or put on the queue by a sweep (which pushed nextAttemptAt past the lease).
      if (!isDue(n, at) && n.queuedAt === undefined) fail('it is not due');
      // The lease is inFlight's. The due time moves only to bring it forward to the lease's end (one a sweep queued
      // is due when its queue lease ends, later): a crash after the claim leaves it due by the lease's end, and the
      // next sweep after that recovers it. One due already (the ingest's, fresh from the queue) keeps its due time:
      // the due index's key does not move (no index write), and sweeps skip it while the claim is live.
      const leaseUntil = later(at, event.leaseMs);
      return {
        ...n,
        version: n.version + 1,
        updatedAt: iso(at),
        inFlight: { token: event.token, since: iso(at), leaseUntil },
        nextAttemptAt: earliest(n.nextAttemptAt, new Date(leaseUntil)),
      };
    }
    case 'sent': {
      // A late success still counts even if the claim was lost: WaChap has the message, so sending
      // it again would be the duplicate we promise not to make.
      const { reason: _reason, instance: _instance, routedTo: _routedTo, ...rest } = terminal(n, at, 'sent');
      return {
        ...rest,
        attempts: n.attempts + 1,
        sentAt: iso(at),
        ...(event.externalMessageId ? { externalMessageId: event.externalMessageId } : {}),
        ...(event.instance ? { instance: event.instance } : {}),
        ...(event.routedTo && event.routedTo !== event.instance ? { routedTo: event.routedTo } : {}),
        history: appendHistory(n.history, {
          at: iso(at),
          outcome: 'sent',
          channel: n.channel,
          durationMs: event.durationMs,
        }),
      };
    }
    case 'failure':
      return recordFailure(n, event);
    case 'expire':
      if (!isExpired(n, at)) fail('its validity has not run out');
      // A sender may be delivering it right now; its outcome decides.
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      return { ...terminal(n, at, 'expired', 'validity_expired'), firstFailureAt: firstFailureAt(n, at) };
    case 'cancel':
      // A sender may be delivering it right now; its outcome decides (the operator is told it is in flight).
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      return { ...terminal(n, at, 'cancelled', 'cancelled_by_operator'), operatorActions: recordAction(n, event) };
    case 'redrive':
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      if (isStale(n, at, event.validityWindow === true)) {
        const when = n.expiresAt !== undefined ? ` at ${n.expiresAt}` : '';
        fail(
          `its validity ran out${when}: its content (e.g. a one-time code) is stale, a new notification must replace it`,
        );
      }
      return redrive(n, event);
    case 'exhaust':
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      if (n.attempts < event.maxAttempts) fail(`only ${n.attempts} of ${event.maxAttempts} attempts were made`);
      return terminal(n, at, 'permanent_failure', 'max_retries_exceeded');
    case 'hold':
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      return {
        ...heldFor(settled(n, at), event.instance),
        status: 'failed',
        reason: 'provider_unavailable',
        history: appendHistory(n.history, {
          at: iso(at),
          outcome: 'held',
          channel: n.channel,
          errorType: 'circuit_open',
          durationMs: 0,
        }),
        nextAttemptAt: holdEnd(at, event.holdMs, event.until),
      };
    case 'switch_channel':
      return switchChannel(n, event);
    case 'release':
      if (n.reason !== 'provider_unavailable') fail('it is not held for the provider');
      if (hasLiveClaim(n, at)) fail('an attempt is in flight');
      // No longer held: it is simply due (lastError still says what happened).
      return { ...withoutReason(settled(n, at)), nextAttemptAt: earliest(n.nextAttemptAt, event.dueAt ?? at) };
  }
}

/** Held for `instance`'s circuit (none: the one circuit of a single instance). */
function heldFor(n: Notification, instance: string | undefined): Notification {
  const { instance: _before, ...rest } = n;
  return instance ? { ...rest, instance } : rest;
}

/** The operator's move, written down with the status it left. */
const recordAction = (n: Notification, event: Extract<NotificationEvent, { type: 'cancel' | 'redrive' }>) =>
  appendOperatorAction(n.operatorActions, {
    at: iso(event.at),
    action: event.type,
    ...(event.by !== undefined ? { by: event.by } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    from: n.status,
  });

/**
 * Due at once; out of a final state as a failed notification with a fresh budget; a limit raised to
 * raiseMaxAttemptsTo if lower. History and lastError stay; a validity still ahead stays, a passed one goes.
 */
function redrive(n: Notification, event: Extract<NotificationEvent, { type: 'redrive' }>): Notification {
  const { at } = event;
  const { expiresAt: _expiresAt, ...base } = settled(n, at);
  const expiresAt = isExpired(n, at) ? undefined : n.expiresAt;
  const raised = (limit: number): number => Math.max(limit, event.raiseMaxAttemptsTo ?? limit);
  const due = {
    ...base,
    nextAttemptAt: iso(at),
    operatorActions: recordAction(n, event),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
  if (!isTerminal(n.status)) return { ...due, maxAttempts: raised(n.maxAttempts) };
  const { reason: _reason, ...reopened } = due;
  return { ...reopened, status: 'failed', maxAttempts: raised(n.attempts + event.maxAttempts) };
}

/** The original's marquer_comme_echec, minus its flaw: provider outages hold instead of burning attempts. */
function recordFailure(n: Notification, event: Extract<NotificationEvent, { type: 'failure' }>): Notification {
  const { at, verdict, error } = event;
  // A sender whose lease ran out and was taken over must not overwrite the new holder's attempt.
  if (n.inFlight?.token !== event.token) {
    throw new IllegalTransitionError(n.status, 'failure', 'the attempt is no longer held by this sender');
  }
  const base = settled(n, at);
  const outcome = (
    outcome: 'failed' | 'permanent_failure' | 'held',
    reason: FailureReason,
    attempts: number,
  ): Notification => ({
    ...base,
    attempts,
    reason,
    firstFailureAt: firstFailureAt(n, at),
    lastError: {
      type: error.type,
      message: error.message,
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
      classification: verdict.classification,
      scope: verdict.scope,
      reason,
      at: iso(at),
    },
    history: appendHistory(n.history, {
      at: iso(at),
      outcome,
      channel: n.channel,
      errorType: error.type,
      durationMs: event.durationMs,
    }),
  });
  const final = (reason: FailureReason, attempts: number): Notification => {
    const { nextAttemptAt: _next, ...rest } = outcome('permanent_failure', reason, attempts);
    return { ...rest, status: 'permanent_failure' };
  };

  switch (verdict.action) {
    case 'hold':
      // The probe, not a Retry-After, decides when the provider is back: a hold always ends within
      // providerHoldMs, which is also how far ahead the release looks for held notifications.
      return {
        ...heldFor(outcome('held', 'provider_unavailable', n.attempts), event.instance),
        status: 'failed',
        nextAttemptAt: holdEnd(at, event.providerHoldMs, event.holdUntil),
      };
    case 'give_up':
      return final('permanent_error', n.attempts + 1);
    case 'retry': {
      const attempts = n.attempts + 1;
      if (attempts >= n.maxAttempts) return final('max_retries_exceeded', attempts);
      const delay = retryDelayMs(attempts, event.policy, event.random, verdict.retryAfterSeconds);
      return { ...outcome('failed', 'temporary_error', attempts), status: 'failed', nextAttemptAt: later(at, delay) };
    }
    default: {
      const unhandled: never = verdict;
      throw new Error(`unhandled failure verdict ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * The notification leaves its channel for another, due at once there, never to come back (the policy has no way
 * back). Both channels' attempts go through the same claim: a switch after an attempt is written by that attempt's
 * claim holder only, and one without an attempt never under a live claim, so that a late outcome of the old channel
 * can never meet a send on the new one (see send-notification's sendOnChannel).
 */
function switchChannel(n: Notification, event: Extract<NotificationEvent, { type: 'switch_channel' }>): Notification {
  const { at, to, attempt } = event;
  if (to === n.channel) throw new IllegalTransitionError(n.status, event.type, `it is already on ${to}`);
  if (attempt === undefined) {
    if (hasLiveClaim(n, at)) throw new IllegalTransitionError(n.status, event.type, 'an attempt is in flight');
    return { ...withoutReason(settled(n, at)), channel: to, nextAttemptAt: iso(at) };
  }
  if (n.inFlight?.token !== attempt.token) {
    throw new IllegalTransitionError(n.status, event.type, 'the attempt is no longer held by this sender');
  }
  const { verdict, error } = attempt;
  // What the channel's attempt was: a give-up spends an attempt, a provider's refusal (held) does not.
  const spent = verdict.action === 'hold' ? 0 : 1;
  const outcome = verdict.action === 'hold' ? 'held' : verdict.action === 'give_up' ? 'permanent_failure' : 'failed';
  return {
    ...withoutReason(settled(n, at)),
    channel: to,
    status: 'failed',
    attempts: n.attempts + spent,
    nextAttemptAt: iso(at),
    firstFailureAt: firstFailureAt(n, at),
    lastError: {
      type: error.type,
      message: error.message,
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
      classification: verdict.classification,
      scope: verdict.scope,
      reason:
        verdict.action === 'hold'
          ? 'provider_unavailable'
          : verdict.action === 'give_up'
            ? 'permanent_error'
            : 'temporary_error',
      at: iso(at),
    },
    history: appendHistory(n.history, {
      at: iso(at),
      outcome,
      channel: n.channel,
      errorType: error.type,
      durationMs: attempt.durationMs,
    }),
  };
}
