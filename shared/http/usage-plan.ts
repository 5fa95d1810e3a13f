// A caller's usage plan: a steady rate with a burst (a token bucket, as API Gateway throttles) and a daily quota
// (reset at midnight UTC). CDK gives each upstream API key one (lib/api.ts); the local door enforces the same plan
// with this limiter, answering what API Gateway answers (429 THROTTLED or QUOTA_EXCEEDED) and, where API Gateway
// says nothing, telling the caller where it stands (RateLimit-* headers of the daily quota).
import type { RateLimitState } from '../application/ingest.js';

export interface UsagePlan {
  /** Requests per second, steady. */
  rateLimit: number;
  /** Requests at once, above the steady rate. */
  burstLimit: number;
  /** Requests per UTC day. */
  dailyQuota: number;
}

/** What a deployment gives its upstream key unless told otherwise (lib/config.ts reads these too). */
export const DEFAULT_USAGE_PLAN: Readonly<UsagePlan> = { rateLimit: 10, burstLimit: 20, dailyQuota: 20_000 };

export type UsageVerdict =
  | { ok: true; quota: RateLimitState }
  | { ok: false; refusal: 'THROTTLED' | 'QUOTA_EXCEEDED'; retryAfterSeconds: number; quota: RateLimitState };

const DAY_MS = 86_400_000;

export class UsagePlanLimiter {
  private tokens: number;
  private refilledAt: number;
  private day = -1;
  private used = 0;

  constructor(
    private readonly plan: UsagePlan,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = plan.burstLimit;
    this.refilledAt = clock();
  }

  /** Counts one request, or refuses it having counted nothing. */
  take(): UsageVerdict {
    const now = this.clock();
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.used = 0;
    }
    this.tokens = Math.min(this.plan.burstLimit, this.tokens + ((now - this.refilledAt) / 1000) * this.plan.rateLimit);
    this.refilledAt = now;
    const resetSeconds = Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000));
    const quota = (used: number): RateLimitState => ({
      limit: this.plan.dailyQuota,
      remaining: Math.max(0, this.plan.dailyQuota - used),
      resetSeconds,
    });
    if (this.used >= this.plan.dailyQuota) {
      return { ok: false, refusal: 'QUOTA_EXCEEDED', retryAfterSeconds: resetSeconds, quota: quota(this.used) };
    }
    if (this.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - this.tokens) / this.plan.rateLimit));
      return { ok: false, refusal: 'THROTTLED', retryAfterSeconds, quota: quota(this.used) };
    }
    this.tokens -= 1;
    this.used += 1;
    return { ok: true, quota: quota(this.used) };
  }
}

/**
 * Of two limits' RateLimit-* states, the one a caller must heed: the one with less left (the draft's rule when
 * several policies apply), the later reset on a tie.
 */
export function tighterLimit(a: RateLimitState, b: RateLimitState | undefined): RateLimitState {
  if (!b) return a;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b;
  return a.resetSeconds >= b.resetSeconds ? a : b;
}
