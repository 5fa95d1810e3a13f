// The provider circuit: when WaChap fails for provider-wide reasons (expired token or subscription,
// disconnected or inactive instance, missing credentials), every sender stops calling it and every
// notification waits, without burning an attempt, until a probe finds it healthy again.
import type { QueueTicket } from './notification.js';

export interface ProviderState {
  /** healthy: the circuit is closed (sends go out); unavailable: it is open (notifications are held). */
  status: 'healthy' | 'unavailable';
  since: string;
  /** What broke, in the provider's words (e.g. "HTTP 401: Unauthorized: token expired"). */
  reason?: string;
  errorType?: string;
  /** What an admin should do about it. */
  recommendation?: string;
  /** Set by an operator: a probe does not close a circuit an operator opened. */
  forced?: boolean;
  lastProbeAt?: string;
  lastProbeResult?: string;
  /** Closed, but the held backlog is not all released yet: the next probe tick goes on with it. */
  releasePending?: boolean;
  /** Where the release stands, while releasePending. */
  release?: ReleaseProgress;
  version: number;
}

/** A position in the due work: in `shard` (a priority), just after `after`, or from the shard's start. */
export interface DueCursor {
  shard: string;
  after?: { dueAt: string; id: string };
}

/**
 * The release of the held backlog, tick after tick. The first pass ('sweep') reads the whole held range once,
 * in due order; released notifications move to the instant the circuit closed, behind the read position, so
 * nothing is read twice. Then 'verify' passes read only what lies after that instant (a hold written while
 * the release ran, or missed by a lagging index) until one finds nothing held: only then is the release done.
 */
export interface ReleaseProgress {
  pass: 'sweep' | 'verify';
  /** Where the pass goes on; absent: from the start. */
  resume?: DueCursor;
  /** Held notifications this pass has found so far: a verify pass that finds none ends the release. */
  found?: number;
  /** Released, but the queue refused them: the next tick queues them first (each in its lane). */
  unqueued?: QueueTicket[];
}

export const WACHAP_PROVIDER = 'wachap';

export const isCircuitOpen = (state: ProviderState | undefined): boolean => state?.status === 'unavailable';

export interface OpenCause {
  reason: string;
  errorType: string;
  recommendation: string;
  forced?: boolean;
}

/** The state after a provider-wide failure, or undefined when the circuit is already open for it. */
export function openCircuit(state: ProviderState | undefined, at: Date, cause: OpenCause): ProviderState | undefined {
  if (isCircuitOpen(state) && !(cause.forced && !state?.forced)) return undefined;
  return {
    status: 'unavailable',
    since: isCircuitOpen(state) ? state!.since : at.toISOString(),
    reason: cause.reason,
    errorType: cause.errorType,
    recommendation: cause.recommendation,
    ...(cause.forced ? { forced: true } : {}),
    ...(state?.lastProbeAt ? { lastProbeAt: state.lastProbeAt } : {}),
    version: (state?.version ?? 0) + 1,
  };
}

export function closeCircuit(state: ProviderState | undefined, at: Date, probeResult?: string): ProviderState {
  return {
    status: 'healthy',
    since: at.toISOString(),
    releasePending: true,
    release: { pass: 'sweep' },
    ...(probeResult ? { lastProbeAt: at.toISOString(), lastProbeResult: probeResult } : {}),
    version: (state?.version ?? 0) + 1,
  };
}

export function recordProbe(state: ProviderState, at: Date, result: string): ProviderState {
  return { ...state, lastProbeAt: at.toISOString(), lastProbeResult: result, version: state.version + 1 };
}

/**
 * A quarter of the interval: ticks are not exact (a schedule's jitter, and a probe records its time after its
 * call), so a tick that comes a little less than one interval after the last probe still probes.
 */
export const PROBE_SLACK = 0.25;

/** Probes run at a modest pace: about one per interval, whatever the number of waiting notifications. */
export function probeDue(state: ProviderState | undefined, at: Date, intervalMs: number): boolean {
  if (!isCircuitOpen(state) || state?.forced) return false;
  return !state?.lastProbeAt || at.getTime() - Date.parse(state.lastProbeAt) >= intervalMs * (1 - PROBE_SLACK);
}

/**
 * How long after a probe closes the circuit the scheduled ticks keep watching it: the drain of the backlog it
 * released, when a sender is likeliest to open it again (one provider-wide failure, such as a disconnected instance
 * that comes back by itself, among the thousand released sends). The soak's thousand held notifications drain in
 * about 80 s (WaChap's 20 sends a second, and the pacing's margin): three minutes covers about 2,000. A larger
 * backlog's later reopenings wait for the next tick, at most a minute, as before.
 */
export const DRAIN_WATCH_MS = 3 * 60_000;

/**
 * Closed by a probe (a tick's, or an operator's `probe`: the usual end of an outage; an operator's `close` records
 * no probe) less than `windowMs` before `at`: the backlog it released may still be draining.
 */
export const drainingAfterProbe = (state: ProviderState | undefined, at: number, windowMs: number): boolean =>
  state !== undefined &&
  !isCircuitOpen(state) &&
  state.lastProbeAt !== undefined &&
  state.lastProbeAt === state.since &&
  at - Date.parse(state.since) < windowMs;

/**
 * Whether a tick that leaves this circuit as it is keeps watching it: open, and not held open by an operator; or
 * closed and either found open by this tick (`foundOpen`: it closed it, or saw it open at a check) with its release
 * not over, or still draining (`draining`: a scheduled tick, less than DRAIN_WATCH_MS after a probe closed it). The
 * drain after an outage is when a sender is likeliest to open the circuit again: watched, that reopening is probed
 * within the interval rather than at the next tick. Any other tick that finds the circuit closed (an operator's, or
 * a scheduled one long after the close) goes on with the release and stops: its read costs no wait.
 */
export const watchesCircuit = (state: ProviderState | undefined, foundOpen = false, draining = false): boolean =>
  isCircuitOpen(state) ? !state?.forced : (foundOpen && state?.releasePending === true) || draining;

/**
 * When a tick that found the circuit open checks it again within its own invocation (EventBridge fires at most once
 * a minute), or undefined when it stops: the next multiple of `intervalMs` after `startedAt` (a check that ran late
 * skips the instants it missed), if it comes before the next tick takes over (`watchMs` after the start) and leaves
 * at least `marginMs` of the function's time, so that a check that closes the circuit has time to release.
 */
export function nextWatchCheck(watch: {
  startedAt: number;
  now: number;
  intervalMs: number;
  watchMs: number;
  remainingMs: number;
  marginMs: number;
}): number | undefined {
  const { startedAt, now, intervalMs, watchMs, remainingMs, marginMs } = watch;
  if (intervalMs <= 0) return undefined;
  const at = startedAt + intervalMs * (Math.floor(Math.max(0, now - startedAt) / intervalMs) + 1);
  if (at - startedAt >= watchMs) return undefined;
  if (remainingMs - (at - now) < marginMs) return undefined;
  return at;
}

/** The release stands at `progress` (the state is still closed and still releasing). */
export function releaseProgressed(state: ProviderState, progress: ReleaseProgress): ProviderState {
  return { ...state, releasePending: true, release: progress, version: state.version + 1 };
}

/** The held backlog is all released. */
export function releaseDone(state: ProviderState): ProviderState {
  const { releasePending: _pending, release: _release, ...rest } = state;
  return { ...rest, version: state.version + 1 };
}
