// A WaChap token renewed while the functions are warm: the secret changes in Secrets Manager (a real SDK
// client against the fake engine) and the WaChap sandbox refuses the old token, as the real service does.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../local/engines/secrets-manager.js';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import type { SendOutcome } from '../../shared/adapters/wachap/client.js';
import { loadConfig, wachapEnv } from '../../shared/config.js';
import { classifyWaChapError } from '../../shared/domain/error-classifier.js';
import { wachapClient } from '../../shared/runtime-secrets.js';
import { collectingLog } from '../support/collecting-log.js';
import { LOCAL_CREDENTIALS } from '../support/engines.js';

const INSTANCE_ID = 'ROTATE-INSTANCE-1';
const OLD_TOKEN = 'old-token-7f3a9c2e51';
const NEW_TOKEN = 'new-token-b81d04e6aa';
const PHONE = '+22370123456';
const T0 = new Date('2026-03-01T08:00:00Z');

let secretsManager: RunningSecretsManager;
let sandbox: WaChapSandbox;
let counter = 0;

const secretValue = (accessToken: string, instanceId = INSTANCE_ID) => JSON.stringify({ instanceId, accessToken });

/** A warm function's WaChap client, built as the handlers build it: from the environment, through runtime.ts. */
function functionClient(env: Record<string, string>, baseUrl = sandbox.url) {
  const log = collectingLog();
  const config = loadConfig(wachapEnv, { WACHAP_BASE_URL: baseUrl, WACHAP_TIMEOUT_MS: '2000', ...env });
  return { client: wachapClient(config, log), log };
}

/** A secret of its own for each test, holding the token WaChap accepts now. */
function newSecret(value = secretValue(OLD_TOKEN)): string {
  counter += 1;
  return secretsManager.putSecret(`wachap-notifications/test/wachap-credentials-${counter}`, value);
}

const send = (client: { send: (input: { phone: string; message: string }) => Promise<SendOutcome> }) =>
  client.send({ phone: PHONE, message: 'Votre colis est arrivé' });

beforeAll(async () => {
  [secretsManager, sandbox] = await Promise.all([
    startSecretsManager(),
    startWaChapSandbox({ instanceId: INSTANCE_ID, accessToken: OLD_TOKEN }),
  ]);
  // The SDK client runtime.ts builds reads its endpoint, region and credentials from the environment.
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsManager.endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
});
beforeEach(() => {
  sandbox.reset();
  secretsManager.setAvailable(true);
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([secretsManager.stop(), sandbox.close()]);
});

