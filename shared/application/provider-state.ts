// A provider circuit's record (one per provider, by name), changed by read → decide → conditional write, again
// on a lost race.
import type { ProviderState } from '../domain/provider-circuit.js';
import { type Pause, realPause, withRetries } from './concurrency.js';
import { ConcurrentUpdateError, type ProviderStates } from './ports.js';

export type CircuitStore = ProviderStates;

/** A read of the state that a throttle does not turn into a lost tick. */
export const readState = (
  store: CircuitStore,
  name: string,
  pause: Pause = realPause,
): Promise<ProviderState | undefined> => withRetries(() => store.getProviderState(name), { pause });

/**
 * Applies `change` to the latest state with a conditional write; returns the state it wrote, if any. A lost
 * race reads again and decides again; a throttle or a timeout is tried again after a pause.
 */
export async function updateState(
  store: CircuitStore,
  name: string,
  change: (latest: ProviderState | undefined) => ProviderState | undefined,
  pause: Pause = realPause,
): Promise<ProviderState | undefined> {
  for (let round = 0; ; round++) {
    const latest = await readState(store, name, pause);
    const next = change(latest);
    if (!next) return undefined;
    try {
      await withRetries(() => store.putProviderState(name, next, latest?.version ?? 0), {
        retryable: (error) => !(error instanceof ConcurrentUpdateError),
        pause,
      });
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || round >= 3) throw error;
    }
  }
}
