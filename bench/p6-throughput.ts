// P6: throughput at the provider's ceiling. The whole local stack (API door, ingest, queues, event sources, sender)
// configured for a ceiling of 20/s, in front of a WaChap stand-in that lets 20 /send calls through per rolling
// second and answers 429 above it. 1,000 notifications (100 with --quick) posted at once: the pace WaChap accepted
// them at, as a fraction of the ceiling; the 429s; the recipients who got a message twice.
import { mapWithConcurrency } from '../shared/application/concurrency.js';
import { startE2eStack, waitFor } from '../test/support/local-stack.js';
import { round } from './capacity.js';
import { benchPhone, startCeilingProxy } from './stand-ins.js';

export interface P6Result {
  p6FractionOfCeiling: number;
  p6SendsPerSecond: number;
  p6Http429: number;
  p6Duplicates: number;
  p6Notifications: number;
}

export async function runP6(options: { quick?: boolean; ceiling?: number } = {}): Promise<P6Result> {
  const count = options.quick ? 100 : 1_000;
  const ceiling = options.ceiling ?? 20;
  const proxy = await startCeilingProxy(ceiling);
  const e2e = await startE2eStack({
    env: {
      WACHAP_BASE_URL: `${proxy.url}/api`,
      WACHAP_MAX_SENDS_PER_SECOND: String(ceiling),
      PRIORITY_SENDS_PER_SECOND: '2',
    },
  });
  try {
    proxy.setTarget(e2e.stack.urls.wachap);
    // Only these recipients count: an alert to the admin may reach WaChap too.
    const ours = new Set(Array.from({ length: count }, (_, i) => benchPhone(4_000_000, i)));
    await mapWithConcurrency(
      Array.from({ length: count }, (_, i) => i),
      16,
      async (i) => {
        const answer = await e2e.post({
          recipient: { phone: benchPhone(4_000_000, i) },
          category: 'colis_arrive',
          message: `Votre colis ${i} est arrivé à Bamako.`,
        });
        if (answer.status !== 202) throw new Error(`P6: notification ${i}: HTTP ${answer.status}`);
      },
    );
    const messages = await waitFor(
      async () => {
        const all = (await e2e.inbox()).messages.filter((m) => ours.has(`+${m.to}`));
        return new Set(all.map((m) => m.to)).size >= count ? all : undefined;
      },
      Math.max(120_000, (count / ceiling) * 4000),
      `${count} notifications at WaChap`,
      250,
    );
    const accepted = proxy.accepted().sort((a, b) => a - b);
    const first = accepted[0]!;
    const last = accepted.at(-1)!;
    const perSecond = last > first ? (accepted.length - 1) / ((last - first) / 1000) : 0;
    const byRecipient = new Map<string, number>();
    for (const m of messages) byRecipient.set(m.to, (byRecipient.get(m.to) ?? 0) + 1);
    return {
      p6FractionOfCeiling: round(perSecond / ceiling),
      p6SendsPerSecond: round(perSecond, 1),
      p6Http429: proxy.refused(),
      p6Duplicates: [...byRecipient.values()].reduce((sum, n) => sum + (n - 1), 0),
      p6Notifications: count,
    };
  } finally {
    await e2e.stop();
    await proxy.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP6({ quick: true }));
