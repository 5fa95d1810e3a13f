// Several WaChap instances against real engines and a sandbox playing both numbers: the sender's circuit per
// instance (a 401 on China opens China's alone, Mali's notification goes out, the held one remembers China), the
// probe closing one instance's circuit releasing only that instance's held notifications, and a token renewed
// in the secret for one instance reaching that instance's warm client.

import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../local/engines/secrets-manager.js';
import { createSendQueues } from '../../local/engines/sqs.js';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { type InstancesReport, ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { loadConfig, wachapEnv } from '../../shared/config.js';
import type { Notification } from '../../shared/domain/notification.js';
import { isCircuitOpen } from '../../shared/domain/provider-circuit.js';
import { type WaChapInstance, wachapInstancesSchema } from '../../shared/domain/wachap-instances.js';
import { silentLog } from '../../shared/observability/logger.js';
import { wachapInstancesOf } from '../../shared/runtime-secrets.js';
import { collectingLog } from '../support/collecting-log.js';
import { randomTableName } from '../support/dynamodb.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext, sqsEvent } from '../support/lambda.js';

const INSTANCES: WaChapInstance[] = wachapInstancesSchema.parse([
  { name: 'china', instanceId: 'CN0001', accessToken: 'cn-token-old-81f2', prefixes: ['+86'] },
  { name: 'mali', instanceId: 'ML0001', accessToken: 'ml-token-3c9d07', prefixes: ['+223'], default: true },
]);
const CHINA = '+8613800138001';
const MALI = '+22370123456';
const MINUTE = 60_000;
const SCHEDULED_TICK = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

type SenderHandler = (
  event: ReturnType<typeof sqsEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<SQSBatchResponse>;
type ProbeHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<InstancesReport>;

let engines: TestEngines;
let sandbox: WaChapSandbox;
let secretsManager: RunningSecretsManager;

/** A handler module as Lambda loads it: from the environment, at cold start. */
async function loadModule<T>(path: string, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return ((await import(path)) as { handler: T }).handler;
}

const instancesEnv = (extra: Record<string, string> = {}) => ({
  ...engines.env,
  WACHAP_INSTANCES: JSON.stringify(INSTANCES),
  WACHAP_BASE_URL: sandbox.url,
  WACHAP_TIMEOUT_MS: '1000',
  CIRCUIT_CACHE_SECONDS: '0',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  ...extra,
});

beforeAll(async () => {
  [engines, sandbox, secretsManager] = await Promise.all([
    startTestEngines(),
    startWaChapSandbox({ instances: INSTANCES }),
    startSecretsManager(),
  ]);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close(), secretsManager?.stop()]);
});
beforeEach(() => {
  sandbox.reset();
});

describe('the sender with two instances', () => {
  it("holds China's notifications on China's 401 alone, sends Mali's, and the held ones remember China", async () => {
    // Prepare: China's token has expired.
    const handler = await loadModule<SenderHandler>('../../functions/sender/handler.js', instancesEnv());
    sandbox.configure({ instanceId: 'CN0001', mode: 'token_expired' });
    const deliver = async (phone: string) => {
      const n = makeNotification({ recipient: { phone }, nextAttemptAt: new Date(Date.now() - 1000).toISOString() });
      await engines.store.create(n);
      await handler(sqsEvent([JSON.stringify({ id: n.id })]), lambdaContext('sender'));
      return (await engines.store.get(n.id))!;
    };

    // Act
    const refused = await deliver(CHINA);
    const callsAfterRefusal = sandbox.requests();
    const mali = await deliver(MALI);
    const laterChina = await deliver('+8613900139002');

    // Assess: China's circuit alone is open; the second China notification waited without calling WaChap.
    expect(refused).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0, instance: 'china' });
    expect(refused.lastError).toMatchObject({ httpStatus: 401, scope: 'provider' });
    expect(isCircuitOpen(await engines.store.getProviderState('wachap#china'))).toBe(true);
    expect(isCircuitOpen(await engines.store.getProviderState('wachap'))).toBe(false);
    expect(mali).toMatchObject({ status: 'sent', attempts: 1, instance: 'mali' });
    expect(laterChina).toMatchObject({ status: 'failed', reason: 'provider_unavailable', instance: 'china' });
    expect(laterChina.history.at(-1)).toMatchObject({ outcome: 'held', errorType: 'circuit_open' });
    expect(sandbox.requests()).toBe(callsAfterRefusal + 1);
    expect(sandbox.inbox().map((m) => [m.to, m.instanceId])).toEqual([[MALI.slice(1), 'ML0001']]);
  });
});

