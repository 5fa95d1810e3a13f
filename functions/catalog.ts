// The one list of functions: what each does, how long it may run, what triggers it, and the environment it
// reads (its zod schema). The handlers parse their environment with it, the CDK stack builds the functions,
// rules and routes from it (and types each function's environment from its schema, so a renamed variable
// fails the typecheck), the local stack loads and triggers them from it, and the tests list them from it.
import * as z from 'zod';
import { CALLBACK_DISPATCHER_TIMEOUT_SECONDS, SENDER_TIMEOUT_SECONDS } from '../shared/adapters/sqs/queue-settings.js';
import {
  alertEnv,
  callbackDispatcherEnv,
  callbackEmitEnv,
  callbackUrlsEnv,
  coreEnv,
  emailChannelEnv,
  probeEnv,
  queueEnv,
  recipientLimitsEnv,
  senderEnv,
  sweepEnv,
  wachapEnv,
  wachapFields,
} from '../shared/config.js';
import {
  HEALTH_CHECK_SCHEDULE,
  PROVIDER_PROBE_PERIOD_SECONDS,
  PROVIDER_PROBE_SCHEDULE,
  RETRY_SWEEP_SCHEDULE,
} from '../shared/schedules.js';

/**
 * Who may call an API route: the upstream systems with their API key (x-api-key, usage plan), operators with
 * AWS IAM credentials (a SigV4 signature, checked by API Gateway against the caller's execute-api:Invoke grants), or
 * anyone (`none`: the public contract, nothing behind it).
 */
export type ApiAuth = 'apiKey' | 'iam' | 'none';

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** The path under the API's version (API_VERSION_PATH): `/notifications` is served at `/v1/notifications`. */
  resource: string;
  auth: ApiAuth;
  /**
   * Also served at the unversioned path, for the callers from before /v1, answering with a Deprecation header and a
   * Link to its /v1 successor (deprecationHeaders).
   */
  unversionedAlias?: true;
}

/**
 * The provider probe's time: a tick watches an open circuit for its schedule's period (its last check 50 s in), and
 * a check that closes the circuit releases until RELEASE_STOP_MARGIN_MS (10 s) before this timeout, so that the
 * release stops as the next tick begins (the next tick resumes it).
 */
export const PROVIDER_PROBE_TIMEOUT_SECONDS = PROVIDER_PROBE_PERIOD_SECONDS + 10;

/** Where the API's routes live: one version, one prefix. */
export const API_VERSION_PATH = '/v1';
/** When the unversioned paths were deprecated: RFC 9745's `Deprecation: @<unix seconds>`. */
export const UNVERSIONED_DEPRECATED_AT = new Date('2026-11-30T00:00:00Z');

export type Trigger =
  /** API Gateway routes (REST API), each with who may call it. */
  | { kind: 'api'; routes: readonly ApiRoute[] }
  /**
   * An SQS queue's event source (batches, partial failures): the send queues (both lanes) or the callback queue.
   */
  | { kind: 'queue'; queue: 'send' | 'callback' }
  /**
   * An EventBridge rule; `retryAttempts` when a delivery fails. Operators invoke these functions too, and reach them
   * through `routes` when the function also serves API routes (the provider circuit for the operations page).
   */
  | { kind: 'schedule'; expression: string; description: string; retryAttempts: number; routes?: readonly ApiRoute[] };

export interface FunctionSpec {
  description: string;
  timeoutSeconds: number;
  trigger: Trigger;
  environment: z.ZodType<Record<string, unknown>, Record<string, unknown>>;
}

