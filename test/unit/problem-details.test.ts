// Every error a function answers is an RFC 9457 problem document (application/problem+json): a type URI from the
// one table, its title, the HTTP status, a detail, where it happened (instance, requestId), the field problems for
// validation, and the code callers matched before (`code`, and the deprecated `error`, `message`, `details`).
import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, RecipientRateLimitedError } from '../../shared/application/errors.js';
import { NotificationNotFoundError } from '../../shared/application/ports.js';
import {
  errorResponse,
  InvalidEncodingError,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../shared/http/errors.js';
import { GATEWAY_PROBLEMS, gatewayProblem } from '../../shared/http/gateway-problems.js';
import { PROBLEM_TYPES, type ProblemCode, problemTypeUri } from '../../shared/http/problems.js';

const WHERE = { instance: '/prod/v1/notifications', requestId: 'c0ffee00-0000-4000-8000-000000000000' };
const FIELD = [{ path: 'recipient.phone', message: 'must be a valid phone number' }];

describe('errorResponse', () => {
  it.each<[string, unknown, number, ProblemCode]>([
    ['refused input', new InvalidInputError(FIELD), 400, 'validation_error'],
    ['an invalid field', new ValidationError(FIELD), 400, 'validation_error'],
    ['a body that is not JSON', new MalformedJsonError('the body is not valid JSON'), 400, 'malformed_json'],
    ['bytes that are not UTF-8', new InvalidEncodingError('the body must be UTF-8'), 400, 'invalid_encoding'],
    ['an unknown notification', new NotificationNotFoundError('Notification 01J… does not exist'), 404, 'not_found'],
    ['a final notification', new ConflictError('it is final', 'sent', false), 409, 'conflict'],
    ['a body over the limit', new PayloadTooLargeError('at most 16384 bytes'), 413, 'payload_too_large'],
    ['another content type', new UnsupportedMediaTypeError('must be JSON'), 415, 'unsupported_media_type'],
    ['anything else', new Error('DynamoDB table notifications-prod: AccessDenied'), 500, 'internal_error'],
  ])('answers %s as a %i problem', (_case, error, status, code) => {
    const response = errorResponse(error, WHERE);

    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({
      type: `https://docs.ts-aircargo.example/problems/${code.replaceAll('_', '-')}`,
      title: PROBLEM_TYPES[code],
      status,
      detail: expect.any(String),
      instance: WHERE.instance,
      requestId: WHERE.requestId,
      code,
      error: code,
      message: body.detail,
    });
  });

  it('lists the field problems of a validation error in errors (and, deprecated, details)', () => {
    const body = JSON.parse(errorResponse(new ValidationError(FIELD), WHERE).body);

    expect(body.errors).toEqual(FIELD);
    expect(body.details).toEqual(FIELD);
    expect(body.detail).toBe('recipient.phone: must be a valid phone number');
  });

  it('answers a recipient over its limit 429 with Retry-After, the limit, and the masked number only', () => {
    const error = new RecipientRateLimitedError({
      category: 'otp',
      max: 5,
      windowSeconds: 600,
      recipient: '*******3456',
      windowEndsAt: '2030-01-01T14:10:00.000Z',
      retryAfterSeconds: 412,
    });

    const response = errorResponse(error, WHERE);

    expect(response.statusCode).toBe(429);
    expect(response.headers).toMatchObject({ 'content-type': 'application/problem+json', 'retry-after': '412' });
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({
      type: problemTypeUri('recipient_rate_limited'),
      status: 429,
      code: 'recipient_rate_limited',
      errors: [{ path: 'recipient.phone', message: expect.stringContaining('*******3456') }],
      limit: { category: 'otp', max: 5, windowSeconds: 600, retryAfterSeconds: 412 },
    });
    expect(body.limit.recipient).toBeUndefined();
  });

  it("names a conflicting notification's status apart from the HTTP status", () => {
    const body = JSON.parse(errorResponse(new ConflictError('it is being sent', 'pending', true), WHERE).body);

    expect(body).toMatchObject({ status: 409, notificationStatus: 'pending', inFlight: true });
  });

  it('never carries internals in a 500', () => {
    const response = errorResponse(new Error('ResourceNotFoundException: table notifications-prod at line 42'));

    expect(response.body).not.toMatch(/notifications-prod|ResourceNotFound|line 42/);
    expect(JSON.parse(response.body).detail).toBe('The request could not be completed; try again.');
  });
});

describe('the problem types', () => {
  it('gives every code its own type URI under one base', () => {
    const uris = Object.keys(PROBLEM_TYPES).map((code) => problemTypeUri(code as ProblemCode));

    expect(new Set(uris).size).toBe(uris.length);
    for (const uri of uris) expect(uri).toMatch(/^https:\/\/docs\.ts-aircargo\.example\/problems\/[a-z-]+$/);
  });

  it("answers API Gateway's own refusals with a status only where the gateway response fixes one", () => {
    const where = { message: 'Forbidden', path: '/prod/v1/notifications', requestId: 'r-1' };

    expect(gatewayProblem('INVALID_API_KEY', where)).toMatchObject({ status: 403, code: 'invalid_api_key' });
    expect(gatewayProblem('DEFAULT_4XX', where).status).toBeUndefined();
    expect(GATEWAY_PROBLEMS.THROTTLED.headers).toEqual({ 'Retry-After': '1' });
  });
});
