// P4: does the sender send a batch's messages side by side? The real sender handler of the local stack (its
// deployed concurrency and pacing), WaChap answering in 200 ms (the sandbox's slow mode), a ceiling that does not
// bind (100/s): the time the handler takes for a batch of 10 against a batch of one, measured alternately.
import { startE2eStack } from '../test/support/local-stack.js';
import { round } from './capacity.js';
import { acceptedNotification, benchPhone, median, sendEvent, senderContext } from './stand-ins.js';

export interface P4Result {
  p4OneCallMs: number;
  p4BatchOf10Ms: number;
  p4BatchRatio: number;
}

export async function runP4(options: { quick?: boolean } = {}): Promise<P4Result> {
  const rounds = options.quick ? 1 : 3;
  const e2e = await startE2eStack({
    env: { WACHAP_MAX_SENDS_PER_SECOND: '100', PRIORITY_SENDS_PER_SECOND: '10' },
  });
  try {
    await e2e.configureSandbox({ mode: 'slow', slowMs: 200 });
    const sender = e2e.stack.functions.sender;
    let phone = 0;
    const timeBatch = async (size: number, instance: string) => {
      const ids: string[] = [];
      for (let i = 0; i < size; i++) ids.push(await acceptedNotification(e2e.store, benchPhone(3_000_000, phone++)));
      const started = performance.now();
      const result = (await sender(sendEvent(e2e.stack.queueUrl, ids), senderContext(instance))) as
        | { batchItemFailures?: unknown[] }
        | undefined;
      const elapsed = performance.now() - started;
      if ((result?.batchItemFailures ?? []).length > 0) throw new Error('P4: the sender failed part of a batch');
      return elapsed;
    };
    // A warm-up: the first call pays for connections and the circuit's first read.
    await timeBatch(1, 'bench/warm');
    const one: number[] = [];
    const ten: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // Each measurement on a fresh instance, whose pacer has no debt from the previous one.
      one.push(await timeBatch(1, `bench/one-${i}`));
      ten.push(await timeBatch(10, `bench/ten-${i}`));
    }
    const oneMs = median(one);
    const tenMs = median(ten);
    return { p4OneCallMs: round(oneMs, 0), p4BatchOf10Ms: round(tenMs, 0), p4BatchRatio: round(tenMs / oneMs) };
  } finally {
    await e2e.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP4({ quick: false }));