describe('the probe with two instances', () => {
  it("closes China's circuit when China is fixed and releases only China's held notifications", async () => {
    // Prepare: a table of its own where both circuits are open and each instance holds one notification.
    const tableName = randomTableName();
    await ensureTable(engines.dynamoClient, tableName);
    const { queueUrl, priorityQueueUrl } = await createSendQueues(engines.sqsClient, { name: `inst-${Date.now()}` });
    const store = dynamoDbStore({ client: notificationDocumentClient(engines.dynamoClient), tableName });
    const held = (phone: string, instance: string): Notification =>
      makeNotification({
        recipient: { phone },
        status: 'failed',
        reason: 'provider_unavailable',
        attempts: 0,
        instance,
        nextAttemptAt: new Date(Date.now() + 20 * MINUTE).toISOString(),
        history: [{ at: new Date().toISOString(), outcome: 'held', errorType: 'circuit_open', durationMs: 0 }],
      });
    const china = held(CHINA, 'china');
    const mali = held(MALI, 'mali');
    // Held while there was one instance (named `default`), before the list: the default instance owns it now.
    const before = held('+22370123499', 'default');
    await Promise.all([store.create(china), store.create(mali), store.create(before)]);
    const cause = { reason: 'HTTP 401: token expired', errorType: 'http_error', recommendation: 'Renew the token.' };
    for (const name of ['wachap#china', 'wachap']) {
      await new ProviderCircuit({ store, clock: () => new Date(), log: silentLog, cacheMs: 0, name }).open(cause);
    }
    sandbox.configure({ instanceId: 'ML0001', mode: 'token_expired' });
    const handler = await loadModule<ProbeHandler>(
      '../../functions/provider-probe/handler.js',
      instancesEnv({ TABLE_NAME: tableName, SEND_QUEUE_URL: queueUrl, PRIORITY_SEND_QUEUE_URL: priorityQueueUrl }),
    );

    // Act: the scheduled tick, China healthy, Mali still refused.
    const tick = await handler(SCHEDULED_TICK, lambdaContext('provider-probe'));

    // Assess: each instance probed on its own; China's closed and released its one; Mali's stays open and held.
    expect(tick.instances?.china).toMatchObject({ probed: true, released: 1, circuit: { status: 'healthy' } });
    expect(tick.instances?.mali).toMatchObject({ probed: true, released: 0, circuit: { status: 'unavailable' } });
    expect(await queued(queueUrl)).toEqual([china.id]);
    expect((await store.get(china.id))?.reason).toBeUndefined();
    expect(await store.get(mali.id)).toMatchObject({ reason: 'provider_unavailable', instance: 'mali' });

    // An operator's status names the instance it is about; without one, the default (Mali).
    const status = await handler({ action: 'status' }, lambdaContext('provider-probe'));
    expect(status).toMatchObject({ instance: 'mali', circuit: { status: 'unavailable' } });

    // Act (2): Mali fixed, an operator probes it: Mali's circuit closes and releases Mali's, and the one held
    // before the list (no configured instance owns it).
    sandbox.configure({ instanceId: 'ML0001', mode: 'healthy' });
    const probe = await handler({ action: 'probe', instance: 'mali' }, lambdaContext('provider-probe'));
    expect(probe).toMatchObject({ instance: 'mali', probed: true, released: 2, circuit: { status: 'healthy' } });
    expect(await queued(queueUrl)).toEqual([mali.id, before.id].sort());
  });
});

