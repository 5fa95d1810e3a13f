import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../shared/domain/backoff.js';
import { classifyWaChapError, type WaChapFailure } from '../../shared/domain/error-classifier.js';
import {
  createNotification,
  DEFAULT_VALIDITY_SECONDS,
  type NotificationRequest,
} from '../../shared/domain/new-notification.js';
import {
  HISTORY_LIMIT,
  isTerminal,
  NOTIFICATION_STATUSES,
  type Notification,
  type NotificationStatus,
  OPERATOR_ACTIONS_LIMIT,
} from '../../shared/domain/notification.js';
import {
  attemptsMade,
  hasLiveClaim,
  IllegalTransitionError,
  type NotificationEvent,
  REDRIVABLE_FINAL_STATUSES,
  transition,
} from '../../shared/domain/transitions.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const T0 = new Date('2025-11-27T12:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const iso = (ms: number): string => at(ms).toISOString();

const LEASE = 5 * MINUTE;
const HOLD = 30 * MINUTE;
const NO_JITTER: RetryPolicy = { ...DEFAULT_RETRY_POLICY, jitter: 0 };

const TIMEOUT: WaChapFailure = { type: 'timeout', message: 'No answer within 15000 ms' };
const TOKEN_EXPIRED: WaChapFailure = { type: 'http_error', message: 'Unauthorized: Token expired', httpStatus: 401 };
const DISCONNECTED: WaChapFailure = { type: 'application_error', message: 'Instance disconnected', httpStatus: 200 };
const INVALID_NUMBER: WaChapFailure = { type: 'application_error', message: 'Invalid number', httpStatus: 200 };

type FailureEvent = Extract<NotificationEvent, { type: 'failure' }>;

function fresh(request: Partial<NotificationRequest> = {}, maxAttempts = 10): Notification {
  return createNotification(
    { recipient: { phone: '+22370123456' }, category: 'colis_arrive', message: 'Votre colis est arrivé', ...request },
    { id: 'notif-1', now: T0, policy: { maxAttempts, validitySeconds: DEFAULT_VALIDITY_SECONDS } },
  );
}

const claim = (n: Notification, when: number, token = 'tok-1', leaseMs = LEASE): Notification =>
  transition(n, { type: 'claim', at: at(when), token, leaseMs });

function failureEvent(
  n: Notification,
  when: number,
  error: WaChapFailure,
  overrides: Partial<FailureEvent> = {},
): FailureEvent {
  return {
    type: 'failure',
    at: at(when),
    token: n.inFlight?.token ?? 'tok-none',
    error,
    verdict: classifyWaChapError(error),
    durationMs: 250,
    policy: NO_JITTER,
    providerHoldMs: HOLD,
    random: () => 0.5,
    ...overrides,
  };
}

const fail = (n: Notification, when: number, error: WaChapFailure, overrides: Partial<FailureEvent> = {}) =>
  transition(n, failureEvent(n, when, error, overrides));

/** Claims the notification when due and fails it with `error`, `count` times; returns it and the last instant. */
function failRepeatedly(start: Notification, count: number, error: WaChapFailure = TIMEOUT) {
  let n = start;
  let when = 0;
  for (let i = 1; i <= count; i += 1) {
    when = Date.parse(n.nextAttemptAt ?? '') - T0.getTime();
    n = claim(n, when, `tok-${i}`);
    when += SECOND;
    n = fail(n, when, error);
  }
  return { n, when };
}

const expectIllegal = (move: () => unknown): void => {
  expect(move).toThrow(IllegalTransitionError);
};

