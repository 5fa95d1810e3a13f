// The operator's two tools, end to end: the retry sweep (a dry run changes nothing, the real run
// delivers) and the health check (failing traffic sends one alert email, then stays quiet for the hour).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack, waitFor } from '../support/local-stack.js';

const ADMIN_EMAIL = 'ops-e2e@example.com';
const ALERT_FROM_EMAIL = 'alerts-e2e@example.com';
const FAILURE_THRESHOLD = 5;

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({
    env: { ADMIN_EMAIL, ALERT_FROM_EMAIL, ALERT_HOURLY_FAILURE_THRESHOLD: String(FAILURE_THRESHOLD) },
  });
});
afterAll(async () => {
  await e2e?.stop();
});

/** Posts one notification per phone while the provider answers 503, and waits until each has failed once. */
async function failDuringOutage(phones: readonly string[]): Promise<string[]> {
  await e2e.configureSandbox({ mode: 'unavailable' });
  const answers = await Promise.all(phones.map((phone) => e2e.post(notificationRequest(phone))));
  const ids = answers.map((a) => a.body.id!);
  await waitFor(
    async () => {
      const records = await Promise.all(ids.map((id) => e2e.getNotification(id)));
      return records.every((n) => n?.status === 'failed' && !n.inFlight);
    },
    15_000,
    'all notifications failed',
  );
  return ids;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('retry sweep', () => {
  it('in a dry run reports the due work and changes nothing; the real run queues and delivers it', async () => {
    // Prepare: three failed notifications, made due by an operator, and a provider that is back.
    const phones = [malianPhone(50), malianPhone(51), malianPhone(52)];
    const ids = await failDuringOutage(phones);
    await Promise.all(ids.map((id) => e2e.makeDue(id)));
    await e2e.configureSandbox({ mode: 'healthy' });
    const itemsBefore = await Promise.all(ids.map((id) => e2e.rawItem(id)));
    const inboxBefore = await e2e.inbox();

    // Act: the dry run.
    const dry = await e2e.invoke<SweepSummary>('retry-sweep', { dryRun: true, verbose: true });

    // Assess: a full report, and not one byte changed nor one message sent.
    expect(dry.statusCode).toBe(200);
    expect(dry.payload).toMatchObject({ dryRun: true, found: 3, exhausted: 0, expired: 0, skipped: 0 });
    expect(dry.payload.notifications?.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(dry.payload.notifications?.every((e) => e.action === 'queue' && e.attempts === 1)).toBe(true);
    expect(dry.payload.notifications?.map((e) => e.recipient)).toEqual(
      expect.arrayContaining(['*******3450', '*******3451', '*******3452']),
    );
    // Only waiting shows that nothing was put on the queue: the sender polls it every second.
    await sleep(3_000);
    expect(await Promise.all(ids.map((id) => e2e.rawItem(id)))).toStrictEqual(itemsBefore);
    expect(await e2e.inbox()).toEqual(inboxBefore);
    expect(await e2e.queueDepth(e2e.stack.queueUrl)).toEqual({ visible: 0, inFlight: 0 });

    // Act: the real run.
    const real = await e2e.invoke<SweepSummary>('retry-sweep', {});

    // Assess
    expect(real.payload).toMatchObject({ dryRun: false, found: 3, queued: 3 });
    const sent = await waitFor(
      async () => {
        const records = await Promise.all(ids.map((id) => e2e.getNotification(id)));
        return records.every((n) => n?.status === 'sent') ? (records as Notification[]) : undefined;
      },
      10_000,
      'all notifications sent',
    );
    expect(sent.map((n) => n.attempts)).toEqual([2, 2, 2]);
    const { messages } = await e2e.inbox();
    expect(messages.map((m) => m.to).sort()).toEqual(phones.map((p) => p.slice(1)).sort());
  });
});

describe('health check', () => {
  it('sends one alert email for failing traffic, and none on a second run within the hour', async () => {
    // Prepare: at least the threshold's worth of failures in the current hour.
    await failDuringOutage(Array.from({ length: FAILURE_THRESHOLD }, (_, i) => malianPhone(60 + i)));
    const emailsBefore = await e2e.emails();

    // Act
    const first = await e2e.invoke<HealthReport>('health-check', {});

    // Assess: a critical failure_burst alert, delivered by one email to the admin.
    expect(first.statusCode).toBe(200);
    expect(first.payload.windows.lastHour.failures).toBeGreaterThanOrEqual(FAILURE_THRESHOLD);
    const burst = first.payload.alerts.find((a) => a.kind === 'failure_burst');
    expect(burst).toMatchObject({ severity: 'critical', email: 'sent', figures: { threshold: FAILURE_THRESHOLD } });
    // Every fresh alert (failure_rate too, with this traffic) travels in that one email.
    expect(first.payload.alerts.every((a) => a.email === 'sent')).toBe(true);
    expect(first.payload.delivered.email).toBe(first.payload.alerts.length);
    const emails = await e2e.emails();
    expect(emails).toHaveLength(emailsBefore.length + 1);
    const email = emails.at(-1)!;
    expect(email.from).toBe(ALERT_FROM_EMAIL);
    expect(email.destination.to).toEqual([ADMIN_EMAIL]);
    expect(email.subject).toMatch(
      /^\[local\] \[CRITIQUE\] Notifications WhatsApp : \d+ envois WhatsApp en échec dans la dernière heure/,
    );
    expect(email.body.text).toContain('What to do:');

    // Act: the next run, a moment later.
    const second = await e2e.invoke<HealthReport>('health-check', {});

    // Assess: the same alerts are found, held back by their cooldown; no email.
    expect(second.payload.alerts.map((a) => a.kind)).toEqual(first.payload.alerts.map((a) => a.kind));
    expect(second.payload.alerts.every((a) => a.email === 'cooldown')).toBe(true);
    expect(second.payload.delivered.email).toBe(0);
    expect(await e2e.emails()).toHaveLength(emails.length);
  });
});
