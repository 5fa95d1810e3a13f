// A provider-wide outage (WaChap's token expired), end to end through the stack's public doors: the
// circuit stops the calls after the first failures, thirty notifications wait without burning an
// attempt, the admin is told by email, and once WaChap is healthy the scheduled probe closes the
// circuit and every recipient gets its message exactly once, within two minutes. Then an operator
// closes the circuit by hand with `npm run circuit -- --close`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_OPTIONS } from '../../local/stack.js';
import type { CircuitReport } from '../../shared/application/provider-circuit.js';
import type { Notification } from '../../shared/domain/notification.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack, waitFor } from '../support/local-stack.js';
import { runCli } from '../support/operator-cli.js';

const COUNT = 30;
const PROBE_INTERVAL_SECONDS = 10;
/** What EventBridge delivers every minute. */
const SCHEDULED_TICK = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
/** WaChap calls one sender batch makes at once (SENDER_CONCURRENCY's default, a whole batch), times the instances. */
const SENDS_IN_FLIGHT = 10 * DEFAULT_LOCAL_OPTIONS.senderMaxConcurrency;

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({ env: { PROVIDER_PROBE_INTERVAL_SECONDS: String(PROBE_INTERVAL_SECONDS) } });
});
afterAll(async () => {
  await e2e?.stop();
});

const allOf = async (ids: readonly string[]): Promise<Notification[]> =>
  Promise.all(ids.map(async (id) => (await e2e.getNotification(id))!));

const isHeld = (n: Notification) => n.status === 'failed' && n.reason === 'provider_unavailable' && !n.inFlight;

async function probe(payload: unknown): Promise<CircuitReport> {
  const answer = await e2e.invoke<CircuitReport>('provider-probe', payload);
  expect(answer.functionError, JSON.stringify(answer.payload)).toBeUndefined();
  return answer.payload;
}

/** Posts one notification per phone while WaChap is broken, and waits until all of them are held. */
async function heldNotifications(phones: readonly string[], tag: string): Promise<string[]> {
  const answers = await Promise.all(
    phones.map((phone, i) => e2e.post(notificationRequest(phone, { message: `Colis ${tag}-${1000 + i} arrivé.` }))),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(phones.length).fill(202));
  const ids = answers.map((a) => a.body.id!);
  await waitFor(async () => (await allOf(ids)).every(isHeld), 30_000, `all ${tag} notifications held`);
  return ids;
}

function expectEachOnce(messages: { to: string }[], phones: readonly string[]) {
  const perRecipient = new Map<string, number>();
  for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
  expect([...perRecipient.keys()].sort()).toEqual(phones.map((p) => p.slice(1)).sort());
  expect([...perRecipient.values()].every((count) => count === 1)).toBe(true);
}

