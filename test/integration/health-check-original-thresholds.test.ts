// ALERT_FAILED_OTP_THRESHOLD and ALERT_WHATSAPP_FAILURE_THRESHOLD end to end on real engines: the sender's failed
// attempts feed the hourly counters, the health-check handler reads them, alerts by email and WhatsApp, and a
// delivered send ends the run of failures.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { storedEmails } from '../../local/engines/ses.js';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import { randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext, sqsEvent } from '../support/lambda.js';

type HealthHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<HealthReport>;
type SenderHandler = (
  event: ReturnType<typeof sqsEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<SQSBatchResponse>;

const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };
const ADMIN = { ALERT_FROM_EMAIL: 'alerts@ts-aircargo.com', ADMIN_PHONE: '+22370702150' };

let engines: TestEngines;
let sandbox: WaChapSandbox;
let dynamo: DynamoDBClient;

/** A table of its own, and the sender and health-check handlers on it, with `env` over the defaults. */
async function world(env: Record<string, string> = {}) {
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  vi.resetModules();
  vi.unstubAllEnvs();
  for (const [key, value] of Object.entries({
    ...engines.env,
    ...CREDENTIALS,
    ...ADMIN,
    ADMIN_EMAIL: `${tableName}@ts-aircargo.com`,
    WACHAP_BASE_URL: sandbox.url,
    WACHAP_TIMEOUT_MS: '400',
    CIRCUIT_CACHE_SECONDS: '0',
    TABLE_NAME: tableName,
    ...env,
  })) {
    vi.stubEnv(key, value);
  }
  const health = ((await import('../../functions/health-check/handler.js')) as unknown as { handler: HealthHandler })
    .handler;
  const sender = ((await import('../../functions/sender/handler.js')) as unknown as { handler: SenderHandler }).handler;
  const store: Store = dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });
  return {
    store,
    adminEmail: `${tableName}@ts-aircargo.com`,
    check: (payload: unknown = {}) => health(payload, lambdaContext('health-check')),
    /** Stores a due notification and hands its id to the sender, as the send queue would. */
    async send(category: string, phone: string) {
      const n = makeNotification({
        category,
        priority: category === 'otp' ? 'high' : 'normal',
        recipient: { phone },
        maxAttempts: 10,
        nextAttemptAt: new Date(Date.now() - 1000).toISOString(),
      });
      await store.create(n);
      await sender(sqsEvent([JSON.stringify({ id: n.id })]), lambdaContext('sender'));
      return (await store.get(n.id))!;
    },
    /** Makes a failed notification due again and hands it to the sender: its next attempt. */
    async sendAgain(id: string) {
      const n = (await store.get(id))!;
      await store.save(
        { ...n, nextAttemptAt: new Date(Date.now() - 1000).toISOString(), version: n.version + 1 },
        n.version,
      );
      await sender(sqsEvent([JSON.stringify({ id })]), lambdaContext('sender'));
      return (await store.get(id))!;
    },
  };
}

const emailsTo = async (to: string) =>
  (await storedEmails(engines.ses!.endpoint)).filter((e) => e.destination.to.includes(to));

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([
    startTestEngines({ ses: true }),
    startWaChapSandbox({ instanceId: CREDENTIALS.WACHAP_INSTANCE_ID, accessToken: CREDENTIALS.WACHAP_ACCESS_TOKEN }),
  ]);
  dynamo = engines.dynamoClient;
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});
beforeEach(() => sandbox.reset());

