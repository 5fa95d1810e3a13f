// Small soaks inside `npm test`: the same runs as `npm run soak`, fewer notifications and hours, and
// a release of a held backlog spread over several probe ticks.
import { describe, expect, it } from 'vitest';
import { RELEASE_STOP_MARGIN_MS } from '../../shared/application/release-held.js';
import { READS_PER_HELD_GOAL, runReleaseScale } from './release-scale.js';
import { formatReleaseScaleTable, formatSoakTable, releaseScaleProblems, soakProblems } from './report.js';
import { DEFAULT_SOAK, runSoak } from './soak.js';

describe('fault-injection soak (small)', () => {
  it('loses nothing, sends twice only after a crash or an ambiguous answer, never on both channels, burns no attempt during the outage', async () => {
    const result = await runSoak({
      ...DEFAULT_SOAK,
      notifications: 300,
      hours: 10,
      outageStartHour: 2,
      outageHours: 2,
      seed: 7,
    });
    console.log(formatSoakTable(result));

    expect(soakProblems(result)).toEqual([]);
    expect(result.ingested).toBe(300);
    expect(result.lost).toBe(0);
    expect(result.heldDuringOutage).toBeGreaterThan(0);
    expect(result.throttled).toBeGreaterThan(0);
    expect(result.crashes).toBeGreaterThan(0);
    expect(result.ambiguousDelivered).toBeGreaterThan(0);
    expect(result.duplicatesInjected).toBeGreaterThan(0);
    expect(result.unexplainedDuplicates).toBe(0);
    expect(result.reheldAfterRecovery).toBe(0);
    // The email channel: some went by email, none on both channels, none emailed twice.
    expect(result.sentByEmail).toBeGreaterThan(0);
    expect(result.deliveredOnBothChannels).toBe(0);
    expect(result.emailedMoreThanOnce).toBe(0);
    expect(result.sent + result.expired + result.stillScheduled + result.permanentFailures).toBe(300);
  }, 180_000);
});

describe('release of a held backlog (small)', () => {
  it('releases and queues every held notification over several short ticks, reading each about once', async () => {
    // Each tick has half a second of work before the release's stop margin: several ticks are needed.
    const result = await runReleaseScale({
      held: 3000,
      tickTimeoutMs: RELEASE_STOP_MARGIN_MS + 500,
      seed: 11,
      maxTicks: 30,
      writeConcurrency: 32,
    });
    console.log(formatReleaseScaleTable(result));

    expect(releaseScaleProblems(result)).toEqual([]);
    expect(result.ticks).toBeGreaterThan(2);
    expect(result.stillHeld).toBe(0);
    expect(result.queued).toBe(3000);
    expect(result.reheld).toBe(0);
    expect(result.releaseReadsPerHeld).toBeLessThanOrEqual(READS_PER_HELD_GOAL);
  }, 60_000);
});
