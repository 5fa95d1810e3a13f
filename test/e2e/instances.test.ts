// Several WaChap instances, end to end through the stack's public doors: each notification goes through the
// instance its number (or its category) is routed to; China's expired token holds only China's notifications
// while Mali's keep flowing; once China is fixed, the scheduled probe closes China's circuit alone and releases
// China's held notifications, which are then delivered by China's number.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InstancesReport } from '../../shared/application/provider-circuit.js';
import type { Notification } from '../../shared/domain/notification.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';
import { chinesePhone, THREE_INSTANCES } from '../support/wachap-instances.js';

/** What EventBridge delivers every minute. */
const SCHEDULED_TICK = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({
    wachap: { instances: THREE_INSTANCES },
    env: { PROVIDER_PROBE_INTERVAL_SECONDS: '10' },
  });
});
afterAll(async () => {
  await e2e?.stop();
});
beforeEach(async () => {
  await e2e.configureSandbox({ mode: 'healthy' });
});

async function post(phone: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const answer = await e2e.post(notificationRequest(phone, overrides));
  expect(answer.status).toBe(202);
  return answer.body.id!;
}

async function probe(payload: unknown): Promise<InstancesReport> {
  const answer = await e2e.invoke<InstancesReport>('provider-probe', payload);
  expect(answer.functionError, JSON.stringify(answer.payload)).toBeUndefined();
  return answer.payload;
}

/** The sandbox instance (its id's first 6 characters) that received each message for `phone`. */
const receivedBy = async (phone: string): Promise<string[]> =>
  (await e2e.inbox()).messages.filter((m) => m.to === phone.slice(1)).map((m) => m.instanceId);

const isSent = (n: Notification) => n.status === 'sent';
const isHeld = (n: Notification) => n.status === 'failed' && n.reason === 'provider_unavailable' && !n.inFlight;

describe('routing to WaChap instances', () => {
  it('sends +86 through CN0001, +223 through ML0001, another country through the default, and an OTP through SY0001', async () => {
    // Prepare
    const china = chinesePhone(1);
    const mali = malianPhone(1);
    const france = '+33612345678';
    const otpPhone = chinesePhone(2);

    // Act
    const ids = await Promise.all([
      post(china),
      post(mali),
      post(france),
      post(otpPhone, { category: 'otp', title: 'Code', message: 'Votre code : 482913' }),
    ]);
    const sent = await Promise.all(ids.map((id) => waitForOutcome(e2e, id, isSent, 15_000)));

    // Assess: each number reached WaChap once, through its instance, and the record says which.
    expect(await receivedBy(china)).toEqual(['CN0001']);
    expect(await receivedBy(mali)).toEqual(['ML0001']);
    expect(await receivedBy(france)).toEqual(['ML0001']);
    expect(await receivedBy(otpPhone)).toEqual(['SY0001']);
    expect(sent.map((n) => n.instance)).toEqual(['china', 'mali', 'mali', 'system']);
    expect(sent.every((n) => n.routedTo === undefined)).toBe(true);
  });
});

describe("one instance's outage", () => {
  it("holds only China's notifications while Mali's are delivered, and releases China's alone once it is fixed", async () => {
    // Prepare: China's token has expired; Mali's number is fine.
    await e2e.configureSandbox({ instanceId: 'CN0001', mode: 'token_expired' });
    const chinaPhones = [chinesePhone(3), chinesePhone(4), chinesePhone(5)];
    const maliPhones = [malianPhone(3), malianPhone(4)];

    // Act (1): the outage.
    const chinaIds = await Promise.all(chinaPhones.map((phone) => post(phone)));
    const maliIds = await Promise.all(maliPhones.map((phone) => post(phone)));

    // Assess (1): China's wait for China's circuit, without an attempt burnt; Mali's went out through ML0001.
    const held = await Promise.all(chinaIds.map((id) => waitForOutcome(e2e, id, isHeld, 15_000)));
    for (const n of held) expect(n).toMatchObject({ instance: 'china', attempts: 0 });
    const maliSent = await Promise.all(maliIds.map((id) => waitForOutcome(e2e, id, isSent, 15_000)));
    for (const n of maliSent) expect(n.instance).toBe('mali');
    for (const phone of maliPhones) expect(await receivedBy(phone)).toEqual(['ML0001']);
    for (const phone of chinaPhones) expect(await receivedBy(phone)).toEqual([]);
    expect(await probe({ action: 'status', instance: 'china' })).toMatchObject({
      instance: 'china',
      circuit: { status: 'unavailable' },
    });
    const mali = await probe({ action: 'status', instance: 'mali' });
    expect(mali.circuit?.status ?? 'healthy').toBe('healthy');
    // The same through the operator API (the operations page's calls), signed; an unknown instance is a 400 naming it.
    const overHttp = await e2e.signed('/v1/provider/circuit?instance=china');
    expect(overHttp.status).toBe(200);
    expect(await overHttp.json()).toMatchObject({ instance: 'china', circuit: { status: 'unavailable' } });
    const unknown = await e2e.signed('/v1/provider/circuit', {
      method: 'POST',
      body: JSON.stringify({ action: 'probe', instance: 'chine' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      errors: [{ path: 'instance', message: expect.stringContaining('chine') }],
    });

    // The probe's email names the instance. (A tick that leaves China's circuit open checks it again 10 s later, as
    // long as its invocation has time: each tick here takes that long, hence this test's longer limit.)
    const outageTick = await probe(SCHEDULED_TICK);
    expect(outageTick.instances?.china).toMatchObject({ probed: true, circuit: { status: 'unavailable' } });
    const email = await waitFor(
      async () => (await e2e.emails()).find((e) => /instance china/.test(e.body.text ?? '')),
      10_000,
      "the provider email naming China's instance",
    );
    expect(email.body.text).toMatch(/WaChap \(instance china\)/);

    // Act (2): China's token is renewed on WaChap's side; the next scheduled tick probes China on its own.
    await e2e.configureSandbox({ instanceId: 'CN0001', mode: 'healthy' });
    const recovery = await waitFor(
      async () => {
        const tick = await probe(SCHEDULED_TICK);
        return tick.instances?.china?.probed && tick.instances.china.circuit?.status === 'healthy' ? tick : undefined;
      },
      30_000,
      "China's circuit closed by a scheduled tick",
      1000,
    );

    // Assess (2): China's held ones were released (and only they), then delivered once each by CN0001.
    expect(recovery.instances?.china?.released).toBe(chinaIds.length);
    expect(recovery.instances?.mali?.released ?? 0).toBe(0);
    const delivered = await Promise.all(chinaIds.map((id) => waitForOutcome(e2e, id, isSent, 20_000)));
    for (const n of delivered) expect(n).toMatchObject({ instance: 'china', attempts: 1 });
    for (const phone of chinaPhones) expect(await receivedBy(phone)).toEqual(['CN0001']);
    for (const phone of maliPhones) expect(await receivedBy(phone)).toEqual(['ML0001']);
  }, 90_000);
});