describe('a provider outage: token expired', () => {
  it('holds thirty notifications without calling WaChap or burning attempts, then delivers each once within 2 minutes of the fix', async () => {
    // Prepare: WaChap's token has expired while thirty different recipients are notified.
    await e2e.configureSandbox({ mode: 'token_expired' });
    const phones = Array.from({ length: COUNT }, (_, i) => malianPhone(i));

    // Act (1): the outage.
    const ids = await heldNotifications(phones, 'TS');

    // Assess (1): every one waits, no attempt used, and the circuit stopped the calls after the first failures.
    for (const n of await allOf(ids)) {
      expect(n).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
      expect(n.history.at(-1)).toMatchObject({ outcome: 'held' });
      expect(Date.parse(n.nextAttemptAt!)).toBeGreaterThan(Date.now() + 20 * 60_000);
    }
    const outage = await e2e.inbox();
    console.info(`WaChap /send calls during the outage: ${outage.requests} for ${COUNT} notifications`);
    expect(outage.messages).toEqual([]);
    expect(outage.requests).toBeGreaterThanOrEqual(1);
    expect(outage.requests).toBeLessThanOrEqual(SENDS_IN_FLIGHT);

    const status = await probe({ action: 'status' });
    expect(status).toMatchObject({ action: 'status', probed: false, circuit: { status: 'unavailable' } });
    expect(status.circuit?.reason).toMatch(/401.*token expired/i);
    expect(status.circuit?.forced).toBeUndefined();

    // The scheduled tick while it is still broken: probed, still open, the admin told once by email.
    const broken = await probe(SCHEDULED_TICK);
    expect(broken).toMatchObject({ probed: true, alert: 'sent', circuit: { status: 'unavailable' } });
    expect(broken.probeResult).toMatch(/401/);
    const alerts = (await e2e.emails()).filter((e) => /WaChap est indisponible/.test(e.subject));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.destination.to).toEqual(['admin@ts-aircargo.local']);
    expect((await probe(SCHEDULED_TICK)).alert).toBe('cooldown');

    // Act (2): the admin renews the token; the schedule keeps ticking (sped up here: every 2 s).
    await e2e.configureSandbox({ mode: 'healthy' });
    const fixedAt = Date.now();
    const closing = await waitFor(
      async () => {
        const tick = await probe(SCHEDULED_TICK);
        return tick.circuit?.status === 'healthy' ? tick : undefined;
      },
      2 * PROBE_INTERVAL_SECONDS * 1000,
      'the circuit closed by a scheduled tick',
      2_000,
    );
    expect(closing).toMatchObject({ probed: true, probeResult: 'healthy', released: COUNT });

    const delivered = await waitFor(
      async () => {
        const { messages } = await e2e.inbox();
        return messages.length >= COUNT ? messages : undefined;
      },
      90_000,
      `${COUNT} messages in the inbox`,
    );
    const recoveryMs = Math.max(...delivered.map((m) => Date.parse(m.at))) - fixedAt;
    console.info(
      `recovery: ${(recoveryMs / 1000).toFixed(1)} s from the fix to the last held message delivered ` +
        `(probe interval ${PROBE_INTERVAL_SECONDS} s, circuit closed after ${((Date.parse(closing.now) - fixedAt) / 1000).toFixed(1)} s)`,
    );

    // Assess (2): within two minutes, each recipient exactly once, and only the successful attempt counted.
    expect(recoveryMs).toBeLessThan(120_000);
    const sent = await waitFor(
      async () => {
        const records = await allOf(ids);
        return records.every((n) => n.status === 'sent') ? records : undefined;
      },
      20_000,
      'all notifications recorded sent',
    );
    const { messages, requests } = await e2e.inbox();
    expect(messages).toHaveLength(COUNT);
    expectEachOnce(messages, phones);
    for (const n of sent) {
      const message = messages.find((m) => m.to === n.recipient.phone.slice(1));
      expect(n).toMatchObject({ attempts: 1, externalMessageId: message?.id });
      expect(n.reason).toBeUndefined();
      expect(n.history.filter((h) => h.outcome === 'sent')).toHaveLength(1);
    }
    expect(requests).toBe(outage.requests + COUNT);
    expect(await probe({ action: 'status' })).toMatchObject({ circuit: { status: 'healthy' } });
  }, 180_000);
});

describe('an operator closes the circuit by hand', () => {
  it('`npm run circuit -- --close` releases the held notifications at once', async () => {
    // The previous test left the circuit closed; the token expires again.
    await e2e.configureSandbox({ mode: 'token_expired' });
    const before = await e2e.inbox();
    const phones = Array.from({ length: 5 }, (_, i) => malianPhone(COUNT + i));
    const ids = await heldNotifications(phones, 'OP');

    const status = await runCli('circuit', ['--status'], { LAMBDA_PORT: new URL(e2e.stack.urls.lambda).port });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('OUVERT / OPEN');
    expect(status.stdout).toMatch(/Raison \/ reason\s+: .*token expired/i);

    // The admin renewed the token and does not wait for the next probe.
    await e2e.configureSandbox({ mode: 'healthy' });
    const close = await runCli('circuit', ['--close'], { LAMBDA_PORT: new URL(e2e.stack.urls.lambda).port });

    expect(close.code, close.stderr).toBe(0);
    expect(close.stdout).toContain('FERMÉ / CLOSED');
    expect(close.stdout).toMatch(/Action\s+: fermeture par un opérateur \/ closed by an operator/);
    expect(close.stdout).toMatch(/Libérées \/ released\s+: 5 notification/);
    const sent = await waitFor(
      async () => {
        const records = await allOf(ids);
        return records.every((n) => n.status === 'sent') ? records : undefined;
      },
      20_000,
      'the held notifications sent',
    );
    expect(sent.every((n) => n.attempts === 1)).toBe(true);
    const messages = (await e2e.inbox()).messages.slice(before.messages.length);
    expectEachOnce(messages, phones);
  }, 60_000);
});
