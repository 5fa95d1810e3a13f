// Every environment variable the system reads, validated with zod at cold start. A missing or
// malformed variable stops the function with the variable's name in the message.

import type { CountryCode } from 'libphonenumber-js';
import * as z from 'zod';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './domain/backoff.js';
import { CALLBACK_URL_POLICIES } from './domain/callback-url-policy.js';
import {
  CALLBACK_RETRY_BASE_SECONDS,
  CALLBACK_RETRY_WINDOW_SECONDS,
  type CallbackRetryPolicy,
} from './domain/callbacks.js';
import {
  type ChannelPolicy,
  DEFAULT_EMAIL_FALLBACK_CATEGORIES,
  DEFAULT_FALLBACK_BEFORE_EXPIRY_SECONDS,
  parseCategoryList,
} from './domain/channel-policy.js';
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from './domain/health.js';
import { DEFAULT_VALIDITY_SECONDS, type NotificationPolicy } from './domain/new-notification.js';
import { CATEGORY_SLUG } from './domain/notification.js';
import { LOCAL_STAGE } from './domain/operator-command.js';
import { DEFAULT_COUNTRY, isCountryCode, normalisePhone } from './domain/phone.js';
import { DEFAULT_RECIPIENT_LIMITS, type RecipientLimits, UNLIMITED } from './domain/recipient-limits.js';
import { failoverProblems, failoverSchema, wachapInstancesSchema } from './domain/wachap-instances.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const flag = (fallback: boolean) =>
  z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] }).default(fallback);
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const ratio = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);
const text = z.string().trim().min(1);

/** A deployment stage's name (dev, prod): its stack is WaChapNotifications-<stage>. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;
/** Variables every function reads. */
export const coreEnv = z.object({
  TABLE_NAME: text,
  /** The stage the function belongs to, so that the commands its alerts print reach this stage's stack. */
  STAGE: z
    .string()
    .regex(STAGE_PATTERN, 'must be a stage name such as dev or prod (lowercase letters, digits, dashes)')
    .default(LOCAL_STAGE),
  MAX_RETRIES: int(DEFAULT_RETRY_POLICY.maxAttempts, 1),
  RETRY_BASE_DELAY_SECONDS: int(DEFAULT_RETRY_POLICY.baseDelayMs / 1000, 1),
  RETRY_MAX_DELAY_SECONDS: int(DEFAULT_RETRY_POLICY.maxDelayMs / 1000, 1),
  RETRY_JITTER: z.coerce.number().min(0).lt(1).default(DEFAULT_RETRY_POLICY.jitter),
  PROVIDER_HOLD_SECONDS: int(1800, 1),
  OTP_VALIDITY_SECONDS: int(DEFAULT_VALIDITY_SECONDS.otp ?? 600, 1),
  DEFAULT_COUNTRY: z
    .string()
    .default(DEFAULT_COUNTRY)
    .transform((code) => code.toUpperCase())
    .refine(isCountryCode, 'must be an ISO 3166 country code such as ML or CN')
    .transform((code) => code as CountryCode),
  RETENTION_DAYS: int(90, 1),
  /** Categories that are high priority by default (the priority lane), comma-separated; a caller may say otherwise. */
  CRITICAL_CATEGORIES: z
    .string()
    .default('otp')
    .transform((list) =>
      list
        .split(',')
        .map((category) => category.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(CATEGORY_SLUG, 'must list category slugs such as otp,alerte_douane'))),
});

/** A variable holding JSON, checked by `schema`; the message names what was expected. */
const jsonVariable = <S extends z.ZodType>(schema: S, example: string) =>
  z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON such as ${example}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const INSTANCES_EXAMPLE =
  '[{"name":"china","instanceId":"…","accessToken":"…","prefixes":["+86"]},{"name":"mali","instanceId":"…","accessToken":"…","default":true}]';

