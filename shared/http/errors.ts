// Typed request errors and the one mapper that turns any error into an HTTP answer. A 5xx never
// carries internals: no stack, no SDK message, no table name.
import type { APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod';
import {
  ConflictError,
  type FieldProblem,
  IdempotencyKeyReusedError,
  InvalidInputError,
  problemsOf,
  RecipientRateLimitedError,
} from '../application/errors.js';
import type { RateLimitState } from '../application/ingest.js';
import { IdempotentRequestInFlightError, NotificationNotFoundError } from '../application/ports.js';
import {
  PROBLEM_CONTENT_TYPE,
  type ProblemCode,
  type ProblemContext,
  type ProblemDetails,
  problemDetails,
} from './problems.js';

export abstract class RequestError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: ProblemCode;
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

/**
 * The RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers, the fields as separate headers): the limit, what is
 * left of it, and the seconds until it starts again.
 */
export const rateLimitHeaders = (state: RateLimitState): Record<string, string> => ({
  'ratelimit-limit': String(state.limit),
  'ratelimit-remaining': String(state.remaining),
  'ratelimit-reset': String(state.resetSeconds),
});

/** An RFC 9457 answer (application/problem+json). */
export function problemResponse(problem: ProblemDetails, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: problem.status ?? 500,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
    body: JSON.stringify(problem),
  };
}

/**
 * The one mapper: a request error or refused input to its 4xx, anything else to a 500 without internals; every one
 * a problem document (RFC 9457) naming where it happened (`where`: the request's path and id).
 */
export function errorResponse(error: unknown, where: ProblemContext = {}): APIGatewayProxyResult {
  if (error instanceof InvalidInputError) {
    return problemResponse(problemDetails('validation_error', 400, error.message, where, { errors: error.problems }));
  }
  if (error instanceof RecipientRateLimitedError) {
    const { recipient: _masked, ...limit } = error.refusal;
    return problemResponse(
      problemDetails('recipient_rate_limited', 429, error.message, where, { errors: error.problems, limit }),
      {
        'retry-after': String(error.refusal.retryAfterSeconds),
        ...rateLimitHeaders({
          limit: error.refusal.max,
          remaining: 0,
          resetSeconds: error.refusal.retryAfterSeconds,
        }),
      },
    );
  }
  if (error instanceof IdempotentRequestInFlightError) {
    return problemResponse(
      problemDetails('idempotent_request_in_flight', 409, error.message, where, {
        retryAfterSeconds: error.retryAfterSeconds,
      }),
      { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return problemResponse(
      problemDetails('idempotency_key_reused', 422, error.message, where, { errors: error.problems }),
    );
  }
  if (error instanceof NotificationNotFoundError) {
    return problemResponse(problemDetails('not_found', 404, error.message, where));
  }
  if (error instanceof ConflictError) {
    // `status` is the HTTP status in a problem document: the notification's own is `notificationStatus`.
    return problemResponse(
      problemDetails('conflict', 409, error.message, where, {
        notificationStatus: error.status,
        inFlight: error.inFlight,
      }),
    );
  }
  if (error instanceof RequestError) {
    return problemResponse(
      problemDetails(error.code, error.statusCode, error.message, where, { errors: error.details }),
    );
  }
  return problemResponse(
    problemDetails('internal_error', 500, 'The request could not be completed; try again.', where),
  );
}
