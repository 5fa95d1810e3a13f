import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import {
  type ChannelPolicy,
  type ChannelSituation,
  DEFAULT_EMAIL_FALLBACK_CATEGORIES,
  fallbackInstant,
  nextChannel,
} from '../../shared/domain/channel-policy.js';
import { countsOf } from '../../shared/domain/counters.js';
import { classifySesError } from '../../shared/domain/email-error-classifier.js';
import { classifyWaChapError } from '../../shared/domain/error-classifier.js';
import type { Notification } from '../../shared/domain/notification.js';
import { type NotificationEvent, transition } from '../../shared/domain/transitions.js';
import { makeNotification } from '../support/fixtures.js';

const NOW = new Date('2026-11-30T10:00:00Z');
const MINUTE = 60_000;
const POLICY: ChannelPolicy = {
  enabled: ['whatsapp', 'email'],
  emailFallbackCategories: DEFAULT_EMAIL_FALLBACK_CATEGORIES,
  fallbackBeforeExpiryMs: 2 * MINUTE,
};
const notOnWhatsApp: ChannelSituation = {
  kind: 'failed',
  verdict: classifyWaChapError({ type: 'application_error', message: 'Invalid number: not registered on WhatsApp' }),
};
const providerDown: ChannelSituation = {
  kind: 'failed',
  verdict: classifyWaChapError({ type: 'application_error', message: 'Instance disconnected' }),
};
const blip: ChannelSituation = {
  kind: 'failed',
  verdict: classifyWaChapError({ type: 'http_error', httpStatus: 503, message: 'busy' }),
};
const held: ChannelSituation = { kind: 'held' };

const withEmail = (overrides: Partial<Notification> = {}): Notification =>
  makeNotification({ recipient: { phone: '+22370123456', email: 'awa@example.com' }, ...overrides });
const expiringIn = (ms: number) => new Date(NOW.getTime() + ms).toISOString();

describe('nextChannel', () => {
  it.each<[string, Notification, ChannelSituation, ChannelPolicy, 'whatsapp' | 'email']>([
    ['falls back when the number is not on WhatsApp', withEmail(), notOnWhatsApp, POLICY, 'email'],
    ['stays without an email address', makeNotification(), notOnWhatsApp, POLICY, 'whatsapp'],
    [
      'stays for a category not allowed to fall back',
      withEmail({ category: 'information_generale' }),
      notOnWhatsApp,
      POLICY,
      'whatsapp',
    ],
    [
      'stays when email is not configured',
      withEmail(),
      notOnWhatsApp,
      { ...POLICY, enabled: ['whatsapp'] },
      'whatsapp',
    ],
    ['stays on a temporary failure (it is retried)', withEmail(), blip, POLICY, 'whatsapp'],
    ['stays once WhatsApp accepted it', withEmail({ status: 'sent' }), notOnWhatsApp, POLICY, 'whatsapp'],
    [
      'stays on email once there (no way back, no further fallback)',
      withEmail({ channel: 'email' }),
      notOnWhatsApp,
      POLICY,
      'email',
    ],
    [
      'falls back when held with its validity ending within the margin',
      withEmail({ expiresAt: expiringIn(MINUTE) }),
      held,
      POLICY,
      'email',
    ],
    [
      'falls back when the provider refuses an attempt near the expiry',
      withEmail({ expiresAt: expiringIn(MINUTE) }),
      providerDown,
      POLICY,
      'email',
    ],
    [
      'holds when the validity ends beyond the margin',
      withEmail({ expiresAt: expiringIn(10 * MINUTE) }),
      held,
      POLICY,
      'whatsapp',
    ],
    ['holds without a validity (it can wait for the provider)', withEmail(), held, POLICY, 'whatsapp'],
    ['leaves an already expired one to expire', withEmail({ expiresAt: expiringIn(-1) }), held, POLICY, 'whatsapp'],
    [
      'never leaves near the expiry after a WhatsApp attempt that may have delivered (a timeout)',
      withEmail({
        expiresAt: expiringIn(MINUTE),
        history: [{ at: NOW.toISOString(), outcome: 'failed', errorType: 'timeout', durationMs: 10_000 }],
      }),
      held,
      POLICY,
      'whatsapp',
    ],
    [
      'never leaves near the expiry after an attempt of unknown outcome',
      withEmail({
        expiresAt: expiringIn(MINUTE),
        history: [{ at: NOW.toISOString(), outcome: 'unknown', durationMs: 0 }],
      }),
      held,
      POLICY,
      'whatsapp',
    ],
  ])('%s', (_, n, situation, policy, expected) => {
    expect(nextChannel(n, situation, NOW, policy)).toBe(expected);
  });

  it('gives the instant a held notification would fall back, or none when it never would', () => {
    const n = withEmail({ expiresAt: expiringIn(10 * MINUTE) });
    expect(fallbackInstant(n, NOW, POLICY)).toEqual(new Date(NOW.getTime() + 8 * MINUTE));
    expect(fallbackInstant(withEmail(), NOW, POLICY)).toBeUndefined();
    expect(fallbackInstant({ ...n, category: 'information_generale' }, NOW, POLICY)).toBeUndefined();
    // Under the claim of the attempt whose hold is being recorded: that claim ends with the hold, whatever its lease.
    const claimed = transition(n, { type: 'claim', at: NOW, token: 't', leaseMs: MINUTE });
    expect(fallbackInstant(claimed, NOW, POLICY)).toEqual(new Date(NOW.getTime() + 8 * MINUTE));
  });
});