// Every bundle holds the whole catalog: an environment that combines schemas is a getter, built when its own function
// reads it rather than eight others' at every cold start (zod builds a schema at a cost: about 4 ms of CPU for them all).
export const FUNCTIONS = {
  ingest: {
    description: 'Accepts a notification and enqueues it',
    timeoutSeconds: 10,
    trigger: {
      kind: 'api',
      routes: [{ method: 'POST', resource: '/notifications', auth: 'apiKey', unversionedAlias: true }],
    },
    get environment() {
      return coreEnv.extend({ ...queueEnv.shape, ...recipientLimitsEnv.shape, ...callbackUrlsEnv.shape });
    },
  },
  'operator-read': {
    description: "Operators' reads: one notification, a list by status, counts by status, a CSV export",
    timeoutSeconds: 29,
    trigger: {
      kind: 'api',
      routes: [
        { method: 'GET', resource: '/notifications', auth: 'iam' },
        { method: 'GET', resource: '/notifications/counts', auth: 'iam' },
        { method: 'GET', resource: '/notifications/{id}', auth: 'iam' },
        { method: 'GET', resource: '/notifications/export.csv', auth: 'iam' },
      ],
    },
    environment: coreEnv,
  },
  'operator-actions': {
    description: "Operators' actions: cancel, re-drive one notification, re-drive every match of a filter",
    timeoutSeconds: 29,
    trigger: {
      kind: 'api',
      routes: [
        { method: 'POST', resource: '/notifications/{id}/cancel', auth: 'iam' },
        { method: 'POST', resource: '/notifications/{id}/retry', auth: 'iam' },
        { method: 'POST', resource: '/notifications/retry', auth: 'iam' },
      ],
    },
    get environment() {
      return coreEnv.extend({ ...queueEnv.shape, ...callbackEmitEnv.shape });
    },
  },
  'api-docs': {
    description: 'Serves the API contract (OpenAPI document)',
    timeoutSeconds: 10,
    trigger: { kind: 'api', routes: [{ method: 'GET', resource: '/openapi.json', auth: 'none' }] },
    // A document built into the bundle: no table, no queue, no setting.
    get environment() {
      return z.object({});
    },
  },
  sender: {
    description: 'Sends queued notifications through WaChap (email through SES as the fallback)',
    timeoutSeconds: SENDER_TIMEOUT_SECONDS,
    trigger: { kind: 'queue', queue: 'send' },
    get environment() {
      return senderEnv.and(wachapEnv).and(callbackEmitEnv).and(emailChannelEnv);
    },
  },
  'retry-sweep': {
    description: 'Enqueues notifications whose next attempt is due',
    timeoutSeconds: 300,
    trigger: {
      kind: 'schedule',
      expression: RETRY_SWEEP_SCHEDULE,
      description: 'Sends what is due, including records whose enqueue was lost',
      retryAttempts: 2,
    },
    get environment() {
      return sweepEnv.extend(callbackEmitEnv.shape);
    },
  },
  'health-check': {
    description: 'Checks failure counters, DLQ depth and backlog; alerts the admin',
    timeoutSeconds: 60,
    trigger: {
      kind: 'schedule',
      expression: HEALTH_CHECK_SCHEDULE,
      description: 'Hourly health check and admin alerts',
      retryAttempts: 2,
    },
    get environment() {
      return z.object({ ...coreEnv.shape, ...alertEnv.shape, ...wachapFields.shape, SEND_DLQ_URL: z.url() });
    },
  },
  'provider-probe': {
    description: 'Probes WaChap while the provider circuit is open; closes it and releases held notifications',
    timeoutSeconds: PROVIDER_PROBE_TIMEOUT_SECONDS,
    trigger: {
      kind: 'schedule',
      expression: PROVIDER_PROBE_SCHEDULE,
      description:
        'Every minute: probes WaChap while the provider circuit is open, and watches it for 3 minutes after a probe closed it',
      // The next tick comes within a minute: a lost one is not worth a late retry.
      retryAttempts: 0,
      // The circuit over HTTP (the operations page): the function that already holds its permissions serves it.
      routes: [
        { method: 'GET', resource: '/provider/circuit', auth: 'iam' },
        { method: 'POST', resource: '/provider/circuit', auth: 'iam' },
      ],
    },
    get environment() {
      return z.object({ ...coreEnv.shape, ...queueEnv.shape, ...alertEnv.shape, ...probeEnv.shape }).and(wachapEnv);
    },
  },
  // The provider probe moves notifications too, but only releases held ones: no move a caller hears of.
  'callback-dispatcher': {
    description: "POSTs the status callbacks, signed with each caller's secret; retries them for 24 h",
    timeoutSeconds: CALLBACK_DISPATCHER_TIMEOUT_SECONDS,
    trigger: { kind: 'queue', queue: 'callback' },
    environment: callbackDispatcherEnv,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

export const isFunctionName = (name: string): name is FunctionName => Object.hasOwn(FUNCTIONS, name);

/** `METHOD /v1/resource` of each API route of function N: the keys of its handler's route table. */
export type RouteKeyOf<N extends FunctionName> = (typeof FUNCTIONS)[N]['trigger'] extends {
  routes: readonly (infer R)[];
}
  ? R extends { method: infer M extends string; resource: infer P extends string }
    ? `${M} ${typeof API_VERSION_PATH}${P}`
    : never
  : never;

/** The variables a function reads, as names: what its deployment may set. */
export type EnvironmentOf<N extends FunctionName> = z.input<(typeof FUNCTIONS)[N]['environment']>;

/** The variables every function reads. */
export type CoreEnvironment = z.input<typeof coreEnv>;
// Every function reads the core settings: a function added without them fails here, unless it says why not.
const everyOneReadsTheCore: {
  [N in FunctionName]: keyof CoreEnvironment extends keyof EnvironmentOf<N> ? true : false;
} = {
  ingest: true,
  'operator-read': true,
  'operator-actions': true,
  // Trivially: it reads no variable (an empty schema's keys type as any name); the stack gives it the log settings only.
  'api-docs': true,
  sender: true,
  'retry-sweep': true,
  'health-check': true,
  'provider-probe': true,
  'callback-dispatcher': true,
};
void everyOneReadsTheCore;

/** The functions an EventBridge rule triggers, with their rule. */
export const scheduledFunctions = () =>
  FUNCTION_NAMES.flatMap((name) => {
    const { trigger } = FUNCTIONS[name] as FunctionSpec;
    return trigger.kind === 'schedule' ? [{ name, trigger }] : [];
  });

export interface ServedRoute {
  method: ApiRoute['method'];
  /** The path API Gateway serves: `/v1/…`, or an unversioned alias's old path. */
  resource: string;
  auth: ApiAuth;
  target: FunctionName;
  /** An unversioned alias: its /v1 successor's path. */
  successor?: string;
}

/**
 * Every API route as served, with the function behind it: each catalog route under /v1, and the unversioned alias
 * of those that keep one (derived here, so that no route is listed twice).
 */
export const apiRoutes = (): ServedRoute[] =>
  FUNCTION_NAMES.flatMap((name) => {
    const { trigger } = FUNCTIONS[name] as FunctionSpec;
    const routes = trigger.kind === 'queue' ? [] : (trigger.routes ?? []);
    return routes.flatMap(({ method, resource, auth, unversionedAlias }) => {
      const versioned = { method, resource: `${API_VERSION_PATH}${resource}`, auth, target: name };
      return unversionedAlias
        ? [versioned, { method, resource, auth, target: name, successor: versioned.resource }]
        : [versioned];
    });
  });

/**
 * The headers of an answer on a deprecated unversioned route (RFC 9745 Deprecation, RFC 8288 Link to the successor),
 * or none. `basePath` is what precedes the API's paths in the caller's URL (the stage on AWS), so the link resolves.
 */
export function deprecationHeaders(method: string, resource: string, basePath = ''): Record<string, string> {
  const route = apiRoutes().find((r) => r.method === method && r.resource === resource && r.successor);
  if (!route?.successor) return {};
  return {
    deprecation: `@${Math.floor(UNVERSIONED_DEPRECATED_AT.getTime() / 1000)}`,
    link: `<${basePath}${route.successor}>; rel="successor-version"`,
  };
}

/**
 * The request bodies API Gateway hands to the functions as raw bytes (base64, `isBase64Encoded: true`) instead of
 * text it decoded itself, replacing what is not UTF-8: all of them, so that the function decides (415, 400). The
 * REST API (lib/api.ts) and the local API door both read this list.
 */
export const API_BINARY_MEDIA_TYPES: readonly string[] = ['*/*'];
