// The one HTTP edge for the functions behind API Gateway: Powertools context, the JSON body read and checked
// (content type, size, syntax, then its zod schema), the path and query string checked by theirs, the route's
// work, and one error mapper. A refusal is a 4xx naming the field, logged with phone numbers masked; anything
// else is a 500 without internals.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import { maskPhonesInText } from '../domain/phone.js';
import { metricsMiddleware, type Telemetry } from '../observability/metrics.js';
import {
  errorResponse,
  InvalidEncodingError,
  MalformedJsonError,
  PayloadTooLargeError,
  problemResponse,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors.js';
import { type ProblemContext, problemDetails } from './problems.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : Record<string, string>;

export interface HttpRequest<Body, Path = Record<string, string>, Query = Record<string, string>> {
  body: Body;
  /** A header's value, looked up case-insensitively as HTTP says (API Gateway keeps the caller's case). */
  header(name: string): string | undefined;
  pathParameters: Path;
  query: Query;
  /**
   * Who signed the request, on a route with IAM authorization: the caller's ARN as API Gateway verified it
   * (`requestContext.identity.userArn`); undefined on an API-key route.
   */
  callerArn: string | undefined;
  event: APIGatewayProxyEvent;
  context: Context;
}

export interface HttpRouteOptions<
  S extends z.ZodType | undefined,
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
> {
  logger: Logger;
  /** The function's telemetry, written when the request ends; none for a function that publishes nothing. */
  metrics?: Telemetry | undefined;
  /** The body's schema; undefined for a route without a body. */
  body: S;
  /** A request without a body (none, or empty) is read as `{}` instead of refused: for an optional body. */
  bodyOptional?: boolean;
  /** The path parameters' schema (a refusal names the parameter). */
  path?: P;
  /** The query string's schema (a refusal names the parameter). */
  query?: Q;
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** The values of every `charset` parameter of a Content-Type, unquoted and lower-cased. */
const charsetsOf = (contentType: string): string[] =>
  [...contentType.matchAll(/;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/gi)].map((m) =>
    (m[1] ?? m[2] ?? '').toLowerCase(),
  );

/**
 * Strict: a byte that is not UTF-8 is an error, not a replacement character. `ignoreBOM` keeps a leading byte
 * order mark in the text, where JSON.parse refuses it (400 malformed_json): RFC 8259 forbids sending one, and
 * API Gateway's validator sees the same bytes, so the answer does not depend on which of the two reads it first.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as JSON, after the checks a caller can get wrong: type and charset (415), size (413), encoding and
 * syntax (400). API Gateway hands the body over as raw bytes in base64 (binaryMediaTypes, lib/api.ts), so that
 * bytes that are not UTF-8 reach this check instead of being replaced on the way.
 */
function readJsonBody(event: APIGatewayProxyEvent, header: (name: string) => string | undefined, maxBytes: number) {
  const contentType = header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(contentType.trim())) {
    throw new UnsupportedMediaTypeError('Content-Type must be application/json');
  }
  // JSON is UTF-8 (RFC 8259); "utf8" is the same encoding's other usual label.
  if (charsetsOf(contentType).some((charset) => charset !== 'utf-8' && charset !== 'utf8')) {
    throw new UnsupportedMediaTypeError('the body must be UTF-8: send charset=utf-8 or no charset');
  }
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.byteLength > maxBytes) throw new PayloadTooLargeError(`the body must not exceed ${maxBytes} bytes`);
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    throw new InvalidEncodingError('the body must be UTF-8: it contains bytes that are not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedJsonError(
      text.startsWith('\uFEFF')
        ? 'the body is not valid JSON: it starts with a byte order mark (send UTF-8 without BOM)'
        : 'the body is not valid JSON',
    );
  }
}

/** `values` (path parameters or the query string; API Gateway sends null for none) checked by `schema`. */
function parseParameters(schema: z.ZodType | undefined, values: Record<string, string | undefined> | null) {
  const present = values ?? {};
  if (!schema) return present;
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error);
  return parsed.data;
}

export function httpHandler<
  S extends z.ZodType | undefined,
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
>(
  options: HttpRouteOptions<S, P, Q>,
  handle: (
    request: HttpRequest<S extends z.ZodType ? z.output<S> : undefined, Parsed<P>, Parsed<Q>>,
  ) => Promise<APIGatewayProxyResult>,
) {
  const { logger } = options;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware(options.metrics))
    .handler(async (event, context) => {
      const headers = Object.entries(event.headers ?? {});
      const header = (name: string) =>
        headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? undefined;
      try {
        const pathParameters = parseParameters(options.path, event.pathParameters) as Parsed<P>;
        const query = parseParameters(options.query, event.queryStringParameters) as Parsed<Q>;
        let body: unknown;
        if (options.body) {
          const parsed = options.body.safeParse(
            options.bodyOptional && !event.body
              ? {}
              : readJsonBody(event, header, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
          );
          if (!parsed.success) throw ValidationError.fromZod(parsed.error);
          body = parsed.data;
        }
        return await handle({
          body: body as S extends z.ZodType ? z.output<S> : undefined,
          header,
          pathParameters,
          query,
          callerArn: event.requestContext?.identity?.userArn ?? undefined,
          event,
          context,
        });
      } catch (error) {
        const response = errorResponse(error, problemContextOf(event, context));
        if (response.statusCode >= 500) logger.error('request failed', { error: String(error) });
        // The message names the caller's fields, and a field name can be a phone number ({ "+223…": "Awa" }).
        else {
          logger.info('request refused', {
            statusCode: response.statusCode,
            error: maskPhonesInText((error as Error).message),
          });
        }
        return response;
      }
    });
}

/**
 * A problem's `instance` and `requestId`: API Gateway's $context.path (the stage, then the path) and
 * $context.requestId, the same values its own gateway responses name.
 */
const problemContextOf = (event: APIGatewayProxyEvent, context: Context): ProblemContext => ({
  instance: event.requestContext?.path ?? event.path ?? undefined,
  requestId: event.requestContext?.requestId ?? context.awsRequestId,
});

type RouteHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * One function behind several routes: the handler of the route API Gateway matched (`METHOD /resource`, the
 * event's httpMethod and resource). Another route (a direct invocation) is a 404, as API Gateway would answer it.
 */
export function routedHandler<R extends string>(routes: Record<R, RouteHandler>): RouteHandler {
  return async (event, context) => {
    const key = `${event.httpMethod} ${event.resource}`;
    const route = Object.hasOwn(routes, key) ? routes[key as R] : undefined;
    return route
      ? route(event, context)
      : problemResponse(problemDetails('not_found', 404, `no route ${key}`, problemContextOf(event, context)));
  };
}