describe('transition', () => {
  describe('enqueue', () => {
    it('puts a due notification on the queue and hides it from the next sweeps for the lease', () => {
      // Prepare
      const n = fresh();

      // Act
      const queued = transition(n, { type: 'enqueue', at: at(MINUTE), leaseMs: 15 * MINUTE });

      // Assess
      expect(queued).toMatchObject({
        status: 'pending',
        queuedAt: iso(MINUTE),
        nextAttemptAt: iso(16 * MINUTE),
        updatedAt: iso(MINUTE),
        version: 2,
        attempts: 0,
      });
    });

    it('refuses a notification that is not due yet', () => {
      const n = fresh({ sendAt: at(HOUR) });

      expectIllegal(() => transition(n, { type: 'enqueue', at: at(MINUTE), leaseMs: LEASE }));
    });

    it('refuses a notification whose attempt is in flight', () => {
      const claimed = claim(fresh(), 0);

      // Even were it due: the lease is live.
      const due = { ...claimed, nextAttemptAt: iso(0) };

      expectIllegal(() => transition(due, { type: 'enqueue', at: at(LEASE - 1), leaseMs: LEASE }));
      expect(transition(due, { type: 'enqueue', at: at(LEASE), leaseMs: LEASE }).queuedAt).toBe(iso(LEASE));
    });
  });

  describe('claim', () => {
    it('gives a due notification to one sender until its lease ends', () => {
      const n = fresh();

      const claimed = claim(n, MINUTE, 'tok-a');

      expect(claimed).toMatchObject({
        status: 'pending',
        attempts: 0,
        version: 2,
        inFlight: { token: 'tok-a', since: iso(MINUTE), leaseUntil: iso(MINUTE + LEASE) },
        // Already due: the due time stays (the due index's key does not move), the lease is inFlight's.
        nextAttemptAt: n.nextAttemptAt,
        history: [],
      });
      expect(hasLiveClaim(claimed, at(MINUTE + LEASE - 1))).toBe(true);
      expect(hasLiveClaim(claimed, at(MINUTE + LEASE))).toBe(false);
    });

    it('takes a notification a sweep queued, although the sweep pushed nextAttemptAt past now', () => {
      const queued = transition(fresh(), { type: 'enqueue', at: at(0), leaseMs: 15 * MINUTE });

      const claimed = claim(queued, MINUTE);

      expect(claimed.inFlight?.token).toBe('tok-1');
      // Due by the lease's end at the latest: a crash after the claim is recovered once the lease is over, not when
      // the queue's longer lease would have ended.
      expect(claimed.nextAttemptAt).toBe(iso(MINUTE + LEASE));
    });

    it('refuses a notification that is neither due nor queued', () => {
      const n = fresh({ sendAt: at(HOUR) });

      expectIllegal(() => claim(n, MINUTE));
    });

    it("refuses while another sender's claim is live", () => {
      const claimed = claim(fresh(), 0, 'tok-a');

      expectIllegal(() => claim(claimed, LEASE - 1, 'tok-b'));
    });

    it('takes over an abandoned claim and counts the unknown attempt in history', () => {
      const claimed = claim(fresh(), 0, 'tok-a');

      const taken = claim(claimed, LEASE, 'tok-b');

      expect(taken.attempts).toBe(1);
      expect(taken.history).toEqual([{ at: iso(0), outcome: 'unknown', durationMs: 0 }]);
      expect(taken.inFlight).toEqual({ token: 'tok-b', since: iso(LEASE), leaseUntil: iso(2 * LEASE) });
      expect(taken.version).toBe(3);
    });

    it('refuses an otp whose 10 minutes of validity ran out', () => {
      const otp = fresh({ category: 'otp', message: 'Code: 123456' });

      expect(() => claim(otp, 10 * MINUTE - 1)).not.toThrow();
      expectIllegal(() => claim(otp, 10 * MINUTE));
    });

    it('refuses a notification whose attempts are used up, so that only exhaust can end it', () => {
      const used = { ...fresh(), attempts: 10 };

      expectIllegal(() => claim(used, 0));
      expect(transition(used, { type: 'exhaust', at: at(0), maxAttempts: 10 }).status).toBe('permanent_failure');
    });
  });

  describe('sent', () => {
    it('records the success as final: attempt counted, sentAt and provider id kept, nothing left to do', () => {
      const claimed = claim(fresh(), 0);

      const sent = transition(claimed, {
        type: 'sent',
        at: at(2 * SECOND),
        externalMessageId: 'WA-42',
        durationMs: 1800,
      });

      expect(sent).toMatchObject({
        status: 'sent',
        attempts: 1,
        sentAt: iso(2 * SECOND),
        externalMessageId: 'WA-42',
        version: 3,
        history: [{ at: iso(2 * SECOND), outcome: 'sent', durationMs: 1800 }],
      });
      expect(sent).not.toHaveProperty('nextAttemptAt');
      expect(sent).not.toHaveProperty('inFlight');
      expect(sent).not.toHaveProperty('reason');
    });

    it('drops the provider_unavailable reason of a notification that was held', () => {
      const held = fail(claim(fresh(), 0), SECOND, TOKEN_EXPIRED);

      const sent = transition(claim(held, HOLD + SECOND, 'tok-2'), {
        type: 'sent',
        at: at(HOLD + 2 * SECOND),
        durationMs: 300,
      });

      expect(sent.status).toBe('sent');
      expect(sent).not.toHaveProperty('reason');
      expect(sent.attempts).toBe(1);
    });
  });

  describe('failure', () => {
    it('schedules a temporary failure 30 minutes later, counting the attempt', () => {
      const claimed = claim(fresh(), 0);

      const failed = fail(claimed, SECOND, TIMEOUT);

      expect(failed).toMatchObject({
        status: 'failed',
        attempts: 1,
        reason: 'temporary_error',
        nextAttemptAt: iso(SECOND + 30 * MINUTE),
        version: 3,
        lastError: {
          type: 'timeout',
          message: 'No answer within 15000 ms',
          classification: 'temporary',
          scope: 'transient',
          reason: 'temporary_error',
          at: iso(SECOND),
        },
        history: [{ at: iso(SECOND), outcome: 'failed', errorType: 'timeout', durationMs: 250 }],
      });
      expect(failed).not.toHaveProperty('inFlight');
    });

    it('doubles the wait after the second temporary failure', () => {
      const { n, when } = failRepeatedly(fresh(), 2);

      expect(n.attempts).toBe(2);
      expect(n.nextAttemptAt).toBe(iso(when + HOUR));
    });

    it('spreads the wait with the jitter of the policy', () => {
      const claimed = claim(fresh(), 0);

      const failed = fail(claimed, 0, TIMEOUT, { policy: DEFAULT_RETRY_POLICY, random: () => 0 });

      expect(failed.nextAttemptAt).toBe(iso(27 * MINUTE));
    });

    it("waits for the provider's Retry-After when it is longer than the backoff", () => {
      const claimed = claim(fresh(), 0);
      const rateLimited = {
        type: 'http_error',
        message: 'Too many requests',
        httpStatus: 429,
        retryAfterSeconds: 7200,
      };

      const failed = fail(claimed, 0, rateLimited);

      expect(failed.nextAttemptAt).toBe(iso(2 * HOUR));
      expect(failed.lastError).toMatchObject({ httpStatus: 429, classification: 'temporary' });
    });

    it('refuses the failure of a sender whose claim was taken over (stale token)', () => {
      const taken = claim(claim(fresh(), 0, 'tok-a'), LEASE, 'tok-b');

      expectIllegal(() => fail(taken, LEASE + SECOND, TIMEOUT, { token: 'tok-a' }));
    });

    it('refuses a failure when nothing is claimed', () => {
      expectIllegal(() => fail(fresh(), 0, TIMEOUT, { token: 'tok-a' }));
    });

    it('holds a provider-scoped failure without burning an attempt', () => {
      const { n: once } = failRepeatedly(fresh(), 1);
      const claimed = claim(once, HOUR, 'tok-2');

      const held = fail(claimed, HOUR + SECOND, TOKEN_EXPIRED);

      expect(held).toMatchObject({
        status: 'failed',
        reason: 'provider_unavailable',
        attempts: 1,
        nextAttemptAt: iso(HOUR + SECOND + HOLD),
        lastError: { httpStatus: 401, classification: 'permanent', scope: 'provider', reason: 'provider_unavailable' },
      });
      expect(held.history.at(-1)).toMatchObject({ outcome: 'held', errorType: 'http_error' });
    });

    it('holds a disconnected instance the same way', () => {
      const held = fail(claim(fresh(), 0), SECOND, DISCONNECTED);

      expect(held).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
    });

    it('holds for the hold time whatever the Retry-After: the probe, not the header, says when the provider is back', () => {
      const held = fail(claim(fresh(), 0), 0, { ...TOKEN_EXPIRED, retryAfterSeconds: 3 * 3600 });

      expect(held.nextAttemptAt).toBe(iso(HOLD));
    });

    it("caps a temporary failure's Retry-After at the maximum delay (days would park it past the schedule)", () => {
      const failed = fail(claim(fresh(), 0), 0, {
        type: 'http_error',
        httpStatus: 429,
        message: 'Too many requests',
        retryAfterSeconds: 9 * 86_400,
      });

      expect(failed).toMatchObject({ status: 'failed', reason: 'temporary_error', nextAttemptAt: iso(24 * HOUR) });
    });

    it('records a failure whatever Retry-After says, even one too large for a date', () => {
      const failed = fail(claim(fresh(), 0), 0, {
        type: 'http_error',
        httpStatus: 429,
        message: 'Too many requests',
        retryAfterSeconds: 1e20,
      });

      expect(failed.nextAttemptAt).toBe(iso(24 * HOUR));
    });

    it('never makes a provider-scoped failure final, however often it happens', () => {
      const { n } = failRepeatedly(fresh(), 15, TOKEN_EXPIRED);

      expect(n).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
    });

    it('ends a permanent recipient error as permanent_failure with no next attempt', () => {
      const failed = fail(claim(fresh(), 0), SECOND, INVALID_NUMBER);

      expect(failed).toMatchObject({
        status: 'permanent_failure',
        reason: 'permanent_error',
        attempts: 1,
        lastError: { classification: 'permanent', scope: 'recipient', reason: 'permanent_error' },
      });
      expect(failed).not.toHaveProperty('nextAttemptAt');
      expect(failed.history.at(-1)?.outcome).toBe('permanent_failure');
    });

    it('keeps retrying after the 9th temporary failure', () => {
      const { n } = failRepeatedly(fresh(), 9);

      expect(n).toMatchObject({ status: 'failed', attempts: 9, reason: 'temporary_error' });
    });

    it('ends the 10th temporary failure as permanent_failure, max_retries_exceeded', () => {
      const { n } = failRepeatedly(fresh(), 10);

      expect(n).toMatchObject({
        status: 'permanent_failure',
        attempts: 10,
        reason: 'max_retries_exceeded',
        lastError: { reason: 'max_retries_exceeded', classification: 'temporary' },
      });
      expect(n).not.toHaveProperty('nextAttemptAt');
      expect(n.history.map((entry) => entry.outcome)).toEqual([...Array(9).fill('failed'), 'permanent_failure']);
    });

    it("follows the notification's own maxAttempts", () => {
      const { n } = failRepeatedly(fresh({}, 3), 3);

      expect(n).toMatchObject({ status: 'permanent_failure', attempts: 3, reason: 'max_retries_exceeded' });
    });
  });

  describe('expire', () => {
    it('moves an otp past its validity to expired', () => {
      const otp = fresh({ category: 'otp', message: 'Code: 123456' });

      const expired = transition(otp, { type: 'expire', at: at(10 * MINUTE) });

      expect(expired).toMatchObject({ status: 'expired', reason: 'validity_expired', version: 2 });
      expect(expired).not.toHaveProperty('nextAttemptAt');
    });

    it('refuses an otp still within its validity', () => {
      const otp = fresh({ category: 'otp', message: 'Code: 123456' });

      expectIllegal(() => transition(otp, { type: 'expire', at: at(10 * MINUTE - 1) }));
    });

    it('refuses a notification that has no validity end', () => {
      expectIllegal(() => transition(fresh(), { type: 'expire', at: at(365 * DAY) }));
    });
  });

  describe('cancel', () => {
    it.each([
      ['pending', () => fresh()],
      ['failed', () => failRepeatedly(fresh(), 1).n],
      ['held for the provider', () => failRepeatedly(fresh(), 1, TOKEN_EXPIRED).n],
      ['queued', () => transition(fresh(), { type: 'enqueue', at: at(0), leaseMs: 15 * MINUTE })],
    ])('cancels a %s notification for good', (_label, build) => {
      const n = build();

      const cancelled = transition(n, { type: 'cancel', at: at(DAY) });

      expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled_by_operator', version: n.version + 1 });
      expect(cancelled).not.toHaveProperty('nextAttemptAt');
      expect(cancelled).not.toHaveProperty('inFlight');
      expect(cancelled).not.toHaveProperty('queuedAt');
    });

    it('records who cancelled it, why, and the status it left', () => {
      const { n: failed } = failRepeatedly(fresh(), 1);

      const cancelled = transition(failed, {
        type: 'cancel',
        at: at(DAY),
        by: 'arn:aws:iam::1:user/awa',
        reason: 'doublon',
      });

      expect(cancelled.operatorActions).toEqual([
        { at: iso(DAY), action: 'cancel', by: 'arn:aws:iam::1:user/awa', reason: 'doublon', from: 'failed' },
      ]);
    });

    it('refuses while a sender holds a live claim: the attempt under way decides', () => {
      const claimed = claim(fresh(), 0);

      expect(() => transition(claimed, { type: 'cancel', at: at(LEASE - 1) })).toThrow(/an attempt is in flight/);
    });

    it('cancels over an abandoned claim, counting that attempt as unknown', () => {
      const abandoned = claim(fresh(), 0);

      const cancelled = transition(abandoned, { type: 'cancel', at: at(LEASE) });

      expect(cancelled).toMatchObject({ status: 'cancelled', attempts: 1 });
      expect(cancelled.history).toEqual([{ at: iso(0), outcome: 'unknown', durationMs: 0 }]);
    });
  });

  describe('redrive', () => {
    const redrive = (
      n: Notification,
      when: number,
      extra: Partial<Extract<NotificationEvent, { type: 'redrive' }>> = {},
    ) => transition(n, { type: 'redrive', at: at(when), maxAttempts: 10, ...extra });

    it('makes a failed notification due at once, keeping its attempts, reason and history', () => {
      const { n: failed, when } = failRepeatedly(fresh(), 2);
      const queued = transition(failed, { type: 'enqueue', at: at(when + HOUR), leaseMs: 15 * MINUTE });

      const redriven = redrive(queued, when + HOUR + MINUTE, { by: 'ops', reason: 'WaChap fixed' });

      expect(redriven).toMatchObject({
        status: 'failed',
        reason: 'temporary_error',
        attempts: 2,
        maxAttempts: 10,
        nextAttemptAt: iso(when + HOUR + MINUTE),
        version: queued.version + 1,
        history: failed.history,
        lastError: failed.lastError,
      });
      expect(redriven).not.toHaveProperty('queuedAt');
      expect(redriven.operatorActions).toEqual([
        { at: iso(when + HOUR + MINUTE), action: 'redrive', by: 'ops', reason: 'WaChap fixed', from: 'failed' },
      ]);
    });

    it('makes a pending notification scheduled for later due at once', () => {
      const scheduled = fresh({ sendAt: at(DAY) });

      const redriven = redrive(scheduled, MINUTE);

      expect(redriven).toMatchObject({ status: 'pending', nextAttemptAt: iso(MINUTE) });
      expect(() => claim(redriven, MINUTE)).not.toThrow();
    });

    it('reopens a permanent failure as failed, with a fresh budget, its history and last error kept', () => {
      const { n: exhausted, when } = failRepeatedly(fresh({}, 3), 3);

      const redriven = redrive(exhausted, when + DAY, { maxAttempts: 10 });

      expect(redriven).toMatchObject({
        status: 'failed',
        attempts: 3,
        maxAttempts: 13,
        nextAttemptAt: iso(when + DAY),
        history: exhausted.history,
        lastError: exhausted.lastError,
      });
      expect(redriven).not.toHaveProperty('reason');
      expect(redriven.operatorActions?.[0]).toMatchObject({ action: 'redrive', from: 'permanent_failure' });
      expect(claim(redriven, when + DAY, 'tok-new').inFlight?.token).toBe('tok-new');
    });

    it('refuses an otp whose validity ran out, expired or not yet: its code is stale', () => {
      const otp = fresh({ category: 'otp', message: 'Code: 123456' });
      const expired = transition(otp, { type: 'expire', at: at(HOUR) });
      const failedLate = fail(claim(otp, 0), SECOND, INVALID_NUMBER);

      expect(() => redrive(expired, 2 * HOUR, { validityWindow: true })).toThrow(/stale/);
      expect(() => redrive(failedLate, HOUR, { validityWindow: true })).toThrow(/validity ran out at .*stale/);
      // Within its validity it goes, and its validity is never renewed: the code is as old as it was.
      expect(redrive(failedLate, MINUTE, { validityWindow: true }).expiresAt).toBe(otp.expiresAt);
    });

    it('drops a validity that ran out outside a validity window, and keeps one still ahead', () => {
      const expired = transition(fresh({ ttlSeconds: 60 }), { type: 'expire', at: at(HOUR) });
      const failedEarly = fail(claim(fresh({ ttlSeconds: 7 * 86_400 }), 0), SECOND, INVALID_NUMBER);

      expect(redrive(expired, 2 * HOUR)).toMatchObject({ status: 'failed', attempts: 0, maxAttempts: 10 });
      expect(redrive(expired, 2 * HOUR)).not.toHaveProperty('expiresAt');
      expect(redrive(failedEarly, HOUR).expiresAt).toBe(iso(7 * DAY));
    });

    it('raises the limit to raiseMaxAttemptsTo from any re-drivable state, and never lowers it', () => {
      const { n: nine } = failRepeatedly(fresh({}, 10), 9);
      // Its 10th attempt was claimed and its sender died: at its limit, still failed.
      const due = Date.parse(nine.nextAttemptAt!) - T0.getTime();
      const abandoned = claim(nine, due, 'tok-dead');
      const later = due + LEASE;
      const { n: exhausted } = failRepeatedly(fresh({}, 3), 3);

      const raised = redrive(abandoned, later, { raiseMaxAttemptsTo: 15 });

      expect(raised).toMatchObject({ status: 'failed', attempts: 10, maxAttempts: 15, nextAttemptAt: iso(later) });
      expect(() => claim(raised, later)).not.toThrow();
      expect(redrive(abandoned, later).maxAttempts).toBe(10);
      expect(redrive(abandoned, later, { raiseMaxAttemptsTo: 5 }).maxAttempts).toBe(10);
      expect(redrive(exhausted, DAY, { maxAttempts: 12, raiseMaxAttemptsTo: 15 }).maxAttempts).toBe(15);
      expect(redrive(exhausted, DAY, { maxAttempts: 12, raiseMaxAttemptsTo: 5 }).maxAttempts).toBe(15);
    });

    it.each([
      ['sent', () => transition(claim(fresh(), 0), { type: 'sent', at: at(SECOND), durationMs: 5 })],
      ['cancelled', () => transition(fresh(), { type: 'cancel', at: at(0) })],
    ])('refuses a %s notification', (_status, build) => {
      expect(() => redrive(build(), DAY)).toThrow(/it is final/);
    });

    it('refuses while a sender holds a live claim', () => {
      const { n: failed, when } = failRepeatedly(fresh(), 1);
      const claimed = claim(failed, when + HOUR, 'tok-live');

      expect(() => redrive(claimed, when + HOUR + SECOND)).toThrow(/an attempt is in flight/);
    });
  });

  describe('operator actions', () => {
    it(`keeps only the last ${OPERATOR_ACTIONS_LIMIT}, oldest first`, () => {
      let n = fresh();
      for (let i = 0; i < OPERATOR_ACTIONS_LIMIT + 5; i += 1) {
        n = transition(n, { type: 'redrive', at: at(i * MINUTE), maxAttempts: 10, reason: `r${i}` });
      }

      expect(n.operatorActions).toHaveLength(OPERATOR_ACTIONS_LIMIT);
      expect(n.operatorActions?.[0]?.reason).toBe('r5');
      expect(n.operatorActions?.at(-1)?.reason).toBe(`r${OPERATOR_ACTIONS_LIMIT + 4}`);
    });
  });

  describe('exhaust', () => {
    it('refuses while attempts remain', () => {
      const { n } = failRepeatedly(fresh(), 9);

      expectIllegal(() => transition(n, { type: 'exhaust', at: at(30 * DAY), maxAttempts: 10 }));
    });

    it('gives up once the attempts reached the limit, counting an abandoned claim', () => {
      // Prepare: two temporary failures, then a sender that died mid-attempt (the third).
      const { n: twice, when } = failRepeatedly(fresh({}, 3), 2);
      const abandoned = claim(twice, when + HOUR, 'tok-a');
      const later = when + HOUR + LEASE;

      // Act
      const exhausted = transition(abandoned, { type: 'exhaust', at: at(later), maxAttempts: 3 });

      // Assess
      expect(exhausted).toMatchObject({ status: 'permanent_failure', reason: 'max_retries_exceeded', attempts: 3 });
      expect(exhausted.history.at(-1)).toEqual({ at: iso(when + HOUR), outcome: 'unknown', durationMs: 0 });
      expect(exhausted).not.toHaveProperty('nextAttemptAt');
      expect(exhausted).not.toHaveProperty('inFlight');
    });

    it('refuses a claim over an abandoned one that used the last attempt: 9 of 10 plus an abandoned claim is 10', () => {
      // Prepare: nine temporary failures, then a tenth attempt whose sender died.
      const { n: nine, when } = failRepeatedly(fresh(), 9);
      const abandoned = claim(nine, when + DAY, 'tok-10');

      // Act + Assess: no eleventh WaChap call.
      expectIllegal(() => claim(abandoned, when + DAY + LEASE, 'tok-11'));
      expect(attemptsMade(abandoned, at(when + DAY + LEASE))).toBe(10);
    });
  });

  describe('hold', () => {
    it('holds a notification without spending an attempt', () => {
      const held = transition(fresh(), { type: 'hold', at: at(MINUTE), holdMs: HOLD });

      expect(held).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
      expect(held.nextAttemptAt).toBe(iso(MINUTE + HOLD));
    });

    it('over an abandoned claim, keeps that attempt in the history as unknown and counts it', () => {
      const abandoned = claim(fresh(), 0, 'tok-dead');

      const held = transition(abandoned, { type: 'hold', at: at(LEASE + SECOND), holdMs: HOLD });

      expect(held.attempts).toBe(1);
      expect(held.history.map((h) => h.outcome)).toEqual(['unknown', 'held']);
      expect(held.history[0]?.at).toBe(iso(0));
      expect(held).not.toHaveProperty('inFlight');
    });

    it('refuses while a live claim holds the attempt', () => {
      expectIllegal(() => transition(claim(fresh(), 0), { type: 'hold', at: at(SECOND), holdMs: HOLD }));
    });
  });

  describe('release', () => {
    it('makes a held notification due at the given instant (the close), behind where the release reads', () => {
      const { n: held, when } = failRepeatedly(fresh(), 1, TOKEN_EXPIRED);

      const released = transition(held, { type: 'release', at: at(when + 2 * MINUTE), dueAt: at(when + MINUTE) });

      expect(released.nextAttemptAt).toBe(iso(when + MINUTE));
      expect(released).not.toHaveProperty('reason');
    });

    it('leaves a held notification that was due before the close where it is', () => {
      const { n: held, when } = failRepeatedly(fresh(), 1, TOKEN_EXPIRED);

      const released = transition(held, { type: 'release', at: at(when + 2 * HOLD), dueAt: at(when + 2 * HOLD) });

      expect(released.nextAttemptAt).toBe(held.nextAttemptAt);
    });

    it('makes a held notification due now once the provider is back', () => {
      const { n: held, when } = failRepeatedly(fresh(), 1, TOKEN_EXPIRED);

      const released = transition(held, { type: 'release', at: at(when + MINUTE) });

      expect(released).toMatchObject({
        status: 'failed',
        nextAttemptAt: iso(when + MINUTE),
        attempts: 0,
        version: held.version + 1,
      });
    });

    it('refuses a notification that failed for a reason other than the provider', () => {
      const { n: failed, when } = failRepeatedly(fresh(), 1);

      expectIllegal(() => transition(failed, { type: 'release', at: at(when + MINUTE) }));
    });

    it('refuses a pending notification', () => {
      expectIllegal(() => transition(fresh(), { type: 'release', at: at(MINUTE) }));
    });

    it('refuses while an attempt on the held notification is in flight', () => {
      const { n: held } = failRepeatedly(fresh(), 1, TOKEN_EXPIRED);
      const claimed = claim(held, 2 * HOLD, 'tok-2');

      expectIllegal(() => transition(claimed, { type: 'release', at: at(2 * HOLD + MINUTE) }));
    });
  });

  describe('terminal states', () => {
    const otp = () => fresh({ category: 'otp', message: 'Code: 123456' });
    const terminals: [NotificationStatus, () => Notification][] = [
      ['sent', () => transition(claim(fresh(), 0), { type: 'sent', at: at(SECOND), durationMs: 5 })],
      ['permanent_failure', () => fail(claim(fresh(), 0), SECOND, INVALID_NUMBER)],
      ['cancelled', () => transition(fresh(), { type: 'cancel', at: at(0) })],
      ['expired', () => transition(otp(), { type: 'expire', at: at(HOUR) })],
    ];
    const later = 400 * DAY;
    const events: NotificationEvent[] = [
      { type: 'enqueue', at: at(later), leaseMs: LEASE },
      { type: 'claim', at: at(later), token: 'tok-z', leaseMs: LEASE },
      { type: 'sent', at: at(later), durationMs: 5 },
      failureEvent(fresh(), later, TIMEOUT, { token: 'tok-1' }),
      failureEvent(fresh(), later, TOKEN_EXPIRED, { token: 'tok-1' }),
      { type: 'expire', at: at(later) },
      { type: 'cancel', at: at(later) },
      { type: 'exhaust', at: at(later), maxAttempts: 0 },
      { type: 'release', at: at(later) },
      { type: 'redrive', at: at(later), maxAttempts: 10 },
    ];
    const cases = terminals.flatMap(([status, build]) =>
      events
        .filter((event) => !(event.type === 'redrive' && REDRIVABLE_FINAL_STATUSES.includes(status)))
        .map(
          (event) =>
            [status, event.type === 'failure' ? `failure (${event.error.type})` : event.type, build, event] as const,
        ),
    );

    it.each(cases)('never leaves %s (%s is refused)', (status, _label, build, event) => {
      const n = build();
      expect(n.status).toBe(status);

      expectIllegal(() => transition(n, event));
    });

    it.each(terminals.filter(([status]) => REDRIVABLE_FINAL_STATUSES.includes(status)))(
      'leaves %s only by an operator re-drive',
      (_status, build) => {
        expect(transition(build(), { type: 'redrive', at: at(later), maxAttempts: 10 }).status).toBe('failed');
      },
    );
  });

  describe('history', () => {
    it(`keeps only the last ${HISTORY_LIMIT} attempts, oldest first`, () => {
      const { n } = failRepeatedly(fresh(), 25, TOKEN_EXPIRED);

      expect(n.history).toHaveLength(20);
      expect(n.history.every((entry) => entry.outcome === 'held')).toBe(true);
      // The first five were dropped: the oldest kept is the 6th hold, one hold period after the 5th.
      const times = n.history.map((entry) => Date.parse(entry.at));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(n.history[0]?.at).toBe(iso(5 * (HOLD + SECOND) + SECOND));
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Model-based: arbitrary sequences of plausible events, from a fresh notification.

type TokenChoice = 'held' | 'stale';
type Step =
  | { kind: 'enqueue'; dt: number; leaseMs: number }
  /** `afterLease`: the previous holder died, so the claim comes once its lease ran out. */
  | { kind: 'claim'; dt: number; leaseMs: number; afterLease: boolean }
  | { kind: 'sent'; dt: number; token: TokenChoice; externalMessageId: string | undefined; durationMs: number }
  | {
      kind: 'failure';
      dt: number;
      token: TokenChoice;
      error: WaChapFailure;
      jitter: number;
      random: number;
      providerHoldMs: number;
    }
  | { kind: 'expire'; dt: number }
  | { kind: 'cancel'; dt: number }
  | { kind: 'exhaust'; dt: number }
  | { kind: 'release'; dt: number }
  | {
      kind: 'redrive';
      dt: number;
      maxAttempts: number;
      raiseMaxAttemptsTo: number | undefined;
      validityWindow: boolean;
    };

const FAILURES: WaChapFailure[] = [
  TIMEOUT,
  { type: 'connection_error', message: 'ECONNREFUSED' },
  { type: 'http_error', message: 'Service unavailable', httpStatus: 503 },
  { type: 'http_503', message: 'Service unavailable' },
  { type: 'http_error', message: 'Too many requests', httpStatus: 429, retryAfterSeconds: 90 },
  { type: 'http_error', message: 'Too many requests', httpStatus: 429, retryAfterSeconds: 2 * 86_400 },
  { type: 'invalid_response', message: '<html>Bad gateway</html>', httpStatus: 200 },
  { type: 'weird_error', message: 'Something odd' },
  TOKEN_EXPIRED,
  { type: 'http_403', message: 'Forbidden' },
  { type: 'config_error', message: 'Missing credentials' },
  DISCONNECTED,
  { type: 'application_error', message: 'Subscription expired', httpStatus: 200 },
  INVALID_NUMBER,
  { type: 'http_error', message: 'Bad request', httpStatus: 400 },
];

const dtArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 10 * MINUTE }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 3 * HOUR }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 2 * DAY }), weight: 1 },
);
const leaseArb = fc.integer({ min: SECOND, max: 15 * MINUTE });
const tokenArb = fc.constantFrom<TokenChoice>('held', 'held', 'held', 'stale');

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('enqueue' as const), dt: dtArb, leaseMs: leaseArb }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      dt: dtArb,
      leaseMs: leaseArb,
      afterLease: fc.boolean(),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('sent' as const),
      dt: fc.integer({ min: 0, max: 20 * SECOND }),
      token: tokenArb,
      externalMessageId: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
      durationMs: fc.integer({ min: 0, max: 15_000 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('failure' as const),
      dt: fc.integer({ min: 0, max: 20 * SECOND }),
      token: tokenArb,
      error: fc.constantFrom(...FAILURES),
      jitter: fc.double({ min: 0, max: 0.5, maxExcluded: true, noNaN: true }),
      random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      providerHoldMs: fc.integer({ min: MINUTE, max: 2 * HOUR }),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant('expire' as const), dt: dtArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), dt: dtArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('exhaust' as const), dt: dtArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('release' as const), dt: dtArb }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('redrive' as const),
      dt: dtArb,
      maxAttempts: fc.integer({ min: 1, max: 10 }),
      raiseMaxAttemptsTo: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      validityWindow: fc.boolean(),
    }),
    weight: 1,
  },
);

