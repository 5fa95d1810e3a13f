// The ingest function's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type IngestDependencies, ingestNotification } from '../../shared/application/ingest.js';
import { maskPhonesInText } from '../../shared/domain/phone.js';
import {
  errorResponse,
  jsonResponse,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../../shared/http/errors.js';

export const MAX_BODY_BYTES = 16 * 1024;

/** Header lookup is case-insensitive, as HTTP says; API Gateway keeps the caller's case. */
const header = (event: APIGatewayProxyEvent, name: string): string | undefined =>
  Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1] ?? undefined;

/** The body as JSON, after the checks a caller can get wrong: type, size, syntax. */
function readJsonBody(event: APIGatewayProxyEvent): unknown {
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(contentType.trim())) {
    throw new UnsupportedMediaTypeError('Content-Type must be application/json');
  }
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES)
    throw new PayloadTooLargeError(`the body must not exceed ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new MalformedJsonError('the body is not valid JSON');
  }
}

export function createIngestHandler(logger: Logger, deps: IngestDependencies) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      try {
        const body = readJsonBody(event);
        const result = await ingestNotification(body, header(event, 'idempotency-key'), deps);
        return jsonResponse(result.created ? 202 : 200, { id: result.id, status: result.status });
      } catch (error) {
        const response = errorResponse(error, context.awsRequestId);
        if (response.statusCode >= 500) logger.error('ingest failed', { error: String(error) });
        // The message names the caller's fields, and a field name can be a phone number ({ "+223…": "Awa" }).
        else
          logger.info('request refused', {
            statusCode: response.statusCode,
            error: maskPhonesInText((error as Error).message),
          });
        return response;
      }
    });
}
