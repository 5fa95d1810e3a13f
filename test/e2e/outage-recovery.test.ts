// A WaChap outage and its recovery, end to end: twenty notifications fail while the provider answers
// 503, an operator makes them due once it is back, one sweep puts them on the queue, and every
// recipient gets its message exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack, waitFor } from '../support/local-stack.js';

const COUNT = 20;

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack();
});
afterAll(async () => {
  await e2e?.stop();
});

const allOf = async (ids: readonly string[]): Promise<Notification[]> =>
  Promise.all(ids.map(async (id) => (await e2e.getNotification(id))!));

describe('an outage, then recovery', () => {
  it('delivers every notification accepted during a 503 outage exactly once after the sweep', async () => {
    // Prepare: the provider is down while twenty different recipients are notified.
    await e2e.configureSandbox({ mode: 'unavailable' });
    const phones = Array.from({ length: COUNT }, (_, i) => malianPhone(i));
    const answers = await Promise.all(
      phones.map((phone, i) => e2e.post(notificationRequest(phone, { message: `Colis TS-${1000 + i} arrivé.` }))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(COUNT).fill(202));
    const ids = answers.map((a) => a.body.id!);

    const failed = await waitFor(
      async () => {
        const records = await allOf(ids);
        return records.every((n) => n.status === 'failed' && !n.inFlight) ? records : undefined;
      },
      20_000,
      'all notifications failed',
    );
    for (const n of failed) {
      expect(n).toMatchObject({ attempts: 1, reason: 'temporary_error', lastError: { httpStatus: 503 } });
      expect(Date.parse(n.nextAttemptAt!)).toBeGreaterThan(Date.now() + 20 * 60_000);
    }
    expect((await e2e.inbox()).messages).toEqual([]);
    // Nothing is due yet: a sweep now finds nothing.
    expect((await e2e.invoke<SweepSummary>('retry-sweep', {})).payload).toMatchObject({ found: 0, queued: 0 });

    // Act: the provider is back; the operator moves the next attempts to the past and runs the sweep.
    await e2e.configureSandbox({ mode: 'healthy' });
    await Promise.all(ids.map((id) => e2e.makeDue(id)));
    const sweep = await e2e.invoke<SweepSummary>('retry-sweep', {});

    // Assess
    expect(sweep.statusCode).toBe(200);
    expect(sweep.payload).toMatchObject({ dryRun: false, found: COUNT, queued: COUNT, exhausted: 0, skipped: 0 });
    const sent = await waitFor(
      async () => {
        const records = await allOf(ids);
        return records.every((n) => n.status === 'sent') ? records : undefined;
      },
      20_000,
      'all notifications sent',
    );
    const { messages } = await e2e.inbox();
    expect(messages).toHaveLength(COUNT);
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    expect([...perRecipient.keys()].sort()).toEqual(phones.map((p) => p.slice(1)).sort());
    expect([...perRecipient.values()].every((count) => count === 1)).toBe(true);
    for (const n of sent) {
      const delivered = messages.find((m) => m.to === n.recipient.phone.slice(1));
      expect(n).toMatchObject({ attempts: 2, externalMessageId: delivered?.id });
      expect(delivered?.message).toContain(n.message);
    }

    // Nothing is left to do: another sweep finds nothing and WaChap hears nothing more.
    expect((await e2e.invoke<SweepSummary>('retry-sweep', {})).payload).toMatchObject({ found: 0 });
    expect((await e2e.inbox()).requests).toBe(2 * COUNT);
  });
});
