// The hourly counters of many moves added up in memory and written once: a sender's batch of ten deliveries costs
// one counter write, not ten (and the hour's counter item is no longer a hot key: see the README's scale on paper).
// What a move counts is still decided by applyTransition, move by move; only the write is deferred to flush().
// A crash before the flush loses those counts (the health check's figures read a little low for that hour), never
// a notification: every move was written before it was counted.
import { COUNTER_FIELDS, type HourlyCounts } from '../domain/counters.js';
import type { Log } from '../observability/logger.js';
import type { HourlyCounters } from './ports.js';

export interface CounterBatch extends Pick<HourlyCounters, 'incrementCounters'> {
  /** Writes what was added since the last flush, one write per hour touched; a failed write is logged, not thrown. */
  flush(): Promise<void>;
}

interface HourTotals {
  at: Date;
  delta: Partial<HourlyCounts>;
  /** A delivered send set the streak back to 0 in this batch: delta.failureStreak is then the run since. */
  reset: boolean;
}

const HOUR_MS = 3_600_000;

export function counterBatch(sink: Pick<HourlyCounters, 'incrementCounters'>, log: Log): CounterBatch {
  let hours = new Map<number, HourTotals>();
  return {
    async incrementCounters(at, delta, options) {
      const hour = Math.floor(at.getTime() / HOUR_MS);
      const totals = hours.get(hour) ?? { at, delta: {}, reset: false };
      hours.set(hour, totals);
      if (options?.resetFailureStreak) {
        // The run starts again from this move: failures before it in the batch no longer count towards it.
        totals.reset = true;
        totals.delta.failureStreak = 0;
      }
      for (const field of COUNTER_FIELDS) {
        const amount = delta[field];
        if (amount !== undefined && amount !== 0) totals.delta[field] = (totals.delta[field] ?? 0) + amount;
      }
    },
    async flush() {
      const pending = [...hours.values()];
      hours = new Map();
      await Promise.all(
        pending.map(async ({ at, delta, reset }) => {
          try {
            await sink.incrementCounters(at, delta, reset ? { resetFailureStreak: true } : undefined);
          } catch (error) {
            // Counters feed the health check; the moves they count happened and stay written.
            log.warn('hourly counters not updated', {
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          }
        }),
      );
    },
  };
}
