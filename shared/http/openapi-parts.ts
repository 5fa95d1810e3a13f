// The OpenAPI document's parts that are not operations: the schemas of what the functions answer (held to the use
// cases' own types), the reusable headers, and the responses (problem documents with an example per code). openapi.ts
// assembles them into operations, one per catalog route.
import * as z from 'zod';
import type { ZodOpenApiResponseObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import { deprecationHeaders } from '../../functions/catalog.js';
import type { NotificationView, RedriveReport } from '../application/operator.js';
import { CHANNELS, FAILURE_REASONS, NOTIFICATION_STATUSES, PRIORITIES } from '../domain/notification.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-handler.js';
import {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  type ProblemCode,
  type ProblemDetails,
  problemDetails,
} from './problems.js';

// ── Schemas of what the functions answer (their handlers build plain objects: the checks below hold them) ──────

export const instant = z.iso.datetime({ offset: true });
export const problemCode = z.enum(Object.keys(PROBLEM_TYPES) as [ProblemCode, ...ProblemCode[]]);
export const fieldProblem = z
  .object({
    path: z.string().meta({ description: 'The field, dotted (recipient.phone), or "" for the whole body.' }),
    message: z.string(),
  })
  .meta({ id: 'FieldProblem' });

export const problemDetailsSchema = z
  .looseObject({
    type: z.url().meta({ description: 'A URI naming the kind of problem (one per code).' }),
    title: z.string().meta({ description: 'Fixed per type.' }),
    status: z
      .int()
      .meta({ description: "The HTTP status; absent only on API Gateway's default responses (gateway_error)." })
      .optional(),
    detail: z.string().meta({ description: 'This occurrence, in words.' }),
    instance: z
      .string()
      .optional()
      .meta({ description: "The request's path as API Gateway saw it (the stage first)." }),
    requestId: z.string().optional().meta({ description: "API Gateway's request id: quote it when reporting." }),
    code: problemCode.meta({ description: 'The machine-readable name, stable: match on it (or on type).' }),
    errors: z.array(fieldProblem).optional().meta({ description: 'A wrong field: each one and why.' }),
    error: problemCode.meta({ deprecated: true, description: 'Deprecated: the code (kept one release).' }),
    message: z.string().meta({ deprecated: true, description: 'Deprecated: the detail (kept one release).' }),
    details: z
      .array(fieldProblem)
      .optional()
      .meta({ deprecated: true, description: 'Deprecated: the errors (kept one release).' }),
  })
  .meta({
    id: 'ProblemDetails',
    description:
      'RFC 9457 problem details: every error, whether a function answers it or API Gateway does. Some types add ' +
      'members (limit on 429 recipient_rate_limited; notificationStatus and inFlight on 409 conflict).',
  });
// The document describes what problemDetails() builds.
const problemsMatch: ProblemDetails extends z.output<typeof problemDetailsSchema> ? true : false = true;
void problemsMatch;

export const conflictProblem = z.intersection(
  problemDetailsSchema,
  z.object({
    notificationStatus: z.enum(NOTIFICATION_STATUSES).meta({ description: "The notification's status now." }),
    inFlight: z.boolean().meta({ description: 'An attempt is under way: try again once it is recorded.' }),
  }),
);
export const rateLimitedProblem = z.intersection(
  problemDetailsSchema,
  z.object({
    limit: z
      .object({
        category: z.string(),
        max: z.int(),
        windowSeconds: z.int(),
        windowEndsAt: instant,
        retryAfterSeconds: z.int(),
      })
      .optional()
      .meta({ description: 'recipient_rate_limited: the limit reached and when its window ends.' }),
  }),
);

export const notificationId = z.string().meta({ description: 'The notification id (a ULID).' });
export const acceptedSchema = z
  .object({
    id: notificationId,
    status: z.enum(NOTIFICATION_STATUSES),
    links: z.object({ self: z.string().meta({ description: 'The same path as Location.' }) }),
  })
  .meta({ id: 'NotificationAccepted', description: 'The notification accepted (202), or the first one again (200).' });

export const notificationView = z
  .object({
    id: notificationId,
    status: z.enum(NOTIFICATION_STATUSES),
    reason: z
      .enum(FAILURE_REASONS)
      .optional()
      .meta({ description: 'Why it is where it is, when the status alone does not say.' }),
    attempts: z.int(),
    maxAttempts: z.int(),
    nextAttemptAt: instant.optional().meta({ description: 'Present while it awaits an attempt.' }),
    createdAt: instant,
    updatedAt: instant,
    sentAt: instant.optional(),
    expiresAt: instant.optional(),
    category: z.string(),
    priority: z.enum(PRIORITIES),
    channel: z
      .enum(CHANNELS)
      .meta({ description: 'The channel in use: whatsapp, or email after a fallback (never both).' }),
    title: z.string(),
    message: z.string(),
    recipient: z.object({
      phone: z.string().meta({ description: 'E.164.' }),
      name: z.string().optional(),
      email: z.string().optional(),
    }),
    lastError: z
      .object({
        type: z.string(),
        message: z.string(),
        httpStatus: z.int().optional(),
        classification: z.enum(['temporary', 'permanent']),
        scope: z.enum(['recipient', 'provider', 'transient']),
        reason: z.enum(FAILURE_REASONS),
        at: instant,
      })
      .optional(),
    history: z
      .array(
        z.object({
          at: instant,
          outcome: z.enum(['sent', 'failed', 'permanent_failure', 'held', 'unknown']),
          channel: z
            .enum(CHANNELS)
            .optional()
            .meta({ description: 'The channel the attempt used (absent: whatsapp).' }),
          errorType: z.string().optional(),
          durationMs: z.number(),
        }),
      )
      .meta({ description: 'The last attempts, oldest first.' }),
    externalMessageId: z.string().optional(),
    instance: z.string().optional().meta({
      description:
        'The WaChap instance (its configured name) that sent it, or that a held notification waits for (several instances).',
    }),
    routedTo: z
      .string()
      .optional()
      .meta({ description: 'Set when a stand-in instance sent it (failover): the instance its number is routed to.' }),
    operatorActions: z
      .array(
        z.object({
          at: instant,
          action: z.enum(['cancel', 'redrive']),
          by: z.string().optional().meta({ description: "The operator's IAM ARN." }),
          reason: z.string().optional(),
          from: z.enum(NOTIFICATION_STATUSES),
        }),
      )
      .optional(),
    inFlight: z.boolean().meta({ description: 'An attempt is under way: cancel or re-drive waits for its outcome.' }),
    callbackUrl: z.string().optional().meta({ description: 'Where its status callbacks go, when asked for.' }),
    callbackExhausted: z
      .array(
        z.object({
          eventId: z.string().meta({ description: 'The webhook-id of the event given up.' }),
          type: z.string(),
          at: instant,
          attempts: z.int(),
          lastError: z.string().meta({ description: 'What the last try met (HTTP 500, timeout…).' }),
        }),
      )
      .optional()
      .meta({ description: 'Callbacks given up after 24 h of retries (the last 10): the receiver never took them.' }),
  })
  .meta({ id: 'Notification', description: 'A notification as operators see it.' });
export const statusCounts = z
  .object({
    counts: z
      .partialRecord(z.enum(NOTIFICATION_STATUSES), z.object({ count: z.int(), capped: z.boolean() }))
      .meta({ description: 'Per status asked for: its count, and whether it stopped at the cap.' }),
    cap: z.int(),
    from: instant.nullable(),
    to: instant.nullable(),
  })
  .meta({ id: 'StatusCounts' });
export const circuitReport = z
  .object({
    action: z.enum(['status', 'open', 'close', 'probe']),
    now: instant,
    circuit: z
      .looseObject({
        status: z.enum(['healthy', 'unavailable']).meta({ description: 'healthy: closed; unavailable: open.' }),
        since: instant,
        reason: z.string().optional(),
        forced: z.boolean().optional().meta({ description: 'Opened by an operator: a probe does not close it.' }),
      })
      .nullable()
      .meta({ description: 'The circuit as stored (null: never opened).' }),
    probed: z.boolean(),
    probeResult: z.string().optional(),
    released: z.int().meta({ description: 'Held notifications made due and queued again by this call.' }),
    releaseFailed: z.int().optional(),
    releaseDone: z.boolean().optional(),
    alert: z.enum(['sent', 'cooldown', 'failed', 'disabled', 'not_configured']).optional(),
  })
  .meta({ id: 'CircuitReport' });
export const redriveReport = z
  .object({
    dryRun: z.boolean(),
    matched: z.int().meta({ description: 'Matches found in this call.' }),
    redriven: z.int(),
    skipped: z.int().meta({ description: 'Matches left alone: stale ones, and those that changed meanwhile.' }),
    stale: z
      .int()
      .optional()
      .meta({ description: 'Of the skipped: an OTP whose validity ran out is never re-driven.' }),
    nextCursor: z.string().nullable().meta({ description: 'More may match: call again with it as cursor.' }),
  })
  .meta({ id: 'RedriveReport' });
export const notificationPage = z
  .object({
    items: z.array(notificationView),
    nextCursor: z.string().nullable().meta({ description: "The next page's cursor; null on the last page." }),
  })
  .meta({ id: 'NotificationPage', description: 'One page, newest created first.' });
// The answers as the operator use cases build them, member for member.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewsMatch: Same<NotificationView, z.output<typeof notificationView>> = true;
const reportsMatch: Same<
  Omit<RedriveReport, 'nextCursor'> & { nextCursor: string | null },
  z.output<typeof redriveReport>
> = true;
void viewsMatch;
void reportsMatch;

// ── Headers ───────────────────────────────────────────────────────────────────────────────────────────────────────

export const headers = {
  location: z.string().meta({
    header: { id: 'Location' },
    description:
      "The notification's path (GET it with operator credentials), relative to the host: it includes what precedes " +
      "the API in the caller's URL (the stage on the execute-api domain).",
    examples: ['/prod/v1/notifications/01KB8Z4N6Q9V7W5X3Y1Z2A4B6C'],
  }),
  replayed: z.literal('true').meta({
    header: { id: 'Idempotency-Replayed' },
    description: 'This answer repeats the first one of the same Idempotency-Key and request: nothing was written.',
  }),
  rateLimitLimit: z
    .int()
    .min(0)
    .optional()
    .meta({ header: { id: 'RateLimit-Limit' }, description: 'Requests the caller may make in the current window.' }),
  rateLimitRemaining: z
    .int()
    .min(0)
    .optional()
    .meta({ header: { id: 'RateLimit-Remaining' }, description: 'Requests left in the current window.' }),
  rateLimitReset: z
    .int()
    .min(0)
    .optional()
    .meta({ header: { id: 'RateLimit-Reset' }, description: 'Seconds until the current window ends.' }),
  retryAfter: z
    .int()
    .min(0)
    .optional()
    .meta({
      header: { id: 'Retry-After' },
      description: 'Seconds to wait before trying again (none on quota_exceeded: the quota resets at midnight UTC).',
      examples: [30],
    }),
  deprecation: z.string().meta({
    header: { id: 'Deprecation' },
    description: 'RFC 9745: since when this path is deprecated (@ and Unix seconds).',
    examples: [deprecationHeaders('POST', '/notifications').deprecation],
  }),
  link: z.string().meta({
    header: { id: 'Link' },
    description: 'RFC 8288: the successor-version of this deprecated path.',
    examples: [deprecationHeaders('POST', '/notifications').link],
  }),
};
export const rateLimitHeaders = {
  'RateLimit-Limit': headers.rateLimitLimit,
  'RateLimit-Remaining': headers.rateLimitRemaining,
  'RateLimit-Reset': headers.rateLimitReset,
};

// ── Responses ─────────────────────────────────────────────────────────────────────────────────────────────────────

export const EXAMPLE_ID = '01KB8Z4N6Q9V7W5X3Y1Z2A4B6C';
export const EXAMPLE_WHERE = { instance: '/prod/v1/notifications', requestId: 'c0ffee00-1234-4cde-8f00-0123456789ab' };

/** An error answer: a problem document, one example per code the status can carry (built as the functions build it). */
export function problem(
  description: string,
  examples: ReadonlyArray<[ProblemCode, string, Record<string, unknown>?]>,
  options: { schema?: z.ZodType; headers?: z.ZodObject; status: number },
): ZodOpenApiResponseObject {
  return {
    description,
    ...(options.headers ? { headers: options.headers } : {}),
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: options.schema ?? problemDetailsSchema,
        ...(examples.length > 0
          ? {
              examples: Object.fromEntries(
                examples.map(([code, detail, extensions]) => [
                  code,
                  { value: problemDetails(code, options.status, detail, EXAMPLE_WHERE, extensions) },
                ]),
              ),
            }
          : {}),
      },
    },
  };
}

