// A provider circuit's record (one per provider, by name), changed by read → decide → conditional write, again
// on a lost race.
import type { ProviderState } from '../domain/provider-circuit.js';
import { ConcurrentUpdateError, type ProviderStates } from './ports.js';

export type CircuitStore = ProviderStates;

/** Applies `change` to the latest state with a conditional write; returns the state it wrote, if any. */
export async function updateState(
  store: CircuitStore,
  name: string,
  change: (latest: ProviderState | undefined) => ProviderState | undefined,
): Promise<ProviderState | undefined> {
  for (let round = 0; ; round++) {
    const latest = await store.getProviderState(name);
    const next = change(latest);
    if (!next) return undefined;
    try {
      await store.putProviderState(name, next, latest?.version ?? 0);
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || round >= 3) throw error;
    }
  }
}
