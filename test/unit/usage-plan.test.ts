// The local door's usage plan behaves as API Gateway's: a token bucket (burst, then the steady rate) and a daily
// quota that starts again at midnight UTC; a refusal counts nothing and says when to come back.
import { describe, expect, it } from 'vitest';
import { tighterLimit, UsagePlanLimiter } from '../../shared/http/usage-plan.js';

const MIDNIGHT = Date.parse('2026-11-30T00:00:00Z');

describe('UsagePlanLimiter', () => {
  it('lets a burst through, then the steady rate, and says when the next token comes', () => {
    let now = MIDNIGHT + 3_600_000;
    const limiter = new UsagePlanLimiter({ rateLimit: 2, burstLimit: 3, dailyQuota: 1000 }, () => now);

    const burst = [limiter.take(), limiter.take(), limiter.take()];
    const refused = limiter.take();
    now += 500; // one token at 2/s
    const next = limiter.take();
    const again = limiter.take();

    expect(burst.every((v) => v.ok)).toBe(true);
    expect(refused).toMatchObject({ ok: false, refusal: 'THROTTLED', retryAfterSeconds: 1 });
    expect(next.ok).toBe(true);
    expect(again.ok).toBe(false);
  });

  it('counts the daily quota, refuses past it until midnight UTC, and starts again then', () => {
    let now = MIDNIGHT + 86_400_000 - 90_000; // 23:58:30
    const limiter = new UsagePlanLimiter({ rateLimit: 100, burstLimit: 100, dailyQuota: 2 }, () => now);

    const first = limiter.take();
    const second = limiter.take();
    const third = limiter.take();
    now = MIDNIGHT + 86_400_000 + 1000;
    const tomorrow = limiter.take();

    expect(first).toEqual({ ok: true, quota: { limit: 2, remaining: 1, resetSeconds: 90 } });
    expect(second).toEqual({ ok: true, quota: { limit: 2, remaining: 0, resetSeconds: 90 } });
    expect(third).toEqual({
      ok: false,
      refusal: 'QUOTA_EXCEEDED',
      retryAfterSeconds: 90,
      quota: { limit: 2, remaining: 0, resetSeconds: 90 },
    });
    expect(tomorrow).toMatchObject({ ok: true, quota: { remaining: 1 } });
  });

  it('counts nothing for a refused request', () => {
    let now = MIDNIGHT;
    const limiter = new UsagePlanLimiter({ rateLimit: 1, burstLimit: 1, dailyQuota: 5 }, () => now);
    limiter.take();
    for (let i = 0; i < 10; i++) expect(limiter.take().ok).toBe(false);
    now += 1000;

    expect(limiter.take()).toMatchObject({ ok: true, quota: { remaining: 3 } });
  });
});

describe('tighterLimit', () => {
  it('keeps the limit with less left, the later reset on a tie', () => {
    const quota = { limit: 20_000, remaining: 19_000, resetSeconds: 3600 };
    const recipient = { limit: 5, remaining: 4, resetSeconds: 300 };

    expect(tighterLimit(quota, recipient)).toBe(recipient);
    expect(tighterLimit(quota, undefined)).toBe(quota);
    expect(tighterLimit({ ...recipient, resetSeconds: 600 }, recipient).resetSeconds).toBe(600);
  });
});
