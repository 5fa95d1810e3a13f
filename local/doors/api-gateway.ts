// The API Gateway front door on localhost: the REST API's routes, its x-api-key check, and the
// same proxy events that AWS sends to the ingest function (bodies as raw bytes in base64, as binaryMediaTypes
// has API Gateway send them).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { API_BINARY_MEDIA_TYPES, apiRoutes } from '../../functions/catalog.js';
import { apiEvent, lambdaContext } from '../aws-events.js';
import type { FunctionName, FunctionRegistry } from '../functions.js';
import { BodyTooLargeError, listen, type RunningServer, readBody, sendJson } from './http.js';

/** API Gateway's own payload limit for REST APIs. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
/** The REST API's resources (the catalog's), a {param} matching one path segment as in API Gateway. */
const ROUTES: readonly Route[] = apiRoutes();

interface Route {
  method: string;
  resource: string;
  target: FunctionName;
}

/** The resource `path` matches and what its {params} matched, or undefined. */
export function matchRoute(
  routes: readonly Route[],
  path: string,
): { route: Route; pathParameters: Record<string, string> } | undefined {
  const segments = path.replace(/\/+$/, '').split('/');
  for (const route of routes) {
    const pattern = route.resource.split('/');
    if (pattern.length !== segments.length) continue;
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
    if (matches) return { route, pathParameters };
  }
  return undefined;
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

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers[request.rawHeaders[i]!] = request.rawHeaders[i + 1]!;
  return headers;
}

export async function startApiGateway(options: {
  port: number;
  apiKey: string;
  functions: FunctionRegistry;
}): Promise<RunningServer> {
  return listen(options.port, async (request: IncomingMessage, response: ServerResponse) => {
    // The request target is a path: read against a base, '//' would be a host (and throw: a 500).
    const url = new URL(`http://localhost${request.url?.startsWith('/') ? request.url : '/'}`);
    const matched = matchRoute(
      ROUTES.filter((r) => r.method === request.method),
      url.pathname,
    );
    // What API Gateway answers for paths and methods it does not know.
    if (!matched) {
      sendJson(response, 403, { message: 'Missing Authentication Token' });
      return;
    }
    if (request.headers['x-api-key'] !== options.apiKey) {
      sendJson(response, 403, { message: 'Forbidden' });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request, API_GATEWAY_MAX_BODY);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendJson(response, 413, { message: 'Request Too Long' });
        return;
      }
      throw error;
    }
    const event = apiEvent({
      method: request.method,
      path: url.pathname,
      resource: matched.route.resource,
      pathParameters: matched.pathParameters,
      headers: headersOf(request),
      query: Object.fromEntries(url.searchParams),
      ...proxyBody(body, request.headers['content-type']),
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      apiKey: options.apiKey,
    });
    const { target } = matched.route;
    const result = (await options.functions[target](event, lambdaContext(target))) as APIGatewayProxyResult;
    response.writeHead(result.statusCode, {
      'content-type': 'application/json',
      ...(result.headers as Record<string, string>),
    });
    response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  });
}
