import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  nominalRetryDelayMs,
  type RetryPolicy,
  retryDelayMs,
} from '../../shared/domain/backoff.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CAP = 24 * HOUR;

const WITHOUT_JITTER: RetryPolicy = { ...DEFAULT_RETRY_POLICY, jitter: 0 };

const attemptsArb = fc.integer({ min: 1, max: 2_000 });
const jitterArb = fc.double({ min: 0, max: 0.5, maxExcluded: true, noNaN: true });
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('DEFAULT_RETRY_POLICY', () => {
  it("is the original's: 30 min base, 24 h cap, ±10 % jitter, 10 attempts", () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ baseDelayMs: 30 * MINUTE, maxDelayMs: CAP, jitter: 0.1, maxAttempts: 10 });
  });
});

describe('retryDelayMs', () => {
  it.each([
    [1, 30 * MINUTE],
    [2, HOUR],
    [3, 2 * HOUR],
    [4, 4 * HOUR],
    [5, 8 * HOUR],
    [6, 16 * HOUR],
    [7, CAP],
    [8, CAP],
    [10, CAP],
    [50, CAP],
  ])('waits exactly the schedule after attempt %i when jitter is 0 (%i ms)', (attempts, expected) => {
    // Prepare: a random source that would move the delay if jitter were applied.
    const random = () => 0.99;

    // Act
    const delay = retryDelayMs(attempts, WITHOUT_JITTER, random);

    // Assess
    expect(delay).toBe(expected);
    expect(nominalRetryDelayMs(attempts, WITHOUT_JITTER)).toBe(expected);
  });

  it.each([
    [0, 27 * MINUTE],
    [0.5, 30 * MINUTE],
    [0.75, 31.5 * MINUTE],
  ])('spreads the first delay by ±10 %% (random %s → %i ms)', (random, expected) => {
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, () => random)).toBe(expected);
  });

  it('lets a Retry-After longer than the backoff win', () => {
    expect(retryDelayMs(1, WITHOUT_JITTER, () => 0.5, 3_600)).toBe(HOUR);
  });

  it('ignores a Retry-After shorter than the backoff', () => {
    expect(retryDelayMs(1, WITHOUT_JITTER, () => 0.5, 60)).toBe(30 * MINUTE);
  });

  it('stays within nominal × (1 ± jitter) for any attempts, jitter and random draw', () => {
    fc.assert(
      fc.property(attemptsArb, jitterArb, randomArb, (attempts, jitter, random) => {
        const policy = { ...DEFAULT_RETRY_POLICY, jitter };
        const nominal = nominalRetryDelayMs(attempts, policy);

        const delay = retryDelayMs(attempts, policy, () => random);

        // The delay is rounded to whole milliseconds.
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - jitter)));
        expect(delay).toBeLessThanOrEqual(Math.ceil(nominal * (1 + jitter)));
      }),
    );
  });

  it('never exceeds the cap × (1 + jitter)', () => {
    fc.assert(
      fc.property(attemptsArb, jitterArb, randomArb, (attempts, jitter, random) => {
        const delay = retryDelayMs(attempts, { ...DEFAULT_RETRY_POLICY, jitter }, () => random);

        expect(delay).toBeLessThanOrEqual(Math.ceil(CAP * (1 + jitter)));
        expect(delay).toBeGreaterThan(0);
      }),
    );
  });

  it('never shortens as attempts grow when jitter is 0', () => {
    fc.assert(
      fc.property(attemptsArb, (attempts) => {
        expect(retryDelayMs(attempts + 1, WITHOUT_JITTER, () => 0)).toBeGreaterThanOrEqual(
          retryDelayMs(attempts, WITHOUT_JITTER, () => 0),
        );
      }),
    );
  });

  it('takes a Retry-After longer than the backoff as the delay, up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        randomArb,
        fc.integer({ min: 7_921, max: 24 * 3_600 }),
        (attempts, random, retryAfterSeconds) => {
          // Attempts 1–3 back off at most 2 h × 1.1; the Retry-After is longer, and within the 24 h cap.
          const delay = retryDelayMs(attempts, DEFAULT_RETRY_POLICY, () => random, retryAfterSeconds);

          expect(delay).toBe(retryAfterSeconds * 1000);
        },
      ),
    );
  });

  it('never parks a notification past the cap, whatever the Retry-After (days, or too large for a date)', () => {
    fc.assert(
      fc.property(
        attemptsArb,
        jitterArb,
        randomArb,
        fc.oneof(fc.integer({ min: 24 * 3_600, max: 365 * 86_400 }), fc.constant(1e20), fc.constant(Number.MAX_VALUE)),
        (attempts, jitter, random, retryAfterSeconds) => {
          const policy = { ...DEFAULT_RETRY_POLICY, jitter };
          const delay = retryDelayMs(attempts, policy, () => random, retryAfterSeconds);

          const backoff = retryDelayMs(attempts, policy, () => random);
          expect(delay).toBe(Math.max(CAP, backoff));
          expect(Number.isNaN(new Date(Date.now() + delay).getTime())).toBe(false);
        },
      ),
    );
  });

  it('keeps the jittered backoff when Retry-After is shorter than any backoff', () => {
    fc.assert(
      fc.property(
        attemptsArb,
        jitterArb,
        randomArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempts, jitter, random, share) => {
          const policy = { ...DEFAULT_RETRY_POLICY, jitter };
          const withoutRetryAfter = retryDelayMs(attempts, policy, () => random);
          // At most the shortest delay the jitter can give.
          const retryAfterSeconds = Math.floor(((nominalRetryDelayMs(attempts, policy) * (1 - jitter)) / 1000) * share);

          const delay = retryDelayMs(attempts, policy, () => random, retryAfterSeconds);

          expect(delay).toBe(withoutRetryAfter);
        },
      ),
    );
  });
});
