import { describe, expect, it } from 'vitest';
import {
  alertEnv,
  ConfigError,
  coreEnv,
  healthThresholdsOf,
  loadConfig,
  notificationPolicyOf,
  retryPolicyOf,
  senderEnv,
  wachapEnv,
} from '../../shared/config.js';

const MINIMAL_CORE = { TABLE_NAME: 'notifications' };

/** The ConfigError loadConfig throws for `env`, or a failure if it throws nothing. */
function configErrorFor(schema: Parameters<typeof loadConfig>[0], env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig(coreEnv)', () => {
  it('fills every default from TABLE_NAME alone', () => {
    // Act
    const config = loadConfig(coreEnv, MINIMAL_CORE);

    // Assess
    expect(config).toEqual({
      TABLE_NAME: 'notifications',
      MAX_RETRIES: 10,
      RETRY_BASE_DELAY_SECONDS: 1800,
      RETRY_MAX_DELAY_SECONDS: 86_400,
      RETRY_JITTER: 0.1,
      PROVIDER_HOLD_SECONDS: 1800,
      OTP_VALIDITY_SECONDS: 600,
      DEFAULT_COUNTRY: 'ML',
      RETENTION_DAYS: 90,
      CRITICAL_CATEGORIES: ['otp'],
      STAGE: 'local',
    });
  });

  it('reads the stage the function belongs to', () => {
    expect(loadConfig(coreEnv, { ...MINIMAL_CORE, STAGE: 'prod' }).STAGE).toBe('prod');
  });

  it('reads numbers given as strings', () => {
    const config = loadConfig(coreEnv, { ...MINIMAL_CORE, MAX_RETRIES: '15', OTP_VALIDITY_SECONDS: '300' });

    expect(config.MAX_RETRIES).toBe(15);
    expect(config.OTP_VALIDITY_SECONDS).toBe(300);
  });

  it('allows RETRY_JITTER=0 to turn the jitter off', () => {
    expect(loadConfig(coreEnv, { ...MINIMAL_CORE, RETRY_JITTER: '0' }).RETRY_JITTER).toBe(0);
  });

  it('accepts another default country', () => {
    expect(loadConfig(coreEnv, { ...MINIMAL_CORE, DEFAULT_COUNTRY: 'CN' }).DEFAULT_COUNTRY).toBe('CN');
  });

  it('names TABLE_NAME when it is missing', () => {
    const error = configErrorFor(coreEnv, {});

    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('TABLE_NAME');
  });

  it('names TABLE_NAME when it is blank', () => {
    expect(configErrorFor(coreEnv, { TABLE_NAME: '   ' }).message).toContain('TABLE_NAME');
  });

  it.each([
    ['MAX_RETRIES', 'abc'],
    ['MAX_RETRIES', '0'],
    ['MAX_RETRIES', '2.5'],
    ['RETRY_JITTER', '1'],
    ['RETRY_JITTER', '-0.1'],
    ['RETRY_BASE_DELAY_SECONDS', 'soon'],
    ['PROVIDER_HOLD_SECONDS', '0'],
    ['OTP_VALIDITY_SECONDS', 'ten'],
    ['DEFAULT_COUNTRY', 'XX'],
    ['STAGE', 'Prod!'],
  ])('stops on %s=%j with a ConfigError naming it', (name, value) => {
    const error = configErrorFor(coreEnv, { ...MINIMAL_CORE, [name]: value });

    expect(error.message).toContain(name);
  });

  it('names every bad variable at once', () => {
    const error = configErrorFor(coreEnv, { MAX_RETRIES: 'abc' });

    expect(error.message).toContain('TABLE_NAME');
    expect(error.message).toContain('MAX_RETRIES');
  });
});

