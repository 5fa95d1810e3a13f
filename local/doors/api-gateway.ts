// The API Gateway front door on localhost: the REST API's routes, their authorization (the upstream's x-api-key,
// or an operator's SigV4 signature checked as API Gateway's IAM authorization checks it), and the same proxy
// events that AWS sends to the functions (bodies as raw bytes in base64, as binaryMediaTypes has API Gateway
// send them; the verified caller in requestContext.identity).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { API_BINARY_MEDIA_TYPES, type ApiAuth, apiRoutes } from '../../functions/catalog.js';
import { GATEWAY_PROBLEMS, type GatewayResponseType, gatewayProblem } from '../../shared/http/gateway-problems.js';
import { OPS_PATH, operationsPageAnswer, opsFileReader } from '../../shared/http/operations-page.js';
import { PROBLEM_CONTENT_TYPE } from '../../shared/http/problems.js';
import { tighterLimit, type UsagePlan, UsagePlanLimiter } from '../../shared/http/usage-plan.js';
import { apiEvent, lambdaContext } from '../aws-events.js';
import type { FunctionName, FunctionRegistry } from '../functions.js';
import { API_REFERENCE_PATH, sendApiReference } from './api-reference.js';
import { BodyTooLargeError, listen, type RunningServer, readBody } from './http.js';
import { GATEWAY_RESPONSE_OF_SIGV4, type LocalPrincipal, verifySigV4 } from './sigv4.js';

/** Where and for what local requests are signed: `curl --aws-sigv4 "aws:amz:us-east-1:execute-api"`. */
export const LOCAL_SIGNING = { region: 'us-east-1', service: 'execute-api' } as const;
/** The local stack's one IAM principal, `--user local:local`: the credentials the local functions use too. */
export const LOCAL_PRINCIPALS: Readonly<Record<string, LocalPrincipal>> = {
  local: {
    secretAccessKey: 'local',
    userArn: 'arn:aws:iam::000000000000:user/local',
    caller: 'AIDALOCALOPERATOR0000',
  },
};

/** The operations page's files, read afresh on each request (an edit shows on reload), and how it signs in locally. */
const OPS_DIRECTORY = fileURLToPath(new URL('../../ops/', import.meta.url));
const LOCAL_OPS_CONFIG = { apiBase: '/v1', region: LOCAL_SIGNING.region, auth: 'static' } as const;

/** API Gateway's own payload limit for REST APIs. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
/** The REST API's resources (the catalog's), a {param} matching one path segment as in API Gateway. */
const ROUTES: readonly Route[] = apiRoutes();

interface Route {
  method: string;
  resource: string;
  target: FunctionName;
  auth?: ApiAuth;
}

/** What `pattern`'s {params} match in `segments`, or undefined when the resource does not match the path. */
function matchResource(pattern: readonly string[], segments: readonly string[]) {
  if (pattern.length !== segments.length) return undefined;
  const pathParameters: Record<string, string> = {};
  const matches = pattern.every((part, i) => {
    const param = /^\{(\w+)\}$/.exec(part);
    if (!param) return part === segments[i];
    if (!segments[i]) return false;
    try {
      pathParameters[param[1]!] = decodeURIComponent(segments[i]!);
      return true;
    } catch {
      return false;
    }
  });
  return matches ? pathParameters : undefined;
}

/**
 * The route for `path` (and `method`, when given) and what its {params} matched, or undefined. As in API Gateway
 * the resource is found first, a static segment winning over a {param} at the same place (so
 * /notifications/export.csv is not /notifications/{id}), then its method: a method the resource lacks is no route.
 */
export function matchRoute(
  routes: readonly Route[],
  path: string,
  method?: string,
): { route: Route; pathParameters: Record<string, string> } | undefined {
  const segments = path.replace(/\/+$/, '').split('/');
  let best: { resource: string; pathParameters: Record<string, string>; rank: string } | undefined;
  for (const resource of new Set(routes.map((route) => route.resource))) {
    const pattern = resource.split('/');
    const pathParameters = matchResource(pattern, segments);
    if (!pathParameters) continue;
    // '0' for a static segment, '1' for a {param}: the lowest rank is the most specific resource.
    const rank = pattern.map((part) => (part.startsWith('{') ? '1' : '0')).join('');
    if (!best || rank < best.rank) best = { resource, pathParameters, rank };
  }
  if (!best) return undefined;
  const route = routes.find((r) => r.resource === best.resource && (method === undefined || r.method === method));
  return route ? { route, pathParameters: best.pathParameters } : undefined;
}

