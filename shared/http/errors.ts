// Typed request errors and the one mapper that turns any error into an HTTP answer. A 5xx never
// carries internals: no stack, no SDK message, no table name.
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import {
  ConflictError,
  type FieldProblem,
  IdempotencyKeyReusedError,
  InvalidInputError,
  problemsOf,
  RecipientRateLimitedError,
} from '../application/errors.js';
import { NotificationNotFoundError } from '../application/ports.js';

export abstract class RequestError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  details?: FieldProblem[];
}

export class ValidationError extends RequestError {
  override readonly name = 'ValidationError';
  readonly statusCode = 400;
  readonly code = 'validation_error';
  constructor(override readonly details: FieldProblem[]) {
    super(details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; '));
  }

  static fromZod(error: z.ZodError, prefix: readonly string[] = []): ValidationError {
    return new ValidationError(problemsOf(error, prefix));
  }
}

export class MalformedJsonError extends RequestError {
  override readonly name = 'MalformedJsonError';
  readonly statusCode = 400;
  readonly code = 'malformed_json';
}

/** The body's bytes are not UTF-8 (decoding them would have turned them into replacement characters). */
export class InvalidEncodingError extends RequestError {
  override readonly name = 'InvalidEncodingError';
  readonly statusCode = 400;
  readonly code = 'invalid_encoding';
}

export class PayloadTooLargeError extends RequestError {
  override readonly name = 'PayloadTooLargeError';
  readonly statusCode = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends RequestError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly statusCode = 415;
  readonly code = 'unsupported_media_type';
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The one mapper: a request error or refused input to its 4xx, anything else to a 500 without internals. */
export function errorResponse(error: unknown, requestId?: string): APIGatewayProxyResult {
  if (error instanceof InvalidInputError) {
    return jsonResponse(400, { error: 'validation_error', message: error.message, details: error.problems });
  }
  if (error instanceof RecipientRateLimitedError) {
    const { recipient: _masked, ...limit } = error.refusal;
    return jsonResponse(
      429,
      { error: 'recipient_rate_limited', message: error.message, details: error.problems, limit },
      { 'retry-after': String(error.refusal.retryAfterSeconds) },
    );
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return jsonResponse(422, { error: 'idempotency_key_reused', message: error.message, details: error.problems });
  }
  if (error instanceof NotificationNotFoundError) {
    return jsonResponse(404, { error: 'not_found', message: error.message });
  }
  if (error instanceof ConflictError) {
    return jsonResponse(409, {
      error: 'conflict',
      message: error.message,
      status: error.status,
      inFlight: error.inFlight,
    });
  }
  if (error instanceof RequestError) {
    return jsonResponse(error.statusCode, {
      error: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
    });
  }
  return jsonResponse(500, {
    error: 'internal_error',
    message: 'The notification could not be accepted; try again.',
    ...(requestId ? { requestId } : {}),
  });
}
