import { describe, expect, it } from 'vitest';
import { parseNotificationConfig } from '../../lib/config.js';
import { ConfigError, loadConfig, recipientLimitsEnv } from '../../shared/config.js';
import {
  DEFAULT_RECIPIENT_LIMITS,
  describeLimit,
  formatWindow,
  limitWindow,
  recipientLimitFor,
  secondsUntilEnd,
} from '../../shared/domain/recipient-limits.js';

const limitsFrom = (value?: string) =>
  loadConfig(recipientLimitsEnv, value === undefined ? {} : { RECIPIENT_LIMITS: value }).RECIPIENT_LIMITS;

function configErrorFor(value: string): string {
  try {
    limitsFrom(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('RECIPIENT_LIMITS', () => {
  it('defaults to 20 per hour, and 5 per 10 minutes for otp', () => {
    expect(limitsFrom()).toEqual({
      default: { max: 20, windowSeconds: 3600 },
      otp: { max: 5, windowSeconds: 600 },
    });
    expect(limitsFrom('')).toEqual(DEFAULT_RECIPIENT_LIMITS);
  });

  it('merges what it sets over the defaults, category by category', () => {
    const limits = limitsFrom(
      '{"otp":{"max":3,"windowSeconds":900},"lot_ferme":{"max":2,"windowSeconds":86400},"information_generale":"unlimited"}',
    );

    expect(limits).toEqual({
      default: { max: 20, windowSeconds: 3600 },
      otp: { max: 3, windowSeconds: 900 },
      lot_ferme: { max: 2, windowSeconds: 86_400 },
      information_generale: 'unlimited',
    });
  });

  it('turns every limit off with "unlimited" for the default and otp', () => {
    const limits = limitsFrom('{"default":"unlimited","otp":"unlimited"}');

    expect(recipientLimitFor(limits, 'otp')).toBeUndefined();
    expect(recipientLimitFor(limits, 'colis_arrive')).toBeUndefined();
  });

  it.each([
    ['not JSON', 'otp=5', 'RECIPIENT_LIMITS: must be JSON such as'],
    ['an array', '[]', 'RECIPIENT_LIMITS: must be a JSON object such as'],
    [
      'max 0 (not a way to turn it off)',
      '{"otp":{"max":0,"windowSeconds":600}}',
      'RECIPIENT_LIMITS.otp.max: must be at least 1',
    ],
    [
      'a missing window',
      '{"otp":{"max":5}}',
      'RECIPIENT_LIMITS.otp: must be {"max": a whole number from 1, "windowSeconds": 1 to 604800} or "unlimited"',
    ],
    [
      'a window over 7 days',
      '{"otp":{"max":5,"windowSeconds":700000}}',
      'RECIPIENT_LIMITS.otp.windowSeconds: must be at most',
    ],
    ['a fractional max', '{"otp":{"max":2.5,"windowSeconds":600}}', 'RECIPIENT_LIMITS.otp: must be {"max": a whole'],
    ['an unknown field', '{"otp":{"max":5,"windowSeconds":600,"burst":2}}', 'RECIPIENT_LIMITS.otp: Unrecognized key'],
    [
      'another word for off',
      '{"otp":"off"}',
      'RECIPIENT_LIMITS.otp: must be {"max": a whole number from 1, "windowSeconds": 1 to 604800} or "unlimited"',
    ],
    [
      'a category that is no slug',
      '{"OTP Codes":"unlimited"}',
      'RECIPIENT_LIMITS.OTP Codes: must be "default" or a category slug',
    ],
  ])('refuses %s, naming the variable', (_case, value, message) => {
    expect(configErrorFor(value)).toContain(message);
  });
});

describe('recipient limits (domain)', () => {
  it('applies a category its own limit, and the default to the others', () => {
    expect(recipientLimitFor(DEFAULT_RECIPIENT_LIMITS, 'otp')).toEqual({ max: 5, windowSeconds: 600 });
    expect(recipientLimitFor(DEFAULT_RECIPIENT_LIMITS, 'colis_arrive')).toEqual({ max: 20, windowSeconds: 3600 });
    // An inherited property is not a category's limit.
    expect(recipientLimitFor(DEFAULT_RECIPIENT_LIMITS, 'constructor')).toEqual({ max: 20, windowSeconds: 3600 });
  });

  it('puts a moment in a fixed window aligned on the epoch, and says how long until it ends', () => {
    const now = new Date('2025-03-10T12:03:20.500Z');

    const window = limitWindow({ max: 5, windowSeconds: 600 }, now);

    expect(window).toEqual({
      start: new Date('2025-03-10T12:00:00.000Z'),
      end: new Date('2025-03-10T12:10:00.000Z'),
      seconds: 600,
    });
    expect(secondsUntilEnd(window, now)).toBe(400);
    expect(secondsUntilEnd(window, new Date('2025-03-10T12:09:59.999Z'))).toBe(1);
  });

  it('says a limit in words', () => {
    expect(describeLimit({ max: 5, windowSeconds: 600 }, 'otp')).toBe('at most 5 otp notifications per 10 minutes');
    expect(describeLimit({ max: 1, windowSeconds: 86_400 }, 'lot_ferme')).toBe(
      'at most 1 lot_ferme notification per day',
    );
    expect([3600, 7200, 90, 60].map(formatWindow)).toEqual(['hour', '2 hours', '90 seconds', 'minute']);
  });
});

describe('CDK context recipientLimits', () => {
  it('passes valid limits on as RECIPIENT_LIMITS text, from a string or a cdk.json object', () => {
    expect(parseNotificationConfig({}).recipientLimits).toBeUndefined();
    expect(parseNotificationConfig({ recipientLimits: '{"otp":{"max":3,"windowSeconds":600}}' }).recipientLimits).toBe(
      '{"otp":{"max":3,"windowSeconds":600}}',
    );
    expect(parseNotificationConfig({ recipientLimits: { otp: 'unlimited' } }).recipientLimits).toBe(
      '{"otp":"unlimited"}',
    );
  });

  it('fails the synth naming the key when they are malformed', () => {
    expect(() => parseNotificationConfig({ recipientLimits: '{"otp":{"max":0,"windowSeconds":600}}' })).toThrow(
      /-c recipientLimits\.otp\.max: must be at least 1/,
    );
  });
});
