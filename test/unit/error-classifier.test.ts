import { describe, expect, it } from 'vitest';
import { classifyWaChapError, type WaChapFailure } from '../../shared/domain/error-classifier.js';

const classify = (failure: WaChapFailure) => classifyWaChapError(failure);

// The lists are written out here rather than imported, so that a change to the code's lists shows up as a failure.
const TEMPORARY_TYPES = ['timeout', 'connection_error', 'network_error', 'ssl_error'];
const TEMPORARY_STATUSES = [408, 429, 500, 502, 503, 504];
/** Status → whose fault it is, with a message that names nobody. */
const PERMANENT_STATUSES: [number, 'recipient' | 'provider'][] = [
  [400, 'recipient'],
  [401, 'provider'],
  [403, 'provider'],
  [404, 'provider'],
  [405, 'provider'],
  [410, 'provider'],
];
const PERMANENT_TYPES = ['config_error', 'instance_inactive'];
const PERMANENT_KEYWORDS: [string, 'recipient' | 'provider'][] = [
  ['Unauthorized', 'provider'],
  ['Forbidden', 'provider'],
  ['Invalid phone', 'recipient'],
  ['Invalid number', 'recipient'],
  ['Token expired', 'provider'],
  ['Subscription expired', 'provider'],
  ['Account suspended', 'provider'],
  ['Not found', 'recipient'],
  ['Bad request', 'recipient'],
];
const ADMIN_ALERT_KEYWORDS = ['subscription', 'token expired', 'unauthorized', 'forbidden', 'suspended'];

