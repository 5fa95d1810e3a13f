// Applying a domain event to a stored notification: compute with `transition`, write conditionally
// on the version it was computed from, and on a lost race read again and decide again.
import { ConcurrentUpdateError, type NotificationStore } from '../adapters/notification-store.js';
import type { Notification } from '../domain/notification.js';
import { type NotificationEvent, transition } from '../domain/transitions.js';

export type NotificationRecords = Pick<NotificationStore, 'get' | 'save'>;

export class NotificationVanishedError extends Error {
  override readonly name = 'NotificationVanishedError';
}

/**
 * Applies `event` (or the event computed from the latest state) and returns the stored result.
 * IllegalTransitionError propagates: the move does not apply to the notification as it now is.
 */
export async function applyTransition(
  store: NotificationRecords,
  current: Notification,
  event: NotificationEvent | ((latest: Notification) => NotificationEvent),
  races = 3,
): Promise<Notification> {
  let latest = current;
  for (let round = 0; ; round++) {
    const next = transition(latest, typeof event === 'function' ? event(latest) : event);
    try {
      await store.save(next, latest.version);
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || round >= races) throw error;
      const reread = await store.get(latest.id);
      if (!reread) throw new NotificationVanishedError(`notification ${latest.id} disappeared while being updated`);
      latest = reread;
    }
  }
}
