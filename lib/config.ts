// The deployment's settings, read from CDK context (`-c key=value` or cdk.json) and validated with
// zod before any construct exists, so a typo fails the synth with the key's name in the message.

import { z } from 'zod';
import { recipientLimitsEnv, STAGE_PATTERN, wachapFields } from '../shared/config.js';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/backoff.js';
import {
  DEFAULT_EMAIL_FALLBACK_CATEGORIES,
  DEFAULT_FALLBACK_BEFORE_EXPIRY_SECONDS,
} from '../shared/domain/channel-policy.js';
import { DEFAULT_HEALTH_THRESHOLDS } from '../shared/domain/health.js';
import { CATEGORY_SLUG } from '../shared/domain/notification.js';
import { LOCAL_STAGE } from '../shared/domain/operator-command.js';
import { DEFAULT_COUNTRY, isCountryCode } from '../shared/domain/phone.js';
import { DEFAULT_USAGE_PLAN } from '../shared/http/usage-plan.js';

/** The name of the stack's first upstream key (UpstreamApiKey), whose plan is apiRateLimit, apiBurstLimit… */
export const UPSTREAM_CALLER = 'upstream';

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
}

// `-c key=value` always arrives as a string; cdk.json and tests may give real booleans and numbers.
const flag = z.union([
  z.boolean(),
  z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] }),
]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A key that used to be read: setting it fails the synth with what to do instead. */
const removedKey = (instead: string) => z.undefined({ error: `no longer read: ${instead}` }).optional();
const SECRET_INSTEAD =
  'the admin contacts live in the admin-contacts secret, out of the template: put them there after deploying ' +
  '(the AdminContactsSecretArn output gives the command)';

/**
 * One alertRecipients entry: an address, or *@domain (*@*.domain for its subdomains). SES matches ses:Recipients
 * case-sensitively: the domain is lower-cased here as the functions lower-case the domain of the address they send to.
 */