describe('switch_channel transition', () => {
  const claimed = transition(withEmail(), { type: 'claim', at: NOW, token: 't1', leaseMs: MINUTE });
  const attempt = {
    token: 't1',
    error: { type: 'application_error', message: 'Invalid number' },
    verdict: (notOnWhatsApp as Extract<ChannelSituation, { kind: 'failed' }>).verdict,
    durationMs: 12,
  };

  it('records the WhatsApp attempt under its channel and makes the notification due at once on email', () => {
    const switched = transition(claimed, { type: 'switch_channel', at: NOW, to: 'email', attempt });
    expect(switched).toMatchObject({
      channel: 'email',
      status: 'failed',
      attempts: 1,
      nextAttemptAt: NOW.toISOString(),
    });
    expect(switched.inFlight).toBeUndefined();
    expect(switched.reason).toBeUndefined();
    expect(switched.history.at(-1)).toMatchObject({ channel: 'whatsapp', outcome: 'permanent_failure' });
  });

  it('is refused to a sender whose claim is no longer the live one, and out of sent', () => {
    expect(() =>
      transition(claimed, { type: 'switch_channel', at: NOW, to: 'email', attempt: { ...attempt, token: 't2' } }),
    ).toThrow(/no longer held/);
    const sent = transition(claimed, { type: 'sent', at: NOW, durationMs: 5 });
    expect(() => transition(sent, { type: 'switch_channel', at: NOW, to: 'email' })).toThrow(/final/);
  });

  it('without an attempt, is refused under a live claim', () => {
    expect(() => transition(claimed, { type: 'switch_channel', at: NOW, to: 'email' })).toThrow(/in flight/);
  });
});

describe('counters of the email channel', () => {
  it("never add an email's failure to WhatsApp's run of failures", () => {
    const onEmail = transition(withEmail({ channel: 'email' }), {
      type: 'claim',
      at: NOW,
      token: 't',
      leaseMs: MINUTE,
    });
    const event: NotificationEvent = {
      type: 'failure',
      at: NOW,
      token: 't',
      error: { type: 'Throttling', message: 'Maximum sending rate exceeded.' },
      verdict: classifySesError({ type: 'Throttling', message: 'Maximum sending rate exceeded.' }),
      durationMs: 30,
      policy: DEFAULT_RETRY_POLICY,
      providerHoldMs: 30 * MINUTE,
      random: () => 0.5,
    };
    const counts = countsOf(event, transition(onEmail, event), onEmail);
    expect(counts).toMatchObject({ attempts: 1, temporaryFailures: 1 });
    expect(counts.failureStreak).toBeUndefined();
  });
});

describe('classifySesError', () => {
  it('retries throttling and 5xx, gives up on a rejected message or address (the recipient)', () => {
    expect(classifySesError({ type: 'Throttling', message: 'Rate exceeded', httpStatus: 400 })).toMatchObject({
      action: 'retry',
    });
    expect(classifySesError({ type: 'InternalFailure', message: 'x', httpStatus: 500 })).toMatchObject({
      action: 'retry',
    });
    expect(classifySesError({ type: 'MessageRejected', message: 'Email address is not verified' })).toMatchObject({
      action: 'give_up',
      scope: 'recipient',
    });
  });

  it('never answers with the provider scope, which would open the WhatsApp circuit', () => {
    expect(classifySesError({ type: 'AccessDenied', message: 'not authorized', httpStatus: 403 }).scope).not.toBe(
      'provider',
    );
  });
});
