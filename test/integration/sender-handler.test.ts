import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import type { Notification } from '../../shared/domain/notification.js';
import { closeCircuit, isCircuitOpen, WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext, sqsEvent } from '../support/lambda.js';

type Handler = (
  event: ReturnType<typeof sqsEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<SQSBatchResponse>;

const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };
const MINUTE = 60_000;

let engines: TestEngines;
let sandbox: WaChapSandbox;
let handler: Handler;

async function loadHandler(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return ((await import('../../functions/sender/handler.js')) as unknown as { handler: Handler }).handler;
}

/** Stores a due notification and delivers its id to the sender, as the SQS event source would. */
async function deliver(overrides: Partial<Notification> = {}, run: Handler = handler) {
  const n = makeNotification({
    nextAttemptAt: new Date(Date.now() - 1000).toISOString(),
    maxAttempts: 10,
    ...overrides,
  });
  await engines.store.create(n);
  const response = await run(sqsEvent([JSON.stringify({ id: n.id })]), lambdaContext('sender'));
  return { response, stored: (await engines.store.get(n.id))!, id: n.id };
}

const delayFromNow = (iso: string | undefined) => Date.parse(iso ?? '') - Date.now();

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([
    startTestEngines(),
    startWaChapSandbox({ instanceId: CREDENTIALS.WACHAP_INSTANCE_ID, accessToken: CREDENTIALS.WACHAP_ACCESS_TOKEN }),
  ]);
  handler = await loadHandler({
    ...engines.env,
    ...CREDENTIALS,
    WACHAP_BASE_URL: sandbox.url,
    WACHAP_TIMEOUT_MS: '400',
    CIRCUIT_CACHE_SECONDS: '0',
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});
beforeEach(async () => {
  sandbox.reset();
  // Each test starts with the provider circuit closed, as after an operator's `circuit --close`.
  const state = await engines.store.getProviderState(WACHAP_PROVIDER);
  if (isCircuitOpen(state))
    await engines.store.putProviderState(WACHAP_PROVIDER, closeCircuit(state, new Date()), state!.version);
});

