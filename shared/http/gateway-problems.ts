// What API Gateway answers itself, before any function runs, as problem details: one table read by CDK (gateway
// responses with a mapping template, lib/api.ts) and by the local door (the same bodies, the values substituted).
import { type ProblemCode, type ProblemDetails, problemDetails } from './problems.js';

/** API Gateway's response types this API answers as problems (the defaults catch every other one). */
export type GatewayResponseType =
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INVALID_API_KEY'
  | 'ACCESS_DENIED'
  | 'INVALID_SIGNATURE'
  | 'EXPIRED_TOKEN'
  | 'UNAUTHORIZED'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'BAD_REQUEST_BODY'
  | 'BAD_REQUEST_PARAMETERS'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RESOURCE_NOT_FOUND'
  | 'WAF_FILTERED';

export interface GatewayProblem {
  code: ProblemCode;
  /** Undefined for the defaults: they keep the status API Gateway chose, which a template cannot name. */
  status?: number;
  headers?: Record<string, string>;
}

export const GATEWAY_PROBLEMS: Readonly<Record<GatewayResponseType, GatewayProblem>> = {
  DEFAULT_4XX: { code: 'gateway_error' },
  DEFAULT_5XX: { code: 'gateway_internal_error' },
  // An unsigned request to an IAM route, and any path or method the API does not have.
  MISSING_AUTHENTICATION_TOKEN: { code: 'missing_authentication_token', status: 403 },
  // A missing or wrong x-api-key.
  INVALID_API_KEY: { code: 'invalid_api_key', status: 403 },
  ACCESS_DENIED: { code: 'access_denied', status: 403 },
  INVALID_SIGNATURE: { code: 'invalid_signature', status: 403 },
  EXPIRED_TOKEN: { code: 'expired_token', status: 403 },
  UNAUTHORIZED: { code: 'unauthorized', status: 401 },
  // A rate limit (usage plan, stage) clears within a second or so; a static header is all a gateway response can send.
  THROTTLED: { code: 'throttled', status: 429, headers: { 'Retry-After': '1' } },
  // The daily quota starts again at midnight UTC, which a static header cannot count down to: an hour is when it is
  // worth asking again (the local door, which can count, answers the seconds left).
  QUOTA_EXCEEDED: { code: 'quota_exceeded', status: 429, headers: { 'Retry-After': '3600' } },
  REQUEST_TOO_LARGE: { code: 'request_too_large', status: 413 },
  BAD_REQUEST_BODY: { code: 'bad_request_body', status: 400 },
  BAD_REQUEST_PARAMETERS: { code: 'bad_request_parameters', status: 400 },
  UNSUPPORTED_MEDIA_TYPE: { code: 'unsupported_media_type_gateway', status: 415 },
  RESOURCE_NOT_FOUND: { code: 'not_found', status: 404 },
  WAF_FILTERED: { code: 'access_denied', status: 403 },
};

/** The problem document API Gateway answers for `type`, with the request's path and id and its own message. */
export function gatewayProblem(
  type: GatewayResponseType,
  request: { message: string; path: string; requestId: string },
): ProblemDetails {
  const { code, status } = GATEWAY_PROBLEMS[type];
  return problemDetails(code, status, request.message, { instance: request.path, requestId: request.requestId });
}

const PLACEHOLDER = {
  message: '\u0000message\u0000',
  path: '\u0000path\u0000',
  requestId: '\u0000requestId\u0000',
};

/**
 * The mapping template of a gateway response: the same document, the request's values left to API Gateway. Such a
 * template is not run by the VTL engine: only simple variables are substituted (no $util, no method calls), so the
 * message is `$context.error.messageString`, already quoted and escaped as a JSON string (SigV4 refusals quote names
 * and hold newlines). The path and the request id are put between quotes as they are: a request id is a UUID, and a
 * path's quote or backslash arrives percent-encoded.
 */
export function gatewayResponseTemplate(type: GatewayResponseType): string {
  const json = JSON.stringify(gatewayProblem(type, PLACEHOLDER));
  const quoted = (value: string) => JSON.stringify(value);
  return json
    .replaceAll(quoted(PLACEHOLDER.message), '$context.error.messageString')
    .replaceAll(quoted(PLACEHOLDER.path), '"$context.path"')
    .replaceAll(quoted(PLACEHOLDER.requestId), '"$context.requestId"');
}
