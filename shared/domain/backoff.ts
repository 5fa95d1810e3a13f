// Exponential backoff as the original's marquer_comme_echec: 30 min × 2^(n−1), capped at 24 h.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Spread of the delay, 0 ≤ jitter < 1: 0.1 gives ±10 %, 0 turns it off. */
  jitter: number;
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 30 * MINUTE_MS,
  maxDelayMs: 24 * HOUR_MS,
  jitter: 0.1,
  maxAttempts: 10,
};

/** The schedule without jitter: attempt 1 → 30 min, 2 → 1 h, 3 → 2 h, 4 → 4 h … capped. */
export function nominalRetryDelayMs(attempts: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.max(0, attempts - 1);
  // 2^exponent overflows to Infinity long after the cap is reached; Math.min handles it.
  return Math.min(policy.baseDelayMs * 2 ** exponent, policy.maxDelayMs);
}

/**
 * The delay before the next attempt after `attempts` failed ones, spread by ±jitter around the
 * schedule (so that a burst of failures does not come back as a burst), and never shorter than
 * the provider's Retry-After, itself capped at the maximum delay.
 */
export function retryDelayMs(
  attempts: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterSeconds?: number,
): number {
  const nominal = nominalRetryDelayMs(attempts, policy);
  const spread = policy.jitter > 0 ? 1 + policy.jitter * (2 * random() - 1) : 1;
  const delay = Math.round(nominal * spread);
  // A provider's Retry-After is honoured up to the cap: days, or a value too large for a date, would park the
  // notification past the schedule (or make its next attempt unwritable).
  const providerDelay =
    retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)
      ? Math.min(Math.max(0, retryAfterSeconds) * 1000, policy.maxDelayMs)
      : 0;
  return Math.max(delay, providerDelay);
}
