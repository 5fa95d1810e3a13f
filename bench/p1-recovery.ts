// P1: recovery after an outage. The whole local stack with its schedules (the provider probe at its deployed rate),
// WaChap behind a ceiling of 20/s (the stand-in answering 429 above it). The sandbox refuses the token (expired);
// 1,000 notifications (100 with --quick) are posted and held by the circuit; then, just after a check of the probe
// found it still broken, WaChap is healthy again. From that moment: the circuit closed, the first held notification's
// attempt at WaChap, and the last one's (all sent).
import { mapWithConcurrency } from '../shared/application/concurrency.js';
import { WACHAP_PROVIDER } from '../shared/domain/provider-circuit.js';
import { startE2eStack, waitFor } from '../test/support/local-stack.js';
import { round } from './capacity.js';
import { benchPhone, startCeilingProxy } from './stand-ins.js';

export interface P1Result {
  p1Held: number;
  p1CeilingPerSecond: number;
  p1FirstHeldAttemptSeconds: number;
  p1AllHeldSentSeconds: number;
  /** WaChap healthy → the circuit closed (the probe's check that found it healthy). */
  p1CircuitClosedSeconds: number;
  /** The held notifications' pace at WaChap, first to last attempt, per second. */
  p1DrainPerSecond: number;
  /** The goal for all sent: 20 s + held ÷ (0.9 × ceiling). */
  p1AllHeldSentGoalSeconds: number;
  /** Held notifications WaChap has not received (refused with a 429, their retry half an hour later). */
  p1Unsent: number;
  p1Http429: number;
}

export async function runP1(options: { quick?: boolean; ceiling?: number } = {}): Promise<P1Result> {
  const count = options.quick ? 100 : 1_000;
  const ceiling = options.ceiling ?? 20;
  const proxy = await startCeilingProxy(ceiling);
  const e2e = await startE2eStack({
    schedules: true,
    env: {
      WACHAP_BASE_URL: `${proxy.url}/api`,
      WACHAP_MAX_SENDS_PER_SECOND: String(ceiling),
      PRIORITY_SENDS_PER_SECOND: '2',
      // As deployed: the senders trust their read of the circuit for 5 s.
      CIRCUIT_CACHE_SECONDS: '5',
    },
  });
  try {
    proxy.setTarget(e2e.stack.urls.wachap);
    // Only these recipients count: an alert to the admin may reach WaChap too.
    const ours = new Set(Array.from({ length: count }, (_, i) => benchPhone(5_000_000, i)));
    await e2e.configureSandbox({ mode: 'token_expired' });
    await mapWithConcurrency(
      Array.from({ length: count }, (_, i) => i),
      16,
      async (i) => {
        const answer = await e2e.post({
          recipient: { phone: benchPhone(5_000_000, i) },
          category: 'colis_arrive',
          message: `Votre colis ${i} est arrivé à Bamako.`,
        });
        if (answer.status !== 202) throw new Error(`P1: notification ${i}: HTTP ${answer.status}`);
      },
    );
    // Held: both lanes drained (every message handled, the notifications parked by the open circuit).
    await waitFor(
      async () => {
        const [standard, priority] = await Promise.all([
          e2e.queueDepth(e2e.stack.queueUrl),
          e2e.queueDepth(e2e.stack.priorityQueueUrl),
        ]);
        return standard.visible + standard.inFlight + priority.visible + priority.inFlight === 0;
      },
      300_000,
      'the send queues drained during the outage',
      500,
    );
    const before = (await e2e.inbox()).messages.filter((m) => ours.has(`+${m.to}`)).length;
    const held = count - before;
    // WaChap is fixed just after a check of the probe found it broken, as the schedule has long been running in AWS
    // (locally its first tick comes a minute after the start): the worst case, a whole probe interval to wait.
    const probedBefore = (await e2e.store.getProviderState(WACHAP_PROVIDER))?.lastProbeAt;
    await waitFor(
      async () => {
        const probedAt = (await e2e.store.getProviderState(WACHAP_PROVIDER))?.lastProbeAt;
        return probedAt !== undefined && probedAt !== probedBefore;
      },
      120_000,
      'a check of the probe during the outage',
      100,
    );
    proxy.reset();
    const recoveredAt = Date.now();
    await e2e.configureSandbox({ mode: 'healthy' });
    const reached = async () => (await e2e.inbox()).messages.filter((m) => ours.has(`+${m.to}`));
    const queuesIdle = async () => {
      const depths = await Promise.all([
        e2e.queueDepth(e2e.stack.queueUrl),
        e2e.queueDepth(e2e.stack.priorityQueueUrl),
      ]);
      return depths.every((depth) => depth.visible + depth.inFlight === 0);
    };
    // Every recipient reached; or WaChap refused some (429) and nothing is left on the queues: those wait out their
    // retry's backoff (half an hour), so "all sent" cannot be measured in this run and is left out (n/a).
    const messages = await waitFor(
      async () => {
        const all = await reached();
        if (new Set(all.map((m) => m.to)).size >= count) return { all, complete: true };
        return proxy.refused() > 0 && (await queuesIdle()) ? { all, complete: false } : undefined;
      },
      Math.max(300_000, (count / ceiling) * 6000),
      `${count} notifications at WaChap after the recovery`,
      250,
    );
    const after = messages.all.map((m) => Date.parse(m.at)).filter((at) => at >= recoveredAt);
    const [first, last] = [Math.min(...after), Math.max(...after)];
    const closedAt = Date.parse((await e2e.store.getProviderState(WACHAP_PROVIDER))?.since ?? '');
    return {
      p1Held: held,
      p1CeilingPerSecond: ceiling,
      p1FirstHeldAttemptSeconds: round((first - recoveredAt) / 1000, 1),
      p1AllHeldSentSeconds: messages.complete ? round((last - recoveredAt) / 1000, 1) : Number.NaN,
      p1CircuitClosedSeconds: round((closedAt - recoveredAt) / 1000, 1),
      p1DrainPerSecond: round((after.length - 1) / Math.max(0.001, (last - first) / 1000), 1),
      p1AllHeldSentGoalSeconds: round(20 + held / (0.9 * ceiling), 1),
      p1Unsent: count - new Set(messages.all.map((m) => m.to)).size,
      p1Http429: proxy.refused(),
    };
  } finally {
    await e2e.stop();
    await proxy.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP1({ quick: true }));
