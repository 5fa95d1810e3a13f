// The alert email an admin can act on, through the health-check handler on real engines (the local DynamoDB engine,
// the local SES, the WaChap sandbox): failures seeded in the table and the counters, the email the local SES received
// names the stage, shows the formatted rate, the newest 10 failed notifications (masked) and commands that parse as
// printed; the WhatsApp alert is short and French. A failing read of those notifications costs the alert nothing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNotificationsArgs } from '../../bin/cli/notifications-args.js';
import { storedEmails } from '../../local/engines/ses.js';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { type HealthReport, runHealthCheck } from '../../shared/application/health-check.js';
import { DEFAULT_HEALTH_THRESHOLDS } from '../../shared/domain/health.js';
import type { Notification } from '../../shared/domain/notification.js';
import { collectingLog } from '../support/collecting-log.js';
import { randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext } from '../support/lambda.js';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<HealthReport>;

const ADMIN_EMAIL = 'actionable@ts-aircargo.com';
const ADMIN_PHONE = '+22370702150';

let engines: TestEngines;
let sandbox: WaChapSandbox;

async function freshStore() {
  const tableName = randomTableName();
  await ensureTable(engines.dynamoClient, tableName);
  return { tableName, store: dynamoDbStore({ client: notificationDocumentClient(engines.dynamoClient), tableName }) };
}

/** `count` failed notifications created a minute apart (the last one newest), each with its own full number. */
function failedNotifications(count: number, now: Date): Notification[] {
  return Array.from({ length: count }, (_, i) => {
    const phone = `+2237060${String(1000 + i)}`;
    const at = new Date(now.getTime() - (count - i) * 60_000).toISOString();
    const permanent = i % 4 === 0;
    // A failed one awaits its next attempt (not due yet: no stale backlog here); a permanent failure awaits none.
    const { nextAttemptAt: _due, ...notification } = makeNotification();
    return {
      ...notification,
      ...(permanent ? {} : { nextAttemptAt: new Date(now.getTime() + 30 * 60_000).toISOString() }),
      recipient: { phone },
      category: i % 3 === 0 ? 'otp' : 'colis_arrive',
      status: permanent ? 'permanent_failure' : 'failed',
      createdAt: at,
      updatedAt: at,
      attempts: 1,
      lastError: {
        type: 'http_error',
        // WaChap's texts may echo the number: it must come out masked.
        message: `HTTP 503: number ${phone} unreachable\r\nX-Injected: yes`,
        classification: 'temporary',
        scope: 'transient',
        reason: 'temporary_error',
        at,
      },
    };
  });
}

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([startTestEngines({ ses: true }), startWaChapSandbox()]);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});

