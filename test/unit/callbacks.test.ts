// Status callbacks, the rules: which move makes an event (each move of the domain, through `transition`), what the
// event says, its id, and the retry schedule with its 24 h end.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import {
  appendCallbackExhausted,
  CALLBACK_EXHAUSTED_LIMIT,
  CALLBACK_RETRY_WINDOW_SECONDS,
  callbackEventFor,
  callbackEventOf,
  callbackRetryDelaySeconds,
  nextCallbackAttempt,
} from '../../shared/domain/callbacks.js';
import { classifyWaChapError, type WaChapFailure } from '../../shared/domain/error-classifier.js';
import { createNotification, DEFAULT_VALIDITY_SECONDS } from '../../shared/domain/new-notification.js';
import type { CallbackExhaustion, Notification } from '../../shared/domain/notification.js';
import { type NotificationEvent, transition } from '../../shared/domain/transitions.js';
import { callbackEventSchema } from '../../shared/http/callback-events.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = new Date('2026-02-02T08:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE = 2 * MINUTE;
const HOOK = 'https://tms.example.com/hooks/wachap';

const TIMEOUT: WaChapFailure = { type: 'timeout', message: 'No answer within 15000 ms' };
const INVALID_NUMBER: WaChapFailure = { type: 'application_error', message: 'Invalid number', httpStatus: 200 };
const DISCONNECTED: WaChapFailure = { type: 'application_error', message: 'Instance disconnected', httpStatus: 200 };

function fresh(overrides: { callbackUrl?: string | null; maxAttempts?: number; ttlSeconds?: number } = {}) {
  return createNotification(
    {
      recipient: { phone: '+22370123456' },
      category: 'colis_arrive',
      message: 'Votre colis est arrivé',
      idempotencyKey: 'order-42',
      ...(overrides.callbackUrl === null ? {} : { callbackUrl: overrides.callbackUrl ?? HOOK }),
      ...(overrides.ttlSeconds ? { ttlSeconds: overrides.ttlSeconds } : {}),
    },
    {
      id: '01KB0000000000000000000000',
      now: T0,
      policy: { maxAttempts: overrides.maxAttempts ?? 10, validitySeconds: DEFAULT_VALIDITY_SECONDS },
    },
  );
}

const claim = (n: Notification, when: number, token = 'tok-1'): Notification =>
  transition(n, { type: 'claim', at: at(when), token, leaseMs: LEASE });

const failure = (n: Notification, when: number, error: WaChapFailure): NotificationEvent => ({
  type: 'failure',
  at: at(when),
  token: n.inFlight?.token ?? 'none',
  error,
  verdict: classifyWaChapError(error),
  durationMs: 100,
  policy: { ...DEFAULT_RETRY_POLICY, jitter: 0 },
  providerHoldMs: 30 * MINUTE,
  random: () => 0.5,
});

/** The move and the event it makes, if any. */
function move(before: Notification, event: NotificationEvent) {
  const after = transition(before, event);
  return { after, callback: callbackEventOf(before, after) };
}

