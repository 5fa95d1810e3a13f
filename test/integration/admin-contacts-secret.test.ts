// The admin's contacts kept with the other secrets: in AWS the alerting functions read them from the admin-contacts
// secret (a real SDK client against the fake Secrets Manager), never from the template. A changed address reaches
// warm functions after ADMIN_CONTACTS_MAX_AGE_SECONDS; a malformed field stops that channel's alerts with an error
// log naming the field, and the health check goes on with the other channel.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../local/engines/secrets-manager.js';
import { storedEmails } from '../../local/engines/ses.js';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { CircuitReport } from '../../shared/application/provider-circuit.js';
import { alertEnv, loadConfig } from '../../shared/config.js';
import { openCircuit, WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { adminContacts } from '../../shared/runtime-secrets.js';
import { collectingLog } from '../support/collecting-log.js';
import { randomTableName } from '../support/dynamodb.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { lambdaContext } from '../support/lambda.js';

const FIRST = { email: 'first-admin@ts-aircargo.com', phone: '+22370702150' };
const SECOND = { email: 'second-admin@ts-aircargo.com', phone: '+22370702151' };
const T0 = new Date('2026-03-01T08:00:00Z');
const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };

let secretsManager: RunningSecretsManager;
let counter = 0;

/** A secret of its own for each test. */
function newSecret(value: unknown): string {
  counter += 1;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return secretsManager.putSecret(`wachap-notifications/test/admin-contacts-${counter}`, text);
}

/** A warm function's contacts source, built as the handlers build it: from the environment, through runtime.ts. */
function functionContacts(env: Record<string, string>) {
  const log = collectingLog();
  return { contacts: adminContacts(loadConfig(alertEnv, env), log), log };
}

beforeAll(async () => {
  secretsManager = await startSecretsManager();
});
afterAll(async () => {
  await secretsManager?.stop();
});

describe('the admin-contacts secret read by a warm function', () => {
  beforeAll(() => {
    // The SDK client runtime.ts builds reads its endpoint, region and credentials from the environment.
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsManager.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
  });
  beforeEach(() => secretsManager.setAvailable(true));
  afterEach(() => vi.useRealTimers());
  afterAll(() => vi.unstubAllEnvs());

  it("gives the secret's contacts, the phone normalised; the secret wins over ADMIN_EMAIL", async () => {
    const arn = newSecret({ email: FIRST.email, phone: '+223 70 70 21 50' });
    const { contacts } = functionContacts({ ADMIN_CONTACTS_SECRET_ARN: arn, ADMIN_EMAIL: 'local@example.com' });

    expect(await contacts()).toEqual(FIRST);
  });

  it('picks up a changed address after ADMIN_CONTACTS_MAX_AGE_SECONDS, and not before', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const arn = newSecret(FIRST);
    const { contacts } = functionContacts({ ADMIN_CONTACTS_SECRET_ARN: arn, ADMIN_CONTACTS_MAX_AGE_SECONDS: '60' });
    expect(await contacts()).toEqual(FIRST);

    // Act: the admin changes while the function is warm.
    secretsManager.putSecret(arn, JSON.stringify(SECOND));
    vi.setSystemTime(T0.getTime() + 59_000);
    const within = await contacts();
    vi.setSystemTime(T0.getTime() + 61_000);
    const past = await contacts();

    expect(within).toEqual(FIRST);
    expect(past).toEqual(SECOND);
    expect(secretsManager.reads(arn)).toBe(2);
  });

  it('keeps the contacts read before when Secrets Manager is down past the max age', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const arn = newSecret(FIRST);
    const { contacts, log } = functionContacts({
      ADMIN_CONTACTS_SECRET_ARN: arn,
      ADMIN_CONTACTS_MAX_AGE_SECONDS: '60',
    });
    await contacts();
    secretsManager.setAvailable(false);
    vi.setSystemTime(T0.getTime() + 61_000);

    expect(await contacts()).toEqual(FIRST);
    expect(log.messages('warn')).toContain(
      'admin-contacts secret could not be re-read; keeping the contacts read before',
    );
  });

  it('reports, without throwing, a secret it cannot read at all', async () => {
    const arn = newSecret(FIRST);
    const { contacts, log } = functionContacts({ ADMIN_CONTACTS_SECRET_ARN: arn });
    secretsManager.setAvailable(false);

    const read = await contacts();

    expect(read.email).toBeUndefined();
    expect(read.problems?.join(' ')).toMatch(/the admin-contacts secret could not be read \(\w+/);
    expect(log.messages('error')).toEqual(['admin-contacts secret unreadable: alerts cannot be addressed']);
  });

  it.each([
    [{ email: FIRST.email, phone: '12' }, { email: FIRST.email }, /^phone: must be a phone number/],
    [{ email: 'admin-at-example', phone: FIRST.phone }, { phone: FIRST.phone }, /^email: must be an e-mail address/],
    [{ email: 'SET-AFTER-DEPLOY', phone: 'SET-AFTER-DEPLOY' }, {}, /^email: still the placeholder SET-AFTER-DEPLOY/],
    [{ email: 42 }, {}, /^email: must be a string/],
    ['not json at all', {}, /not JSON: expected \{"email"/],
    ['["a@b.c"]', {}, /not a JSON object/],
  ])(
    'keeps the valid field of %j and names the bad one in an error log, never its value',
    async (value, valid, problem) => {
      const arn = newSecret(value);
      const { contacts, log } = functionContacts({ ADMIN_CONTACTS_SECRET_ARN: arn });

      const read = await contacts();

      expect({ email: read.email, phone: read.phone }).toEqual({ email: undefined, phone: undefined, ...valid });
      expect(read.problems?.[0]).toMatch(problem);
      expect(log.messages('error')).toEqual([
        'admin-contacts secret malformed: alerts for the channel concerned are skipped',
      ]);
      expect(log.text()).not.toMatch(/admin-at-example|"12"|not json at all/);
    },
  );

  it('lower-cases the domain of the address, which SES compares with alertRecipients case-sensitively', async () => {
    const arn = newSecret({ email: 'Ops.Admin@TS-AirCargo.COM' });
    const { contacts } = functionContacts({ ADMIN_CONTACTS_SECRET_ARN: arn });

    expect((await contacts()).email).toBe('Ops.Admin@ts-aircargo.com');
  });

  it('uses ADMIN_EMAIL / ADMIN_PHONE, the local shorthand, when no secret is configured', async () => {
    const { contacts } = functionContacts({ ADMIN_EMAIL: FIRST.email, ADMIN_PHONE: '70 70 21 50' });

    const readsBefore = secretsManager.reads();

    expect(await contacts()).toEqual(FIRST);
    expect(secretsManager.reads()).toBe(readsBefore);
  });
});

