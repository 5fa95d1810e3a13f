// The provider circuit's one record, changed by read → decide → conditional write, again on a lost race.
import { type ProviderState, WACHAP_PROVIDER } from '../domain/provider-circuit.js';
import { ConcurrentUpdateError, type ProviderStates } from './ports.js';

export type CircuitStore = ProviderStates;

/** Applies `change` to the latest state with a conditional write; returns the state it wrote, if any. */
export async function updateState(
  store: CircuitStore,
  change: (latest: ProviderState | undefined) => ProviderState | undefined,
): Promise<ProviderState | undefined> {
  for (let round = 0; ; round++) {
    const latest = await store.getProviderState(WACHAP_PROVIDER);
    const next = change(latest);
    if (!next) return undefined;
    try {
      await store.putProviderState(WACHAP_PROVIDER, next, latest?.version ?? 0);
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || round >= 3) throw error;
    }
  }
}
