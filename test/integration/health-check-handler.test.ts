import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { storedEmails } from '../../local/engines/ses.js';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import { ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { silentLog } from '../../shared/observability/logger.js';
import { randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext } from '../support/lambda.js';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<HealthReport>;

const ADMIN = {
  ADMIN_EMAIL: 'admin@ts-aircargo.com',
  ALERT_FROM_EMAIL: 'alerts@ts-aircargo.com',
  ADMIN_PHONE: '+22370702150',
};
const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };

let engines: TestEngines;
let sandbox: WaChapSandbox;

async function loadHandler(extra: Record<string, string> = {}): Promise<Handler> {
  vi.resetModules();
  // A fresh table per handler, so that cooldowns and counters of one test do not leak into another.
  for (const [key, value] of Object.entries({
    ...engines.env,
    ...CREDENTIALS,
    ...ADMIN,
    WACHAP_BASE_URL: sandbox.url,
    ...extra,
  })) {
    vi.stubEnv(key, value);
  }
  return ((await import('../../functions/health-check/handler.js')) as unknown as { handler: Handler }).handler;
}

const invoke = (handler: Handler, payload: unknown = {}) => handler(payload, lambdaContext('health-check'));
const emailsTo = async (to: string) =>
  (await storedEmails(engines.ses!.endpoint)).filter((e) => e.destination.to.includes(to));

async function failingHour(attempts: number, failures: number) {
  await engines.store.incrementCounters(new Date(), {
    attempts,
    temporaryFailures: failures,
    sent: attempts - failures,
  });
}

let dynamo: DynamoDBClient;

/** A table of its own, for a test whose state must not meet the others'. */
async function freshTable() {
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  return { tableName };
}
const storeOn = (tableName: string) => dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([startTestEngines({ ses: true }), startWaChapSandbox()]);
  dynamo = engines.dynamoClient;
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});
beforeEach(() => sandbox.reset());