describe('WaChap credentials renewed while the functions are warm', () => {
  it('re-reads the secret once after a 401 and sends with the renewed token', async () => {
    // Prepare: a warm sender that has read the secret and sent once.
    const arn = newSecret();
    const { client, log } = functionClient({ WACHAP_SECRET_ARN: arn });
    expect(await send(client)).toMatchObject({ ok: true });
    expect(secretsManager.reads(arn)).toBe(1);

    // Act: the admin renews the token in WaChap and puts the new one in the secret.
    sandbox.replaceCredentials({ accessToken: NEW_TOKEN });
    secretsManager.putSecret(arn, secretValue(NEW_TOKEN));
    const afterRenewal = await send(client);
    const next = await send(client);

    // Assess: one refused call, one extra secret read, the same message sent once; then the new token is cached.
    expect(afterRenewal).toMatchObject({ ok: true, httpStatus: 200 });
    expect(next).toMatchObject({ ok: true });
    expect(secretsManager.reads(arn)).toBe(2);
    expect(sandbox.requests()).toBe(4);
    expect(sandbox.inbox()).toHaveLength(3);
    expect(log.text()).not.toContain(OLD_TOKEN);
    expect(log.text()).not.toContain(NEW_TOKEN);
  });

  it('picks up a renewed secret after WACHAP_SECRET_MAX_AGE_SECONDS, without any refusal', async () => {
    // Prepare: a sandbox that accepts any credentials, so nothing but the max age can make the client re-read.
    // The renewal moves to another instance, whose prefix the sandbox's inbox shows.
    const open = await startWaChapSandbox();
    try {
      vi.useFakeTimers({ toFake: ['Date'], now: T0 });
      const arn = newSecret(secretValue(OLD_TOKEN, 'AAAAAA-FIRST'));
      const { client } = functionClient({ WACHAP_SECRET_ARN: arn, WACHAP_SECRET_MAX_AGE_SECONDS: '60' }, open.url);
      await send(client);
      secretsManager.putSecret(arn, secretValue(NEW_TOKEN, 'BBBBBB-SECOND'));

      // Act: once just within the max age, once just past it.
      vi.setSystemTime(T0.getTime() + 59_000);
      const within = await send(client);
      vi.setSystemTime(T0.getTime() + 61_000);
      const past = await send(client);

      // Assess
      expect([within.ok, past.ok]).toEqual([true, true]);
      expect(open.inbox().map((message) => message.instanceId)).toEqual(['AAAAAA', 'AAAAAA', 'BBBBBB']);
      expect(secretsManager.reads(arn)).toBe(2);
      expect(open.requests()).toBe(3);
    } finally {
      await open.close();
    }
  });

  it("recovers the provider probe's connection check the same way", async () => {
    const arn = newSecret();
    const { client } = functionClient({ WACHAP_SECRET_ARN: arn });
    expect(await client.checkConnection()).toMatchObject({ ok: true });

    sandbox.replaceCredentials({ accessToken: NEW_TOKEN });
    secretsManager.putSecret(arn, secretValue(NEW_TOKEN));
    const check = await client.checkConnection();

    expect(check).toMatchObject({ ok: true, httpStatus: 200 });
    expect(secretsManager.reads(arn)).toBe(2);
  });

  it('reports the 401 after one re-read when the token was revoked and the secret not renewed', async () => {
    const arn = newSecret();
    const { client } = functionClient({ WACHAP_SECRET_ARN: arn });
    await send(client);
    sandbox.replaceCredentials({ accessToken: NEW_TOKEN });

    const first = await send(client);
    const second = await send(client);

    // Each call re-reads at most once and never repeats the call with unchanged credentials.
    expect(first).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
    expect(second).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
    expect(secretsManager.reads(arn)).toBe(3);
    expect(sandbox.requests()).toBe(3);
  });

  it('repeats the call only once when the renewed token is refused too', async () => {
    const arn = newSecret();
    const { client, log } = functionClient({ WACHAP_SECRET_ARN: arn });
    await send(client);
    sandbox.replaceCredentials({ accessToken: 'newer-token-not-in-the-secret' });
    secretsManager.putSecret(arn, secretValue(NEW_TOKEN));

    const outcome = await send(client);

    expect(outcome).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
    expect(secretsManager.reads(arn)).toBe(2);
    expect(sandbox.requests()).toBe(3);
    expect(JSON.stringify(outcome) + log.text()).not.toMatch(/old-token|new-token/);
  });

  it('gives config_error while the store is down at the first read, and sends once it is back', async () => {
    const arn = newSecret();
    const { client } = functionClient({ WACHAP_SECRET_ARN: arn });
    secretsManager.setAvailable(false);

    const during = await send(client);
    const wachapCallsDuring = sandbox.requests();
    secretsManager.setAvailable(true);
    const after = await send(client);

    expect(during).toMatchObject({ ok: false, error: { type: 'config_error' } });
    expect(wachapCallsDuring).toBe(0);
    expect(after).toMatchObject({ ok: true });
    expect(sandbox.inbox()).toHaveLength(1);
  });

  it('keeps sending with the credentials read before when the store is down past the max age', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const arn = newSecret();
    const { client, log } = functionClient({ WACHAP_SECRET_ARN: arn, WACHAP_SECRET_MAX_AGE_SECONDS: '60' });
    await send(client);
    secretsManager.setAvailable(false);
    vi.setSystemTime(T0.getTime() + 61_000);
    const readsBefore = secretsManager.reads(arn);

    const outcome = await send(client);

    // A Secrets Manager blip must not become a config_error, which would open the provider circuit.
    expect(outcome).toMatchObject({ ok: true });
    expect(secretsManager.reads(arn)).toBeGreaterThan(readsBefore);
    expect(log.messages('warn')).toContain('WaChap secret could not be re-read; keeping the credentials read before');
  });

  it("reports WaChap's refusal, not a config_error, when the store is down at the re-read after a 401", async () => {
    const arn = newSecret();
    const { client } = functionClient({ WACHAP_SECRET_ARN: arn });
    await send(client);
    sandbox.replaceCredentials({ accessToken: NEW_TOKEN });
    secretsManager.setAvailable(false);

    const outcome = await send(client);

    expect(outcome).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
    expect(sandbox.requests()).toBe(2);
    if (!outcome.ok) expect(classifyWaChapError(outcome.error).scope).toBe('provider');
  });

  it('keeps local credentials (no secret) fixed: a 401 reads no secret and is not repeated', async () => {
    const { client } = functionClient({ WACHAP_INSTANCE_ID: INSTANCE_ID, WACHAP_ACCESS_TOKEN: 'wrong-local-token' });
    const readsBefore = secretsManager.reads();

    const outcome = await send(client);

    expect(outcome).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
    expect(secretsManager.reads()).toBe(readsBefore);
    expect(sandbox.requests()).toBe(1);
  });
});
