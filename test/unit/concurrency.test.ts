import { describe, expect, it } from 'vitest';
import { createLimiter, createPacer, mapWithConcurrency } from '../../shared/application/concurrency.js';

describe('createPacer', () => {
  it('spaces calls at least the interval apart, even when they arrive together', async () => {
    // Prepare: a pacer for 5 sends per second shared by 2 instances → 400 ms apart here.
    const pace = createPacer(400);
    const starts: number[] = [];

    // Act
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        await pace();
        starts.push(performance.now());
      }),
    );

    // Assess: 4 calls take at least 3 intervals; consecutive starts are ≥ 400 ms apart (timer slack 5 ms).
    starts.sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(395);
  });

  it('lets a call through at once when the last one is older than the interval', async () => {
    let clock = 0;
    const pace = createPacer(1000, () => clock);
    await pace();
    clock = 5000;
    const before = performance.now();
    await pace();
    expect(performance.now() - before).toBeLessThan(50);
  });
});

describe('createLimiter', () => {
  it('never runs more than the limit at once, and runs everything', async () => {
    const limit = createLimiter(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('frees its slot when the work throws', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });
});

describe('mapWithConcurrency', () => {
  it('keeps the input order and bounds the work in flight', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 3, 2, 4], 2, async (ms) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return ms * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(peak).toBe(2);
  });
});