/**
 * The body as API Gateway puts it in a proxy event: base64 with `isBase64Encoded: true` when the Content-Type
 * matches one of the API's binary media types (an exact type, a `type/` wildcard, or the any-type wildcard;
 * parameters do not count), otherwise text decoded as UTF-8; null when there is none.
 */
export function proxyBody(
  body: Buffer,
  contentType: string | undefined,
  binaryMediaTypes: readonly string[] = API_BINARY_MEDIA_TYPES,
): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  const [type = '', subtype = ''] = (contentType ?? '').split(';')[0]!.trim().toLowerCase().split('/');
  const binary = binaryMediaTypes.some((pattern) => {
    const [t, s] = pattern.toLowerCase().split('/');
    return pattern === '*/*' || (t === type && (s === '*' || s === subtype));
  });
  return binary
    ? { body: body.toString('base64'), isBase64Encoded: true }
    : { body: body.toString('utf8'), isBase64Encoded: false };
}

/**
 * A refusal of API Gateway's own, as its gateway responses answer it (lib/api.ts, the same table): a problem whose
 * `instance` is $context.path (the path as the caller wrote it: the local door's URLs have no stage) and whose
 * `requestId` is $context.requestId.
 */
function sendProblem(
  response: ServerResponse,
  type: GatewayResponseType,
  message: string,
  path: string,
  headers: Record<string, string> = {},
  /** The status a default response keeps (its document names none). */
  status = 500,
) {
  const problem = gatewayProblem(type, { message, path, requestId: randomUUID() });
  response.writeHead(problem.status ?? status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    ...GATEWAY_PROBLEMS[type].headers,
    ...headers,
  });
  response.end(JSON.stringify(problem));
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers[request.rawHeaders[i]!] = request.rawHeaders[i + 1]!;
  return headers;
}

/** Header names in lower case, repeated headers joined with commas: what a signature covers. */
function signedHeadersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!.trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return headers;
}

/** An upstream caller: its key (x-api-key), the key's id (what the functions see), and its usage plan. */
export interface LocalCaller {
  apiKey: string;
  apiKeyId: string;
  usagePlan: UsagePlan;
}

/** The RateLimit-* values a function answered, if it answered all three. */
function rateLimitOf(headers: Record<string, string>) {
  const [limit, remaining, resetSeconds] = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].map((name) =>
    Number(Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1] ?? Number.NaN),
  );
  return [limit, remaining, resetSeconds].every((n) => Number.isFinite(n))
    ? { limit: limit!, remaining: remaining!, resetSeconds: resetSeconds! }
    : undefined;
}

const withoutRateLimit = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([key]) => !key.toLowerCase().startsWith('ratelimit-')));