const scenarioArb = fc.record({
  category: fc.constantFrom('otp', 'colis_arrive', 'lot_ferme'),
  maxAttempts: fc.integer({ min: 1, max: 10 }),
  sendAfter: fc.option(fc.integer({ min: 1, max: 2 * HOUR }), { nil: undefined }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 80 }),
});

/** The instant of the next step: `dt` later, and no earlier than the lease's end for a claim that outlives a dead sender. */
function advance(now: number, step: Step, n: Notification): number {
  const next = now + step.dt;
  if (step.kind !== 'claim' || !step.afterLease || !n.inFlight) return next;
  return Math.max(next, Date.parse(n.inFlight.leaseUntil));
}

function toEvent(step: Step, n: Notification, now: Date, claims: number): NotificationEvent {
  const token = (choice: TokenChoice) => (choice === 'held' && n.inFlight ? n.inFlight.token : `tok-stale-${claims}`);
  switch (step.kind) {
    case 'enqueue':
      return { type: 'enqueue', at: now, leaseMs: step.leaseMs };
    case 'claim':
      return { type: 'claim', at: now, token: `tok-${claims + 1}`, leaseMs: step.leaseMs };
    case 'sent':
      return {
        type: 'sent',
        at: now,
        durationMs: step.durationMs,
        ...(step.externalMessageId ? { externalMessageId: step.externalMessageId } : {}),
      };
    case 'failure':
      return {
        type: 'failure',
        at: now,
        token: token(step.token),
        error: step.error,
        verdict: classifyWaChapError(step.error),
        durationMs: 100,
        policy: { ...DEFAULT_RETRY_POLICY, jitter: step.jitter },
        providerHoldMs: step.providerHoldMs,
        random: () => step.random,
      };
    case 'exhaust':
      return { type: 'exhaust', at: now, maxAttempts: n.maxAttempts };
    case 'redrive':
      return {
        type: 'redrive',
        at: now,
        maxAttempts: step.maxAttempts,
        ...(step.raiseMaxAttemptsTo !== undefined ? { raiseMaxAttemptsTo: step.raiseMaxAttemptsTo } : {}),
        ...(step.validityWindow ? { validityWindow: true } : {}),
      };
    default:
      return { type: step.kind, at: now };
  }
}

