// The release of the held backlog once the provider is back: every notification held for the provider is made
// due and queued, page after page, tick after tick, within each tick's time. It must hold at the scale of a
// day-long outage (100,000 held): reads grow with the backlog (each held notification is read about once),
// nothing is marked released without being queued (or remembered as refused), and a tick that runs out of
// time leaves the next one a position to resume from.
import type { Notification, QueueTicket } from '../domain/notification.js';
import {
  isCircuitOpen,
  type ProviderState,
  type ReleaseProgress,
  releaseDone,
  releaseProgressed,
} from '../domain/provider-circuit.js';
import { IllegalTransitionError } from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import { applyTransition, type MoveDependencies } from './apply-transition.js';
import { mapWithConcurrency, type Pause, realPause, withRetries } from './concurrency.js';
import { ConcurrentUpdateError, type NotificationRepository, type SendQueue } from './ports.js';
import { type CircuitStore, updateState } from './provider-state.js';

/** Notifications read per Query page: each page is released, then queued, before the next is read. */
const PAGE_SIZE = 100;
const WRITE_CONCURRENCY = 16;
/** The position is saved every so many pages, so that a tick killed mid-way costs little re-reading. */
const SAVE_EVERY_PAGES = 10;
/** A tick stops reading when less than this is left of its function's time (a page takes well under a second). */
export const RELEASE_STOP_MARGIN_MS = 10_000;
/**
 * How long after the close a verify pass waits, as the probe is deployed: a sender that read the circuit just before
 * the close (each caches it CIRCUIT_CACHE_SECONDS) may still be writing its hold, and a hold landing after the last
 * verify pass would wait out the whole hold. The probe's watch closes a circuit within its minute, so the next tick
 * may come seconds after the close; this keeps the margin the minute used to give.
 */
export const VERIFY_AFTER_CLOSE_MS = 30_000;
const RETRY_PAUSES_MS = [100, 500];

export interface ReleaseDependencies {
  store: CircuitStore & Pick<NotificationRepository, 'dueNotificationsPage'> & MoveDependencies['store'];
  queue: Pick<SendQueue, 'enqueueMany'>;
  log: Log;
  /** How far ahead held notifications are scheduled (the sender's hold). */
  holdMs: number;
  /** The circuit whose release this is. */
  circuit: string;
  /**
   * Several WaChap instances: the held notifications this circuit's release may touch (those waiting for its
   * instance); the others wait for their own instance's probe. Absent: every held notification.
   */
  holds?: ((n: Notification) => boolean) | undefined;
  /** How retries wait (the real clock unless a simulation says otherwise). */
  pause?: Pause;
  /** A verify pass waits this long after the close (VERIFY_AFTER_CLOSE_MS as deployed); absent: none. */
  verifyAfterCloseMs?: number;
}

export interface ReleaseTick {
  /** Made due and queued during this tick. */
  released: number;
  /** Could not be released or queued this tick (a throttled write, a refused message); a later tick retries. */
  failed: number;
  /** Nothing held is left: the release is over. */
  done: boolean;
  /** The circuit state as this tick left it. */
  state?: ProviderState;
}

/**
 * Goes on with the release that `state` (a closed circuit with releasePending) describes, until it is done or
 * `remainingMs()` drops under the stop margin.
 */
