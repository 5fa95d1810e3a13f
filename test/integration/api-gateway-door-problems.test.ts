// The local door answers API Gateway's own refusals with exactly the body AWS would: the gateway response's
// template (lib/api.ts) rendered with the request's message, path and id. And a function that throws is a 502
// problem, as API Gateway's default 5XX response answers it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../functions/catalog.js';
import { LOCAL_API_KEY_ID } from '../../local/aws-events.js';
import { startApiGateway } from '../../local/doors/api-gateway.js';
import type { RunningServer } from '../../local/doors/http.js';
import type { FunctionRegistry } from '../../local/functions.js';
import { type GatewayResponseType, gatewayResponseTemplate } from '../../shared/http/gateway-problems.js';
import { DEFAULT_USAGE_PLAN } from '../../shared/http/usage-plan.js';
import { captureOutput } from '../support/capture-output.js';
import { renderGatewayTemplate } from '../support/gateway-template.js';

const API_KEY = 'door-test-key';
/** A caller whose plan allows a burst of 2 and then one request a minute. */
const THROTTLED_KEY = 'door-throttled-key';
/** A caller whose plan allows 2 requests a day. */
const QUOTA_KEY = 'door-quota-key';
let door: RunningServer;

beforeAll(async () => {
  const failing = async () => {
    throw new Error('the function crashed');
  };
  const functions = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, failing])) as unknown as FunctionRegistry;
  door = await startApiGateway({
    port: 0,
    callers: [
      { apiKey: API_KEY, apiKeyId: LOCAL_API_KEY_ID, usagePlan: DEFAULT_USAGE_PLAN },
      {
        apiKey: THROTTLED_KEY,
        apiKeyId: 'throttled',
        usagePlan: { rateLimit: 1 / 60, burstLimit: 2, dailyQuota: 100 },
      },
      { apiKey: QUOTA_KEY, apiKeyId: 'quota', usagePlan: { rateLimit: 100, burstLimit: 100, dailyQuota: 2 } },
    ],
    functions,
  });
});
afterAll(async () => {
  await door?.close();
});

/** The door's answer, and the body the gateway response of `type` renders for the same request. */
async function compare(type: GatewayResponseType, path: string, init: RequestInit) {
  const response = await fetch(`${door.url}${path}`, init);
  const body = (await response.json()) as { detail: string; instance: string; requestId: string };
  const rendered = JSON.parse(
    renderGatewayTemplate(gatewayResponseTemplate(type), {
      message: body.detail,
      path: body.instance,
      requestId: body.requestId,
    }),
  );
  return { response, body, rendered };
}

describe("the local door's own refusals", () => {
  it.each<[string, GatewayResponseType, string, RequestInit, number]>([
    ['an unknown route', 'MISSING_AUTHENTICATION_TOKEN', "/it's-nowhere", {}, 403],
    ['a missing key', 'INVALID_API_KEY', '/v1/notifications', { method: 'POST', body: '{}' }, 403],
    ['an unsigned operator request', 'MISSING_AUTHENTICATION_TOKEN', '/v1/notifications/01J', {}, 403],
    [
      'an incomplete signature',
      'INVALID_SIGNATURE',
      '/v1/notifications/01J',
      { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/execute-api/aws4_request' } },
      403,
    ],
  ])('answers %s with the body its gateway response renders', async (_case, type, path, init, status) => {
    const { response, body, rendered } = await compare(type, path, init);

    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(body).toEqual(rendered);
    expect(body.instance).toBe(path);
  });

  it('answers a function that throws 502, as the default 5XX response renders it', async () => {
    const output = captureOutput();
    try {
      const { response, body, rendered } = await compare('DEFAULT_5XX', '/v1/notifications', {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: '{}',
      });

      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(body).toEqual(rendered);
      expect(JSON.stringify(body)).not.toContain('crashed');
    } finally {
      output.restore();
    }
  });

  it.each<[string, GatewayResponseType, string, number]>([
    ['a burst over the plan', 'THROTTLED', THROTTLED_KEY, 60],
    ['a day over the quota', 'QUOTA_EXCEEDED', QUOTA_KEY, 1],
  ])(
    'answers %s 429 with Retry-After, as its gateway response renders it, without running the function',
    async (_case, type, key, minRetry) => {
      const output = captureOutput();
      try {
        const init = { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{}' };
        // Within the plan: the function runs (and, here, crashes: 502).
        const allowed = [
          await fetch(`${door.url}/v1/notifications`, init),
          await fetch(`${door.url}/v1/notifications`, init),
        ];
        const { response, body, rendered } = await compare(type, '/v1/notifications', init);

        expect(allowed.map((r) => r.status)).toEqual([502, 502]);
        expect(response.status).toBe(429);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        expect(body).toEqual(rendered);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(minRetry);
        expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(86_400);
      } finally {
        output.restore();
      }
    },
  );

  it("keeps each caller's plan its own: one caller's burst does not throttle another", async () => {
    const output = captureOutput();
    try {
      const post = (key: string) =>
        fetch(`${door.url}/v1/notifications`, {
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: '{}',
        });
      for (let i = 0; i < 3; i++) await post(THROTTLED_KEY);

      expect((await post(THROTTLED_KEY)).status).toBe(429);
      expect((await post(API_KEY)).status).toBe(502);
    } finally {
      output.restore();
    }
  });
});