/**
 * The attempts an accepted event adds: the one it records; any other move settles an abandoned claim (its
 * lease over) as the attempt of unknown outcome it was.
 */
function attemptsAdded(event: NotificationEvent, before: Notification): number {
  const abandoned = before.inFlight !== undefined && Date.parse(before.inFlight.leaseUntil) <= event.at.getTime();
  switch (event.type) {
    case 'sent':
      return 1;
    case 'failure':
      return event.verdict.scope === 'provider' ? 0 : 1;
    default:
      return abandoned ? 1 : 0;
  }
}

function expectedStatus(event: NotificationEvent, before: Notification, attempts: number): NotificationStatus {
  switch (event.type) {
    case 'sent':
      return 'sent';
    case 'expire':
      return 'expired';
    case 'cancel':
      return 'cancelled';
    case 'exhaust':
      return 'permanent_failure';
    case 'redrive':
      return isTerminal(before.status) ? 'failed' : before.status;
    case 'failure':
      if (event.verdict.scope === 'provider') return 'failed';
      if (event.verdict.classification === 'permanent' || attempts >= before.maxAttempts) return 'permanent_failure';
      return 'failed';
    default:
      return before.status;
  }
}

/** What must hold of any state, whatever led to it. */
function expectSoundState(n: Notification): void {
  expect(NOTIFICATION_STATUSES).toContain(n.status);
  expect(n.attempts).toBeGreaterThanOrEqual(0);
  // An abandoned claim is counted when settled, and no claim goes past the limit; only a late outcome of an
  // attempt already counted can add one more.
  expect(n.attempts).toBeLessThanOrEqual(n.maxAttempts + 1);
  if (!isTerminal(n.status)) expect(n.attempts).toBeLessThanOrEqual(n.maxAttempts);
  expect(n.nextAttemptAt !== undefined).toBe(n.status === 'pending' || n.status === 'failed');
  expect(n.history.length).toBeLessThanOrEqual(HISTORY_LIMIT);
  expect(n.operatorActions?.length ?? 0).toBeLessThanOrEqual(OPERATOR_ACTIONS_LIMIT);
  if (n.status === 'sent') expect(n.sentAt).toBeDefined();
  else expect(n.sentAt).toBeUndefined();
  if (isTerminal(n.status)) {
    expect(n.inFlight).toBeUndefined();
    expect(n.queuedAt).toBeUndefined();
  }
  if (n.status === 'permanent_failure') expect(['permanent_error', 'max_retries_exceeded']).toContain(n.reason);
  if (n.status === 'expired') expect(n.reason).toBe('validity_expired');
  if (n.status === 'cancelled') expect(n.reason).toBe('cancelled_by_operator');
}

