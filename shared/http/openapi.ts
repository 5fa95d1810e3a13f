// The upstream contract as an OpenAPI 3.1 document, built from the zod schemas the handlers parse with (one source
// of truth): every route of the catalog (a route added there without an operation here fails the typecheck), the
// bodies, parameters and headers, every error as a problem document, and the status callbacks as webhooks.
// `npm run openapi` writes it to openapi.json (and the reference page); GET /v1/openapi.json answers that file.
import { z } from 'zod';
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import {
  type ApiAuth,
  apiRoutes,
  deprecationHeaders,
  type FunctionName,
  type RouteKeyOf,
  UNVERSIONED_DEPRECATED_AT,
} from '../../functions/catalog.js';
import { idempotencyKey } from '../application/ingest.js';
import type { NotificationView, RedriveReport } from '../application/operator.js';
import { EXPORT_COLUMNS } from '../application/operator-export.js';
import { CHANNELS, FAILURE_REASONS, NOTIFICATION_STATUSES, PRIORITIES } from '../domain/notification.js';
import { DEFAULT_COUNTRY } from '../domain/phone.js';
import { CALLBACK_EVENT_TYPES, type CallbackEvent, callbackEventSchema } from './callback-events.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-handler.js';
import { type NotificationRequestBody, notificationRequestSchema } from './notification-request.js';
import {
  COUNT_CAP,
  circuitCommandBody,
  circuitStatusQuery,
  countQuerySchema,
  EXPORT_MAX_ROWS,
  exportQuerySchema,
  listQuerySchema,
  notificationIdPath,
  operatorActionBody,
  redriveMatchingBody,
} from './operator-requests.js';
import {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  type ProblemCode,
  type ProblemDetails,
  problemDetails,
} from './problems.js';

export const OPENAPI_VERSION = '3.1.0';
/** The contract's own version: a breaking change is a new /vN, an addition a minor version. */
export const CONTRACT_VERSION = '1.0.0';
const README_CONTRACT = 'README.md, section "The HTTP API"';

// ── Schemas of what the functions answer (their handlers build plain objects: the checks below hold them) ──────

const instant = z.iso.datetime({ offset: true });
const problemCode = z.enum(Object.keys(PROBLEM_TYPES) as [ProblemCode, ...ProblemCode[]]);
const fieldProblem = z
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