/** Where WaChap is and how to authenticate: a Secrets Manager secret in AWS, plain variables locally. */
export const wachapFields = z.object({
  WACHAP_BASE_URL: z.url().default('https://wachap.app/api'),
  WACHAP_TIMEOUT_MS: int(15_000, 100),
  WACHAP_SECRET_ARN: text.optional(),
  /** The instances (README: WaChap instances); wins over the one-instance WACHAP_INSTANCE_ID / WACHAP_ACCESS_TOKEN. */
  WACHAP_INSTANCES: jsonVariable(wachapInstancesSchema, INSTANCES_EXAMPLE).optional(),
  WACHAP_INSTANCE_ID: text.optional(),
  WACHAP_ACCESS_TOKEN: text.optional(),
  /** Instance → the instance allowed to stand in for it while its circuit is open; none by default. */
  WACHAP_FAILOVER: jsonVariable(failoverSchema, '{"china":"mali"}').default({}),
  /** How long a read of the WaChap secret is trusted, so a renewed token reaches warm functions; 0: every call. */
  WACHAP_SECRET_MAX_AGE_SECONDS: int(300, 0),
});
export const wachapEnv = wachapFields
  .refine(
    (env) => env.WACHAP_SECRET_ARN || env.WACHAP_INSTANCES || (env.WACHAP_INSTANCE_ID && env.WACHAP_ACCESS_TOKEN),
    {
      message: 'set WACHAP_SECRET_ARN, or WACHAP_INSTANCES, or both WACHAP_INSTANCE_ID and WACHAP_ACCESS_TOKEN',
      path: ['WACHAP_SECRET_ARN'],
    },
  )
  .superRefine((env, ctx) => {
    // In AWS the list is in the secret: its failover entries are checked when it is read.
    if (!env.WACHAP_INSTANCES) return;
    for (const problem of failoverProblems(env.WACHAP_FAILOVER, env.WACHAP_INSTANCES)) {
      ctx.addIssue({ code: 'custom', path: ['WACHAP_FAILOVER'], message: problem });
    }
  });

/** The send queues: the standard lane, and the priority lane for OTPs and critical categories. */
export const queueEnv = z.object({ SEND_QUEUE_URL: z.url(), PRIORITY_SEND_QUEUE_URL: z.url() });

export const senderEnv = z
  .object({
    ...coreEnv.shape,
    ...queueEnv.shape,
    /** How long a claim protects an attempt; longer than the WaChap timeout plus the recording. */
    CLAIM_LEASE_SECONDS: int(120, 10),
    /**
     * WaChap calls of one SQS batch in flight at once: at least the whole batch (10), so that no call waits for a
     * slot once its send at the rate has come (a call released at its instant and then kept waiting for a slot would
     * reach WaChap late, in a second that already holds other senders' sends: over the ceiling). Fewer calls at once
     * is a lower WACHAP_MAX_SENDS_PER_SECOND, not a lower concurrency.
     */
    SENDER_CONCURRENCY: int(10, 10),
    /** The event source's maximum concurrency: how many sender instances may run at once. */
    SENDER_MAX_CONCURRENCY: int(2, 1),
    /** WaChap's pace across all senders, both lanes together. */
    WACHAP_MAX_SENDS_PER_SECOND: z.coerce.number().positive().max(1000).default(5),
    /** The priority lane's event source maximum concurrency. */
    PRIORITY_SENDER_MAX_CONCURRENCY: int(2, 1),
    /**
     * The part of WACHAP_MAX_SENDS_PER_SECOND kept for the priority lane, so that an OTP never waits for the
     * standard lane's backlog; the standard lane's instances share the rest.
     */
    PRIORITY_SENDS_PER_SECOND: z.coerce.number().positive().max(1000).default(1),
    /** How long a sender trusts its last read of the provider circuit. */
    CIRCUIT_CACHE_SECONDS: int(5, 0),
  })
  .refine((env) => env.PRIORITY_SENDS_PER_SECOND < env.WACHAP_MAX_SENDS_PER_SECOND, {
    message: 'must be below WACHAP_MAX_SENDS_PER_SECOND: the standard lane needs the rest',
    path: ['PRIORITY_SENDS_PER_SECOND'],
  });

/**
 * The email channel, the sender's fallback when WhatsApp cannot take a notification (README: Channels). Without
 * EMAIL_FROM (the SES identity it sends from) there is no email channel and no fallback.
 */
export const emailChannelEnv = z.object({
  EMAIL_FROM: z.email().optional(),
  /** Categories that may fall back to email: a comma list of slugs; empty turns the fallback off. */
  EMAIL_FALLBACK_CATEGORIES: z
    .string()
    .default(DEFAULT_EMAIL_FALLBACK_CATEGORIES.join(','))
    .transform(parseCategoryList)
    .pipe(z.array(z.string().regex(CATEGORY_SLUG, 'must be a comma list of category slugs, e.g. otp,colis_arrive'))),
  /** How close to its expiry a notification held for WhatsApp's provider leaves for email. */
  EMAIL_FALLBACK_BEFORE_EXPIRY_SECONDS: int(DEFAULT_FALLBACK_BEFORE_EXPIRY_SECONDS, 0),
});