describe('credentials per instance from the secret', () => {
  it("re-reads the secret after China's 401 and sends with China's renewed token, Mali's untouched", async () => {
    // Prepare: the secret holds the list; warm clients have read it.
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsManager.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    const arn = secretsManager.putSecret(`wachap-notifications/test/instances-${Date.now()}`, secretOf(INSTANCES));
    const log = collectingLog();
    const config = loadConfig(wachapEnv, {
      WACHAP_SECRET_ARN: arn,
      WACHAP_BASE_URL: sandbox.url,
      WACHAP_TIMEOUT_MS: '2000',
    });
    const wachap = wachapInstancesOf(config, log);
    const send = (instance: string, phone: string) =>
      wachap.client(instance).send({ phone, message: 'Votre colis est arrivé' });
    expect(await send('china', CHINA)).toMatchObject({ ok: true });
    expect(await send('mali', MALI)).toMatchObject({ ok: true });
    expect(secretsManager.reads(arn)).toBe(1);

    // Act: China's token is renewed on WaChap's side and in the secret.
    const renewed = 'cn-token-new-5e6a';
    sandbox.replaceCredentials({ instanceId: 'CN0001', accessToken: renewed });
    secretsManager.putSecret(
      arn,
      secretOf(INSTANCES.map((i) => (i.name === 'china' ? { ...i, accessToken: renewed } : i))),
    );
    const china = await send('china', CHINA);
    const mali = await send('mali', MALI);

    // Assess: China's refused call re-read the secret once and went through; Mali kept its token.
    expect(china).toMatchObject({ ok: true });
    expect(mali).toMatchObject({ ok: true });
    expect(secretsManager.reads(arn)).toBe(2);
    expect(sandbox.inbox().map((m) => m.instanceId)).toEqual(['CN0001', 'ML0001', 'CN0001', 'ML0001']);
    expect(log.text()).not.toContain(renewed);
    expect(log.text()).not.toContain(INSTANCES[1]!.accessToken);
  });

  it('refuses a malformed list in the secret with the field named and no token quoted', async () => {
    const arn = secretsManager.putSecret(
      `wachap-notifications/test/instances-bad-${Date.now()}`,
      secretOf([INSTANCES[0]!, { ...INSTANCES[1]!, name: 'china' }]),
    );
    const config = loadConfig(wachapEnv, { WACHAP_SECRET_ARN: arn, WACHAP_BASE_URL: sandbox.url });
    const log = collectingLog();
    const outcome = await wachapInstancesOf(config, log).client('china').send({ phone: CHINA, message: 'x' });
    // A config_error (the circuit holds, nothing is sent); the log names the field, and quotes no token.
    expect(outcome).toMatchObject({ ok: false, error: { type: 'config_error' } });
    expect(log.text()).toContain('instances.1.name: duplicate name');
    expect(log.text()).not.toContain(INSTANCES[0]!.accessToken);
    expect(sandbox.requests()).toBe(0);
  });
});

describe("the sandbox's instances", () => {
  it('breaks one instance from its page while the other keeps sending', async () => {
    // Act: the page's switch for China, as a browser posts it.
    const form = await fetch(`${sandbox.origin}/_sandbox/mode`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ instanceId: 'CN0001', mode: 'disconnected' }).toString(),
      redirect: 'manual',
    });
    const page = await (await fetch(`${sandbox.origin}/`)).text();
    const send = (instance: WaChapInstance, phone: string) =>
      fetch(`${sandbox.url}/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          number: phone.slice(1),
          type: 'text',
          message: 'Bonjour',
          instance_id: instance.instanceId,
          access_token: instance.accessToken,
        }),
      }).then((r) => r.json());

    // Assess: China refuses, Mali sends; the page shows each instance's switches and state, no token.
    expect(form.status).toBe(303);
    expect(await send(INSTANCES[0]!, CHINA)).toMatchObject({ status: 'error', message: /disconnected/i });
    expect(await send(INSTANCES[1]!, MALI)).not.toMatchObject({ status: 'error' });
    expect(sandbox.inbox().map((m) => m.instanceId)).toEqual(['ML0001']);
    expect(page).toContain('data-instance-current="CN0001">disconnected');
    expect(page).toContain('data-instance-current="ML0001">healthy');
    expect(page).not.toContain(INSTANCES[0]!.accessToken);
    // Another instance's token is refused: each instance accepts only its own.
    expect(await send({ ...INSTANCES[1]!, accessToken: INSTANCES[0]!.accessToken }, MALI)).toMatchObject({
      status: 'error',
      message: 'Invalid access token',
    });
  });
});

const secretOf = (instances: readonly WaChapInstance[]) => JSON.stringify({ instances });

/** Drains the queue and returns the notification ids it held. */
async function queued(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages = [] } = await engines.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return ids.sort();
    for (const m of Messages) {
      ids.push((JSON.parse(m.Body!) as { id: string }).id);
      await engines.sqsClient.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}
