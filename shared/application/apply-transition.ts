// Applying a domain event to a stored notification: compute with `transition`, write conditionally on the
// version it was computed from (on a lost race, read again and decide again), then add to the hourly
// counters what the move counts, and hand the caller's status callback to its queue. Every move of every use case
// goes through here, so the counters and the callbacks follow the moves without a line written beside each call.
import { callbackEventFor, callbackEventOf, callbackTargetOf, type OutgoingCallback } from '../domain/callbacks.js';
import { countsOf, endsFailureStreak } from '../domain/counters.js';
import { isTerminal, type Notification, type NotificationStatus } from '../domain/notification.js';
import { type NotificationEvent, transition } from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import { publishMove } from './move-metrics.js';
import {
  type CallbackQueue,
  ConcurrentUpdateError,
  type HourlyCounters,
  type NotificationRepository,
} from './ports.js';

export interface MoveDependencies {
  store: Pick<NotificationRepository, 'get' | 'save'> & Pick<HourlyCounters, 'incrementCounters'>;
  log: Log;
  /** Where status callbacks go; a function without one emits none (only the functions whose moves matter have it). */
  callbacks?: CallbackQueue | undefined;
  /** Where the move's metrics go (the function's telemetry); none, nothing is published. */
  metrics?: Telemetry | undefined;
  /**
   * Where the moves' hourly counts go when not straight to the store: a batch's, written once at its end
   * (counter-batch.ts, the sender's). None: each move writes its own.
   */
  counters?: Pick<HourlyCounters, 'incrementCounters'> | undefined;
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
      await emit(deps, callbackEventOf(latest, next), next);
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
  const resetFailureStreak = endsFailureStreak(event, before);
  if (Object.keys(delta).length === 0 && !resetFailureStreak) return;
  try {
    await (deps.counters ?? deps.store).incrementCounters(
      event.at,
      delta,
      resetFailureStreak ? { resetFailureStreak } : undefined,
    );
  } catch (error) {
    deps.log.warn('hourly counters not updated', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}

/**
 * The status callback of the state `n` is in, emitted again by whoever finds the move it was about to make already
 * made (a redelivered message, a repeated cancel): the mover may have died between its write and the queue. Same
 * event, same id, so the receiver keeps one. Nothing for a state no callback reports.
 */
export async function reemitCallback(
  deps: Pick<MoveDependencies, 'callbacks' | 'log'>,
  n: Notification,
): Promise<void> {
  await emit(deps, callbackEventFor(n), n);
}

/**
 * After a move that did not apply (IllegalTransitionError, or a lost race): if the notification is now in the final
 * state `event` would have put it in, that move was made, perhaps by this very worker whose write landed while its
 * answer was lost, and perhaps without its callback. It is emitted again (same id). Best effort: one read, only for
 * a notification with a callback URL in a function that emits callbacks.
 */
export async function reemitIfAlreadyMade(
  deps: MoveDependencies,
  before: Notification,
  event: NotificationEvent,
): Promise<void> {
  if (!before.callbackUrl || !deps.callbacks) return;
  let intended: NotificationStatus;
  try {
    intended = transition(before, event).status;
  } catch {
    return;
  }
  if (!isTerminal(intended)) return;
  const current = await deps.store.get(before.id).catch(() => undefined);
  if (current?.status === intended) await reemitCallback(deps, current);
}

/**
 * Hands the callback to its queue. Never fails the move, which happened: a lost callback is logged (the notification
 * and event ids, never the URL's query or a phone number) and the move goes on. One SQS call after the write; the
 * POST itself is the dispatcher's, so a slow receiver never slows sending.
 */
async function emit(
  deps: Pick<MoveDependencies, 'callbacks' | 'log'>,
  callback: OutgoingCallback | undefined,
  n: Notification,
): Promise<void> {
  const target = callbackTargetOf(n);
  if (!callback || !target || !deps.callbacks) return;
  try {
    await deps.callbacks.enqueue(callback, target);
  } catch (error) {
    deps.log.warn('status callback not queued; the caller will not hear of this move', {
      notificationId: n.id,
      eventId: callback.id,
      eventType: callback.event.type,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
