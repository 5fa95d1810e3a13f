// What operators send to the operator routes, checked at the edge: the notification id in the path, the list and
// export query strings, the cancel and re-drive bodies. A refusal names the parameter or field.
import type { CountryCode } from 'libphonenumber-js';
import * as z from 'zod';
import type { CountQuery, ListQuery } from '../application/ports.js';
import {
  CATEGORY_SLUG,
  FAILURE_REASONS,
  type FailureReason,
  NOTIFICATION_STATUSES,
  type NotificationStatus,
} from '../domain/notification.js';
import { InvalidPhoneNumberError, normalisePhone } from '../domain/phone.js';
import { INSTANCE_NAME } from '../domain/wachap-instances.js';
import { visibleText } from './visible-text.js';

/** The statuses a bulk re-drive may select: the ones a re-drive leaves. */
export const REDRIVABLE_STATUSES = ['failed', 'permanent_failure', 'expired'] as const;

export const LIST_MAX_LIMIT = 100;
export const LIST_DEFAULT_LIMIT = 50;
/** Rows of one export page: a Lambda answer holds at most 6 MB, and a row is far under 1 KB. */
export const EXPORT_MAX_ROWS = 5_000;
export const REDRIVE_MAX_LIMIT = 500;

/**
 * Notification ids are ULIDs (26 Crockford base-32 characters); read in capitals as they are stored. Both cases are
 * spelled out rather than flagged (/i): a JSON Schema pattern has no flags, and the contract shows this one.
 */
export const notificationIdPath = z.object({
  id: z
    .string()
    .regex(
      /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/,
      'must be a notification id: 26 letters and digits, e.g. 01KB8Z4N6Q…',
    )
    .meta({ description: 'The notification id (a ULID), as in Location.', examples: ['01KB8Z4N6Q9V7W5X3Y1Z2A4B6C'] })
    .transform((id) => id.toUpperCase()),
});

const instant = (name: string) =>
  z.iso.datetime({ offset: true, message: `must be an ISO 8601 date-time, e.g. 2026-11-24T18:00:00Z (${name})` });
const category = z.string().regex(CATEGORY_SLUG, 'must be a category slug such as colis_arrive or otp');
const cursor = z.string().min(1).max(2048);

/** A comma-separated list of statuses (`failed,permanent_failure`), each named once; every status when absent. */
const statusList = z
  .string()
  .transform((list) => [...new Set(list.split(',').map((status) => status.trim()))])
  .pipe(
    z.array(z.enum(NOTIFICATION_STATUSES, { error: `must list statuses among ${NOTIFICATION_STATUSES.join(', ')}` })),
  );

/** A phone number in any form ingest accepts, normalised as ingest normalises it (E.164). */
const phoneIn = (defaultCountry: CountryCode) =>
  z
    .string()
    .max(32)
    .transform((phone, ctx) => {
      try {
        return normalisePhone(phone, defaultCountry);
      } catch (error) {
        if (!(error instanceof InvalidPhoneNumberError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.reason });
        return z.NEVER;
      }
    });

const queryFields = (defaultCountry: CountryCode) => ({
  status: statusList.optional().meta({
    description: `Comma-separated statuses among ${NOTIFICATION_STATUSES.join(', ')}; every status when absent.`,
    examples: ['failed,permanent_failure'],
  }),
  category: category.optional(),
  phone: phoneIn(defaultCountry)
    .optional()
    .meta({ description: 'The recipient, in any form ingest accepts (normalised the same way).' }),
  reason: z.enum(FAILURE_REASONS).optional().meta({ description: 'The failure reason.' }),
  from: instant('from').optional().meta({ description: 'Created at or after (inclusive).' }),
  to: instant('to').optional().meta({ description: 'Created at or before (inclusive).' }),
  cursor: cursor.optional().meta({ description: "The previous page's nextCursor." }),
});

const limitOf = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `must be from 1 to ${max}`).max(max, `must be from 1 to ${max}`))
    .default(fallback)
    .meta({
      description: `How many at most, from 1 to ${max} (${fallback} when absent).`,
      examples: [String(fallback)],
    });

const fromBeforeTo = (query: { from?: string | undefined; to?: string | undefined }) =>
  !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to);