/** A re-drive never sends stale content: with a validity window, not once the validity ran out. */
const wouldSendStale = (n: Notification, event: NotificationEvent): boolean =>
  event.type === 'redrive' &&
  event.validityWindow === true &&
  (n.status === 'expired' || (n.expiresAt !== undefined && Date.parse(n.expiresAt) <= event.at.getTime()));

/**
 * Only an operator's re-drive leaves a final state, and only one where nothing was delivered or stopped on purpose,
 * and whose content is not stale.
 */
const mayLeave = (n: Notification, event: NotificationEvent): boolean =>
  !wouldSendStale(n, event) &&
  (!isTerminal(n.status) || (event.type === 'redrive' && REDRIVABLE_FINAL_STATUSES.includes(n.status)));

describe('transition over arbitrary event sequences', () => {
  it('never produces an illegal state, leaves a final one only by a re-drive, and moves one version per accepted event', () => {
    fc.assert(
      fc.property(scenarioArb, ({ category, maxAttempts, sendAfter, steps }) => {
        let n = fresh({ category, ...(sendAfter !== undefined ? { sendAt: at(sendAfter) } : {}) }, maxAttempts);
        let now = T0.getTime();
        let claims = 0;
        expectSoundState(n);

        for (const step of steps) {
          now = advance(now, step, n);
          const event = toEvent(step, n, new Date(now), claims);
          let next: Notification;
          try {
            next = transition(n, event);
          } catch (error) {
            expect(error).toBeInstanceOf(IllegalTransitionError);
            continue;
          }
          // Only reached when the event was accepted.
          expect(mayLeave(n, event)).toBe(true);
          if (event.type === 'claim') {
            claims += 1;
            // An expired notification is never handed to a sender.
            expect(n.expiresAt === undefined || Date.parse(n.expiresAt) > now).toBe(true);
          }
          if (event.type === 'expire') expect(Date.parse(n.expiresAt ?? '')).toBeLessThanOrEqual(now);
          const attempts = n.attempts + attemptsAdded(event, n);
          expect(next.attempts).toBe(attempts);
          expect(next.status).toBe(expectedStatus(event, n, attempts));
          expect(next.version).toBe(n.version + 1);
          expect(next.updatedAt).toBe(new Date(now).toISOString());
          // A re-drive out of a final state gives a fresh budget, and raises the limit if asked; nothing else changes it.
          const budget =
            event.type === 'redrive' && isTerminal(n.status) ? n.attempts + event.maxAttempts : n.maxAttempts;
          expect(next.maxAttempts).toBe(
            event.type === 'redrive' ? Math.max(budget, event.raiseMaxAttemptsTo ?? budget) : n.maxAttempts,
          );
          if (event.type === 'redrive') {
            expect(next.nextAttemptAt).toBe(new Date(now).toISOString());
            // Never renewed, never sent stale: a validity survives only if still ahead, and then unchanged.
            if (next.expiresAt !== undefined) {
              expect(next.expiresAt).toBe(n.expiresAt);
              expect(Date.parse(next.expiresAt)).toBeGreaterThan(now);
            }
            if (event.validityWindow) {
              expect(n.status).not.toBe('expired');
              expect(next.expiresAt).toBe(n.expiresAt);
            }
          }
          // The first failure's instant is set once, by a failure or an expiry, and kept.
          if (n.firstFailureAt !== undefined) expect(next.firstFailureAt).toBe(n.firstFailureAt);
          else if (event.type === 'failure' || event.type === 'expire') {
            expect(next.firstFailureAt).toBe(new Date(now).toISOString());
          } else expect(next.firstFailureAt).toBeUndefined();
          expect(next.id).toBe(n.id);
          expectSoundState(next);
          n = next;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('refuses every event once the notification is final, but the re-drive of a failure or an expiry', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(stepArb, { minLength: 1, maxLength: 20 }), (scenario, afterwards) => {
        let n = fresh({ category: scenario.category }, scenario.maxAttempts);
        let now = T0.getTime();
        let claims = 0;
        for (const step of scenario.steps) {
          now = advance(now, step, n);
          try {
            const event = toEvent(step, n, new Date(now), claims);
            n = transition(n, event);
            if (event.type === 'claim') claims += 1;
          } catch {
            // Refused moves leave the notification as it was.
          }
        }
        fc.pre(isTerminal(n.status));

        for (const step of afterwards) {
          now = advance(now, step, n);
          const event = toEvent(step, n, new Date(now), claims);
          if (mayLeave(n, event)) expect(transition(n, event).status).toBe('failed');
          else expect(() => transition(n, event)).toThrow(IllegalTransitionError);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps attempts within maxAttempts + 1 however often senders die mid-attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 40 }), (maxAttempts, abandons) => {
        let n = fresh({}, maxAttempts);
        let now = T0.getTime();
        for (let i = 1; i <= abandons; i += 1) {
          try {
            n = claim(n, now - T0.getTime(), `tok-${i}`);
          } catch (error) {
            expect(error).toBeInstanceOf(IllegalTransitionError);
          }
          // The sender dies: nothing is recorded, the lease runs out.
          now += LEASE;
        }

        expect(n.attempts).toBeLessThanOrEqual(maxAttempts);
        const end = transition(n, { type: 'sent', at: new Date(now), durationMs: 1 });
        expect(end.attempts).toBeLessThanOrEqual(maxAttempts + 1);
      }),
    );
  });
});