const recipientPattern = z
  .string()
  .trim()
  .transform((entry) => entry.replace(/@[^@]*$/, (domain) => domain.toLowerCase()))
  .refine(
    (entry) => /^\*@(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(entry) || z.email().safeParse(entry).success,
    'each entry must be an address (ops@example.com) or a *@domain pattern (*@example.com)',
  );

const contextSchema = z.object({
  stage: z
    .string()
    .regex(STAGE_PATTERN, 'use 1-20 lowercase letters, digits or dashes, starting with a letter (dev, prod)')
    // The operator commands and the alerts take `local` for the local stack (npm start): a deployed one would be
    // out of their reach.
    .refine((stage) => stage !== LOCAL_STAGE, `'${LOCAL_STAGE}' names the local stack (npm start): choose another`)
    .default('dev'),
  /** Removed: the admin's address would be in the template (see alertRecipients and the admin-contacts secret). */
  adminEmail: removedKey(`${SECRET_INSTEAD}, and list the address, or *@its-domain, in alertRecipients`),
  /** Removed: the admin's phone would be in the template (see alertWhatsappEnabled and the admin-contacts secret). */
  adminPhone: removedKey(`${SECRET_INSTEAD}, and set alertWhatsappEnabled=true`),
  alertFromEmail: z.email().optional(),
  /**
   * Whom SES may send the alert emails to (the ses:Recipients condition of the functions' SendEmail grant):
   * addresses or *@domain patterns, comma-separated. They appear in the template: a *@domain pattern keeps the
   * admin's own address out of it. Required when email alerts are on.
   */
  alertRecipients: z
    .union([z.array(z.string()), z.string().transform((list) => list.split(','))])
    .transform((list) => [...new Set(list.map((entry) => entry.trim()).filter(Boolean))])
    .pipe(z.array(recipientPattern))
    .optional(),
  /** An address subscribed to the CloudWatch alarm topic by the stack; it appears in the template. */
  alarmEmail: z.email().optional(),
  /**
   * The address notification emails are sent from (the email channel, the fallback when WhatsApp cannot take a
   * notification); none: no email channel, no fallback. The SES identity (sesIdentity) must cover it.
   */
  emailFrom: z.email().optional(),
  /** Categories that may fall back to email (comma-separated); by default all but information_generale. */
  emailFallbackCategories: z
    .union([z.array(z.string()), z.string().transform((list) => list.split(','))])
    .default([...DEFAULT_EMAIL_FALLBACK_CATEGORIES])
    .transform((list) => list.map((category) => category.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(CATEGORY_SLUG, 'must list category slugs such as otp,colis_arrive'))),
  /** How close to its expiry a notification held for WhatsApp's provider leaves for email. */
  emailFallbackBeforeExpirySeconds: int(0, 86_400).default(DEFAULT_FALLBACK_BEFORE_EXPIRY_SECONDS),
  /** The verified SES identity the alerts (and notification emails) are sent from: the address itself (default) or its domain. */
  sesIdentity: z.string().trim().min(1).optional(),
  alertSystemEnabled: flag.default(true),
  /** Defaults to on when alertFromEmail is set; needs alertFromEmail and alertRecipients. */
  alertEmailEnabled: flag.optional(),
  /** Critical alerts by WhatsApp to the phone in the admin-contacts secret; off unless set. */
  alertWhatsappEnabled: flag.default(false),
  alertHourlyFailureThreshold: int(1, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.hourlyFailures),
  alertDailyPermanentThreshold: int(1, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.dailyPermanentFailures),
  alertFailureRateThreshold: z.coerce.number().min(0).max(1).default(DEFAULT_HEALTH_THRESHOLDS.failureRate),
  alertFailureRateMinAttempts: int(1, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.failureRateMinAttempts),
  /** The original's ALERT_FAILED_OTP_THRESHOLD: OTP notifications failed in an hour → critical (0: off). */
  alertFailedOtpThreshold: int(0, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.hourlyOtpFailures),
  /** The original's ALERT_WHATSAPP_FAILURE_THRESHOLD: WhatsApp sends failed in a row → critical (0: off). */
  alertWhatsappFailureThreshold: int(0, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.consecutiveFailures),
  /**
   * The BacklogTooOld alarm: the oldest due notification waiting longer than this pages someone (the health check's
   * own backlog warning, ALERT_BACKLOG_AGE_MINUTES, defaults to the same).
   */
  alarmBacklogAgeMinutes: int(1, 10_080).default(DEFAULT_HEALTH_THRESHOLDS.backlogAgeMinutes),
  // Lambda's SQS maximum concurrency accepts 2 to 1000; it is what keeps us under WaChap's rate limit.
  senderMaxConcurrency: int(2, 1000).default(2),
  /** WaChap's sending pace across all senders, both lanes together. */
  wachapMaxSendsPerSecond: z.coerce.number().positive().max(1000).default(5),
  /** The priority lane's event source maximum concurrency (2 to 1000, as Lambda accepts). */
  prioritySenderMaxConcurrency: int(2, 1000).default(2),
  /** The part of wachapMaxSendsPerSecond kept for the priority lane (OTPs and critical categories). */
  prioritySendsPerSecond: z.coerce.number().positive().max(1000).default(1),
  /** Categories sent through the priority lane unless the caller says otherwise (comma-separated). */
  criticalCategories: z
    .union([z.array(z.string()), z.string().transform((list) => list.split(','))])
    .default(['otp'])
    .transform((list) => list.map((category) => category.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(CATEGORY_SLUG, 'must list category slugs such as otp,alerte_douane'))),
  /** The upstream key's usage plan: steady rate and burst (requests per second), and its daily quota. */
  apiRateLimit: z.coerce.number().positive().max(10_000).default(DEFAULT_USAGE_PLAN.rateLimit),
  apiBurstLimit: int(1, 5000).default(DEFAULT_USAGE_PLAN.burstLimit),
  apiDailyQuota: int(1, 100_000_000).default(DEFAULT_USAGE_PLAN.dailyQuota),
  /**
   * More upstream systems, each with its own API key and usage plan (the plan's fields default to the upstream
   * key's): JSON text, or an array in cdk.json, e.g. [{"name":"boutique","dailyQuota":2000}]. Each caller's
   * idempotency keys and callback secret are its own.
   */
  apiCallers: z
    .preprocess((value, ctx) => {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.issues.push({ code: 'custom', message: 'must be a JSON array, e.g. [{"name":"boutique"}]', input: value });
        return z.NEVER;
      }
    }, z.unknown())
    .pipe(
      z
        .array(
          z.strictObject({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase name such as boutique (letters, digits, -)')
              .refine((name) => name !== UPSTREAM_CALLER, `"${UPSTREAM_CALLER}" is the stack's own key`),
            rateLimit: z.coerce.number().positive().max(10_000).optional(),
            burstLimit: int(1, 5000).optional(),
            dailyQuota: int(1, 100_000_000).optional(),
          }),
        )
        .refine((callers) => new Set(callers.map((c) => c.name)).size === callers.length, 'names must be unique'),
    )
    .default([]),
  /** The stage's own throttle, for every caller together (keys, and what has none): a ceiling above the plans. */
  stageRateLimit: z.coerce.number().positive().max(10_000).default(50),
  stageBurstLimit: int(1, 5000).default(100),
  /**
   * WAF web ACL with a rate-based rule in front of the API: requests per source IP per 5 minutes beyond which that
   * IP is blocked for a while (0: no WAF, saving its monthly cost).
   */
  wafRateLimitPer5Minutes: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 10 && n <= 2_000_000_000), 'must be 0 (no WAF) or 10 to 2,000,000,000')
    .default(6000),
  retentionDays: int(1, 3650).default(90),
  maxRetries: int(1, 100).default(DEFAULT_RETRY_POLICY.maxAttempts),
  /**
   * Per-recipient limits at ingest (RECIPIENT_LIMITS), merged over the defaults: JSON text, or an object in
   * cdk.json, e.g. {"otp":{"max":3,"windowSeconds":600},"lot_ferme":"unlimited"}. Unset: the defaults.
   */
  recipientLimits: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .transform((value, ctx) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const parsed = recipientLimitsEnv.safeParse({ RECIPIENT_LIMITS: text });
      if (parsed.success) return text;
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.slice(1) });
      }
      return z.NEVER;
    })
    .optional(),
  defaultCountry: z
    .string()
    .default(DEFAULT_COUNTRY)
    .refine((code) => isCountryCode(code), 'must be an ISO 3166 country code such as ML'),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  wachapBaseUrl: z.url({ protocol: /^https$/ }).default('https://wachap.app/api'),
  /**
   * WACHAP_FAILOVER: instance → the instance allowed to stand in for it while its circuit is open, JSON text or an
   * object in cdk.json, e.g. {"china":"mali"}. Unset: none (a message from an unknown number may confuse a customer).
   * The instances themselves are in the WaChap secret, with their tokens.
   */
  wachapFailover: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .transform((value, ctx) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const parsed = wachapFields.shape.WACHAP_FAILOVER.safeParse(text);
      if (parsed.success) return text;
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    })
    .optional(),
  // One WaChap call has to fit well inside the sender's 60 s timeout.
  wachapTimeoutMs: int(100, 30_000).default(15_000),
});