export const channelPolicyOf = (config: z.output<typeof emailChannelEnv>): ChannelPolicy => ({
  enabled: config.EMAIL_FROM ? ['whatsapp', 'email'] : ['whatsapp'],
  emailFallbackCategories: config.EMAIL_FALLBACK_CATEGORIES,
  fallbackBeforeExpiryMs: config.EMAIL_FALLBACK_BEFORE_EXPIRY_SECONDS * 1000,
});

/**
 * Where callback URLs may point: `public-https` (AWS: https to public addresses only, checked at ingest and again at
 * connect time) or `any` (the local stack, whose receivers listen on 127.0.0.1).
 */
export const callbackUrlsEnv = z.object({ CALLBACK_URLS: z.enum(CALLBACK_URL_POLICIES).default('public-https') });

/**
 * The functions whose moves make status callbacks (sender, retry sweep, operator actions) hand them to this queue;
 * without it they emit none.
 */
export const callbackEmitEnv = z.object({ CALLBACK_QUEUE_URL: z.url().optional() });

/** The callback dispatcher: its queue and DLQ, the callers' secrets, the POST's patience, the retries. */
export const callbackDispatcherEnv = z.object({
  ...coreEnv.shape,
  ...callbackUrlsEnv.shape,
  CALLBACK_QUEUE_URL: z.url(),
  CALLBACK_DLQ_URL: z.url(),
  /** Each caller's signing secret is `<prefix><API key id>` (`<prefix>default` without a caller). */
  CALLBACK_SECRET_PREFIX: text,
  /** How long a read of a caller's secret is trusted, so a rotated one reaches the warm dispatcher; 0: every POST. */
  CALLBACK_SECRET_MAX_AGE_SECONDS: int(300, 0),
  CALLBACK_TIMEOUT_MS: int(5000, 100),
  /** The retry schedule's first step (30 s); every later step keeps its ratio to it. Shortened locally, for tests. */
  CALLBACK_RETRY_BASE_SECONDS: z.coerce.number().positive().max(3600).default(CALLBACK_RETRY_BASE_SECONDS),
  /** How long a callback is retried after its emission before it is given up (24 h). */
  CALLBACK_RETRY_WINDOW_SECONDS: int(CALLBACK_RETRY_WINDOW_SECONDS, 1),
});

/**
 * The provider probe: how often WaChap is checked while the circuit is open (each minute's tick checks every
 * interval until the next tick; 60 or more: once a tick).
 */
export const probeEnv = z.object({
  PROVIDER_PROBE_INTERVAL_SECONDS: int(10, 10),
});

const RECIPIENT_LIMITS_EXAMPLE = '{"default":{"max":20,"windowSeconds":3600},"otp":{"max":5,"windowSeconds":600}}';

/** Category (or `default`) → a limit, or "unlimited" to turn that category's limit off. */
export const recipientLimitOverrides = z.record(
  z.string().regex(CATEGORY_SLUG),
  z.union(
    [
      z.literal(UNLIMITED),
      z.strictObject({
        max: z.int().min(1, `must be at least 1 (write "${UNLIMITED}" to turn the limit off)`).max(1_000_000),
        windowSeconds: z.int().min(1).max(604_800, 'must be at most 604800 (7 days)'),
      }),
    ],
    { error: `must be {"max": a whole number from 1, "windowSeconds": 1 to 604800} or "${UNLIMITED}"` },
  ),
  {
    error: (issue) =>
      issue.code === 'invalid_key'
        ? 'must be "default" or a category slug such as otp'
        : `must be a JSON object such as ${RECIPIENT_LIMITS_EXAMPLE}`,
  },
);