describe('the alerting handlers with the admin-contacts secret', () => {
  type Handler<R> = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<R>;
  let engines: TestEngines;
  let sandbox: WaChapSandbox;

  async function load<R>(name: 'health-check' | 'provider-probe', env: Record<string, string>): Promise<Handler<R>> {
    vi.resetModules();
    for (const [key, value] of Object.entries({
      ...engines.env,
      ...CREDENTIALS,
      WACHAP_BASE_URL: sandbox.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      ALERT_FROM_EMAIL: 'alerts@ts-aircargo.com',
      ALERT_WHATSAPP_ENABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    })) {
      vi.stubEnv(key, value);
    }
    const imports = {
      'health-check': () => import('../../functions/health-check/handler.js'),
      'provider-probe': () => import('../../functions/provider-probe/handler.js'),
    };
    return ((await imports[name]()) as unknown as { handler: Handler<R> }).handler;
  }

  let dynamo: DynamoDBClient;
  const emailsTo = async (to: string) =>
    (await storedEmails(engines.ses!.endpoint)).filter((email) => email.destination.to.includes(to));
  const storeOn = (tableName: string): Store =>
    dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });

  /** A table of its own, with a failing hour in its counters: two critical alerts, no cooldown taken yet. */
  async function freshTableWithFailures(): Promise<string> {
    const tableName = randomTableName();
    await ensureTable(dynamo, tableName);
    await storeOn(tableName).incrementCounters(new Date(), { attempts: 30, temporaryFailures: 25, sent: 5 });
    return tableName;
  }

  beforeAll(async () => {
    [engines, sandbox] = await Promise.all([
      startTestEngines({ ses: true }),
      startWaChapSandbox({ instanceId: CREDENTIALS.WACHAP_INSTANCE_ID, accessToken: CREDENTIALS.WACHAP_ACCESS_TOKEN }),
    ]);
    dynamo = new DynamoDBClient({
      endpoint: engines.dynamodb.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
  });
  beforeEach(() => sandbox.reset());
  afterAll(async () => {
    vi.unstubAllEnvs();
    dynamo?.destroy();
    await Promise.all([engines?.stop(), sandbox?.close()]);
  });

  it('the health check alerts the address and the phone in the secret', async () => {
    const arn = newSecret(FIRST);
    const health = await load<HealthReport>('health-check', {
      ADMIN_CONTACTS_SECRET_ARN: arn,
      TABLE_NAME: await freshTableWithFailures(),
    });

    const report = await health({}, lambdaContext('health-check'));

    expect(report.delivered).toEqual({ email: 2, whatsapp: 2 });
    expect(await emailsTo(FIRST.email)).toHaveLength(1);
    expect(sandbox.inbox().map((message) => message.to)).toEqual([FIRST.phone.slice(1)]);
    expect(secretsManager.reads(arn)).toBe(1);
  });

  it('a malformed phone in the secret skips the WhatsApp alerts with the reason, and the email still goes', async () => {
    const arn = newSecret({ email: SECOND.email, phone: 'call me' });
    const health = await load<HealthReport>('health-check', {
      ADMIN_CONTACTS_SECRET_ARN: arn,
      TABLE_NAME: await freshTableWithFailures(),
    });

    const report = await health({}, lambdaContext('health-check'));

    expect(report.alerts.length).toBeGreaterThan(0);
    for (const alert of report.alerts) {
      expect(alert).toMatchObject({ email: 'sent', whatsapp: 'not_configured' });
      expect(alert.errors?.join(' ')).toMatch(/phone: must be a phone number in international format/);
    }
    expect(await emailsTo(SECOND.email)).toHaveLength(1);
    expect(sandbox.inbox()).toEqual([]);
  });

  it('the provider probe emails the address in the secret while the circuit is open', async () => {
    const arn = newSecret({ email: SECOND.email.replace('second', 'probe') });
    const tableName = await freshTableWithFailures();
    const probe = await load<CircuitReport>('provider-probe', {
      ADMIN_CONTACTS_SECRET_ARN: arn,
      TABLE_NAME: tableName,
    });
    const opened = openCircuit(undefined, new Date(), {
      reason: 'HTTP 401: Unauthorized: token expired',
      errorType: 'http_error',
      recommendation: 'Renew the WaChap access token in the dashboard.',
    });
    await storeOn(tableName).putProviderState(WACHAP_PROVIDER, opened!, 0);
    sandbox.configure({ mode: 'token_expired' });

    const report = await probe({ action: 'probe' }, lambdaContext('provider-probe'));

    expect(report).toMatchObject({ probed: true, alert: 'sent' });
    expect(await emailsTo('probe-admin@ts-aircargo.com')).toHaveLength(1);
  });
});