describe('health-check handler', () => {
  it('reports healthy figures and sends nothing when all is well', async () => {
    const handler = await loadHandler({ TABLE_NAME: engines.tableName });
    const report = await invoke(handler);
    expect(report.alerts).toEqual([]);
    expect(report.delivered).toEqual({ email: 0, whatsapp: 0 });
    expect(report.dlqDepth).toBe(0);
    expect(report.windows.lastHour).toMatchObject({ attempts: 0, failureRate: 0 });
  });

  it('dry run computes the alerts and sends nothing', async () => {
    await failingHour(30, 25);
    const handler = await loadHandler({ ALERT_WHATSAPP_ENABLED: 'true' });
    const before = (await emailsTo(ADMIN.ADMIN_EMAIL)).length;
    const report = await invoke(handler, { dryRun: true });
    expect(report.alerts.map((a) => a.kind).sort()).toEqual(['failure_burst', 'failure_rate']);
    expect(report.alerts.every((a) => a.email === 'dry_run' && a.whatsapp === 'dry_run')).toBe(true);
    expect((await emailsTo(ADMIN.ADMIN_EMAIL)).length).toBe(before);
    expect(sandbox.inbox()).toEqual([]);
  });

  it('alerts by one email and one WhatsApp message, then stays quiet within the cooldown', async () => {
    const handler = await loadHandler({ ALERT_WHATSAPP_ENABLED: 'true' });
    const before = (await emailsTo(ADMIN.ADMIN_EMAIL)).length;
    const first = await invoke(handler);
    expect(first.windows.lastHour).toMatchObject({ attempts: 30, temporaryFailures: 25, failures: 25 });
    expect(first.delivered).toEqual({ email: 2, whatsapp: 2 });

    const emails = (await emailsTo(ADMIN.ADMIN_EMAIL)).slice(before);
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toMatch(/^\[local\] \[CRITIQUE\] Notifications WhatsApp : /);
    expect(emails[0]?.from).toBe(ADMIN.ALERT_FROM_EMAIL);
    expect(emails[0]?.body.text).toContain('What to do');
    expect(emails[0]?.body.html).toContain('<h2>');
    expect(sandbox.inbox()).toHaveLength(1);
    expect(sandbox.inbox()[0]?.to).toBe('22370702150');

    const second = await invoke(handler);
    expect(second.alerts.every((a) => a.email === 'cooldown')).toBe(true);
    expect((await emailsTo(ADMIN.ADMIN_EMAIL)).length).toBe(before + 1);
  });

  it("names the function's stage (STAGE) in the commands its alerts print", async () => {
    const { tableName } = await freshTable();
    await new ProviderCircuit({ store: storeOn(tableName), clock: () => new Date(), log: silentLog, cacheMs: 0 }).open({
      reason: 'HTTP 401: Unauthorized: token expired',
      errorType: 'http_error',
      recommendation: 'Renew the WaChap access token.',
    });
    const handler = await loadHandler({ TABLE_NAME: tableName, STAGE: 'prod' });

    const report = await invoke(handler, { dryRun: true });

    expect(report.alerts.find((a) => a.kind === 'provider_unavailable')?.recommendation).toContain(
      '`npm run circuit -- --stage prod --close`',
    );
    vi.stubEnv('STAGE', 'local'); // the stubs outlive the test: the next handlers are the local stack's again
  });

  it('sends one alert when two runs race', async () => {
    const table = `${engines.tableName}`;
    const handler = await loadHandler({
      ALERT_COOLDOWN_MINUTES: '60',
      TABLE_NAME: table,
      ADMIN_EMAIL: 'race@ts-aircargo.com',
    });
    await engines.sqsClient.send(new SendMessageCommand({ QueueUrl: engines.dlqUrl, MessageBody: '{"poison":true}' }));
    const [a, b] = await Promise.all([invoke(handler), invoke(handler)]);
    const dead = [a, b].map((r) => r.alerts.find((x) => x.kind === 'dead_letters'));
    expect(dead.map((d) => d?.email).sort()).toEqual(['cooldown', 'sent']);
    expect(a.dlqDepth).toBeGreaterThanOrEqual(1);
  });

  it('reports an open provider circuit as an alert of its own: state, since when, why', async () => {
    const { tableName } = await freshTable();
    const handler = await loadHandler({ TABLE_NAME: tableName, ADMIN_EMAIL: 'circuit@ts-aircargo.com' });
    const store = storeOn(tableName);
    await new ProviderCircuit({ store, clock: () => new Date(), log: silentLog, cacheMs: 0 }).open({
      reason: 'HTTP 401: Unauthorized: token expired',
      errorType: 'http_error',
      recommendation: 'Renew the WaChap access token.',
    });

    const report = await invoke(handler);

    expect(report.provider).toMatchObject({ status: 'unavailable', reason: 'HTTP 401: Unauthorized: token expired' });
    // (The DLQ is shared with the other tests: a dead_letters alert may come along.)
    const alert = report.alerts.find((a) => a.kind === 'provider_unavailable');
    expect(alert).toMatchObject({ severity: 'critical', email: 'sent' });
    const emails = await emailsTo('circuit@ts-aircargo.com');
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toMatch(
      /^\[local\] \[CRITIQUE\] Notifications WhatsApp : WaChap est indisponible depuis/,
    );
    expect(emails[0]?.body.text).toContain('token expired');
  });

  it('alerts a stale backlog by email only: WhatsApp is for critical alerts', async () => {
    await engines.store.create(
      makeNotification({ status: 'failed', nextAttemptAt: new Date(Date.now() - 3 * 3_600_000).toISOString() }),
    );
    const handler = await loadHandler({
      ALERT_WHATSAPP_ENABLED: 'true',
      ALERT_BACKLOG_AGE_MINUTES: '60',
      ALERT_HOURLY_FAILURE_THRESHOLD: '1',
      ADMIN_EMAIL: 'backlog@ts-aircargo.com',
    });
    const report = await invoke(handler);
    const burst = report.alerts.find((a) => a.kind === 'failure_burst');
    expect(burst).toMatchObject({ email: 'cooldown' });
    const stale = report.alerts.find((a) => a.kind === 'stale_backlog');
    expect(stale).toMatchObject({ severity: 'warning', email: 'sent', whatsapp: 'not_critical' });
    expect(report.backlog.count).toBeGreaterThanOrEqual(1);
  });

  it('still emails when WhatsApp fails, and says so in the report', async () => {
    sandbox.configure({ mode: 'unavailable' });
    // A table of its own: no cooldown from earlier tests, and a failing hour of its own.
    const tableName = `${engines.tableName}-split`;
    await ensureTable(new DynamoDBClient({ endpoint: engines.dynamodb.endpoint }), tableName);
    const handler = await loadHandler({
      ALERT_WHATSAPP_ENABLED: 'true',
      TABLE_NAME: tableName,
      ADMIN_EMAIL: 'split@ts-aircargo.com',
    });
    const store = dynamoDbStore({
      client: notificationDocumentClient(new DynamoDBClient({ endpoint: engines.dynamodb.endpoint })),
      tableName,
    });
    await store.incrementCounters(new Date(), { attempts: 20, temporaryFailures: 20 });

    const report = await invoke(handler);
    const critical = report.alerts.filter((a) => a.severity === 'critical');
    expect(critical.map((a) => a.kind).sort()).toEqual(['failure_burst', 'failure_rate']);
    for (const alert of critical) {
      expect(alert).toMatchObject({ email: 'sent', whatsapp: 'failed' });
      expect(alert.errors?.join(' ')).toMatch(/whatsapp: WaChap http_error/);
    }
    expect(await emailsTo('split@ts-aircargo.com')).toHaveLength(1);
  });

  it('sends nothing at all when the alert system is off', async () => {
    const handler = await loadHandler({ ALERT_SYSTEM_ENABLED: 'false', ADMIN_EMAIL: 'off@ts-aircargo.com' });
    const report = await invoke(handler);
    expect(report.alerts.length).toBeGreaterThan(0);
    expect(report.alerts.every((a) => a.email === 'disabled' && a.whatsapp === 'disabled')).toBe(true);
    expect(await emailsTo('off@ts-aircargo.com')).toEqual([]);
  });

  it('refuses a bad payload naming the field', async () => {
    const handler = await loadHandler();
    const result = (await invoke(handler, { dryRun: 'no' })) as unknown as {
      statusCode: number;
      details: { path: string }[];
    };
    expect(result.statusCode).toBe(400);
    expect(result.details[0]?.path).toBe('dryRun');
  });
});
