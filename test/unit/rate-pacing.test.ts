// The shared pace at WaChap on a virtual clock: senders book their sends on one schedule per rate (here an
// in-memory one with the adapter's semantics; the real one races on both DynamoDB engines in
// test/integration/rate-schedule.test.ts), so together they never exceed the rate in any rolling second, a busy
// sender alone uses all of it, the standard lane takes the priority lane's idle share without making an OTP wait
// more than one of its intervals, and a schedule that cannot be reached costs pace, never a send.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { quietSince } from '../../shared/adapters/dynamodb/rate-schedule.js';
import { type RateSchedule, RateScheduleContendedError } from '../../shared/application/ports.js';
import { createSharedPacer, RATE_SLACK, sendIntervalMs } from '../../shared/application/rate-pacing.js';
import { silentLog } from '../../shared/observability/logger.js';
import { collectingLog } from '../support/collecting-log.js';
import { busiestSecond } from '../support/rolling-second.js';

/** The adapter's rule in memory (shared/adapters/dynamodb/rate-schedule.ts): a burst after a quiet second, else
 * after the last send booked, or from `at` when that lies in the past. */
function memorySchedule() {
  const items = new Map<string, { nextAt: number; burstLeft: number; burstUntil: number }>();
  const calls: { rate: string; count: number }[] = [];
  const schedule: RateSchedule = {
    bookSends: async (rate, { at, count, intervalMs, burst, onlyIfIdle }) => {
      calls.push({ rate, count });
      const item = items.get(rate);
      const spaced = (first: number) => Array.from({ length: count }, (_, i) => ({ at: first + i * intervalMs }));
      const together = (burstUntil: number) => Array.from({ length: count }, () => ({ at, burstUntil }));
      if (onlyIfIdle && item && item.nextAt >= at) return undefined;
      if (!onlyIfIdle && burst && count <= burst.size) {
        if (item && item.burstLeft >= count && item.burstUntil >= at) {
          item.burstLeft -= count;
          return together(item.burstUntil);
        }
        if (!item || item.nextAt <= quietSince(at, burst.size, intervalMs)) {
          const burstUntil = at + burst.windowMs;
          items.set(rate, { nextAt: burstUntil + burst.size * intervalMs, burstLeft: burst.size - count, burstUntil });
          return together(burstUntil);
        }
      }
      if (item && item.nextAt >= at) {
        const first = item.nextAt;
        item.nextAt += count * intervalMs;
        return spaced(first);
      }
      items.set(rate, { nextAt: at + count * intervalMs, burstLeft: 0, burstUntil: 0 });
      return spaced(at);
    },
  };
  return { schedule, calls };
}

/** `count` calls through `pace` at once; resolves with the virtual instant each was let through. */
function callsAtOnce(pace: () => Promise<void>, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => pace().then(() => Date.now())));
}

