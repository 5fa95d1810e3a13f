// The one HTTP edge for the functions behind API Gateway: Powertools context, the JSON body read and checked
// (content type, size, syntax, then its zod schema), the route's work, and one error mapper. A refusal is a
// 4xx naming the field, logged with phone numbers masked; anything else is a 500 without internals.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { maskPhonesInText } from '../domain/phone.js';
import {
  errorResponse,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors.js';

export interface HttpRequest<Body> {
  body: Body;
  /** A header's value, looked up case-insensitively as HTTP says (API Gateway keeps the caller's case). */
  header(name: string): string | undefined;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  event: APIGatewayProxyEvent;
  context: Context;
}

export interface HttpRouteOptions<S extends z.ZodType | undefined> {
  logger: Logger;
  /** The body's schema; undefined for a route without a body. */
  body: S;
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** The body as JSON, after the checks a caller can get wrong: type, size, syntax. */
function readJsonBody(event: APIGatewayProxyEvent, header: (name: string) => string | undefined, maxBytes: number) {
  const contentType = header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(contentType.trim())) {
    throw new UnsupportedMediaTypeError('Content-Type must be application/json');
  }
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.byteLength > maxBytes) throw new PayloadTooLargeError(`the body must not exceed ${maxBytes} bytes`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new MalformedJsonError('the body is not valid JSON');
  }
}

export function httpHandler<S extends z.ZodType | undefined>(
  options: HttpRouteOptions<S>,
  handle: (request: HttpRequest<S extends z.ZodType ? z.output<S> : undefined>) => Promise<APIGatewayProxyResult>,
) {
  const { logger } = options;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const headers = Object.entries(event.headers ?? {});
      const header = (name: string) =>
        headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? undefined;
      try {
        let body: unknown;
        if (options.body) {
          const parsed = options.body.safeParse(
            readJsonBody(event, header, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
          );
          if (!parsed.success) throw ValidationError.fromZod(parsed.error);
          body = parsed.data;
        }
        return await handle({
          body: body as S extends z.ZodType ? z.output<S> : undefined,
          header,
          pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
          query: (event.queryStringParameters ?? {}) as Record<string, string>,
          event,
          context,
        });
      } catch (error) {
        const response = errorResponse(error, context.awsRequestId);
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
