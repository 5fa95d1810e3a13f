// Failover between WaChap instances, end to end (its own file: WACHAP_FAILOVER is read at cold start, and the
// handlers are module singletons). With {"china":"mali"}, a notification routed to China while China's circuit
// is open goes out through Mali's number at once instead of waiting, and its record says so; while both are
// down, it waits for China. Without the setting (instances.test.ts), China's notifications wait.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/domain/notification.js';
import { type E2eStack, notificationRequest, startE2eStack, waitForOutcome } from '../support/local-stack.js';
import { chinesePhone, THREE_INSTANCES } from '../support/wachap-instances.js';

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({
    wachap: { instances: THREE_INSTANCES },
    env: { WACHAP_FAILOVER: JSON.stringify({ china: 'mali' }) },
  });
});
afterAll(async () => {
  await e2e?.stop();
});
beforeEach(async () => {
  await e2e.configureSandbox({ mode: 'healthy' });
});

async function post(phone: string): Promise<string> {
  const answer = await e2e.post(notificationRequest(phone));
  expect(answer.status).toBe(202);
  return answer.body.id!;
}

const receivedBy = async (phone: string): Promise<string[]> =>
  (await e2e.inbox()).messages.filter((m) => m.to === phone.slice(1)).map((m) => m.instanceId);

const isSent = (n: Notification) => n.status === 'sent';
const isHeld = (n: Notification) => n.status === 'failed' && n.reason === 'provider_unavailable' && !n.inFlight;

describe('failover china → mali', () => {
  it("delivers China's notification through ML0001 while China is down, and the record says so", async () => {
    // Prepare: China's phone is disconnected; a first notification finds it out and opens China's circuit.
    await e2e.configureSandbox({ instanceId: 'CN0001', mode: 'disconnected' });
    const first = chinesePhone(20);
    const second = chinesePhone(21);

    // Act
    const firstId = await post(first);
    const firstOutcome = await waitForOutcome(e2e, firstId, (n) => isHeld(n) || isSent(n), 15_000);
    const secondId = await post(second);
    const sent = await waitForOutcome(e2e, secondId, isSent, 15_000);

    // Assess: the one whose attempt found China down is held for China (a refused attempt is no send, and the
    // claim allows one send per attempt); the next goes out through Mali's number, and says it stood in.
    expect(firstOutcome).toMatchObject({ status: 'failed', reason: 'provider_unavailable', instance: 'china' });
    expect(sent).toMatchObject({ instance: 'mali', routedTo: 'china', attempts: 1 });
    expect(await receivedBy(second)).toEqual(['ML0001']);
    expect(await receivedBy(first)).toEqual([]);
  });

  it('waits for China when its stand-in is down too', async () => {
    // Prepare: China's circuit is open (previous test, or opened here); Mali is broken as well.
    await e2e.configureSandbox({ instanceId: 'CN0001', mode: 'disconnected' });
    await e2e.configureSandbox({ instanceId: 'ML0001', mode: 'token_expired' });
    const phone = chinesePhone(22);

    // Act
    const id = await post(phone);
    const outcome = await waitForOutcome(e2e, id, isHeld, 15_000);

    // Assess: held for China, its own instance, even if its attempt went through Mali and failed there (Mali's
    // circuit is the one that attempt opened); nothing reached WaChap for it.
    expect(outcome.instance).toBe('china');
    expect(await receivedBy(phone)).toEqual([]);
  });
});