describe('callbackEventOf', () => {
  it('makes notification.sent when a send is recorded, with its id, the move instant and sentAt', () => {
    const claimed = claim(fresh(), 0);

    const { after, callback } = move(claimed, { type: 'sent', at: at(SECOND), durationMs: 120 });

    expect(callback).toEqual({
      id: `${after.id}.v${after.version}`,
      event: {
        type: 'notification.sent',
        timestamp: at(SECOND).toISOString(),
        data: {
          id: after.id,
          status: 'sent',
          category: 'colis_arrive',
          attempts: 1,
          idempotencyKey: 'order-42',
          sentAt: at(SECOND).toISOString(),
        },
      },
    });
    // The payload schema the OpenAPI document publishes accepts it as it is.
    expect(callbackEventSchema.parse(callback!.event)).toEqual(callback!.event);
  });

  it('makes notification.failed for every failed attempt, with the next attempt and the classified error', () => {
    const first = move(claim(fresh(), 0), failure(claim(fresh(), 0), SECOND, TIMEOUT));
    const again = claim(first.after, Date.parse(first.after.nextAttemptAt!) - T0.getTime(), 'tok-2');
    const second = move(again, failure(again, Date.parse(again.updatedAt) - T0.getTime() + SECOND, TIMEOUT));

    for (const { after, callback } of [first, second]) {
      expect(callback?.id).toBe(`${after.id}.v${after.version}`);
      expect(callback?.event).toMatchObject({
        type: 'notification.failed',
        data: {
          status: 'failed',
          attempts: after.attempts,
          reason: 'temporary_error',
          nextAttemptAt: after.nextAttemptAt,
          error: { type: 'timeout', classification: 'temporary', scope: 'transient', reason: 'temporary_error' },
        },
      });
    }
    expect([first.after.attempts, second.after.attempts]).toEqual([1, 2]);
    expect(first.callback!.id).not.toBe(second.callback!.id);
  });

  it('makes notification.permanent_failure for a permanent error and for the last allowed attempt', () => {
    const claimed = claim(fresh(), 0);
    const givenUp = move(claimed, failure(claimed, SECOND, INVALID_NUMBER));
    const last = claim(fresh({ maxAttempts: 1 }), 0);
    const exhausted = move(last, failure(last, SECOND, TIMEOUT));

    expect(givenUp.callback?.event).toMatchObject({
      type: 'notification.permanent_failure',
      data: { status: 'permanent_failure', reason: 'permanent_error', error: { scope: 'recipient' } },
    });
    expect(givenUp.callback?.event.data.nextAttemptAt).toBeUndefined();
    expect(exhausted.callback?.event).toMatchObject({
      type: 'notification.permanent_failure',
      data: { reason: 'max_retries_exceeded' },
    });
  });

  it('makes notification.permanent_failure when the sweep exhausts one, expired and cancelled for theirs', () => {
    const failedOnce = move(claim(fresh({ maxAttempts: 1 }), 0), {
      ...failure(claim(fresh({ maxAttempts: 1 }), 0), SECOND, DISCONNECTED),
    }).after;
    // Held (no attempt spent) at its limit of 1: forced to 1 attempt to let the sweep give up.
    const atLimit = { ...failedOnce, attempts: 1 };
    const exhaust = move(atLimit, { type: 'exhaust', at: at(HOUR), maxAttempts: 1 });
    const expire = move(fresh({ ttlSeconds: 60 }), { type: 'expire', at: at(2 * MINUTE) });
    const cancel = move(fresh(), { type: 'cancel', at: at(MINUTE), by: 'ops', reason: 'wrong lot' });

    expect(exhaust.callback?.event).toMatchObject({
      type: 'notification.permanent_failure',
      data: { reason: 'max_retries_exceeded' },
    });
    expect(expire.callback?.event).toMatchObject({
      type: 'notification.expired',
      timestamp: at(2 * MINUTE).toISOString(),
      data: { status: 'expired', reason: 'validity_expired' },
    });
    expect(cancel.callback?.event).toMatchObject({
      type: 'notification.cancelled',
      data: { status: 'cancelled', reason: 'cancelled_by_operator' },
    });
    expect(cancel.callback?.event.data.error).toBeUndefined();
  });

  it('makes nothing for the moves a caller does not hear of: enqueue, claim, hold, release, re-drive', () => {
    const n = fresh();
    const queued = move(n, { type: 'enqueue', at: at(0), leaseMs: LEASE });
    const claimed = move(n, { type: 'claim', at: at(0), token: 'tok-1', leaseMs: LEASE });
    const held = move(claimed.after, failure(claimed.after, SECOND, DISCONNECTED));
    const heldByCircuit = move(n, { type: 'hold', at: at(0), holdMs: HOUR });
    const released = move(held.after, { type: 'release', at: at(MINUTE) });
    const ended = move(claim(n, 0), failure(claim(n, 0), SECOND, INVALID_NUMBER)).after;
    const redriven = move(ended, { type: 'redrive', at: at(HOUR), maxAttempts: 3 });

    expect(held.after).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
    for (const { callback } of [queued, claimed, held, heldByCircuit, released, redriven]) {
      expect(callback).toBeUndefined();
    }
  });

  it('makes nothing when an abandoned claim is settled as an attempt of unknown outcome', () => {
    const claimed = claim(fresh(), 0);
    const failedOnce = move(claimed, failure(claimed, SECOND, TIMEOUT)).after;
    const abandoned = claim(failedOnce, Date.parse(failedOnce.nextAttemptAt!) - T0.getTime(), 'tok-dead');

    // Its lease long gone, the next claim writes the lost attempt down: one more attempt, status still failed.
    const reclaimed = move(abandoned, { type: 'claim', at: at(10 * HOUR), token: 'tok-2', leaseMs: LEASE });

    expect(reclaimed.after.attempts).toBe(abandoned.attempts + 1);
    expect(reclaimed.callback).toBeUndefined();
  });

  it('makes nothing for a notification without callbackUrl', () => {
    const claimed = claim(fresh({ callbackUrl: null }), 0);

    expect(move(claimed, { type: 'sent', at: at(SECOND), durationMs: 1 }).callback).toBeUndefined();
  });
});

