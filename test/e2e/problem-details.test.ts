// Every error a caller can meet through the API door is one format, RFC 9457 problem details: those API Gateway
// answers itself (missing or wrong key, unsigned or wrongly signed operator request, unknown route, body too large)
// as its gateway responses do (lib/api.ts), and the functions' own (bad field, not JSON, another content type, body
// over 16 KB, unknown notification, a recipient over its limit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/catalog.js';
import { problemTypeUri } from '../../shared/http/problems.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack } from '../support/local-stack.js';

let e2e: E2eStack;

/** An upstream caller whose plan allows one request, then one every 10 minutes. */
const THROTTLED_KEY = 'e2e-throttled-key';
/** An upstream caller whose plan allows one request a day. */
const QUOTA_KEY = 'e2e-quota-key';

beforeAll(async () => {
  e2e = await startE2eStack({
    extraCallers: [
      {
        apiKey: THROTTLED_KEY,
        apiKeyId: 'throttled',
        usagePlan: { rateLimit: 1 / 600, burstLimit: 1, dailyQuota: 100 },
      },
      { apiKey: QUOTA_KEY, apiKeyId: 'quota', usagePlan: { rateLimit: 10, burstLimit: 10, dailyQuota: 1 } },
    ],
  });
});
afterAll(async () => {
  await e2e?.stop();
});

// The paths as the catalog serves them, whatever their prefix.
const INGEST = apiRoutes().find((r) => r.method === 'POST' && r.auth === 'apiKey')!.resource;
const SHOW = apiRoutes().find((r) => r.method === 'GET' && r.auth === 'iam' && r.resource.endsWith('/{id}'))!.resource;
const UNKNOWN_ID = '01JCZ7V3Q8N2M4K6H8F0D2B4X6';

interface Problem {
  type: string;
  title: string;
  status?: number;
  detail: string;
  instance: string;
  requestId: string;
  code: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** The answer, checked for what every problem carries: its content type, the RFC 9457 members, where and which. */
async function problemOf(response: Response, status: number, code: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as Problem;
  expect(body).toMatchObject({
    type: problemTypeUri(code as never),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance: expect.stringMatching(/^\//),
    requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    code,
    error: code,
    message: body.detail,
  });
  return body;
}

const api = (path: string, init: RequestInit = {}) => fetch(`${e2e.stack.urls.api}${path}`, init);
const postJson = (body: string, headers: Record<string, string> = {}) =>
  api(INGEST, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': e2e.stack.apiKey, ...headers },
    body,
  });

describe("API Gateway's own refusals", () => {
  it('answers a missing API key 403 invalid_api_key, at the path asked for', async () => {
    const response = await api(INGEST, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(notificationRequest(malianPhone(1))),
    });

    const problem = await problemOf(response, 403, 'invalid_api_key');
    expect(problem.detail).toBe('Forbidden');
    expect(problem.instance).toBe(INGEST);
  });

  it('answers a wrong API key 403 invalid_api_key', async () => {
    const response = await postJson(JSON.stringify(notificationRequest(malianPhone(1))), { 'x-api-key': 'guess' });

    await problemOf(response, 403, 'invalid_api_key');
  });

  it('answers an unsigned operator request 403 missing_authentication_token, the key opening nothing', async () => {
    const response = await api(SHOW.replace('{id}', UNKNOWN_ID), { headers: { 'x-api-key': e2e.stack.apiKey } });

    const problem = await problemOf(response, 403, 'missing_authentication_token');
    expect(problem.detail).toBe('Missing Authentication Token');
  });

  it('answers a wrong signature 403 invalid_signature, with what should have been signed', async () => {
    const response = await e2e.signed(SHOW.replace('{id}', UNKNOWN_ID), {
      credentials: { accessKeyId: 'local', secretAccessKey: 'guess' },
    });

    const problem = await problemOf(response, 403, 'invalid_signature');
    expect(problem.detail).toMatch(/^The request signature we calculated does not match/);
  });

  it('answers an unknown route 403 missing_authentication_token, as API Gateway does', async () => {
    const response = await api('/no-such-route', { headers: { 'x-api-key': e2e.stack.apiKey } });

    const problem = await problemOf(response, 403, 'missing_authentication_token');
    expect(problem.instance).toBe('/no-such-route');
  });

  it("answers a body over API Gateway's 10 MB 413 request_too_large", async () => {
    const response = await postJson('x'.repeat(10 * 1024 * 1024 + 1));

    await problemOf(response, 413, 'request_too_large');
  });
});

describe("the functions' refusals", () => {
  it('answers a bad field 400 validation_error, each field in errors', async () => {
    const response = await postJson(JSON.stringify({ ...notificationRequest(malianPhone(2)), category: 'Colis!' }));

    const problem = await problemOf(response, 400, 'validation_error');
    expect(problem.errors?.map((e) => e.path)).toEqual(['category']);
    expect(problem.details).toEqual(problem.errors);
    expect(problem.instance).toBe(INGEST);
  });

  it('answers a body that is not JSON 400 malformed_json', async () => {
    await problemOf(await postJson('{"recipient":'), 400, 'malformed_json');
  });

  it('answers another content type 415 unsupported_media_type', async () => {
    const response = await postJson(JSON.stringify(notificationRequest(malianPhone(2))), {
      'content-type': 'text/plain',
    });

    await problemOf(response, 415, 'unsupported_media_type');
  });

  it('answers a body over 16 KB 413 payload_too_large', async () => {
    const response = await postJson(
      JSON.stringify({ ...notificationRequest(malianPhone(2)), message: 'x'.repeat(17 * 1024) }),
    );

    await problemOf(response, 413, 'payload_too_large');
  });

  it('answers an unknown notification 404 not_found', async () => {
    const response = await e2e.signed(SHOW.replace('{id}', UNKNOWN_ID));

    await problemOf(response, 404, 'not_found');
  });

  it('answers a recipient over its limit 429 recipient_rate_limited with Retry-After', async () => {
    const phone = malianPhone(3);
    const otp = () => postJson(JSON.stringify(notificationRequest(phone, { category: 'otp', message: 'Code 1234' })));
    for (let i = 0; i < 5; i++) expect((await otp()).status).toBe(202);

    const response = await otp();

    const problem = await problemOf(response, 429, 'recipient_rate_limited');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(problem.limit).toMatchObject({ category: 'otp', max: 5 });
  });

  it.each([
    ['a caller over its rate 429 throttled', THROTTLED_KEY, 'throttled'],
    ["a caller over its day's quota 429 quota_exceeded", QUOTA_KEY, 'quota_exceeded'],
  ])('answers %s with Retry-After, the function never running', async (_case, key, code) => {
    const request = JSON.stringify(notificationRequest(malianPhone(4)));
    const within = await postJson(request, { 'x-api-key': key });
    const before = await e2e.countNotifications();

    const response = await postJson(JSON.stringify(notificationRequest(malianPhone(5))), { 'x-api-key': key });

    expect(within.status).toBe(202);
    await problemOf(response, 429, code);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await e2e.countNotifications()).toBe(before);
  });
});