const conflictProblem = z.intersection(
  problemDetailsSchema,
  z.object({
    notificationStatus: z.enum(NOTIFICATION_STATUSES).meta({ description: "The notification's status now." }),
    inFlight: z.boolean().meta({ description: 'An attempt is under way: try again once it is recorded.' }),
  }),
);
const rateLimitedProblem = z.intersection(
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

const notificationId = z.string().meta({ description: 'The notification id (a ULID).' });
const acceptedSchema = z
  .object({
    id: notificationId,
    status: z.enum(NOTIFICATION_STATUSES),
    links: z.object({ self: z.string().meta({ description: 'The same path as Location.' }) }),
  })
  .meta({ id: 'NotificationAccepted', description: 'The notification accepted (202), or the first one again (200).' });

const notificationView = z
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
const statusCounts = z
  .object({
    counts: z
      .partialRecord(z.enum(NOTIFICATION_STATUSES), z.object({ count: z.int(), capped: z.boolean() }))
      .meta({ description: 'Per status asked for: its count, and whether it stopped at the cap.' }),
    cap: z.int(),
    from: instant.nullable(),
    to: instant.nullable(),
  })
  .meta({ id: 'StatusCounts' });
const circuitReport = z
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
const redriveReport = z
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
const notificationPage = z
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

const headers = {
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
const rateLimitHeaders = {
  'RateLimit-Limit': headers.rateLimitLimit,
  'RateLimit-Remaining': headers.rateLimitRemaining,
  'RateLimit-Reset': headers.rateLimitReset,
};

// ── Responses ─────────────────────────────────────────────────────────────────────────────────────────────────────

const EXAMPLE_ID = '01KB8Z4N6Q9V7W5X3Y1Z2A4B6C';
const EXAMPLE_WHERE = { instance: '/prod/v1/notifications', requestId: 'c0ffee00-1234-4cde-8f00-0123456789ab' };

/** An error answer: a problem document, one example per code the status can carry (built as the functions build it). */
function problem(
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

const internalError = problem(
  'Internal error: nothing about it is told. Try again; quote requestId when reporting it.',
  [['internal_error', 'The request could not be completed; try again.']],
  { status: 500 },
);
const upstreamForbidden = problem(
  'Missing or wrong x-api-key (API Gateway): the function never runs.',
  [['invalid_api_key', 'Forbidden']],
  { status: 403 },
);
const operatorForbidden = problem(
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
const badParameter = (what: string, [path, message]: [string, string]) =>
  problem(
    `${what} is wrong: each one named in errors.`,
    [['validation_error', `${path}: ${message}`, { errors: [{ path, message }] }]],
    {
      status: 400,
    },
  );
const notFound = problem('No notification has this id.', [['not_found', `Notification ${EXAMPLE_ID} does not exist`]], {
  status: 404,
});

const accepted = (extraHeaders: Record<string, z.ZodType> = {}): ZodOpenApiResponsesObject => ({
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

const ingestErrors: ZodOpenApiResponsesObject = {
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

// ── Requests ──────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Requests the live API accepts as they are (the e2e test posts each one): an arrival notice, an OTP on the priority
 * lane, one with its status callbacks.
 */
export const NOTIFICATION_REQUEST_EXAMPLES: Readonly<
  Record<string, { summary: string; value: NotificationRequestBody }>
> = {
  arrivalNotice: {
    summary: 'A parcel arrival notice, with an idempotency key',
    value: {
      recipient: { phone: '+22370123456', name: 'Mamadou Traoré' },
      category: 'colis_arrive',
      title: 'Colis arrivé',
      message: 'Votre colis LOT-42 est arrivé à Bamako.',
      idempotencyKey: 'lot-42-arrive-cust-7',
    },
  },
  otp: {
    summary: 'A one-time code: high priority, valid 10 minutes',
    value: {
      recipient: { phone: '+22376543210' },
      category: 'otp',
      message: 'Votre code de connexion est 482913. Il expire dans 10 minutes.',
      priority: 'high',
      ttlSeconds: 600,
    },
  },
  withCallback: {
    summary: 'A lot closed, its status changes POSTed back to the caller',
    value: {
      recipient: { phone: '+22365123456', name: 'Awa Diarra' },
      category: 'lot_ferme',
      title: 'Lot fermé',
      message: 'Le lot LOT-42 est fermé : il part demain pour Bamako.',
      callbackUrl: 'https://tms.example.com/hooks/wachap',
    },
  },
};

const idempotencyKeyHeader = idempotencyKey.optional().meta({
  param: { id: 'Idempotency-Key' },
  description:
    'Makes the request safe to repeat: the same key with the same request answers 200 with the first notification; ' +
    "with another request 422. The same as the body's idempotencyKey (give either, or both equal). Kept 48 h.",
  examples: ['lot-42-arrive-cust-7'],
});

// ── Operations, one per catalog route ─────────────────────────────────────────────────────────────────────────────

type RouteKey = { [N in FunctionName]: RouteKeyOf<N> }[FunctionName];

const operatorTags = ['Operators'];
const SECURITY: Record<ApiAuth, oas31.SecurityRequirementObject[]> = {
  apiKey: [{ apiKey: [] }],
  iam: [{ sigv4: [] }],
  none: [],
};

const OPERATIONS: Record<RouteKey, Omit<ZodOpenApiOperationObject, 'security'>> = {
  'POST /v1/notifications': {
    operationId: 'createNotification',
    tags: ['Notifications'],
    summary: 'Send a WhatsApp notification',
    description:
      'Accepts a notification, stores it and queues it: 202 with its Location. The sender delivers it through ' +
      'WaChap, retrying temporary failures; its status changes reach callbackUrl, if given (the webhooks).',
    requestParams: { header: z.object({ 'Idempotency-Key': idempotencyKeyHeader }) },
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: notificationRequestSchema,
          examples: NOTIFICATION_REQUEST_EXAMPLES,
        },
      },
    },
    responses: { ...accepted(), ...ingestErrors },
  },
  'GET /v1/notifications/{id}': {
    operationId: 'getNotification',
    tags: operatorTags,
    summary: 'Read one notification',
    requestParams: { path: notificationIdPath },
    responses: {
      '200': { description: 'The notification.', content: { 'application/json': { schema: notificationView } } },
      '400': badParameter('The id', ['id', 'must be a notification id: 26 letters and digits, e.g. 01KB8Z4N6Q…']),
      '403': operatorForbidden,
      '404': notFound,
      '500': internalError,
    },
  },
  'GET /v1/notifications': {
    operationId: 'listNotifications',
    tags: operatorTags,
    summary: 'List notifications by status, newest first',
    requestParams: { query: listQuerySchema(DEFAULT_COUNTRY) },
    responses: {
      '200': { description: 'One page.', content: { 'application/json': { schema: notificationPage } } },
      '400': badParameter('A query parameter', ['from', 'must not be after to']),
      '403': operatorForbidden,
      '500': internalError,
    },
  },
  'GET /v1/notifications/export.csv': {
    operationId: 'exportNotifications',
    tags: operatorTags,
    summary: 'Export notifications as CSV, a page at a time',
    description:
      `At most limit rows a page (${EXPORT_MAX_ROWS} by default), fewer when a page reaches its size or read budget; ` +
      'the header row only on the first page (no cursor). Link and X-Next-Cursor name the next page.',
    requestParams: { query: exportQuerySchema(DEFAULT_COUNTRY) },
    responses: {
      '200': {
        description: 'One page of the export (RFC 4180: CRLF, UTF-8 without BOM).',
        headers: z.object({
          'Content-Disposition': z.string().meta({ examples: ['attachment; filename="notifications.csv"'] }),
          Link: z
            .string()
            .optional()
            .meta({ description: 'The next page, relative: <export.csv?…&cursor=…>; rel="next".' }),
          'X-Next-Cursor': z.string().optional().meta({ description: "The next page's cursor; absent on the last." }),
        }),
        content: {
          'text/csv': {
            schema: z.string().meta({ description: `Columns: ${EXPORT_COLUMNS.join(', ')}.` }),
            example: `${EXPORT_COLUMNS.join(',')}\r\n`,
          },
        },
      },
      '400': badParameter('A query parameter', ['limit', `must be from 1 to ${EXPORT_MAX_ROWS}`]),
      '403': operatorForbidden,
      '500': internalError,
    },
  },
  'GET /v1/notifications/counts': {
    operationId: 'countNotifications',
    tags: operatorTags,
    summary: 'Count notifications by status (the operations page)',
    description: `Each status counted through the status index, up to ${COUNT_CAP} (then capped: true).`,
    requestParams: { query: countQuerySchema },
    responses: {
      '200': {
        description: 'The counts, each status asked for.',
        content: { 'application/json': { schema: statusCounts } },
      },
      '400': badParameter('A query parameter', ['from', 'must not be after to']),
      '403': operatorForbidden,
      '500': internalError,
    },
  },
  'GET /v1/provider/circuit': {
    operationId: 'getProviderCircuit',
    tags: operatorTags,
    summary: "The provider circuit's state (open: sends are held, none is lost)",
    requestParams: { query: circuitStatusQuery },
    responses: {
      '200': { description: 'The circuit.', content: { 'application/json': { schema: circuitReport } } },
      '400': badParameter('The instance', ['instance', 'no WaChap instance is named "chine"']),
      '403': operatorForbidden,
      '500': internalError,
    },
  },
  'POST /v1/provider/circuit': {
    operationId: 'commandProviderCircuit',
    tags: operatorTags,
    summary: 'Force the provider circuit open, close it (and release the held notifications), or probe WaChap now',
    requestBody: { required: true, content: { 'application/json': { schema: circuitCommandBody } } },
    responses: {
      '200': { description: 'What the command did.', content: { 'application/json': { schema: circuitReport } } },
      '400': badParameter('The body', ['instance', 'no WaChap instance is named "chine"']),
      '403': operatorForbidden,
      '500': internalError,
    },
  },
  'POST /v1/notifications/{id}/cancel': {
    operationId: 'cancelNotification',
    tags: operatorTags,
    summary: 'Cancel a pending or failed notification',
    requestParams: { path: notificationIdPath },
    requestBody: { required: false, content: { 'application/json': { schema: operatorActionBody } } },
    responses: {
      '200': {
        description: 'The notification, cancelled (reason cancelled_by_operator).',
        content: { 'application/json': { schema: notificationView } },
      },
      '400': badParameter('The id or the body', ['reason', 'must contain at least one visible character']),
      '403': operatorForbidden,
      '404': notFound,
      '409': problem(
        'It is final (sent, cancelled…), or an attempt is in flight: notificationStatus and inFlight say which.',
        [
          [
            'conflict',
            'cannot cancel a sent notification: it is final',
            { notificationStatus: 'sent', inFlight: false },
          ],
        ],
        { status: 409, schema: conflictProblem },
      ),
      '500': internalError,
    },
  },
  'POST /v1/notifications/{id}/retry': {
    operationId: 'redriveNotification',
    tags: operatorTags,
    summary: 'Re-drive one notification now',
    description:
      'A failed or pending one becomes due and keeps its attempt budget; a permanent_failure or expired one gets a ' +
      'fresh budget. Its validity is never renewed. Queued on its lane at once.',
    requestParams: { path: notificationIdPath },
    requestBody: { required: false, content: { 'application/json': { schema: operatorActionBody } } },
    responses: {
      '200': {
        description: 'The notification, re-driven.',
        content: { 'application/json': { schema: notificationView } },
      },
      '400': badParameter('The id or the body', ['reason', 'must contain at least one visible character']),
      '403': operatorForbidden,
      '404': notFound,
      '409': problem(
        'Sent or cancelled, an attempt in flight, or stale (an OTP whose validity ran out: the upstream must send a ' +
          'new one).',
        [
          [
            'conflict',
            'cannot re-drive a sent notification: it is final',
            { notificationStatus: 'sent', inFlight: false },
          ],
        ],
        { status: 409, schema: conflictProblem },
      ),
      '500': internalError,
    },
  },
  'POST /v1/notifications/retry': {
    operationId: 'redriveMatching',
    tags: operatorTags,
    summary: 'Re-drive every notification matching a filter',
    description: 'Or only count them (dryRun). Bounded work per call: call again with nextCursor.',
    requestBody: { required: true, content: { 'application/json': { schema: redriveMatchingBody } } },
    responses: {
      '200': { description: 'What this call did.', content: { 'application/json': { schema: redriveReport } } },
      '400': badParameter('The body', ['status', 'must be one of failed, permanent_failure, expired']),
      '403': operatorForbidden,
      '500': internalError,
    },
  },
  'GET /v1/openapi.json': {
    operationId: 'getOpenApiDocument',
    tags: ['Contract'],
    summary: 'This document',
    description: 'The contract, without credentials.',
    responses: {
      '200': {
        description: 'The OpenAPI document.',
        content: { 'application/json': { schema: { type: 'object', description: 'An OpenAPI 3.1 document.' } } },
      },
    },
  },
};

/** The deprecated unversioned alias of an operation: the same, answering Deprecation and Link on success. */
function deprecatedAlias(
  operation: Omit<ZodOpenApiOperationObject, 'security'>,
  successor: string,
): Omit<ZodOpenApiOperationObject, 'security'> {
  const since = UNVERSIONED_DEPRECATED_AT.toISOString().slice(0, 10);
  return {
    ...operation,
    operationId: `${operation.operationId}Unversioned`,
    deprecated: true,
    summary: `${operation.summary} (deprecated path: use ${successor})`,
    description: `Deprecated since ${since}: the same as ${successor}, for the callers from before /v1.`,
    ...(operation === OPERATIONS['POST /v1/notifications']
      ? { responses: { ...accepted({ Deprecation: headers.deprecation, Link: headers.link }), ...ingestErrors } }
      : {}),
  };
}

function paths(): ZodOpenApiPathsObject {
  const result: ZodOpenApiPathsObject = {};
  for (const route of apiRoutes()) {
    const key = `${route.method} ${route.successor ?? route.resource}` as RouteKey;
    const operation = route.successor ? deprecatedAlias(OPERATIONS[key], route.successor) : OPERATIONS[key];
    const method = route.method.toLowerCase() as 'get' | 'post';
    result[route.resource] = { ...result[route.resource], [method]: { ...operation, security: SECURITY[route.auth] } };
  }
  return result;
}

// ── Webhooks ──────────────────────────────────────────────────────────────────────────────────────────────────────

const webhookHeaders = z.object({
  'webhook-id': z.string().meta({
    param: { id: 'webhook-id' },
    description: "The event's id, the same on every retry of it: dedupe on it.",
    examples: ['msg_01KB8Z4N6Q9V7W5X3Y1Z2A4B6C'],
  }),
  'webhook-timestamp': z.string().meta({
    param: { id: 'webhook-timestamp' },
    description: 'When this attempt was signed, in Unix seconds: refuse one too far from your clock (replays).',
    examples: ['1795996800'],
  }),
  'webhook-signature': z.string().meta({
    param: { id: 'webhook-signature' },
    description:
      'v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"> with your secret (Standard Webhooks, ' +
      'https://www.standardwebhooks.com; space-separated when there are several while a secret rotates).',
    examples: ['v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='],
  }),
});

const EVENT_EXAMPLES: Record<keyof typeof CALLBACK_EVENT_TYPES, Omit<CallbackEvent['data'], 'id' | 'category'>> = {
  sent: { status: 'sent', attempts: 1, sentAt: '2026-11-24T18:00:03.000Z' },
  failed: {
    status: 'failed',
    attempts: 1,
    nextAttemptAt: '2026-11-24T18:01:03.000Z',
    error: {
      type: 'ProviderUnavailable',
      message: 'WaChap answered 503',
      classification: 'temporary',
      scope: 'transient',
      reason: 'temporary_error',
    },
  },
  permanent_failure: {
    status: 'permanent_failure',
    attempts: 1,
    error: {
      type: 'InvalidRecipient',
      message: 'the number is not on WhatsApp',
      classification: 'permanent',
      scope: 'recipient',
      reason: 'permanent_error',
    },
  },
  expired: { status: 'expired', attempts: 3 },
  cancelled: { status: 'cancelled', attempts: 1 },
};

function webhooks(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    (Object.entries(CALLBACK_EVENT_TYPES) as [keyof typeof CALLBACK_EVENT_TYPES, string][]).map(([status, type]) => {
      const example: CallbackEvent = {
        type: type as CallbackEvent['type'],
        timestamp: '2026-11-24T18:00:03.000Z',
        data: {
          id: EXAMPLE_ID,
          category: 'colis_arrive',
          idempotencyKey: 'lot-42-arrive-cust-7',
          ...EVENT_EXAMPLES[status],
        },
      };
      return [
        type,
        {
          post: {
            operationId: `on${status.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
            tags: ['Status callbacks'],
            summary: `The notification became ${status.replace('_', ' ')}`,
            description:
              "POSTed to the notification's callbackUrl, signed with the caller's secret (HMAC-SHA256, Standard " +
              'Webhooks: https://www.standardwebhooks.com; verify it with any of their libraries). Answer 2xx: ' +
              'anything else, or no answer, is retried with backoff for up to 24 h, so the same event can arrive ' +
              'more than once (dedupe on webhook-id) and out of order (read timestamp).',
            requestParams: { header: webhookHeaders },
            requestBody: { required: true, content: { 'application/json': { schema: callbackEventSchema, example } } },
            responses: {
              '2XX': { description: 'Received: not sent again.' },
              default: { description: 'Not received: retried with backoff for up to 24 h.' },
            },
          },
        },
      ];
    }),
  );
}

// ── The document ──────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The whole contract. Date-times are shown as `format: date-time` without zod's long regular expression, which says
 * the same thing unreadably, and integers without the safe-integer bounds zod states for every one (documentation
 * only: the functions check with zod).
 */
export function buildOpenApiDocument(): ReturnType<typeof createDocument> {
  return createDocument(
    {
      openapi: OPENAPI_VERSION,
      info: {
        title: 'WhatsApp notifications API',
        version: CONTRACT_VERSION,
        description:
          'Send WhatsApp notifications that are never lost: accepted (202), stored, queued, sent through WaChap, ' +
          'retried on temporary failures, their status changes POSTed back (webhooks). The upstream system calls ' +
          'with its API key; operators sign with their AWS credentials. Every error is a problem document ' +
          `(RFC 9457). The contract in words: ${README_CONTRACT}.`,
      },
      servers: [
        {
          url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
          description: 'A deployed stage (the stack output ApiUrl)',
          variables: {
            apiId: { default: 'abc123defg', description: 'The REST API id' },
            region: { default: 'eu-west-1', description: 'The AWS region of the stack' },
            stage: { default: 'prod', description: 'The stage name' },
          },
        },
        { url: 'http://localhost:3000', description: 'The local stack (npm start)' },
      ],
      tags: [
        { name: 'Notifications', description: 'The upstream system (x-api-key).' },
        { name: 'Operators', description: 'Reads and actions, signed with AWS credentials (SigV4).' },
        { name: 'Contract', description: 'This document.' },
        { name: 'Status callbacks', description: "What the API POSTs to a notification's callbackUrl." },
      ],
      paths: paths(),
      webhooks: webhooks(),
      components: {
        securitySchemes: {
          apiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: "The upstream system's API key (API Gateway usage plan: a rate and a daily quota).",
          },
          sigv4: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              "AWS Signature Version 4 with the caller's IAM credentials, service execute-api, the stack's region " +
              "(API Gateway IAM authorization): the signer needs execute-api:Invoke on the method (the stack's " +
              'NotificationOperatorPolicy). e.g. curl --aws-sigv4 "aws:amz:<region>:execute-api".',
            'x-amazon-apigateway-authtype': 'awsSigv4',
          },
        },
      },
    },
    {
      override: ({ jsonSchema }) => {
        if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
        if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
        if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      },
    },
  );
}