export async function continueRelease(
  deps: ReleaseDependencies,
  state: ProviderState,
  now: Date,
  remainingMs: () => number,
): Promise<ReleaseTick> {
  const closedAt = new Date(state.since);
  let progress: ReleaseProgress = state.release ?? { pass: 'sweep' };
  let released = 0;
  let failed = 0;
  const save = async (next: ReleaseProgress | 'done') => {
    const saved = await updateState(
      deps.store,
      deps.circuit,
      (latest) =>
        // Only the release this tick was started for: a circuit opened (or closed again) meanwhile starts anew.
        latest && !isCircuitOpen(latest) && latest.releasePending && latest.since === state.since
          ? next === 'done'
            ? releaseDone(latest)
            : releaseProgressed(latest, next)
          : undefined,
      deps.pause,
    );
    return { released, failed, done: next === 'done', ...(saved ? { state: saved } : {}) };
  };

  if (progress.unqueued?.length) {
    const refused = await enqueue(deps, progress.unqueued);
    released += progress.unqueued.length - refused.length;
    if (refused.length > 0) return save({ ...progress, unqueued: refused });
    const { unqueued: _done, ...rest } = progress;
    progress = rest;
  }

  if (progress.pass === 'verify' && now.getTime() - closedAt.getTime() < (deps.verifyAfterCloseMs ?? 0)) {
    // Too soon after the close for the verify pass: the next tick makes it (a probe tick comes every minute).
    return { released, failed, done: false, state };
  }

  // Held notifications are due at most holdMs ahead; a minute more covers holds written during this tick.
  const until = new Date(now.getTime() + deps.holdMs + 60_000);
  let found = progress.found ?? 0;
  let cursor = progress.resume;
  // The first pass is always followed by a verify pass (a tick later, so that holds being written as it ran have
  // landed and the index has caught up); a verify pass that finds nothing held ends the release.
  const passOver = (): ReleaseProgress | 'done' =>
    progress.pass === 'sweep' || found > 0 ? { pass: 'verify' } : 'done';
  for (let pages = 1; ; pages++) {
    if (remainingMs() < RELEASE_STOP_MARGIN_MS)
      return save({ pass: progress.pass, found, ...(cursor ? { resume: cursor } : {}) });
    // A throttled page read would otherwise cost the whole tick (a minute of recovery).
    const page = await withRetries(
      () =>
        deps.store.dueNotificationsPage({
          until,
          // A verify pass reads only what lies after the close: released notifications sit at the close itself.
          ...(progress.pass === 'verify' ? { after: closedAt } : {}),
          ...(cursor ? { cursor } : {}),
          limit: PAGE_SIZE,
        }),
      { pause: deps.pause ?? realPause },
    );
    const held = page.notifications.filter((n) => n.reason === 'provider_unavailable' && (deps.holds?.(n) ?? true));
    found += held.length;
    const outcomes = await mapWithConcurrency(held, WRITE_CONCURRENCY, (n) => releaseOne(deps, n, now, closedAt));
    const releasedOnes = held
      .filter((_, i) => outcomes[i] === 'released')
      .map(({ id, priority }) => ({ id, priority }));
    failed += outcomes.filter((o) => o === 'failed').length;
    const refused = releasedOnes.length > 0 ? await enqueue(deps, releasedOnes) : [];
    released += releasedOnes.length - refused.length;
    cursor = page.cursor;
    if (refused.length > 0) {
      failed += refused.length;
      // The queue is failing: stop here, and let the next tick queue these first.
      // (Refused ones were found held, so a finished pass goes on with a verify pass.)
      const next: ReleaseProgress = cursor ? { pass: progress.pass, found, resume: cursor } : { pass: 'verify' };
      return save({ ...next, unqueued: refused });
    }
    if (!cursor) break;
    if (pages % SAVE_EVERY_PAGES === 0) await save({ pass: progress.pass, found, resume: cursor });
  }
  if (passOver() === 'done') deps.log.info('held backlog fully released');
  return save(passOver());
}

async function releaseOne(
  deps: ReleaseDependencies,
  n: Notification,
  now: Date,
  closedAt: Date,
): Promise<'released' | 'gone' | 'failed'> {
  for (const pause of [0, ...RETRY_PAUSES_MS]) {
    await (deps.pause ?? realPause)(pause);
    try {
      await applyTransition(deps, n, { type: 'release', at: now, dueAt: closedAt });
      return 'released';
    } catch (error) {
      // No longer held (a sender or another release got there first): theirs is the right outcome.
      if (error instanceof IllegalTransitionError) return 'gone';
      if (error instanceof ConcurrentUpdateError) continue;
      deps.log.warn('held notification not released yet; trying again', {
        notificationId: n.id,
        error: String(error),
      });
    }
  }
  return 'failed';
}

/** Queues `tickets`, each in its lane, trying the refused ones again after a pause; returns those still refused. */
async function enqueue(deps: ReleaseDependencies, tickets: readonly QueueTicket[]): Promise<QueueTicket[]> {
  let pending = [...tickets];
  for (const pause of [0, ...RETRY_PAUSES_MS]) {
    await (deps.pause ?? realPause)(pause);
    pending = (await deps.queue.enqueueMany(pending)).failed;
    if (pending.length === 0) return [];
  }
  deps.log.warn('released notifications refused by the queue; the next probe tick queues them', {
    count: pending.length,
  });
  return pending;
}