describe('callbackEventFor (a re-emission)', () => {
  it('gives the event of the move that put the notification where it is: the same id, the same payload', () => {
    const claimed = claim(fresh(), 0);
    const { after, callback } = move(claimed, { type: 'sent', at: at(SECOND), durationMs: 1 });

    expect(callbackEventFor(after)).toEqual(callback);
  });

  it('gives nothing for a state no callback reports', () => {
    expect(callbackEventFor(fresh())).toBeUndefined();
  });
});

describe('the retry schedule', () => {
  it('waits 30 s, 1, 2, 5, 10, 30 min, 1, 2, 4, 8 h, then 8 h again', () => {
    const delays = Array.from({ length: 12 }, (_, index) => callbackRetryDelaySeconds(index + 1));

    expect(delays).toEqual([30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800, 28_800]);
  });

  it('tries 12 times over 24 h from the emission, then gives up', () => {
    const emittedAt = T0;
    let now = emittedAt;
    const tries = [now];
    for (let failed = 1; ; failed++) {
      const next = nextCallbackAttempt({ emittedAt, failedAttempts: failed, now });
      if (!('at' in next)) break;
      now = next.at;
      tries.push(now);
    }

    expect(tries).toHaveLength(12);
    expect((tries.at(-1)!.getTime() - emittedAt.getTime()) / HOUR).toBeCloseTo(23 + 48.5 / 60);
    expect(CALLBACK_RETRY_WINDOW_SECONDS).toBe(24 * 3600);
  });

  it('gives up once the next try would fall past the window, and not before', () => {
    const emittedAt = T0;
    const window = { baseSeconds: 30, windowSeconds: 3600 };

    expect(nextCallbackAttempt({ emittedAt, failedAttempts: 6, now: at(30 * MINUTE), policy: window })).toEqual({
      at: at(60 * MINUTE),
    });
    expect(
      nextCallbackAttempt({ emittedAt, failedAttempts: 6, now: at(30 * MINUTE + SECOND), policy: window }),
    ).toEqual({ exhausted: true });
  });

  it('scales every step with a shorter base (the local stack), keeping their ratios', () => {
    expect([1, 2, 3, 10].map((failed) => callbackRetryDelaySeconds(failed, { baseSeconds: 1 }))).toEqual([
      1, 2, 4, 960,
    ]);
  });
});

describe('the exhausted callbacks kept with a notification', () => {
  const entry = (n: number): CallbackExhaustion => ({
    eventId: `01KB.v${n}`,
    type: 'notification.failed',
    at: at(n * HOUR).toISOString(),
    attempts: 12,
    lastError: 'http_status: HTTP 500',
  });

  it(`keeps the last ${CALLBACK_EXHAUSTED_LIMIT}, once per event id`, () => {
    let list: CallbackExhaustion[] | undefined;
    for (let n = 1; n <= 12; n++) list = appendCallbackExhausted(list, entry(n));
    list = appendCallbackExhausted(list, entry(12));

    expect(list?.map((e) => e.eventId)).toEqual(Array.from({ length: 10 }, (_, i) => `01KB.v${i + 3}`));
  });
});

describe('the signing secret the stack generates', () => {
  it('is accepted by standardwebhooks as base64, with or without whsec_', () => {
    // What generateSecretString gives with excludePunctuation and passwordLength 32: letters and digits.
    const generated = 'Zq7kR2mXw9PbT4vLc8NsH3jYd6GfA1eQ';
    const payload = '{"type":"notification.sent"}';
    const signature = new Webhook(generated).sign('01KB.v3', T0, payload);

    expect(new Webhook(`whsec_${generated}`).sign('01KB.v3', T0, payload)).toBe(signature);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });
});
