// The deployment's settings, read from CDK context (`-c key=value` or cdk.json) and validated with
// zod before any construct exists, so a typo fails the synth with the key's name in the message.
import { z } from 'zod';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/backoff.js';
import { DEFAULT_HEALTH_THRESHOLDS } from '../shared/domain/health.js';
import { DEFAULT_COUNTRY, isCountryCode, normalisePhone } from '../shared/domain/phone.js';

type Country = Parameters<typeof normalisePhone>[1];

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
}

// `-c key=value` always arrives as a string; cdk.json and tests may give real booleans and numbers.
const flag = z.union([
  z.boolean(),
  z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] }),
]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const contextSchema = z.object({
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, 'use 1-20 lowercase letters, digits or dashes, starting with a letter (dev, prod)')
    .default('dev'),
  adminEmail: z.email().optional(),
  adminPhone: z
    .string()
    .refine((phone) => isPhoneNumber(phone), 'must be a phone number such as +22370123456')
    .optional(),
  alertFromEmail: z.email().optional(),
  /** The verified SES identity the alerts are sent from: the address itself (default) or its domain. */
  sesIdentity: z.string().trim().min(1).optional(),
  alertSystemEnabled: flag.default(true),
  /** Defaults to on when both adminEmail and alertFromEmail are set. */
  alertEmailEnabled: flag.optional(),
  /** Defaults to on when adminPhone is set. */
  alertWhatsappEnabled: flag.optional(),
  alertHourlyFailureThreshold: int(1, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.hourlyFailures),
  alertDailyPermanentThreshold: int(1, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.dailyPermanentFailures),
  alertFailureRateThreshold: z.coerce.number().min(0).max(1).default(DEFAULT_HEALTH_THRESHOLDS.failureRate),
  alertFailureRateMinAttempts: int(1, 1_000_000).default(DEFAULT_HEALTH_THRESHOLDS.failureRateMinAttempts),
  // Lambda's SQS maximum concurrency accepts 2 to 1000; it is what keeps us under WaChap's rate limit.
  senderMaxConcurrency: int(2, 1000).default(2),
  /** WaChap's sending pace across all senders; each sender instance takes 1/senderMaxConcurrency of it. */
  wachapMaxSendsPerSecond: z.coerce.number().positive().max(1000).default(5),
  apiRateLimit: z.coerce.number().positive().max(10_000).default(10),
  apiBurstLimit: int(1, 5000).default(20),
  retentionDays: int(1, 3650).default(90),
  maxRetries: int(1, 100).default(DEFAULT_RETRY_POLICY.maxAttempts),
  defaultCountry: z
    .string()
    .default(DEFAULT_COUNTRY)
    .refine((code) => isCountryCode(code), 'must be an ISO 3166 country code such as ML'),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  wachapBaseUrl: z.url({ protocol: /^https$/ }).default('https://wachap.app/api'),
  // One WaChap call has to fit well inside the sender's 60 s timeout.
  wachapTimeoutMs: int(100, 30_000).default(15_000),
});

/** The context keys this app reads, for `-c key=value` and the cdk.json "context" block. */
export const CONTEXT_KEYS = Object.keys(contextSchema.shape) as (keyof typeof contextSchema.shape)[];

const configSchema = contextSchema
  .transform((raw) => ({
    ...raw,
    adminPhone: raw.adminPhone && normalisePhone(raw.adminPhone, raw.defaultCountry as Country),
    alertEmailEnabled: raw.alertEmailEnabled ?? Boolean(raw.adminEmail && raw.alertFromEmail),
    alertWhatsappEnabled: raw.alertWhatsappEnabled ?? Boolean(raw.adminPhone),
    sesIdentity: raw.sesIdentity ?? raw.alertFromEmail,
  }))
  .superRefine((config, ctx) => {
    if (config.alertEmailEnabled && !(config.adminEmail && config.alertFromEmail)) {
      ctx.addIssue({
        code: 'custom',
        path: ['alertEmailEnabled'],
        message: 'email alerts need both adminEmail and alertFromEmail',
      });
    }
    if (config.alertWhatsappEnabled && !config.adminPhone) {
      ctx.addIssue({ code: 'custom', path: ['alertWhatsappEnabled'], message: 'WhatsApp alerts need adminPhone' });
    }
    const from = config.alertFromEmail?.toLowerCase();
    const identity = config.sesIdentity?.toLowerCase();
    if (identity && from && identity !== from && identity !== from.split('@')[1]) {
      ctx.addIssue({
        code: 'custom',
        path: ['sesIdentity'],
        message: `must be alertFromEmail (${from}) or its domain`,
      });
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

function isPhoneNumber(value: string): boolean {
  try {
    normalisePhone(value);
    return true;
  } catch {
    return false;
  }
}
