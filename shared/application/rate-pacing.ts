// One sender's way to a provider rate shared with every other sender: its calls wait for sends booked on the shared
// schedule (ports RateSchedule), booked in blocks (every call waiting at the moment, in one conditional write), so a
// busy sender may use the whole rate while the others are idle, and all of them together stay under it.
//
// If the schedule cannot be reached (the table throttles, a timeout), a call is paced by this sender's fixed share
// instead (the local pacer, as before the schedule): the notification is still sent, once; only the pace is the
// cautious one of a sender that cannot see the others.
import type { Log } from '../observability/logger.js';
import { createPacer, type Pause, realPause } from './concurrency.js';
import { type BookedSend, type RateSchedule, RateScheduleContendedError } from './ports.js';

/**
 * Sends are spaced this much wider than the rate: a provider that counts a rolling second sees each call a few
 * milliseconds after its slot, sometimes tens (a busy event loop, a slow connection). 4% leaves 40 ms a second.
 */
export const RATE_SLACK = 1.04;

/** The spacing of sends at `perSecond`, with the slack. */
export const sendIntervalMs = (perSecond: number): number => (1000 / perSecond) * RATE_SLACK;

/** The most sends one booking takes: a batch's worth, so a booking never runs far ahead of the calls it serves. */
const MAX_BLOCK = 10;
/**
 * How long after the first send of a burst other bookings may still join it: the rest of a batch reaches WaChap a
 * moment after its first record (each has its own reads and claim first). The schedule after a burst starts this
 * much later, a cost paid once per burst, i.e. only after a quiet second.
 */
export const BURST_WINDOW_MS = 250;
/**
 * A send released later than its instant by more than this is given up (a gap in the schedule, never a send too
 * many) and its call books again: the slack covers this much lateness and the call's own way to WaChap. A burst's
 * sends may go until the end of its window.
 */
export const LATE_TOLERANCE_MS = 25;

/** How long a sender whose bookings all lost their races waits before booking again (times 1 to 2, at random). */
export const CONTENDED_PAUSE_MS = 10;

export interface SharedPacerOptions {
  schedule: RateSchedule;
  /** The schedule's name: a WaChap instance's lane. */
  rate: string;
  /** The rate's sends per second (all senders together). */
  perSecond: number;
  /**
   * Another rate whose unused sends this one may take, one at a time and only when nothing is booked on it: the
   * standard lane takes the priority lane's idle share, and an OTP then waits at most one of its intervals.
   */
  borrow?: { rate: string; perSecond: number };
  /** This sender's fixed share of the rate, for when the schedule cannot be reached. */
  fallbackIntervalMs: number;
  log: Log;
  now?: () => number;
  pause?: Pause;
  /** The contended pause's jitter, in [0, 1). */
  random?: () => number;
}

/** `await pace()` before each call at the provider: it resolves at the instant of a send booked for it. */
export function createSharedPacer(options: SharedPacerOptions): () => Promise<void> {
  const now = options.now ?? Date.now;
  const pause = options.pause ?? realPause;
  const random = options.random ?? Math.random;
  const fallback = createPacer(options.fallbackIntervalMs, now);
  const intervalMs = sendIntervalMs(options.perSecond);
  const burst = { size: Math.min(MAX_BLOCK, Math.floor(options.perSecond)), windowMs: BURST_WINDOW_MS };
  const waiting: (() => void)[] = [];
  let booking = false;
  /** Not before this instant does a borrow look worth a write: the other rate was seen busy until then. */
  let borrowAfter = 0;
  /**
   * Sends are booked this far ahead of the clock, so that they have not passed when the booking's answer comes: the
   * slowest of the last few bookings, and a little more.
   */
  const recent: number[] = [];
  const lead = () => Math.min(1000, Math.ceil(Math.max(5, ...recent) * 1.25));

  /**
   * Lets the call through at its send's instant; a send whose time had passed (the booking's answer, or a timer,
   * came late: by more than the tolerance, or past its burst's window) is given up, and the call books again.
   */
  function release(resolve: () => void, send: BookedSend | undefined): void {
    const go = () => {
      if (send && now() <= (send.burstUntil ?? send.at + LATE_TOLERANCE_MS)) return resolve();
      waiting.unshift(resolve);
      void serve();
    };
    const wait = send ? send.at - now() : 0;
    if (wait <= 0) go();
    else void pause(wait).then(go);
  }

  async function book(count: number): Promise<BookedSend[]> {
    const started = now();
    const at = started + lead();
    const instants: BookedSend[] = [];
    if (options.borrow && at >= borrowAfter) {
      const other = { rate: options.borrow.rate, intervalMs: sendIntervalMs(options.borrow.perSecond) };
      const borrowed = await options.schedule.bookSends(other.rate, {
        at,
        count: 1,
        intervalMs: other.intervalMs,
        onlyIfIdle: true,
      });
      if (borrowed) instants.push(...borrowed);
      else borrowAfter = at + other.intervalMs;
    }
    const rest = count - instants.length;
    if (rest > 0) {
      const booked = await options.schedule.bookSends(options.rate, { at, count: rest, intervalMs, burst });
      instants.push(...(booked ?? []));
    }
    recent.push(now() - started);
    if (recent.length > 8) recent.shift();
    return instants;
  }

  async function serve(): Promise<void> {
    if (booking) return;
    booking = true;
    try {
      while (waiting.length > 0) {
        const block = waiting.splice(0, MAX_BLOCK);
        let instants: BookedSend[];
        try {
          instants = await book(block.length);
        } catch (error) {
          if (error instanceof RateScheduleContendedError) {
            // Busy, not broken: the block books again after a short, jittered pause, ahead of later calls.
            waiting.unshift(...block);
            await pause(CONTENDED_PAUSE_MS * (1 + random()));
            continue;
          }
          options.log.warn('shared rate schedule unreachable; pacing at this sender’s share', {
            rate: options.rate,
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          });
          for (const resolve of block) void fallback().then(resolve);
          continue;
        }
        block.forEach((resolve, i) => {
          release(resolve, instants[i]);
        });
      }
    } finally {
      booking = false;
    }
  }

  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      void serve();
    });
}