/** The context keys this app reads, for `-c key=value` and the cdk.json "context" block. */
export const CONTEXT_KEYS = Object.keys(contextSchema.shape) as (keyof typeof contextSchema.shape)[];

const configSchema = contextSchema
  .transform((raw) => ({
    ...raw,
    alertEmailEnabled: raw.alertEmailEnabled ?? Boolean(raw.alertFromEmail),
    sesIdentity: raw.sesIdentity ?? raw.alertFromEmail ?? raw.emailFrom,
  }))
  .superRefine((config, ctx) => {
    // The sender refuses it at cold start (every batch would fail until the DLQ): refuse it at synth.
    if (config.prioritySendsPerSecond >= config.wachapMaxSendsPerSecond) {
      ctx.addIssue({
        code: 'custom',
        path: ['prioritySendsPerSecond'],
        message: `must be below wachapMaxSendsPerSecond (${config.wachapMaxSendsPerSecond}): the standard lane needs the rest`,
      });
    }
    if (config.alertEmailEnabled && !config.alertFromEmail) {
      ctx.addIssue({
        code: 'custom',
        path: ['alertEmailEnabled'],
        message: 'email alerts need alertFromEmail, the verified SES sender',
      });
    }
    if (config.alertEmailEnabled && !config.alertRecipients?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['alertRecipients'],
        message:
          'email alerts need the addresses SES may send them to, comma-separated, or *@domain patterns ' +
          '(they appear in the template: *@your-domain keeps the admin address out of it); ' +
          'the address itself goes in the admin-contacts secret',
      });
    }
    const identity = config.sesIdentity?.toLowerCase();
    // One verified identity sends both the alerts and the notification emails: each sender address must be it or
    // be in its domain.
    for (const key of ['alertFromEmail', 'emailFrom'] as const) {
      const from = config[key]?.toLowerCase();
      if (identity && from && identity !== from && identity !== from.split('@')[1]) {
        ctx.addIssue({
          code: 'custom',
          path: ['sesIdentity'],
          message: `must be ${key} (${from}) or its domain`,
        });
      }
    }
  });

/** One stack per stage, so dev and prod can share an account. */
export const stackNameFor = (stage: string): string => `WaChapNotifications-${stage}`;

export type NotificationConfig = z.output<typeof configSchema>;
export type NotificationContext = z.input<typeof contextSchema>;

/** Validates raw context values, or throws a StackConfigError naming every bad key. */
export function parseNotificationConfig(raw: Record<string, unknown>): NotificationConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  -c ${issue.path.join('.') || '(context)'}: ${issue.message}`);
  throw new StackConfigError(`invalid CDK context:\n${problems.join('\n')}`);
}
