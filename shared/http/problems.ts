// RFC 9457 problem details: the one shape of every error a caller of the HTTP API can meet, whether a function
// answers it or API Gateway does itself (gateway responses, lib/api.ts; the local door answers the same bodies).
// One table of problem types: each code's URI and title. `code` (and, deprecated, `error` and `message`) keep the
// machine-readable names the API answered before, so existing callers keep working for one more release.
import type { FieldProblem } from '../application/errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://docs.ts-aircargo.example/problems/';

/** Every problem type the API answers, by its code: what the type URI ends with and its title (fixed per type). */
export const PROBLEM_TYPES = {
  validation_error: 'A field of the request is wrong',
  malformed_json: 'The body is not JSON',
  invalid_encoding: 'The body is not UTF-8',
  payload_too_large: 'The body is too large',
  unsupported_media_type: 'The content type is not JSON',
  not_found: 'Not found',
  conflict: 'The notification is not in a state that allows this',
  recipient_rate_limited: 'Too many notifications to this recipient',
  idempotency_key_reused: 'The idempotency key was used with another request',
  idempotent_request_in_flight: 'A request with this idempotency key is still being processed',
  internal_error: 'Internal error',
  // API Gateway's own refusals (gateway responses), before any function runs.
  missing_authentication_token: 'Missing authentication or unknown route',
  invalid_api_key: 'Missing or invalid API key',
  access_denied: 'Access denied',
  invalid_signature: 'Invalid request signature',
  expired_token: 'Expired credentials',
  unauthorized: 'Unauthorized',
  throttled: 'Too many requests',
  quota_exceeded: 'Quota exceeded',
  request_too_large: 'The request is too large',
  bad_request_body: 'The body does not match the request model',
  bad_request_parameters: 'A request parameter is missing or wrong',
  unsupported_media_type_gateway: 'The content type is not accepted',
  gateway_error: 'The request was refused',
  gateway_internal_error: 'Internal error',
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

export const problemTypeUri = (code: ProblemCode): string => `${PROBLEM_TYPE_BASE}${code.replaceAll('_', '-')}`;

/** Where the problem happened: `instance` (the request's path) and API Gateway's request id. */
export interface ProblemContext {
  instance?: string | undefined;
  requestId?: string | undefined;
}

export interface ProblemDetails {
  type: string;
  title: string;
  /** Absent only where API Gateway's default responses keep a status the template cannot name. */
  status?: number;
  detail: string;
  instance?: string;
  requestId?: string;
  code: ProblemCode;
  /** Validation: each field and why. */
  errors?: FieldProblem[];
  /** @deprecated the code; kept for one release (read `code`). */
  error: ProblemCode;
  /** @deprecated the detail; kept for one release (read `detail`). */
  message: string;
  /** @deprecated the field problems; kept for one release (read `errors`). */
  details?: FieldProblem[];
  [extension: string]: unknown;
}

/** A problem document: the RFC 9457 members, `code`, the deprecated aliases, then the type's own extensions. */
export function problemDetails(
  code: ProblemCode,
  status: number | undefined,
  detail: string,
  where: ProblemContext = {},
  extensions: { errors?: FieldProblem[] | undefined } & Record<string, unknown> = {},
): ProblemDetails {
  const { errors, ...rest } = extensions;
  return {
    type: problemTypeUri(code),
    title: PROBLEM_TYPES[code],
    ...(status !== undefined ? { status } : {}),
    detail,
    ...(where.instance !== undefined ? { instance: where.instance } : {}),
    ...(where.requestId !== undefined ? { requestId: where.requestId } : {}),
    code,
    ...(errors ? { errors } : {}),
    error: code,
    message: detail,
    ...(errors ? { details: errors } : {}),
    ...rest,
  };
}