describe('loadConfig(wachapEnv)', () => {
  it('accepts a secret ARN alone and defaults the URL and timeout', () => {
    const config = loadConfig(wachapEnv, { WACHAP_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:wachap' });

    expect(config).toMatchObject({ WACHAP_BASE_URL: 'https://wachap.app/api', WACHAP_TIMEOUT_MS: 15_000 });
  });

  it('accepts an instance id and an access token instead of a secret', () => {
    const config = loadConfig(wachapEnv, { WACHAP_INSTANCE_ID: '609ACF283ABCD', WACHAP_ACCESS_TOKEN: 'tok' });

    expect(config.WACHAP_INSTANCE_ID).toBe('609ACF283ABCD');
  });

  it('names WACHAP_SECRET_ARN when no credentials are configured at all', () => {
    const error = configErrorFor(wachapEnv, { WACHAP_INSTANCE_ID: '609ACF283ABCD' });

    expect(error.message).toContain('WACHAP_SECRET_ARN');
    expect(error.message).toContain('WACHAP_ACCESS_TOKEN');
  });

  it('re-reads the WaChap secret every 5 minutes by default, and names WACHAP_SECRET_MAX_AGE_SECONDS when invalid', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:wachap';

    expect(loadConfig(wachapEnv, { WACHAP_SECRET_ARN: arn }).WACHAP_SECRET_MAX_AGE_SECONDS).toBe(300);
    expect(loadConfig(wachapEnv, { WACHAP_SECRET_ARN: arn, WACHAP_SECRET_MAX_AGE_SECONDS: '0' })).toMatchObject({
      WACHAP_SECRET_MAX_AGE_SECONDS: 0,
    });
    expect(
      configErrorFor(wachapEnv, { WACHAP_SECRET_ARN: arn, WACHAP_SECRET_MAX_AGE_SECONDS: '-1' }).message,
    ).toContain('WACHAP_SECRET_MAX_AGE_SECONDS');
  });

  it('names WACHAP_BASE_URL when it is not a URL', () => {
    const error = configErrorFor(wachapEnv, { WACHAP_SECRET_ARN: 'arn', WACHAP_BASE_URL: 'wachap' });

    expect(error.message).toContain('WACHAP_BASE_URL');
  });
});

describe('loadConfig(alertEnv)', () => {
  it("defaults to the original's thresholds, alerts on, by email", () => {
    const config = loadConfig(alertEnv, {});

    expect(config).toMatchObject({
      ALERT_SYSTEM_ENABLED: true,
      ALERT_EMAIL_ENABLED: true,
      ALERT_WHATSAPP_ENABLED: false,
      ALERT_COOLDOWN_MINUTES: 60,
      ALERT_HOURLY_FAILURE_THRESHOLD: 20,
      ALERT_DAILY_PERMANENT_THRESHOLD: 5,
      ALERT_FAILURE_RATE_THRESHOLD: 0.5,
      ALERT_FAILURE_RATE_MIN_ATTEMPTS: 10,
    });
  });

  it.each([
    ['True', true],
    ['1', true],
    ['off', false],
    ['false', false],
  ])('reads ALERT_WHATSAPP_ENABLED=%s as %s', (value, expected) => {
    expect(loadConfig(alertEnv, { ALERT_WHATSAPP_ENABLED: value }).ALERT_WHATSAPP_ENABLED).toBe(expected);
  });

  it.each([
    ['ALERT_SYSTEM_ENABLED', 'maybe'],
    ['ADMIN_EMAIL', 'not-an-email'],
    ['ALERT_FAILURE_RATE_THRESHOLD', '1.5'],
    ['ALERT_HOURLY_FAILURE_THRESHOLD', 'twenty'],
  ])('stops on %s=%j with a ConfigError naming it', (name, value) => {
    expect(configErrorFor(alertEnv, { [name]: value }).message).toContain(name);
  });
});

describe('policies built from the configuration', () => {
  it('turns the retry variables into a retry policy in milliseconds', () => {
    const config = loadConfig(coreEnv, {
      ...MINIMAL_CORE,
      MAX_RETRIES: '5',
      RETRY_BASE_DELAY_SECONDS: '60',
      RETRY_MAX_DELAY_SECONDS: '3600',
      RETRY_JITTER: '0',
    });

    expect(retryPolicyOf(config)).toEqual({ baseDelayMs: 60_000, maxDelayMs: 3_600_000, jitter: 0, maxAttempts: 5 });
  });

  it('gives the otp its configured validity and maxAttempts to new notifications', () => {
    const config = loadConfig(coreEnv, { ...MINIMAL_CORE, MAX_RETRIES: '7', OTP_VALIDITY_SECONDS: '300' });

    expect(notificationPolicyOf(config)).toEqual({
      maxAttempts: 7,
      validitySeconds: { otp: 300 },
      criticalCategories: ['otp'],
    });
  });

  it('reads the critical categories (the priority lane) as a list, and refuses what is not a category', () => {
    const config = loadConfig(coreEnv, { ...MINIMAL_CORE, CRITICAL_CATEGORIES: ' otp, alerte_douane ,' });

    expect(notificationPolicyOf(config).criticalCategories).toEqual(['otp', 'alerte_douane']);
    expect(() => loadConfig(coreEnv, { ...MINIMAL_CORE, CRITICAL_CATEGORIES: 'otp,Douane!' })).toThrow(
      /CRITICAL_CATEGORIES/,
    );
  });

  it('keeps part of the WaChap rate for the priority lane, never all of it', () => {
    const sender = { ...MINIMAL_CORE, SEND_QUEUE_URL: 'http://q/s', PRIORITY_SEND_QUEUE_URL: 'http://q/p' };

    expect(loadConfig(senderEnv, sender)).toMatchObject({
      WACHAP_MAX_SENDS_PER_SECOND: 5,
      PRIORITY_SENDS_PER_SECOND: 1,
      PRIORITY_SENDER_MAX_CONCURRENCY: 2,
    });
    expect(() =>
      loadConfig(senderEnv, { ...sender, WACHAP_MAX_SENDS_PER_SECOND: '2', PRIORITY_SENDS_PER_SECOND: '2' }),
    ).toThrow(/PRIORITY_SENDS_PER_SECOND: must be below WACHAP_MAX_SENDS_PER_SECOND/);
  });

  it('turns the alert variables into health thresholds', () => {
    const config = loadConfig(alertEnv, {
      ALERT_HOURLY_FAILURE_THRESHOLD: '30',
      ALERT_DAILY_PERMANENT_THRESHOLD: '2',
      ALERT_FAILURE_RATE_THRESHOLD: '0.25',
      ALERT_FAILURE_RATE_MIN_ATTEMPTS: '20',
      ALERT_DLQ_THRESHOLD: '0',
      ALERT_BACKLOG_AGE_MINUTES: '45',
    });

    expect(healthThresholdsOf(config)).toEqual({
      hourlyFailures: 30,
      dailyPermanentFailures: 2,
      failureRate: 0.25,
      failureRateMinAttempts: 20,
      dlqDepth: 0,
      backlogAgeMinutes: 45,
      hourlyOtpFailures: 10,
      consecutiveFailures: 5,
    });
  });
});
