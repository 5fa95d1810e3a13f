// The original's ALERT_FAILED_OTP_THRESHOLD and ALERT_WHATSAPP_FAILURE_THRESHOLD: what the counters count, how the
// run of failures reaches across hours, and when the two alerts fire.
import { describe, expect, it } from 'vitest';
import { failuresInARow } from '../../shared/application/health-check.js';
import { alertEnv, ConfigError, healthThresholdsOf, loadConfig } from '../../shared/config.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import { countsOf, endsFailureStreak, type HourlyCounts } from '../../shared/domain/counters.js';
import { classifyWaChapError, type WaChapFailure } from '../../shared/domain/error-classifier.js';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  evaluateHealth,
  type HealthInput,
  type WindowCounts,
} from '../../shared/domain/health.js';
import { HISTORY_LIMIT, type Notification } from '../../shared/domain/notification.js';
import { type NotificationEvent, transition } from '../../shared/domain/transitions.js';
import { alertReportTexts } from '../../shared/presentation/alert-messages.js';
import { makeNotification } from '../support/fixtures.js';

const NOW = new Date('2025-11-27T12:00:00.000Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

const TIMEOUT: WaChapFailure = { type: 'timeout', message: 'No answer within 15000 ms' };
const INVALID_NUMBER: WaChapFailure = { type: 'http_error', message: 'Invalid phone number', httpStatus: 400 };
const DISCONNECTED: WaChapFailure = { type: 'application_error', message: 'Instance disconnected' };

/** One attempt: claimed, then failed with `failure`; returns the event, the record it produced and the one before. */
function failedAttempt(n: Notification, failure: WaChapFailure, at: Date) {
  const claimed = transition(n, { type: 'claim', at, token: `t-${at.getTime()}`, leaseMs: 60_000 });
  const event: NotificationEvent = {
    type: 'failure',
    at,
    token: `t-${at.getTime()}`,
    error: failure,
    verdict: classifyWaChapError(failure),
    durationMs: 120,
    policy: DEFAULT_RETRY_POLICY,
    providerHoldMs: 1_800_000,
    random: () => 0.5,
  };
  const after = transition(claimed, event);
  return { event, after, before: claimed };
}

/** The counts of a move, from the record before it. */
const countsOfMove = (before: Notification, event: NotificationEvent) =>
  countsOf(event, transition(before, event), before);

const due = (overrides: Partial<Notification> = {}) =>
  makeNotification({ nextAttemptAt: NOW.toISOString(), maxAttempts: 10, ...overrides });

describe('countsOf: OTP failures (ALERT_FAILED_OTP_THRESHOLD)', () => {
  it('counts an OTP once, at its first failed attempt, not at the next ones', () => {
    const first = failedAttempt(due({ category: 'otp' }), TIMEOUT, NOW);
    const again = failedAttempt({ ...first.after, nextAttemptAt: later(60).toISOString() }, TIMEOUT, later(60));

    expect(countsOf(first.event, first.after, first.before)).toMatchObject({ otpFailures: 1 });
    expect(countsOf(again.event, again.after, again.before).otpFailures).toBeUndefined();
  });

  it('counts an OTP refused for a bad number: the customer gets no code either', () => {
    const { event, after, before } = failedAttempt(due({ category: 'otp' }), INVALID_NUMBER, NOW);

    expect(countsOf(event, after, before)).toMatchObject({ permanentFailures: 1, otpFailures: 1 });
  });

  it('counts an OTP that expires unsent without a failed attempt (held by the open circuit), once', () => {
    const held = transition(due({ category: 'otp', expiresAt: later(300).toISOString() }), {
      type: 'hold',
      at: NOW,
      holdMs: 1_800_000,
    });
    const event: NotificationEvent = { type: 'expire', at: later(301) };

    expect(countsOfMove(held, event)).toEqual({ expired: 1, otpFailures: 1 });
  });

  it('does not count an OTP again when it expires after a failed attempt', () => {
    const { after } = failedAttempt(due({ category: 'otp', expiresAt: later(300).toISOString() }), TIMEOUT, NOW);
    const event: NotificationEvent = { type: 'expire', at: later(301) };

    expect(countsOfMove(after, event)).toEqual({ expired: 1 });
  });

  it('counts a re-driven OTP once, even when its first failure has left the capped history', () => {
    // Prepare: a first failed attempt (counted), then the open circuit holds it more times than the history keeps.
    const first = failedAttempt(due({ category: 'otp', expiresAt: later(3_600).toISOString() }), TIMEOUT, NOW);
    expect(countsOf(first.event, first.after, first.before)).toMatchObject({ otpFailures: 1 });
    let n = first.after;
    for (let i = 1; i <= HISTORY_LIMIT; i++) n = transition(n, { type: 'hold', at: later(i), holdMs: 1_000 });
    expect(n.history.some((record) => record.outcome === 'failed')).toBe(false);
    const redriven = transition(n, { type: 'redrive', at: later(60), maxAttempts: 10, validityWindow: true });

    // Act: it fails again, or it expires.
    const again = failedAttempt(redriven, TIMEOUT, later(60));
    const expire: NotificationEvent = { type: 'expire', at: later(3_600) };

    // Assess: counted neither time; the first failure's instant is kept.
    expect(countsOf(again.event, again.after, again.before).otpFailures).toBeUndefined();
    expect(countsOfMove(redriven, expire)).toEqual({ expired: 1 });
    expect(again.after.firstFailureAt).toBe(NOW.toISOString());
  });

  it('does not count again an OTP stored before firstFailureAt existed, whose history shows its failure', () => {
    const { after } = failedAttempt(due({ category: 'otp' }), TIMEOUT, NOW);
    const { firstFailureAt: _first, ...legacy } = after;

    const again = failedAttempt({ ...legacy, nextAttemptAt: later(60).toISOString() }, TIMEOUT, later(60));

    expect(countsOf(again.event, again.after, again.before).otpFailures).toBeUndefined();
    expect(again.after.firstFailureAt).toBe(NOW.toISOString());
  });

  it('counts no other category', () => {
    const { event, after, before } = failedAttempt(due({ category: 'colis_arrive' }), TIMEOUT, NOW);

    expect(countsOf(event, after, before).otpFailures).toBeUndefined();
  });
});

describe('countsOf: the run of failures (ALERT_WHATSAPP_FAILURE_THRESHOLD)', () => {
  it('adds a timeout and a provider failure to the run', () => {
    const timeout = failedAttempt(due(), TIMEOUT, NOW);
    const provider = failedAttempt(due(), DISCONNECTED, NOW);

    expect(countsOf(timeout.event, timeout.after, timeout.before)).toMatchObject({ failureStreak: 1 });
    expect(countsOf(provider.event, provider.after, provider.before)).toMatchObject({ failureStreak: 1, held: 1 });
  });

  it("leaves the run alone for a bad number: the recipient's fault says nothing about WaChap", () => {
    const { event, after, before } = failedAttempt(due(), INVALID_NUMBER, NOW);

    expect(countsOf(event, after, before).failureStreak).toBeUndefined();
    expect(endsFailureStreak(event)).toBe(false);
  });

  it('ends the run with a delivered send, and with nothing else', () => {
    const claimed = transition(due(), { type: 'claim', at: NOW, token: 't', leaseMs: 60_000 });
    const sent: NotificationEvent = { type: 'sent', at: NOW, durationMs: 90 };

    expect(endsFailureStreak(sent)).toBe(true);
    expect(countsOfMove(claimed, sent).failureStreak).toBeUndefined();
    expect(endsFailureStreak({ type: 'enqueue', at: NOW, leaseMs: 1000 })).toBe(false);
    // An email delivered after a fallback says nothing about WhatsApp's run of failures.
    expect(endsFailureStreak(sent, { channel: 'email' })).toBe(false);
    expect(endsFailureStreak(sent, { channel: 'whatsapp' })).toBe(true);
  });
});

describe('failuresInARow', () => {
  const hour = (counts: Partial<HourlyCounts>): HourlyCounts => ({
    attempts: 0,
    sent: 0,
    temporaryFailures: 0,
    permanentFailures: 0,
    held: 0,
    expired: 0,
    otpFailures: 0,
    failureStreak: 0,
    ...counts,
  });

  it("is the current hour's run when a send was delivered in it", () => {
    expect(failuresInARow([hour({ failureStreak: 9 }), hour({ sent: 4, failureStreak: 3 })])).toBe(3);
  });

  it('reaches back across hours without a delivered send, to the last hour with one', () => {
    const buckets = [
      hour({ failureStreak: 50 }),
      hour({ sent: 10, failureStreak: 2 }),
      hour({ failureStreak: 1 }),
      hour({ failureStreak: 0 }),
      hour({ failureStreak: 3 }),
    ];

    expect(failuresInARow(buckets)).toBe(6);
  });

  it('is 0 when the last hour delivered and nothing failed since, and with no hours at all', () => {
    expect(failuresInARow([hour({ failureStreak: 7 }), hour({ attempts: 30, sent: 30 })])).toBe(0);
    expect(failuresInARow([])).toBe(0);
  });
});

describe('evaluateHealth: the original thresholds', () => {
  const QUIET: WindowCounts = { attempts: 0, sent: 0, temporaryFailures: 0, permanentFailures: 0 };
  const input = (overrides: Partial<HealthInput> = {}): HealthInput => ({
    lastHour: QUIET,
    last24Hours: QUIET,
    now: NOW,
    ...overrides,
  });
  const kinds = (alerts: ReturnType<typeof evaluateHealth>) => alerts.map((a) => a.kind);

  it("are the original's defaults: 10 OTP failures an hour, 5 failures in a row", () => {
    expect(DEFAULT_HEALTH_THRESHOLDS).toMatchObject({ hourlyOtpFailures: 10, consecutiveFailures: 5 });
  });

  it('raises a critical otp_failures at 10 OTP failures in the hour, and nothing at 9', () => {
    const hourWithOtp = (otpFailures: number) => ({
      ...QUIET,
      attempts: 100,
      sent: 90,
      temporaryFailures: 10,
      otpFailures,
    });

    const alerts = evaluateHealth(input({ lastHour: hourWithOtp(10) }));

    expect(alerts).toEqual([
      expect.objectContaining({
        kind: 'otp_failures',
        severity: 'critical',
        figures: { otpFailures: 10, threshold: 10 },
      }),
    ]);
    expect(alertReportTexts(alerts[0]!, { stage: 'local' }).summary).toContain(
      '10 OTP notifications failed in the last hour',
    );
    expect(alertReportTexts(alerts[0]!, { stage: 'local' }).recommendation).toContain('`npm run notifications -- list');
    expect(evaluateHealth(input({ lastHour: hourWithOtp(9) }))).toEqual([]);
  });

  it('raises a critical consecutive_failures at 5 failures in a row, even with too few attempts for the rate', () => {
    // 5 of 5 attempts failed: under failureRateMinAttempts (10), the rate pages nobody; the run does.
    const lastHour = { ...QUIET, attempts: 5, temporaryFailures: 5 };

    const alerts = evaluateHealth(input({ lastHour, consecutiveFailures: 5 }));

    expect(kinds(alerts)).toEqual(['consecutive_failures']);
    expect(alerts[0]).toMatchObject({ severity: 'critical', figures: { consecutiveFailures: 5, threshold: 5 } });
    expect(alertReportTexts(alerts[0]!, { stage: 'local' }).summary).toContain('5 WhatsApp sends failed in a row');
    expect(evaluateHealth(input({ lastHour, consecutiveFailures: 4 }))).toEqual([]);
  });

  it('follows configured thresholds, and 0 turns each off', () => {
    const figures = input({ lastHour: { ...QUIET, otpFailures: 2 }, consecutiveFailures: 2 });
    const strict = { ...DEFAULT_HEALTH_THRESHOLDS, hourlyOtpFailures: 2, consecutiveFailures: 2 };
    const off = { ...DEFAULT_HEALTH_THRESHOLDS, hourlyOtpFailures: 0, consecutiveFailures: 0 };

    expect(kinds(evaluateHealth(figures, strict))).toEqual(['otp_failures', 'consecutive_failures']);
    expect(evaluateHealth(input({ lastHour: { ...QUIET, otpFailures: 500 }, consecutiveFailures: 500 }), off)).toEqual(
      [],
    );
  });
});

describe('configuration', () => {
  it('reads ALERT_FAILED_OTP_THRESHOLD and ALERT_WHATSAPP_FAILURE_THRESHOLD into the thresholds', () => {
    const config = loadConfig(alertEnv, { ALERT_FAILED_OTP_THRESHOLD: '3', ALERT_WHATSAPP_FAILURE_THRESHOLD: '0' });

    expect(healthThresholdsOf(config)).toMatchObject({ hourlyOtpFailures: 3, consecutiveFailures: 0 });
    expect(healthThresholdsOf(loadConfig(alertEnv, {}))).toMatchObject({
      hourlyOtpFailures: 10,
      consecutiveFailures: 5,
    });
  });

  it.each([
    ['ALERT_FAILED_OTP_THRESHOLD', '-1'],
    ['ALERT_FAILED_OTP_THRESHOLD', 'ten'],
    ['ALERT_WHATSAPP_FAILURE_THRESHOLD', '2.5'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig(alertEnv, { [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig(alertEnv, { [name]: value })).toThrow(name);
  });
});