describe('the shared pace at a provider rate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps senders sharing one rate under it in every rolling second, and together they use at least 0.9 of it', async () => {
    // Prepare: three senders on one 20/s rate; each alone would have a fixed share of a third.
    const { schedule } = memorySchedule();
    const pacers = Array.from({ length: 3 }, () =>
      createSharedPacer({
        schedule,
        rate: 'default#standard',
        perSecond: 20,
        fallbackIntervalMs: 150,
        log: silentLog,
      }),
    );

    // Act: 100 calls at each sender at once.
    const all = Promise.all(pacers.map((pace) => callsAtOnce(pace, 100)));
    await vi.advanceTimersByTimeAsync(60_000);
    const instants = (await all).flat();

    // Assess: no rolling second above 20, and the 300 sends took no longer than 0.9 of the rate allows.
    expect(instants).toHaveLength(300);
    expect(busiestSecond(instants)).toBeLessThanOrEqual(20);
    const seconds = (Math.max(...instants) - Math.min(...instants)) / 1000;
    expect(299 / seconds).toBeGreaterThanOrEqual(0.9 * 20);
  });

  it('lets a busy sender use the whole rate while the others are idle', async () => {
    // Prepare: the fallback share is what a sender of two would have had alone (half the rate).
    const { schedule } = memorySchedule();
    const pace = createSharedPacer({
      schedule,
      rate: 'default#standard',
      perSecond: 20,
      fallbackIntervalMs: 100,
      log: silentLog,
    });

    // Act
    const calls = callsAtOnce(pace, 200);
    await vi.advanceTimersByTimeAsync(30_000);
    const instants = await calls;

    // Assess: at least 0.9 of 20/s, not the 10/s of its share.
    const seconds = (Math.max(...instants) - Math.min(...instants)) / 1000;
    expect(199 / seconds).toBeGreaterThanOrEqual(0.9 * 20);
    expect(busiestSecond(instants)).toBeLessThanOrEqual(20);
  });

  it('lets a batch through at once after a quiet second, booking the calls waiting together in one write', async () => {
    // Prepare: a rate that does not bind (100/s).
    const { schedule, calls } = memorySchedule();
    const pace = createSharedPacer({
      schedule,
      rate: 'default#standard',
      perSecond: 100,
      fallbackIntervalMs: 100,
      log: silentLog,
    });
    const started = Date.now();

    // Act: a batch of ten at once, then ten more a second later (as the bench's P4 alternates them).
    const batch = callsAtOnce(pace, 10);
    await vi.advanceTimersByTimeAsync(1000);
    const first = await batch;
    const next = callsAtOnce(pace, 10);
    await vi.advanceTimersByTimeAsync(1000);
    const second = await next;

    // Assess: the first call booked alone (nothing else was waiting yet) and started a burst; the nine behind it
    // joined it in one booking; all ten went at the same instant, a few ms ahead of the clock (the booking's lead).
    expect(new Set(first).size).toBe(1);
    expect(first[0]! - started).toBeLessThan(20);
    expect(calls.slice(0, 2)).toEqual([
      { rate: 'default#standard', count: 1 },
      { rate: 'default#standard', count: 9 },
    ]);
    // The second batch, a second later, at once too: 20 sends in a second are far from 100.
    expect(new Set(second).size).toBe(1);
    expect(busiestSecond([...first, ...second])).toBeLessThanOrEqual(100);
  });

  it("takes the priority lane's idle share one send at a time, and an OTP then waits at most one of its intervals", async () => {
    // Prepare: 18/s for the standard lane, 2/s kept for the priority lane (500 ms apart, with the slack 520).
    const { schedule } = memorySchedule();
    const priority = { rate: 'default#priority', perSecond: 2 };
    const standardSender = () =>
      createSharedPacer({
        schedule,
        rate: 'default#standard',
        perSecond: 18,
        borrow: priority,
        fallbackIntervalMs: 100,
        log: silentLog,
      });
    const otp = createSharedPacer({ schedule, ...priority, fallbackIntervalMs: 1000, log: silentLog });

    // Act: a flood on the standard lane, two senders each taking batches of ten one after another; an OTP 3.3 s
    // into it.
    const senderDrains = async (pace: () => Promise<void>) => {
      const instants: number[] = [];
      for (let batch = 0; batch < 10; batch++) instants.push(...(await callsAtOnce(pace, 10)));
      return instants;
    };
    const flood = Promise.all([senderDrains(standardSender()), senderDrains(standardSender())]).then((all) =>
      all.flat(),
    );
    await vi.advanceTimersByTimeAsync(3300);
    const otpAsked = Date.now();
    const otpSent = otp().then(() => Date.now());
    await vi.advanceTimersByTimeAsync(20_000);
    const instants = [...(await flood), await otpSent];

    // Assess: both lanes together under 20 in every second; the flood faster than its own 18/s; the OTP within one
    // priority interval (and the booking's lead) of its request.
    expect(busiestSecond(instants)).toBeLessThanOrEqual(20);
    const floodInstants = instants.slice(0, 200);
    const seconds = (Math.max(...floodInstants) - Math.min(...floodInstants)) / 1000;
    expect(199 / seconds).toBeGreaterThan(18 / RATE_SLACK);
    expect((await otpSent) - otpAsked).toBeLessThanOrEqual(sendIntervalMs(2) + 10);
  });

  it('gives up a send whose booking came back after its instant, and books again further ahead', async () => {
    // Prepare: a schedule whose first answer takes 400 ms (a throttled table), past the burst's window (250 ms) its
    // send belongs to; the next ones take no time.
    const { schedule, calls } = memorySchedule();
    let slow = true;
    const slowOnce: RateSchedule = {
      bookSends: async (rate, request) => {
        const instants = await schedule.bookSends(rate, request);
        if (slow) {
          slow = false;
          vi.setSystemTime(Date.now() + 400);
        }
        return instants;
      },
    };
    const pace = createSharedPacer({
      schedule: slowOnce,
      rate: 'r',
      perSecond: 20,
      fallbackIntervalMs: 100,
      log: silentLog,
    });

    // Act
    const call = pace().then(() => Date.now());
    await vi.advanceTimersByTimeAsync(5000);
    const sentAt = await call;

    // Assess: booked twice; the call went at its second send, not at the first one's passed instant.
    expect(calls).toHaveLength(2);
    expect(sentAt).toBeGreaterThanOrEqual(1_000_400);
  });

  it('paces at its own share when the schedule cannot be reached, and lets every call through once', async () => {
    // Prepare: a schedule that always fails (the table throttling).
    vi.useRealTimers();
    let tries = 0;
    const failing: RateSchedule = {
      bookSends: async () => {
        tries++;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    };
    const log = collectingLog();
    const pace = createSharedPacer({
      schedule: failing,
      rate: 'default#standard',
      perSecond: 20,
      fallbackIntervalMs: 2,
      log,
    });

    // Act: five calls at once.
    let through = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        pace().then(() => {
          through++;
        }),
      ),
    );

    // Assess: each call let through exactly once, the schedule asked per block, the fall-back said.
    expect(through).toBe(5);
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(log.messages('warn')[0]).toMatch(/shared rate schedule unreachable/);
  });

  it('books again when its bookings lost their races, never pacing on its own beside senders that use the whole rate', async () => {
    // Prepare: a schedule busy with other senders (every form of booking lost, twice), then free; the fallback share
    // would let calls through every 2 ms, far over the rate, if it were used.
    const { schedule, calls } = memorySchedule();
    let contended = 2;
    const busy: RateSchedule = {
      bookSends: async (rate, request) => {
        if (contended-- > 0) throw new RateScheduleContendedError(`rate schedule ${rate}: 3 rounds of races lost`);
        return schedule.bookSends(rate, request);
      },
    };
    const log = collectingLog();
    const pace = createSharedPacer({
      schedule: busy,
      rate: 'default#standard',
      perSecond: 5,
      fallbackIntervalMs: 2,
      log,
      random: () => 0.5,
    });

    // Act: 30 calls at once, on the virtual clock.
    const all = callsAtOnce(pace, 30);
    await vi.runAllTimersAsync();
    const instants = await all;

    // Assess: every call let through once, at instants booked on the shared schedule (never more than the rate in a
    // rolling second), after booking again; no fall-back.
    expect(instants).toHaveLength(30);
    expect(busiestSecond(instants)).toBeLessThanOrEqual(5);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(log.messages('warn')).toEqual([]);
  });
});