describe('classifyWaChapError', () => {
  describe('temporary errors', () => {
    it.each(TEMPORARY_TYPES)('treats a %s as temporary and transient, retried without paging anyone', (type) => {
      // Prepare
      const failure = { type, message: 'The request did not complete' };

      // Act
      const result = classify(failure);

      // Assess
      expect(result).toMatchObject({ action: 'retry', classification: 'temporary', scope: 'transient' });
    });

    it.each(TEMPORARY_STATUSES)('treats an http_error with status %i as temporary', (httpStatus) => {
      const result = classify({ type: 'http_error', message: 'Upstream trouble', httpStatus });

      expect(result).toMatchObject({ action: 'retry', classification: 'temporary', scope: 'transient' });
    });

    it.each(TEMPORARY_STATUSES)("treats the original's error type http_%i as temporary", (status) => {
      const result = classify({ type: `http_${status}`, message: 'Upstream trouble' });

      expect(result).toMatchObject({ action: 'retry', classification: 'temporary', scope: 'transient' });
    });

    it('treats an unknown error without any known keyword as temporary', () => {
      const result = classify({ type: 'weird_error', message: 'Something odd happened' });

      expect(result).toMatchObject({ action: 'retry', classification: 'temporary', scope: 'transient' });
    });

    it('treats an unparseable answer (invalid_response) as temporary, even a proxy page saying "Not Found"', () => {
      const result = classify({ type: 'invalid_response', message: '404 Not Found nginx', httpStatus: 200 });

      expect(result).toMatchObject({ action: 'retry', classification: 'temporary' });
    });

    // The lists matter only where the text alone would say otherwise: unknown errors default to temporary.
    it.each(TEMPORARY_TYPES)('keeps a %s temporary even when its text reads like a permanent error', (type) => {
      const result = classify({ type, message: 'Bad request: upstream not found' });

      expect(result.classification).toBe('temporary');
    });

    it.each(TEMPORARY_STATUSES)(
      'keeps status %i temporary even when its text reads like a permanent error',
      (status) => {
        const asStatus = classify({ type: 'http_error', message: 'Upstream not found', httpStatus: status });
        const asType = classify({ type: `http_${status}`, message: 'Upstream not found' });

        expect(asStatus.classification).toBe('temporary');
        expect(asType.classification).toBe('temporary');
      },
    );
  });

  describe('permanent errors', () => {
    it.each(PERMANENT_STATUSES)('treats an http_error with status %i as permanent, scope %s', (httpStatus, scope) => {
      const result = classify({ type: 'http_error', message: 'Request refused', httpStatus });

      // A provider-scoped refusal waits for the provider; a recipient's is given up.
      expect(result).toMatchObject({
        action: scope === 'provider' ? 'hold' : 'give_up',
        classification: 'permanent',
        scope,
      });
    });

    it.each(PERMANENT_STATUSES)("treats the original's error type http_%i as permanent, scope %s", (status, scope) => {
      const result = classify({ type: `http_${status}`, message: 'Request refused' });

      expect(result).toMatchObject({ classification: 'permanent', scope });
    });

    it.each(PERMANENT_TYPES)('treats a %s as permanent and provider-scoped, held rather than dropped', (type) => {
      const result = classify({ type, message: 'WaChap cannot be used' });

      expect(result).toMatchObject({ action: 'hold', classification: 'permanent', scope: 'provider' });
    });

    it.each(PERMANENT_KEYWORDS)(
      'makes an otherwise unknown error saying "%s" permanent, scope %s',
      (keyword, scope) => {
        const result = classify({ type: 'unknown_error', message: `WaChap said: ${keyword} (code 17)` });

        expect(result).toMatchObject({ classification: 'permanent', scope });
        expect(result.action).toBe(scope === 'provider' ? 'hold' : 'give_up');
      },
    );

    it("reads the original's example (http_401, 'Unauthorized: Token expired') as permanent, provider: held", () => {
      const result = classify({ type: 'http_401', message: 'Unauthorized: Token expired' });

      expect(result).toMatchObject({ action: 'hold', classification: 'permanent', scope: 'provider' });
    });
  });

  // The original alerted the admin on these words; here they hold the notification and open the provider
  // circuit, whose alert (probe and health check) tells the admin.
  describe("the original's admin-alert words", () => {
    it.each(ADMIN_ALERT_KEYWORDS)(
      'holds on a 503 whose text mentions "%s": the circuit alerts the admin',
      (keyword) => {
        const result = classify({ type: 'http_error', message: `Service unavailable: ${keyword}`, httpStatus: 503 });

        expect(result).toMatchObject({ action: 'hold', scope: 'provider', classification: 'temporary' });
      },
    );

    it.each(ADMIN_ALERT_KEYWORDS)('holds on an original http_503 whose text mentions "%s"', (keyword) => {
      const result = classify({ type: 'http_503', message: `SERVICE UNAVAILABLE: ${keyword.toUpperCase()}` });

      expect(result).toMatchObject({ action: 'hold', scope: 'provider' });
    });

    it('retries a plain 503, paging nobody', () => {
      const result = classify({ type: 'http_error', message: 'Service unavailable', httpStatus: 503 });

      expect(result).toMatchObject({ action: 'retry', scope: 'transient' });
    });
  });

  describe('HTTP 200 with an error body (application_error)', () => {
    it('reads "Instance disconnected" as a temporary provider problem that alerts the admin', () => {
      const result = classify({ type: 'application_error', message: 'Instance disconnected', httpStatus: 200 });

      expect(result).toMatchObject({ action: 'hold', classification: 'temporary', scope: 'provider' });
    });

    it('reads "Invalid number" as a permanent recipient error, not retried', () => {
      const result = classify({ type: 'application_error', message: 'Invalid number', httpStatus: 200 });

      expect(result).toMatchObject({ action: 'give_up', classification: 'permanent', scope: 'recipient' });
    });

    it('reads "Subscription expired" as a provider problem that alerts the admin and keeps the notification', () => {
      const result = classify({ type: 'application_error', message: 'Subscription expired', httpStatus: 200 });

      expect(result).toMatchObject({ action: 'hold', classification: 'permanent', scope: 'provider' });
    });

    it.each([
      'Instance inactive',
      'Token expired',
      'Subscription ended',
      'Account suspended',
      'Missing credentials',
      'Instance not connected',
    ])('puts "%s" on the provider', (message) => {
      const result = classify({ type: 'application_error', message, httpStatus: 200 });

      expect(result).toMatchObject({ action: 'hold', scope: 'provider' });
    });

    it('reads an error body naming nothing known as temporary and transient', () => {
      const result = classify({ type: 'application_error', message: 'Message queue busy', httpStatus: 200 });

      expect(result).toMatchObject({ action: 'retry', scope: 'transient' });
    });
  });

  describe('scope', () => {
    it.each([
      [{ type: 'http_error', message: 'Unauthorized', httpStatus: 401 }, 'provider'],
      [{ type: 'http_error', message: 'Forbidden', httpStatus: 403 }, 'provider'],
      [{ type: 'http_error', message: 'Bad request', httpStatus: 400 }, 'recipient'],
      [{ type: 'http_error', message: 'Number not found', httpStatus: 404 }, 'recipient'],
      [{ type: 'timeout', message: 'No answer within 15000 ms' }, 'transient'],
      [{ type: 'connection_error', message: 'ECONNREFUSED' }, 'transient'],
    ] as const)('gives %o the scope %s', (failure, scope) => {
      expect(classify(failure).scope).toBe(scope);
    });
  });

  describe('Retry-After', () => {
    it("carries the provider's Retry-After on a retry", () => {
      const result = classify({
        type: 'http_error',
        message: 'Too many requests',
        httpStatus: 429,
        retryAfterSeconds: 120,
      });

      expect(result).toMatchObject({ action: 'retry', retryAfterSeconds: 120 });
    });

    it('leaves retryAfterSeconds out when there is none, or when it is not a duration', () => {
      expect(classify({ type: 'http_error', message: 'Too many requests', httpStatus: 429 })).not.toHaveProperty(
        'retryAfterSeconds',
      );
      expect(
        classify({ type: 'http_error', message: 'Too many requests', httpStatus: 429, retryAfterSeconds: -5 }),
      ).not.toHaveProperty('retryAfterSeconds');
    });
  });

  describe('recommendation', () => {
    const everyKindOfFailure: WaChapFailure[] = [
      ...TEMPORARY_TYPES.map((type) => ({ type, message: 'x' })),
      ...TEMPORARY_STATUSES.map((httpStatus) => ({ type: 'http_error', message: 'x', httpStatus })),
      ...PERMANENT_STATUSES.map(([httpStatus]) => ({ type: 'http_error', message: 'x', httpStatus })),
      ...PERMANENT_TYPES.map((type) => ({ type, message: 'x' })),
      ...PERMANENT_KEYWORDS.map(([keyword]) => ({ type: 'unknown_error', message: keyword })),
      { type: 'application_error', message: 'Instance disconnected', httpStatus: 200 },
      { type: 'invalid_response', message: '<html>', httpStatus: 200 },
      { type: 'weird_error', message: '' },
    ];

    it.each(everyKindOfFailure)('gives a non-empty recommendation for %o', (failure) => {
      const { recommendation } = classify(failure);

      expect(typeof recommendation).toBe('string');
      expect(recommendation.trim().length).toBeGreaterThan(10);
    });

    it('tells the operator to check the number for a recipient error and the account for a provider one', () => {
      const recipient = classify({ type: 'http_error', message: 'Bad request', httpStatus: 400 });
      const provider = classify({ type: 'http_error', message: 'Unauthorized', httpStatus: 401 });

      expect(recipient.recommendation).toMatch(/phone number/i);
      expect(provider.recommendation).toMatch(/subscription|token/i);
    });
  });
});
