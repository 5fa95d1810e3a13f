// Typed request errors and the one mapper that turns any error into an HTTP answer. A 5xx never
// carries internals: no stack, no SDK message, no table name.
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';

export interface FieldProblem {
  path: string;
  message: string;
}

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
    const at = (path: readonly PropertyKey[]) => [...prefix, ...path.map(String)].join('.');
    return new ValidationError(
      error.issues.flatMap((issue) =>
        // An unknown field is named by its own path, so the caller sees which one to remove.
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'is not an accepted field' }))
          : [{ path: at(issue.path), message: issue.message }],
      ),
    );
  }
}

export class MalformedJsonError extends RequestError {
  override readonly name = 'MalformedJsonError';
  readonly statusCode = 400;
  readonly code = 'malformed_json';
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

export function errorResponse(error: unknown, requestId?: string): APIGatewayProxyResult {
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
