// Applying a domain event to a stored notification: compute with `transition`, write conditionally on the
// version it was computed from (on a lost race, read again and decide again), then add to the hourly
// counters what the move counts. Every move of every use case goes through here, so the counters follow
// the moves without a delta written by hand anywhere.
import { countsOf, endsFailureStreak } from '../domain/counters.js';
import type { Notification } from '../domain/notification.js';
import { type NotificationEvent, transition } from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import { publishMove } from './move-metrics.js';
import { ConcurrentUpdateError, type HourlyCounters, type NotificationRepository } from './ports.js';

export interface MoveDependencies {
  store: Pick<NotificationRepository, 'get' | 'save'> & Pick<HourlyCounters, 'incrementCounters'>;
  log: Log;
  /** Where the move's metrics go (the function's telemetry); none, nothing is published. */
  metrics?: Telemetry | undefined;
}

export class NotificationVanishedError extends Error {
  override readonly name = 'NotificationVanishedError';
}

/**
 * Applies `event` and returns the stored result. `races`: how many times a lost conditional write is read
 * again and decided again (0: the move applies only to the record as it was read).
 * IllegalTransitionError propagates: the move does not apply to the notification as it now is.
 */
export async function applyTransition(
  deps: MoveDependencies,
  current: Notification,
  event: NotificationEvent,
  races = 3,
): Promise<Notification> {
  let latest = current;
  for (let round = 0; ; round++) {
    const next = transition(latest, event);
    try {
      await deps.store.save(next, latest.version);
      await count(deps, event, next, latest);
      if (deps.metrics) publishMove(deps.metrics, event, next, latest);
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || round >= races) throw error;
      const reread = await deps.store.get(latest.id);
      if (!reread) throw new NotificationVanishedError(`notification ${latest.id} disappeared while being updated`);
      latest = reread;
    }
  }
}

/** Counters feed the health check; losing one increment must not fail a move that happened. */
async function count(
  deps: MoveDependencies,
  event: NotificationEvent,
  after: Notification,
  before: Notification,
): Promise<void> {
  const delta = countsOf(event, after, before);
  const resetFailureStreak = endsFailureStreak(event);
  if (Object.keys(delta).length === 0 && !resetFailureStreak) return;
  try {
    await deps.store.incrementCounters(event.at, delta, resetFailureStreak ? { resetFailureStreak } : undefined);
  } catch (error) {
    deps.log.warn('hourly counters not updated', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