describe('sender handler: outcomes', () => {
  it.each(['status', 'nested', 'v1'] as const)(
    'records a %s-shaped success as sent with the provider id',
    async (shape) => {
      sandbox.configure({ successShape: shape });
      const { response, stored } = await deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect(stored).toMatchObject({ status: 'sent', attempts: 1 });
      expect(stored.externalMessageId).toMatch(/^(3EB0|MSG-)/);
      expect(stored.sentAt).toBeDefined();
      expect(stored.nextAttemptAt).toBeUndefined();
      expect(sandbox.inbox()).toHaveLength(1);
      expect(sandbox.inbox()[0]).toMatchObject({ to: '22370123456' });
      expect(sandbox.inbox()[0]?.message).toContain(stored.message);
    },
  );

  it('holds a notification when the instance is disconnected (HTTP 200 error body), without burning an attempt', async () => {
    sandbox.configure({ mode: 'disconnected' });
    const { stored } = await deliver({ attempts: 2, status: 'failed' });
    expect(stored).toMatchObject({ status: 'failed', attempts: 2, reason: 'provider_unavailable' });
    expect(stored.lastError).toMatchObject({ type: 'application_error', scope: 'provider' });
    expect(delayFromNow(stored.nextAttemptAt)).toBeGreaterThan(25 * MINUTE);
  });

  it('holds on an expired token (401) without burning an attempt', async () => {
    sandbox.configure({ mode: 'token_expired' });
    const { stored } = await deliver();
    expect(stored).toMatchObject({ status: 'failed', attempts: 0, reason: 'provider_unavailable' });
    expect(stored.lastError).toMatchObject({ httpStatus: 401, classification: 'permanent', scope: 'provider' });
  });

  it('fails permanently on an invalid number, the recipient being at fault', async () => {
    sandbox.configure({ invalidNumbers: ['22370123456'] });
    const { stored } = await deliver();
    expect(stored).toMatchObject({ status: 'permanent_failure', attempts: 1, reason: 'permanent_error' });
    expect(stored.lastError).toMatchObject({ classification: 'permanent', scope: 'recipient' });
    expect(stored.nextAttemptAt).toBeUndefined();
    expect(sandbox.inbox()).toHaveLength(0);
  });

  it('fails permanently on HTTP 400', async () => {
    const { stored } = await deliver({ recipient: { phone: '+1234' } });
    expect(stored).toMatchObject({ status: 'permanent_failure', attempts: 1 });
    expect(stored.lastError).toMatchObject({ httpStatus: 400 });
  });

  it('honours a Retry-After longer than the backoff on 429', async () => {
    sandbox.configure({ mode: 'rate_limited', retryAfterSeconds: 7200 });
    const { stored } = await deliver();
    expect(stored).toMatchObject({ status: 'failed', attempts: 1, reason: 'temporary_error' });
    expect(stored.lastError).toMatchObject({ httpStatus: 429, classification: 'temporary' });
    expect(delayFromNow(stored.nextAttemptAt)).toBeGreaterThan(119 * MINUTE);
    expect(delayFromNow(stored.nextAttemptAt)).toBeLessThanOrEqual(120 * MINUTE);
  });

  it.each([
    ['nine days', 9 * 86_400],
    ['a value too large for a date', Number.MAX_SAFE_INTEGER],
  ])('caps a Retry-After of %s at the 24 h maximum, and records the failure', async (_what, seconds) => {
    sandbox.configure({ mode: 'rate_limited', retryAfterSeconds: seconds });
    const { response, stored } = await deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(stored).toMatchObject({ status: 'failed', attempts: 1, reason: 'temporary_error' });
    expect(delayFromNow(stored.nextAttemptAt)).toBeGreaterThan(24 * 60 * MINUTE - 5000);
    expect(delayFromNow(stored.nextAttemptAt)).toBeLessThanOrEqual(24 * 60 * MINUTE);
  });

  it('schedules the next attempt 30 min (±10%) after a first 503', async () => {
    sandbox.configure({ mode: 'unavailable' });
    const { stored } = await deliver();
    expect(stored).toMatchObject({ status: 'failed', attempts: 1 });
    expect(stored.lastError).toMatchObject({ httpStatus: 503 });
    expect(delayFromNow(stored.nextAttemptAt)).toBeGreaterThan(27 * MINUTE - 5000);
    expect(delayFromNow(stored.nextAttemptAt)).toBeLessThanOrEqual(33 * MINUTE);
  });

  it('doubles the delay on the third failure (2 h ±10%)', async () => {
    sandbox.configure({ mode: 'unavailable' });
    const { stored } = await deliver({ status: 'failed', attempts: 2 });
    expect(stored.attempts).toBe(3);
    expect(delayFromNow(stored.nextAttemptAt)).toBeGreaterThan(108 * MINUTE - 5000);
    expect(delayFromNow(stored.nextAttemptAt)).toBeLessThanOrEqual(132 * MINUTE);
  });

  it('treats a timeout as temporary', async () => {
    sandbox.configure({ mode: 'slow', slowMs: 2000 });
    const { stored } = await deliver();
    expect(stored).toMatchObject({ status: 'failed', attempts: 1 });
    expect(stored.lastError).toMatchObject({ type: 'timeout', classification: 'temporary', scope: 'transient' });
  });

  it('treats a non-JSON 200 as temporary', async () => {
    sandbox.configure({ mode: 'error_body' });
    const { stored } = await deliver();
    expect(stored).toMatchObject({ status: 'failed', attempts: 1 });
    expect(stored.lastError).toMatchObject({ type: 'invalid_response', classification: 'temporary' });
  });

  it('treats a refused connection as temporary', async () => {
    const refused = await loadHandler({ ...engines.env, ...CREDENTIALS, WACHAP_BASE_URL: 'http://127.0.0.1:9/api' });
    const { stored } = await deliver({}, refused);
    expect(stored).toMatchObject({ status: 'failed', attempts: 1 });
    expect(stored.lastError?.classification).toBe('temporary');
  });

  it('gives up with max_retries_exceeded on the last allowed attempt', async () => {
    sandbox.configure({ mode: 'unavailable' });
    const { stored } = await deliver({ status: 'failed', attempts: 9, maxAttempts: 10 });
    expect(stored).toMatchObject({ status: 'permanent_failure', attempts: 10, reason: 'max_retries_exceeded' });
  });
});