interface ParsedQuery {
  status?: NotificationStatus[] | undefined;
  category?: string | undefined;
  phone?: string | undefined;
  reason?: FailureReason | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The list or export query as the use cases read it: statuses (all when none given), dates as Dates. */
const toListQuery = ({ status, from, to, category, phone, reason, limit, cursor }: ParsedQuery): ListQuery => ({
  statuses: status?.length ? status : [...NOTIFICATION_STATUSES],
  limit,
  ...(from ? { from: new Date(from) } : {}),
  ...(to ? { to: new Date(to) } : {}),
  ...(category ? { category } : {}),
  ...(phone ? { phone } : {}),
  ...(reason ? { reason } : {}),
  ...(cursor ? { cursor } : {}),
});

/** GET /notifications: the filters, `limit` (1–100, 50 by default) and the cursor of the previous page. */
export const listQuerySchema = (defaultCountry: CountryCode) =>
  z
    .strictObject({ ...queryFields(defaultCountry), limit: limitOf(LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT) })
    .refine(fromBeforeTo, { message: 'must not be after to', path: ['from'] })
    .transform(toListQuery);

/** GET /notifications/export.csv: the same filters, `limit` rows a page (at most 5,000, the default). */
export const exportQuerySchema = (defaultCountry: CountryCode) =>
  z
    .strictObject({ ...queryFields(defaultCountry), limit: limitOf(EXPORT_MAX_ROWS, EXPORT_MAX_ROWS) })
    .refine(fromBeforeTo, { message: 'must not be after to', path: ['from'] })
    .transform(toListQuery);

/** A status's count stops here: counting reads every item counted (about 10,000 KB read at most per status). */
export const COUNT_CAP = 10_000;

/** GET /notifications/counts: which statuses (every one when absent), created between `from` and `to`. */
export const countQuerySchema = z
  .strictObject({ status: statusList.optional(), from: instant('from').optional(), to: instant('to').optional() })
  .refine(fromBeforeTo, { message: 'must not be after to', path: ['from'] })
  .transform(
    ({ status, from, to }): CountQuery => ({
      statuses: status?.length ? status : [...NOTIFICATION_STATUSES],
      cap: COUNT_CAP,
      ...(from ? { from: new Date(from) } : {}),
      ...(to ? { to: new Date(to) } : {}),
    }),
  );

/** Why an operator acts, kept in the notification's record of operator actions. */
const operatorNote = visibleText(500);

/** A WaChap instance's name, as configured (WACHAP_INSTANCES or the secret's list). */
const instanceName = z
  .string()
  .regex(INSTANCE_NAME, 'must be an instance name such as china')
  .meta({ description: 'The WaChap instance (several instances); default: the default instance.' });

/**
 * POST /provider/circuit: force the provider circuit `open` (with why: shown in the status and the alert email),
 * `close` it (and release the held notifications), or `probe` WaChap now.
 */
export const circuitCommandBody = z.discriminatedUnion(
  'action',
  [
    z.strictObject({
      action: z.literal('open'),
      reason: visibleText(200).optional(),
      instance: instanceName.optional(),
    }),
    z.strictObject({ action: z.literal('close'), instance: instanceName.optional() }),
    z.strictObject({ action: z.literal('probe'), instance: instanceName.optional() }),
  ],
  { error: 'must be one of open, close, probe' },
);

/** GET /provider/circuit: which WaChap instance's circuit (several instances; default: the default instance). */
export const circuitStatusQuery = z.strictObject({ instance: instanceName.optional() });

/** POST /notifications/{id}/cancel and /retry: an optional body `{ "reason": "…" }` (why, for the record). */
export const operatorActionBody = z
  .strictObject({ reason: operatorNote.optional().meta({ description: 'Why, kept with the notification.' }) })
  .meta({ id: 'OperatorAction', description: 'Why the operator acts; the body may be left out.' });

/**
 * POST /notifications/retry: which notifications to re-drive (`status` is required, the rest narrows it), whether
 * only to count them (`dryRun`), how many at most in this call (`limit`, ≤ 500) and where the previous call
 * stopped (`cursor`). `note` says why, for each notification's record (`reason` is the failure-reason filter).
 */
export const redriveMatchingBody = z
  .strictObject({
    status: z.enum(REDRIVABLE_STATUSES, { error: `must be one of ${REDRIVABLE_STATUSES.join(', ')}` }),
    reason: z.enum(FAILURE_REASONS).optional(),
    category: category.optional(),
    from: instant('from').optional(),
    to: instant('to').optional(),
    dryRun: z.boolean().default(false),
    limit: z.int().min(1).max(REDRIVE_MAX_LIMIT).optional(),
    cursor: cursor.optional(),
    note: operatorNote.optional(),
  })
  .refine(fromBeforeTo, { message: 'must not be after to', path: ['from'] })
  .meta({
    id: 'RedriveFilter',
    description:
      'Which notifications to re-drive (status is required, the rest narrows it: reason is the failure reason, ' +
      'from and to bound createdAt), whether only to count them (dryRun), how many at most in this call (limit, ' +
      `at most ${REDRIVE_MAX_LIMIT}) and where the previous call stopped (cursor, its nextCursor). note says why, ` +
      "for each notification's record.",
  });
