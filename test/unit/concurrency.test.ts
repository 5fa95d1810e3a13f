import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLimiter, createPacer, mapWithConcurrency } from '../../shared/application/concurrency.js';

describe('createPacer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spaces calls at least the interval apart, even when they arrive together', async () => {
    // Prepare: a pacer for 5 sends per second shared by 2 instances → 400 ms apart; a fake clock.
    vi.useFakeTimers({ now: 0 });
    const pace = createPacer(400);
    const starts: number[] = [];

    // Act: four calls at the same instant.
    const calls = Array.from({ length: 4 }, async () => {
      await pace();
      starts.push(Date.now());
    });
    await vi.advanceTimersByTimeAsync(2000);
    await Promise.all(calls);

    // Assess
    expect(starts).toEqual([0, 400, 800, 1200]);
  });

  it('lets a call through at once when the last one is older than the interval', async () => {
    vi.useFakeTimers({ now: 0 });
    const pace = createPacer(1000);
    await pace();
    vi.setSystemTime(5000);
    let passed = false;
    const call = pace().then(() => {
      passed = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    await call;
    expect(passed).toBe(true);
    expect(Date.now()).toBe(5000);
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
