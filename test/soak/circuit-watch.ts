// The provider circuit's history, as written: every open and close, in the order they landed, at the
// virtual time each one says (the state's `since`). The audit reads it to tell when WaChap was
// detected down and back, and whether a sender held a notification while the circuit was closed.
import type { Store } from '../../shared/adapters/dynamodb/store.js';

export interface CircuitChange {
  status: 'healthy' | 'unavailable';
  /** Virtual time of the change (the state's `since`). */
  at: number;
  /** Why it opened, in the provider's words. */
  reason?: string;
}

export class CircuitWatch {
  readonly changes: CircuitChange[] = [];

  /** Records the changes written through `store` (the one the functions write the circuit with). */
  watch(store: Pick<Store, 'putProviderState'>): void {
    const put = store.putProviderState.bind(store);
    store.putProviderState = async (name, state, expectedVersion) => {
      await put(name, state, expectedVersion);
      if (this.changes.at(-1)?.status !== state.status) {
        this.changes.push({
          status: state.status,
          at: Date.parse(state.since),
          ...(state.reason !== undefined ? { reason: state.reason } : {}),
        });
      }
    };
  }

  /**
   * Whether the circuit was closed at `at`: after a close (strictly: a sender at the very instant of the
   * close may have read it just before), and not opened again since.
   */
  closedAt(at: number): boolean {
    let closed = true;
    for (const change of this.changes) {
      if (change.status === 'healthy' ? change.at < at : change.at <= at) closed = change.status === 'healthy';
    }
    return closed;
  }
}