export const internalError = problem(
  'Internal error: nothing about it is told. Try again; quote requestId when reporting it.',
  [['internal_error', 'The request could not be completed; try again.']],
  { status: 500 },
);
export const upstreamForbidden = problem(
  'Missing or wrong x-api-key (API Gateway): the function never runs.',
  [['invalid_api_key', 'Forbidden']],
  { status: 403 },
);
export const operatorForbidden = problem(
  'API Gateway refused the signature: unsigned (or an unknown route), wrong, expired, or a signer without ' +
    'execute-api:Invoke on this method. The function never runs.',
  [
    ['missing_authentication_token', 'Missing Authentication Token'],
    ['invalid_signature', 'The request signature we calculated does not match the signature you provided.'],
    ['access_denied', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: execute-api:Invoke'],
    ['expired_token', 'The security token included in the request is expired'],
  ],
  { status: 403 },
);
export const badParameter = (what: string, [path, message]: [string, string]) =>
  problem(
    `${what} is wrong: each one named in errors.`,
    [['validation_error', `${path}: ${message}`, { errors: [{ path, message }] }]],
    {
      status: 400,
    },
  );
export const notFound = problem(
  'No notification has this id.',
  [['not_found', `Notification ${EXAMPLE_ID} does not exist`]],
  {
    status: 404,
  },
);

export const accepted = (extraHeaders: Record<string, z.ZodType> = {}): ZodOpenApiResponsesObject => ({
  '202': {
    description: 'Accepted: stored and queued. Location and links.self name it.',
    headers: z.object({ Location: headers.location, ...rateLimitHeaders, ...extraHeaders }),
    content: {
      'application/json': {
        schema: acceptedSchema,
        example: { id: EXAMPLE_ID, status: 'pending', links: { self: `/prod/v1/notifications/${EXAMPLE_ID}` } },
      },
    },
  },
  '200': {
    description:
      "An idempotent repeat: the same Idempotency-Key with the same request (key order, spacing and the phone's " +
      'writing aside). The first notification again, in the same shape as the 202; nothing is written.',
    headers: z.object({
      Location: headers.location,
      'Idempotency-Replayed': headers.replayed,
      ...rateLimitHeaders,
      ...extraHeaders,
    }),
    content: {
      'application/json': {
        schema: acceptedSchema,
        example: { id: EXAMPLE_ID, status: 'sent', links: { self: `/prod/v1/notifications/${EXAMPLE_ID}` } },
      },
    },
  },
});

export const ingestErrors: ZodOpenApiResponsesObject = {
  '400': problem(
    "The body is wrong: a field (each one in errors), not JSON, not UTF-8, or not a JSON object (API Gateway's " +
      'request model, bad_request_body).',
    [
      [
        'validation_error',
        'category: must be a lowercase slug such as colis_arrive, lot_ferme or otp',
        { errors: [{ path: 'category', message: 'must be a lowercase slug such as colis_arrive, lot_ferme or otp' }] },
      ],
      ['malformed_json', 'the body is not valid JSON'],
      ['invalid_encoding', 'the body must be UTF-8: it contains bytes that are not valid UTF-8'],
      ['bad_request_body', 'Invalid request body'],
    ],
    { status: 400 },
  ),
  '403': upstreamForbidden,
  '409': problem(
    'A request with the same Idempotency-Key is still being processed: try again after Retry-After seconds.',
    [
      [
        'idempotent_request_in_flight',
        'a request with this idempotency key is still being processed; retry in 9 s',
        { retryAfterSeconds: 9 },
      ],
    ],
    { status: 409, headers: z.object({ 'Retry-After': headers.retryAfter }) },
  ),
  '413': problem(
    `The body is over ${DEFAULT_MAX_BODY_BYTES} bytes (or over API Gateway's 10 MB: request_too_large).`,
    [
      ['payload_too_large', `the body must not exceed ${DEFAULT_MAX_BODY_BYTES} bytes`],
      ['request_too_large', 'Request Too Long'],
    ],
    { status: 413 },
  ),
  '415': problem(
    'The content type is not JSON (application/json or application/…+json), or its charset is not UTF-8.',
    [['unsupported_media_type', 'Content-Type must be application/json']],
    { status: 415 },
  ),
  '422': problem(
    'The Idempotency-Key was first used with another request: nothing is written. errors names where the key came ' +
      'from (idempotencyKey or headers.Idempotency-Key).',
    [
      [
        'idempotency_key_reused',
        'idempotencyKey: was first used with another request',
        { errors: [{ path: 'idempotencyKey', message: 'was first used with another request' }] },
      ],
    ],
    { status: 422 },
  ),
  '429': problem(
    "Too many: to this recipient (recipient_rate_limited, with limit; nothing is written), or the key's rate " +
      '(throttled) or daily quota (quota_exceeded, until midnight UTC) at API Gateway.',
    [
      [
        'recipient_rate_limited',
        'recipient.phone: at most 5 otp notifications per 10 minutes to one number; retry after 412 s',
        {
          errors: [
            {
              path: 'recipient.phone',
              message:
                '*******3456 has reached the limit (at most 5 otp notifications per 10 minutes); retry after 412 s',
            },
          ],
          limit: {
            category: 'otp',
            max: 5,
            windowSeconds: 600,
            windowEndsAt: '2030-01-01T14:10:00.000Z',
            retryAfterSeconds: 412,
          },
        },
      ],
      ['throttled', 'Too Many Requests'],
      ['quota_exceeded', 'Limit Exceeded'],
    ],
    {
      status: 429,
      schema: rateLimitedProblem,
      headers: z.object({ 'Retry-After': headers.retryAfter, ...rateLimitHeaders }),
    },
  ),
  '500': internalError,
};