/** Per-recipient limits at ingest: JSON, merged over the defaults category by category (README: Limits). */
export const recipientLimitsEnv = z.object({
  RECIPIENT_LIMITS: z
    .string()
    .default('{}')
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON such as ${RECIPIENT_LIMITS_EXAMPLE}` });
        return z.NEVER;
      }
    })
    .pipe(recipientLimitOverrides)
    .transform((overrides): RecipientLimits => ({ ...DEFAULT_RECIPIENT_LIMITS, ...overrides })),
});

export const sweepEnv = z.object({
  ...coreEnv.shape,
  ...queueEnv.shape,
  /** How long a queued notification is hidden from later sweeps (below the 30-minute cadence). */
  SWEEP_LEASE_SECONDS: int(1200, 60),
  SWEEP_DEFAULT_LIMIT: int(500, 1),
});

export const alertEnv = z.object({
  ALERT_SYSTEM_ENABLED: flag(true),
  ALERT_EMAIL_ENABLED: flag(true),
  ALERT_WHATSAPP_ENABLED: flag(false),
  /**
   * Who the alerts go to, as a Secrets Manager secret {"email": "...", "phone": "..."} (AWS: the addresses stay out of
   * the template and the function's configuration); ADMIN_EMAIL / ADMIN_PHONE below are the local shorthand.
   */
  ADMIN_CONTACTS_SECRET_ARN: text.optional(),
  /** How long a read of the admin-contacts secret is trusted, so a changed address reaches warm functions; 0: every read. */
  ADMIN_CONTACTS_MAX_AGE_SECONDS: int(300, 0),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PHONE: text
    .transform((phone, ctx) => {
      try {
        return normalisePhone(phone);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a phone number in international format, e.g. +22370702150' });
        return z.NEVER;
      }
    })
    .optional(),
  ALERT_FROM_EMAIL: z.email().optional(),
  /** The operations page, linked from every alert; http(s) only, since it becomes a link in the email. */
  OPERATIONS_PAGE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ALERT_COOLDOWN_MINUTES: int(60, 1),
  ALERT_HOURLY_FAILURE_THRESHOLD: int(DEFAULT_HEALTH_THRESHOLDS.hourlyFailures, 1),
  ALERT_DAILY_PERMANENT_THRESHOLD: int(DEFAULT_HEALTH_THRESHOLDS.dailyPermanentFailures, 1),
  ALERT_FAILURE_RATE_THRESHOLD: ratio(DEFAULT_HEALTH_THRESHOLDS.failureRate),
  ALERT_FAILURE_RATE_MIN_ATTEMPTS: int(DEFAULT_HEALTH_THRESHOLDS.failureRateMinAttempts, 1),
  ALERT_DLQ_THRESHOLD: int(DEFAULT_HEALTH_THRESHOLDS.dlqDepth, 0),
  ALERT_BACKLOG_AGE_MINUTES: int(DEFAULT_HEALTH_THRESHOLDS.backlogAgeMinutes, 1),
  /** The original's: OTP notifications failed in an hour → critical (0 turns it off). */
  ALERT_FAILED_OTP_THRESHOLD: int(DEFAULT_HEALTH_THRESHOLDS.hourlyOtpFailures, 0),
  /** The original's: WhatsApp sends failed in a row, none delivered since → critical (0 turns it off). */
  ALERT_WHATSAPP_FAILURE_THRESHOLD: int(DEFAULT_HEALTH_THRESHOLDS.consecutiveFailures, 0),
});

/** Parses `env` with `schema`, or throws a ConfigError naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  // An empty variable means "not set", so that `MAX_RETRIES=` falls back to the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

type CoreConfig = z.output<typeof coreEnv>;
type AlertConfig = z.output<typeof alertEnv>;

export const retryPolicyOf = (config: CoreConfig): RetryPolicy => ({
  baseDelayMs: config.RETRY_BASE_DELAY_SECONDS * 1000,
  maxDelayMs: config.RETRY_MAX_DELAY_SECONDS * 1000,
  jitter: config.RETRY_JITTER,
  maxAttempts: config.MAX_RETRIES,
});

export const notificationPolicyOf = (config: CoreConfig): NotificationPolicy => ({
  maxAttempts: config.MAX_RETRIES,
  criticalCategories: config.CRITICAL_CATEGORIES,
  validitySeconds: { ...DEFAULT_VALIDITY_SECONDS, otp: config.OTP_VALIDITY_SECONDS },
});

export const healthThresholdsOf = (config: AlertConfig): HealthThresholds => ({
  hourlyFailures: config.ALERT_HOURLY_FAILURE_THRESHOLD,
  dailyPermanentFailures: config.ALERT_DAILY_PERMANENT_THRESHOLD,
  failureRate: config.ALERT_FAILURE_RATE_THRESHOLD,
  failureRateMinAttempts: config.ALERT_FAILURE_RATE_MIN_ATTEMPTS,
  dlqDepth: config.ALERT_DLQ_THRESHOLD,
  backlogAgeMinutes: config.ALERT_BACKLOG_AGE_MINUTES,
  hourlyOtpFailures: config.ALERT_FAILED_OTP_THRESHOLD,
  consecutiveFailures: config.ALERT_WHATSAPP_FAILURE_THRESHOLD,
});

export const callbackRetryPolicyOf = (config: z.output<typeof callbackDispatcherEnv>): CallbackRetryPolicy => ({
  baseSeconds: config.CALLBACK_RETRY_BASE_SECONDS,
  windowSeconds: config.CALLBACK_RETRY_WINDOW_SECONDS,
});