describe('sender handler: the provider circuit', () => {
  it('opens the circuit on a provider failure, then holds others without calling WaChap or burning attempts', async () => {
    sandbox.configure({ mode: 'token_expired' });
    await deliver();
    const circuit = await engines.store.getProviderState(WACHAP_PROVIDER);
    expect(circuit).toMatchObject({ status: 'unavailable', errorType: 'http_error' });
    expect(circuit?.reason).toMatch(/401/);

    const requests = sandbox.requests();
    sandbox.reset();
    const { stored } = await deliver({ status: 'failed', attempts: 3 });
    expect(sandbox.requests()).toBe(0);
    expect(requests).toBe(1);
    expect(stored).toMatchObject({ status: 'failed', attempts: 3, reason: 'provider_unavailable' });
    expect(stored.history.at(-1)).toMatchObject({ outcome: 'held', errorType: 'circuit_open' });
    expect(delayFromNow(stored.nextAttemptAt)).toBeGreaterThan(25 * MINUTE);
  });

  it('keeps the circuit closed on transient failures', async () => {
    sandbox.configure({ mode: 'unavailable' });
    await deliver();
    expect(isCircuitOpen(await engines.store.getProviderState(WACHAP_PROVIDER))).toBe(false);
  });
});

describe('sender handler: never twice, never garbage', () => {
  it('sends once when the same id arrives twice in one batch', async () => {
    const n = makeNotification({ nextAttemptAt: new Date(Date.now() - 1000).toISOString() });
    await engines.store.create(n);
    const body = JSON.stringify({ id: n.id });
    const response = await handler(sqsEvent([body, body]), lambdaContext('sender'));
    expect(response.batchItemFailures).toEqual([]);
    expect(sandbox.inbox()).toHaveLength(1);
    expect((await engines.store.get(n.id))?.status).toBe('sent');
  });

  it('ignores a late redelivery of a sent notification', async () => {
    const { id } = await deliver();
    await handler(sqsEvent([JSON.stringify({ id })]), lambdaContext('sender'));
    expect(sandbox.inbox()).toHaveLength(1);
  });

  it('expires a notification whose validity ran out, without sending it', async () => {
    const { stored } = await deliver({ category: 'otp', expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(stored).toMatchObject({ status: 'expired', reason: 'validity_expired' });
    expect(sandbox.inbox()).toHaveLength(0);
  });

  it('does not send a notification that is not due yet', async () => {
    const { stored } = await deliver({
      status: 'failed',
      attempts: 1,
      nextAttemptAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(stored).toMatchObject({ status: 'failed', attempts: 1 });
    expect(sandbox.inbox()).toHaveLength(0);
  });

  it('reports garbage bodies and unknown ids as processed, so they are not retried forever', async () => {
    const response = await handler(
      sqsEvent([
        'not json',
        JSON.stringify({ id: 'x' }),
        JSON.stringify({ id: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }),
        '{"id":1,"__proto__":{}}',
      ]),
      lambdaContext('sender'),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(sandbox.inbox()).toHaveLength(0);
  });

  it('records an accepted send handed over by the queue without calling WaChap again', async () => {
    const n = makeNotification({ nextAttemptAt: new Date(Date.now() - 1000).toISOString() });
    await engines.store.create(n);
    const accepted = { at: new Date().toISOString(), externalMessageId: '3EB0ABCDEF', durationMs: 120 };
    await handler(sqsEvent([JSON.stringify({ id: n.id, accepted })]), lambdaContext('sender'));
    expect(await engines.store.get(n.id)).toMatchObject({
      status: 'sent',
      externalMessageId: '3EB0ABCDEF',
      attempts: 1,
    });
    expect(sandbox.requests()).toBe(0);
  });

  it('counts attempts and outcomes in the hourly counters', async () => {
    const [before] = (await engines.store.readCounters(new Date(), 1)) as unknown as [
      { attempts: number; sent: number },
    ];
    await deliver();
    sandbox.configure({ mode: 'unavailable' });
    await deliver();
    const [after] = (await engines.store.readCounters(new Date(), 1)) as unknown as [
      { attempts: number; sent: number; temporaryFailures: number },
    ];
    expect(after.attempts - before.attempts).toBe(2);
    expect(after.sent - before.sent).toBe(1);
  });
});
