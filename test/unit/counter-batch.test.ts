import { describe, expect, it } from 'vitest';
import { counterBatch } from '../../shared/application/counter-batch.js';
import type { HourlyCounters } from '../../shared/application/ports.js';

type Write = Parameters<HourlyCounters['incrementCounters']>;

function recording(fail = false) {
  const writes: Write[] = [];
  const warnings: string[] = [];
  const sink: Pick<HourlyCounters, 'incrementCounters'> = {
    incrementCounters: async (...args) => {
      if (fail) throw new Error('throttled');
      writes.push(args);
    },
  };
  const log = { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error() {} };
  return { writes, warnings, batch: counterBatch(sink, log) };
}

const at = (iso: string) => new Date(iso);

describe('counterBatch', () => {
  it('writes nothing until flushed, then one write per hour touched with the sums', async () => {
    const { writes, batch } = recording();
    await batch.incrementCounters(at('2026-01-01T10:10:00Z'), { attempts: 1, sent: 1 });
    await batch.incrementCounters(at('2026-01-01T10:50:00Z'), { attempts: 1, temporaryFailures: 1, failureStreak: 1 });
    await batch.incrementCounters(at('2026-01-01T11:00:00Z'), { expired: 1 });
    expect(writes).toEqual([]);

    await batch.flush();

    expect(writes).toEqual([
      [at('2026-01-01T10:10:00Z'), { attempts: 2, sent: 1, temporaryFailures: 1, failureStreak: 1 }, undefined],
      [at('2026-01-01T11:00:00Z'), { expired: 1 }, undefined],
    ]);
    await batch.flush();
    expect(writes).toHaveLength(2);
  });

  it('a delivered send restarts the run: only the failures after it are the streak, set rather than added', async () => {
    const { writes, batch } = recording();
    const hour = at('2026-01-01T10:00:00Z');
    await batch.incrementCounters(hour, { attempts: 1, temporaryFailures: 1, failureStreak: 1 });
    await batch.incrementCounters(hour, { attempts: 1, sent: 1 }, { resetFailureStreak: true });
    await batch.incrementCounters(hour, { attempts: 1, temporaryFailures: 1, failureStreak: 1 });

    await batch.flush();

    expect(writes).toEqual([
      [hour, { attempts: 3, temporaryFailures: 2, sent: 1, failureStreak: 1 }, { resetFailureStreak: true }],
    ]);
  });

  it('logs a write that fails instead of failing the batch, and forgets it (counts, never a move)', async () => {
    const { warnings, batch } = recording(true);
    await batch.incrementCounters(at('2026-01-01T10:00:00Z'), { sent: 1 });

    await expect(batch.flush()).resolves.toBeUndefined();

    expect(warnings).toEqual(['hourly counters not updated']);
  });
});
