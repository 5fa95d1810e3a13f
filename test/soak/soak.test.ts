// A small soak inside `npm test`: the same run as `npm run soak`, fewer notifications and hours.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOAK, formatSoakTable, runSoak, soakProblems } from './soak.js';

describe('fault-injection soak (small)', () => {
  it('loses nothing, sends twice only in the crash window, burns no attempt during the outage', async () => {
    const result = await runSoak({
      ...DEFAULT_SOAK,
      notifications: 300,
      hours: 10,
      outageStartHour: 2,
      outageHours: 2,
      seed: 7,
    });
    const table = formatSoakTable(result);
    console.log(table);

    expect(soakProblems(result)).toEqual([]);
    expect(result.ingested).toBe(300);
    expect(result.lost).toEqual([]);
    expect(result.heldDuringOutage).toBeGreaterThan(0);
    expect(result.throttled).toBeGreaterThan(0);
    expect(result.crashes).toBeGreaterThan(0);
    expect(result.duplicatesInjected).toBeGreaterThan(0);
    expect(
      result.sent +
        result.expired +
        result.scheduled.count +
        Object.values(result.permanentFailures).reduce((a, b) => a + b, 0),
    ).toBe(300);
  }, 180_000);
});