describe('the alert email of a failing hour, for the stage prod', () => {
  const now = new Date();
  let seeded: Notification[];
  let report: HealthReport;
  let email: Awaited<ReturnType<typeof storedEmails>>[number];

  beforeAll(async () => {
    // Prepare: 12 failed notifications in the table, and an hour where 20 of 30 sends failed.
    const { tableName, store } = await freshStore();
    seeded = failedNotifications(12, now);
    for (const notification of seeded) await store.create(notification);
    await store.incrementCounters(now, { attempts: 30, sent: 10, temporaryFailures: 20 });
    vi.resetModules();
    for (const [key, value] of Object.entries({
      ...engines.env,
      TABLE_NAME: tableName,
      STAGE: 'prod',
      WACHAP_INSTANCE_ID: '609ACF283XXXX',
      WACHAP_ACCESS_TOKEN: 'secret-token-646116c7',
      WACHAP_BASE_URL: sandbox.url,
      ADMIN_EMAIL,
      ADMIN_PHONE,
      ALERT_FROM_EMAIL: 'alerts@ts-aircargo.com',
      ALERT_WHATSAPP_ENABLED: 'true',
      // The DLQ is shared with other tests: keep its alert out of this email.
      ALERT_DLQ_THRESHOLD: '0',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    })) {
      vi.stubEnv(key, value);
    }
    const { handler } = (await import('../../functions/health-check/handler.js')) as unknown as { handler: Handler };

    // Act
    report = await handler({}, lambdaContext('health-check'));

    const sent = (await storedEmails(engines.ses!.endpoint)).filter((e) => e.destination.to.includes(ADMIN_EMAIL));
    expect(sent).toHaveLength(1);
    email = sent[0]!;
    vi.stubEnv('STAGE', 'local');
  });

  it('names the stage and the severity in French in the subject, the worst alert first', () => {
    expect(report.alerts.map((a) => a.kind)).toEqual(['failure_burst', 'failure_rate']);
    expect(email.subject).toBe(
      '[prod] [CRITIQUE] Notifications WhatsApp : 20 envois WhatsApp en échec dans la dernière heure (seuil 20). (+1 autre)',
    );
  });

  it('shows the failure rate as a percentage, in French then in English', () => {
    const text = email.body.text ?? '';
    const html = email.body.html ?? '';
    expect(text).toContain('66,7 % des envois WhatsApp en échec dans la dernière heure (20 sur 30 ; seuil 50,0 %).');
    expect(text).toContain('66.7% of WhatsApp sends failed in the last hour (20 of 30; threshold 50.0%).');
    expect(text.indexOf('66,7 %')).toBeLessThan(text.indexOf('66.7%'));
    expect(text).not.toMatch(/0\.666/);
    expect(html).toContain('66,7 %');
  });

  it('lists the 10 newest failed notifications: id, masked phone, category, last error on one line', () => {
    const text = email.body.text ?? '';
    const html = email.body.html ?? '';
    const newest = seeded.slice(-10);
    for (const notification of newest) {
      const line = text.split('\n').find((l) => l.includes(notification.id));
      expect(line, notification.id).toBeDefined();
      expect(line).toContain(`*******${notification.recipient.phone.slice(-4)}`);
      expect(line).toContain(` · ${notification.category} · ${notification.status} · http_error: HTTP 503: number `);
      expect(line).toContain('unreachable X-Injected: yes');
      expect(html).toContain(notification.id);
    }
    // The two oldest are beyond the 10 shown; no full number anywhere, not even inside an error text.
    for (const notification of seeded.slice(0, 2)) expect(text).not.toContain(notification.id);
    for (const notification of seeded) {
      expect(text).not.toContain(notification.recipient.phone.slice(1));
      expect(html).not.toContain(notification.recipient.phone.slice(1));
    }
    expect(text.split('\n').filter((l) => /^\s*X-Injected:/.test(l))).toEqual([]);
    expect(report.alerts[0]?.affected?.map((n) => n.id)).toEqual(newest.map((n) => n.id).reverse());
  });

  it('prints commands for prod that the CLI parses as printed', () => {
    const text = email.body.text ?? '';
    const list = 'npm run notifications -- --stage prod list --status=failed,permanent_failure --since=24h';
    const redrive = 'npm run notifications -- --stage prod retry --status=failed --since=24h --dry-run';
    expect(text).toContain(list);
    expect(text).toContain(redrive);
    for (const command of [list, redrive]) {
      const argv = command.replace('npm run notifications -- ', '').split(' ');
      const invocation = parseNotificationsArgs(argv, now);
      expect(invocation).not.toBe('help');
      expect(invocation !== 'help' && invocation.stage).toBe('prod');
    }
  });

  it('sends a short French WhatsApp alert naming the one thing to do', () => {
    const [message] = sandbox.inbox();
    expect(message?.to).toBe('22370702150');
    const lines = message!.message.split('\n');
    expect(lines).toEqual([
      '🔴 [prod] 20 envois WhatsApp en échec dans la dernière heure (seuil 20).',
      '🔴 [prod] 66,7 % des envois WhatsApp en échec dans la dernière heure (20 sur 30 ; seuil 50,0 %).',
      "À faire : vérifier l'instance WaChap (connectée ? abonnement ?) et les erreurs : npm run notifications -- --stage prod list --status=failed,permanent_failure --since=24h",
    ]);
  });
});

describe('the affected notifications, when they cannot be read', () => {
  it('leaves the list empty, logs why, and still sends the alert', async () => {
    // Prepare: the real store, whose status-index reads fail (as a throttled or denied Query would).
    const { store } = await freshStore();
    const now = new Date();
    await store.incrementCounters(now, { attempts: 30, sent: 10, temporaryFailures: 20 });
    const log = collectingLog();
    const sent: { subject: string; text: string }[] = [];
    const refusing = {
      ...store,
      listNotifications: async () => {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
          name: 'ProvisionedThroughputExceededException',
        });
      },
    };

    // Act
    const report = await runHealthCheck(false, {
      store: refusing,
      queue: { dlqDepth: async () => 0 },
      mailer: { send: async (mail) => void sent.push(mail) },
      log,
      clock: () => now,
      settings: {
        systemEnabled: true,
        emailEnabled: true,
        whatsappEnabled: false,
        adminEmail: ADMIN_EMAIL,
        cooldownMs: 3_600_000,
        thresholds: DEFAULT_HEALTH_THRESHOLDS,
        backlogCap: 100,
        stage: 'prod',
      },
    });

    // Assess
    expect(report.alerts.map((a) => [a.kind, a.email, a.affected])).toEqual([
      ['failure_burst', 'sent', []],
      ['failure_rate', 'sent', []],
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.text).toContain('Notifications concernées : aucune trouvée');
    expect(sent[0]?.text).toContain('npm run notifications -- --stage prod list --status=failed,permanent_failure');
    // One read for the two alerts (they share their selection), and one warning naming the error.
    expect(log.messages('warn')).toEqual(['affected notifications unavailable']);
    expect(log.text()).toContain('ProvisionedThroughputExceededException');
  });
});