describe('health-check handler: the original thresholds', () => {
  it('alerts on OTP failures (ALERT_FAILED_OTP_THRESHOLD) by email and WhatsApp, counting each OTP once', async () => {
    const w = await world({ ALERT_FAILED_OTP_THRESHOLD: '3', ALERT_WHATSAPP_ENABLED: 'true' });
    sandbox.configure({ mode: 'unavailable' });
    // Two OTPs fail; one of them fails twice: still two OTPs. An ordinary notification failing is no OTP.
    const first = await w.send('otp', '+22370000001');
    expect(first).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await w.sendAgain(first.id)).toMatchObject({ status: 'failed', attempts: 2 });
    await w.send('otp', '+22370000002');
    await w.send('colis_arrive', '+22370000003');
    const calm = await w.check({ dryRun: true });
    expect(calm.windows.lastHour).toMatchObject({ otpFailures: 2, temporaryFailures: 4 });
    expect(calm.alerts.map((a) => a.kind)).not.toContain('otp_failures');

    await w.send('otp', '+22370000004');
    sandbox.configure({ mode: 'healthy' });
    const report = await w.check();

    expect(report.windows.lastHour.otpFailures).toBe(3);
    const alert = report.alerts.find((a) => a.kind === 'otp_failures');
    expect(alert).toMatchObject({ severity: 'critical', email: 'sent', whatsapp: 'sent', figures: { otpFailures: 3 } });
    const [email] = await emailsTo(w.adminEmail);
    expect(email?.subject).toContain('[CRITIQUE]');
    expect(email?.body.text).toContain('3 OTP notifications failed in the last hour (threshold 3)');
    expect(sandbox.inbox().map((m) => m.to)).toContain('22370702150');
    expect(sandbox.inbox().find((m) => m.to === '22370702150')?.message).toContain('notifications OTP en échec');
  });

  it('alerts on WhatsApp failures in a row (ALERT_WHATSAPP_FAILURE_THRESHOLD); a delivered send ends the run', async () => {
    const w = await world({ ALERT_WHATSAPP_FAILURE_THRESHOLD: '3', ALERT_HOURLY_FAILURE_THRESHOLD: '100' });
    // A delivered send, then three failures in a row; a bad number in between neither counts nor breaks the run.
    await w.send('colis_arrive', '+22370000011');
    sandbox.configure({ mode: 'unavailable' });
    await w.send('colis_arrive', '+22370000012');
    await w.send('colis_arrive', '+22370000013');
    sandbox.configure({ mode: 'healthy', invalidNumbers: ['22370000014'] });
    expect(await w.send('colis_arrive', '+22370000014')).toMatchObject({ status: 'permanent_failure' });
    sandbox.configure({ mode: 'unavailable' });
    const before = await w.check({ dryRun: true });
    expect(before.consecutiveFailures).toBe(2);
    expect(before.alerts.map((a) => a.kind)).not.toContain('consecutive_failures');
    await w.send('colis_arrive', '+22370000015');

    const report = await w.check();

    expect(report.consecutiveFailures).toBe(3);
    expect(report.alerts.find((a) => a.kind === 'consecutive_failures')).toMatchObject({
      severity: 'critical',
      email: 'sent',
      figures: { consecutiveFailures: 3, threshold: 3 },
    });
    expect((await emailsTo(w.adminEmail))[0]?.body.text).toContain('3 WhatsApp sends failed in a row');

    // WaChap is back: one delivered send ends the run.
    sandbox.configure({ mode: 'healthy' });
    expect(await w.send('colis_arrive', '+22370000016')).toMatchObject({ status: 'sent' });
    const after = await w.check({ dryRun: true });
    expect(after.consecutiveFailures).toBe(0);
    expect(after.alerts.map((a) => a.kind)).not.toContain('consecutive_failures');
  });

  it('reads hours counted before these counters existed as zero', async () => {
    const w = await world();
    // An hour written by the previous version: only the fields it knew.
    await w.store.incrementCounters(new Date(), { attempts: 12, sent: 4, temporaryFailures: 8 });

    const report = await w.check({ dryRun: true });

    expect(report.windows.lastHour).toMatchObject({ attempts: 12, otpFailures: 0 });
    expect(report.consecutiveFailures).toBe(0);
    expect(report.alerts.map((a) => a.kind)).not.toContain('consecutive_failures');
  });

  it('turns each off with 0', async () => {
    const w = await world({ ALERT_FAILED_OTP_THRESHOLD: '0', ALERT_WHATSAPP_FAILURE_THRESHOLD: '0' });
    await w.store.incrementCounters(new Date(), {
      attempts: 50,
      temporaryFailures: 1,
      otpFailures: 40,
      failureStreak: 40,
    });

    const report = await w.check({ dryRun: true });

    expect(report.windows.lastHour.otpFailures).toBe(40);
    expect(report.alerts.map((a) => a.kind)).not.toContain('otp_failures');
    expect(report.alerts.map((a) => a.kind)).not.toContain('consecutive_failures');
  });
});
