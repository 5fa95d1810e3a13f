// The upstream contract as an OpenAPI 3.1 document, built from the zod schemas the handlers parse with (one source
// of truth): every route of the catalog (a route added there without an operation here fails the typecheck), the
// bodies, parameters and headers, every error as a problem document, and the status callbacks as webhooks.
// `npm run openapi` writes it to openapi.json (and the reference page); GET /v1/openapi.json answers that file.
import * as z from 'zod';
import { createDocument, type oas31, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import {
  type ApiAuth,
  apiRoutes,
  type FunctionName,
  type RouteKeyOf,
  UNVERSIONED_DEPRECATED_AT,
} from '../../functions/catalog.js';
import { idempotencyKey } from '../application/ingest.js';
import { EXPORT_COLUMNS } from '../application/operator-export.js';
import { DEFAULT_COUNTRY } from '../domain/phone.js';
import { CALLBACK_EVENT_TYPES, type CallbackEvent, callbackEventSchema } from './callback-events.js';
import { type NotificationRequestBody, notificationRequestSchema } from './notification-request.js';
import {
  accepted,
  badParameter,
  circuitReport,
  conflictProblem,
  EXAMPLE_ID,
  headers,
  ingestErrors,
  internalError,
  notFound,
  notificationPage,
  notificationView,
  operatorForbidden,
  problem,
  redriveReport,
  statusCounts,
} from './openapi-parts.js';
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

export const OPENAPI_VERSION = '3.1.0';
/** The contract's own version: a breaking change is a new /vN, an addition a minor version. */
export const CONTRACT_VERSION = '1.0.0';
const README_CONTRACT = 'README.md, section "The HTTP API"';

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