export async function startApiGateway(options: {
  port: number;
  /** The upstream callers, each with its key and usage plan. */
  callers: readonly LocalCaller[];
  functions: FunctionRegistry;
  /** Who may sign requests to the IAM routes (LOCAL_PRINCIPALS by default). */
  principals?: Readonly<Record<string, LocalPrincipal>>;
}): Promise<RunningServer> {
  const principals = options.principals ?? LOCAL_PRINCIPALS;
  const callers = new Map(
    options.callers.map((caller) => [caller.apiKey, { ...caller, limiter: new UsagePlanLimiter(caller.usagePlan) }]),
  );
  return listen(options.port, async (request: IncomingMessage, response: ServerResponse) => {
    // The request target is a path: read against a base, '//' would be a host (and throw: a 500).
    const target = request.url?.startsWith('/') ? request.url : '/';
    const url = new URL(`http://localhost${target}`);
    // Not a route of the REST API: the local stack's reference page, beside it.
    if (request.method === 'GET' && url.pathname === API_REFERENCE_PATH) {
      await sendApiReference(response);
      return;
    }
    // The operations page, a local special case: on AWS a small function serves it behind GET /ops routes
    // (lib/operations-page.ts), with a config.json that signs in through Cognito instead.
    if (request.method === 'GET' && (url.pathname === OPS_PATH || url.pathname.startsWith(`${OPS_PATH}/`))) {
      const page = operationsPageAnswer(
        { subPath: url.pathname.slice(OPS_PATH.length), pagePath: url.pathname },
        { config: LOCAL_OPS_CONFIG, readFile: opsFileReader(OPS_DIRECTORY) },
      );
      response.writeHead(page.statusCode, page.headers as Record<string, string>);
      response.end(page.body);
      return;
    }
    const matched = matchRoute(ROUTES, url.pathname, request.method);
    // What API Gateway answers for paths and methods it does not know.
    if (!matched) {
      sendProblem(response, 'MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token', url.pathname);
      return;
    }
    // An open route (auth none) takes no key and no signature.
    const auth = matched.route.auth ?? 'apiKey';
    const caller = auth === 'apiKey' ? callers.get(String(request.headers['x-api-key'] ?? '')) : undefined;
    if (auth === 'apiKey' && !caller) {
      sendProblem(response, 'INVALID_API_KEY', 'Forbidden', url.pathname);
      return;
    }
    // The caller's usage plan, as API Gateway applies it: before the body is read, whatever the body.
    const usage = caller?.limiter.take();
    if (usage && !usage.ok) {
      const [type, message] =
        usage.refusal === 'THROTTLED'
          ? (['THROTTLED', 'Too Many Requests'] as const)
          : (['QUOTA_EXCEEDED', 'Limit Exceeded'] as const);
      sendProblem(response, type, message, url.pathname, { 'Retry-After': String(usage.retryAfterSeconds) });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request, API_GATEWAY_MAX_BODY);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendProblem(response, 'REQUEST_TOO_LARGE', 'Request Too Long', url.pathname);
        return;
      }
      throw error;
    }
    let signer: Parameters<typeof apiEvent>[0]['caller'];
    if (auth === 'iam') {
      // The upstream's API key opens nothing here: only a valid signature of a known principal does.
      const [rawPath = '/', rawQuery = ''] = target.split(/\?(.*)/s);
      const verdict = await verifySigV4(
        { method: request.method ?? 'GET', rawPath, rawQuery, headers: signedHeadersOf(request), body },
        { principals, ...LOCAL_SIGNING },
      );
      if (!verdict.ok) {
        sendProblem(response, GATEWAY_RESPONSE_OF_SIGV4[verdict.errorType], verdict.message, url.pathname, {
          'x-amzn-ErrorType': verdict.errorType,
        });
        return;
      }
      signer = verdict.caller;
    }
    const event = apiEvent({
      method: request.method,
      path: url.pathname,
      basePath: '',
      resource: matched.route.resource,
      pathParameters: matched.pathParameters,
      headers: headersOf(request),
      query: Object.fromEntries(url.searchParams),
      ...proxyBody(body, request.headers['content-type']),
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      ...(caller ? { apiKey: caller.apiKey, apiKeyId: caller.apiKeyId } : {}),
      ...(signer ? { caller: signer } : {}),
    });
    const name = matched.route.target;
    let result: APIGatewayProxyResult;
    try {
      result = (await options.functions[name](event, lambdaContext(name))) as APIGatewayProxyResult;
    } catch (error) {
      // A function that throws: API Gateway answers 502 "Internal server error" (DEFAULT_5XX), nothing more.
      console.error(`local door: ${name} failed:`, error);
      sendProblem(response, 'DEFAULT_5XX', 'Internal server error', url.pathname, {}, 502);
      return;
    }
    const headers = (result.headers ?? {}) as Record<string, string>;
    // Where API Gateway says nothing of the plan, the local door tells the caller where it stands: of the plan's
    // daily quota and the function's own limit (RateLimit-* of the recipient's), the one with less left.
    const rateLimit = usage?.ok ? tighterLimit(usage.quota, rateLimitOf(headers)) : rateLimitOf(headers);
    response.writeHead(result.statusCode, {
      'content-type': 'application/json',
      ...withoutRateLimit(headers),
      ...(rateLimit
        ? {
            'ratelimit-limit': String(rateLimit.limit),
            'ratelimit-remaining': String(rateLimit.remaining),
            'ratelimit-reset': String(rateLimit.resetSeconds),
          }
        : {}),
    });
    response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  });
}
