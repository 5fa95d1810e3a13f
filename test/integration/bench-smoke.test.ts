// The bench runs and prints its figures: its quick store-cost figures (P2, P3) as one JSON object of finite numbers.
// Never a timing: the machine is shared, the bench itself says how fast.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run bench (smoke)', () => {
  it('prints P2 and P3 as finite numbers with --quick --only p2,p3 --json', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'p2,p3', '--json'],
      { timeout: 150_000, maxBuffer: 1 << 20 },
    );
    const figures = JSON.parse(stdout.trim()) as Record<string, unknown>;
    for (const key of [
      'p2WritesPerDelivered',
      'p2WcuPerDelivered',
      'p2WcuPerDeliveredLargeMessage',
      'p2WritesPerDeliveredWithKey',
      'p3SweepReadRatio',
    ]) {
      expect(Number.isFinite(figures[key]), `${key}: ${String(figures[key])}`).toBe(true);
    }
    expect(figures.p2WritesPerDelivered).toBeGreaterThan(0);
    expect(figures.p3SweepReadRatio).toBeGreaterThan(0);
  }, 180_000);
});
