// The recovery figure the README promises, measured with the local stack's defaults: the provider probe on
// its one-minute schedule, each tick checking an open circuit every 10 s until the next, senders trusting a
// closed circuit for 5 s, WaChap paced at 5 sends a second. Twenty notifications held during an outage must
// all be delivered within 75 s of WaChap answering healthily again: one probe interval, then the drain. WaChap
// is fixed just after a probe found it broken, so the measure is the worst case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/domain/notification.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack, waitFor } from '../support/local-stack.js';

const COUNT = 20;
const LIMIT_SECONDS = 75;

let e2e: E2eStack;

beforeAll(async () => {
  // The deployed defaults, not the e2e helper's shortcuts (it reads the circuit fresh on every send).
  e2e = await startE2eStack({ schedules: true, env: { CIRCUIT_CACHE_SECONDS: '5' } });
});
afterAll(async () => {
  await e2e?.stop();
});

const isHeld = (n: Notification | undefined) => n?.status === 'failed' && n.reason === 'provider_unavailable';

describe('recovery from an outage, with the local defaults', () => {
  it(`delivers ${COUNT} held notifications, each once, within ${LIMIT_SECONDS} s of WaChap being healthy`, async () => {
    // Prepare: WaChap's token has expired; twenty recipients are notified and held.
    await e2e.configureSandbox({ mode: 'token_expired' });
    const phones = Array.from({ length: COUNT }, (_, i) => malianPhone(i));
    const answers = await Promise.all(phones.map((phone) => e2e.post(notificationRequest(phone))));
    const ids = answers.map((a) => a.body.id!);
    await waitFor(
      async () => (await Promise.all(ids.map((id) => e2e.getNotification(id)))).every(isHeld),
      30_000,
      'all notifications held',
    );

    // The scheduled probe finds WaChap still broken once: from there the next check is a whole interval away
    // (the tick's own watch, or the next tick), the worst case.
    await waitFor(
      async () => (await e2e.store.getProviderState(WACHAP_PROVIDER))?.lastProbeAt,
      90_000,
      'a first scheduled probe',
      250,
    );

    // Act: the admin renews the token.
    await e2e.configureSandbox({ mode: 'healthy' });
    const healthyAt = Date.now();
    const { messages } = await waitFor(
      async () => {
        const inbox = await e2e.inbox();
        return inbox.messages.length >= COUNT ? inbox : undefined;
      },
      (LIMIT_SECONDS + 30) * 1000,
      'every held notification delivered',
    );
    const seconds = (Date.now() - healthyAt) / 1000;
    const closedAt = Date.parse((await e2e.store.getProviderState(WACHAP_PROVIDER))?.since ?? '');
    console.info(
      `Recovery: ${COUNT} held notifications all delivered ${seconds.toFixed(1)} s after WaChap was healthy ` +
        `(probe tick closed the circuit after ${((closedAt - healthyAt) / 1000).toFixed(1)} s, ` +
        `drain ${((Date.now() - closedAt) / 1000).toFixed(1)} s)`,
    );

    // Assess
    expect(seconds).toBeLessThanOrEqual(LIMIT_SECONDS);
    expect(messages.map((m) => m.to).sort()).toEqual(phones.map((p) => p.slice(1)).sort());
    for (const id of ids) expect((await e2e.getNotification(id))?.status).toBe('sent');
  }, 300_000);
});
