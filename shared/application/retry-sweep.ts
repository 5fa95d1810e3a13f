// The retry sweep, successor of the original's retry_failed_notifications command: read the due
// work, give up on what exhausted its attempts, and put the rest on the send queue, marking each
// one first so that two overlapping sweeps cannot both enqueue it.
import type { Notification } from '../domain/notification.js';
import { maskPhone } from '../domain/phone.js';
import { attemptsMade, IllegalTransitionError, isExpired, type NotificationEvent } from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import { applyTransition, type MoveDependencies } from './apply-transition.js';
import { mapWithConcurrency } from './concurrency.js';
import { ConcurrentUpdateError, type NotificationRepository, type SendQueue } from './ports.js';

export interface SweepRequest {
  dryRun: boolean;
  verbose: boolean;
  limit: number;
  maxRetries: number;
}

/** queue: sent to the sender; recover: same, after a sender died mid-attempt; the others are final. */
export type SweepAction = 'queue' | 'recover' | 'exhaust' | 'expire' | 'skip';

export interface SweepEntry {
  id: string;
  recipient: string;
  category: string;
  attempts: number;
  maxRetries: number;
  nextAttemptAt: string | undefined;
  priority: Notification['priority'];
  action: SweepAction;
  /** Why an entry was skipped, or why a queued one could not reach the queue. */
  note?: string;
}

export interface SweepSummary {
  dryRun: boolean;
  now: string;
  maxRetries: number;
  limit: number;
  found: number;
  queued: number;
  exhausted: number;
  expired: number;
  skipped: number;
  notifications?: SweepEntry[];
}

export interface SweepDependencies {
  store: Pick<NotificationRepository, 'dueNotifications'> & MoveDependencies['store'];
  queue: Pick<SendQueue, 'enqueueMany'>;
  log: Log;
  clock: () => Date;
  /** How long a queued notification stays hidden from later sweeps; past it, a lost message is re-sent. */
  queueLeaseMs: number;
  writeConcurrency: number;
}

function plannedAction(n: Notification, now: Date, maxRetries: number): SweepAction {
  if (isExpired(n, now)) return 'expire';
  // An abandoned claim counts: it may have reached WaChap.
  if (attemptsMade(n, now) >= maxRetries) return 'exhaust';
  return n.inFlight ? 'recover' : 'queue';
}

function eventFor(action: SweepAction, now: Date, request: SweepRequest, leaseMs: number): NotificationEvent {
  switch (action) {
    case 'expire':
      return { type: 'expire', at: now };
    case 'exhaust':
      return { type: 'exhaust', at: now, maxAttempts: request.maxRetries };
    default:
      return { type: 'enqueue', at: now, leaseMs };
  }
}

export async function runRetrySweep(request: SweepRequest, deps: SweepDependencies): Promise<SweepSummary> {
  const now = deps.clock();
  const due = await deps.store.dueNotifications({ now, limit: request.limit });

  const entries = await mapWithConcurrency(due, deps.writeConcurrency, async (n): Promise<SweepEntry> => {
    const entry: SweepEntry = {
      id: n.id,
      recipient: maskPhone(n.recipient.phone),
      category: n.category,
      attempts: n.attempts,
      maxRetries: request.maxRetries,
      nextAttemptAt: n.nextAttemptAt,
      priority: n.priority,
      action: plannedAction(n, now, request.maxRetries),
    };
    if (request.dryRun) return entry;
    try {
      await applyTransition(deps, n, eventFor(entry.action, now, request, deps.queueLeaseMs), 0);
      return entry;
    } catch (error) {
      // Another sweep or a sender got there first: theirs is the right outcome.
      if (error instanceof IllegalTransitionError || error instanceof ConcurrentUpdateError) {
        return { ...entry, action: 'skip', note: 'changed by another worker' };
      }
      deps.log.error('sweep could not update a notification', { notificationId: n.id, error: String(error) });
      return { ...entry, action: 'skip', note: 'update failed' };
    }
  });

  const toQueue = entries.filter((e) => e.action === 'queue' || e.action === 'recover');
  if (!request.dryRun && toQueue.length > 0) {
    const { failed } = await deps.queue.enqueueMany(toQueue);
    const refused = new Set(failed.map((entry) => entry.id));
    for (const entry of entries) {
      if (refused.has(entry.id)) entry.note = 'queue refused it; due again when its lease ends';
    }
    if (failed.length > 0) deps.log.warn('some notifications could not be queued', { count: failed.length });
  }

  const tally = (action: SweepAction) => entries.filter((e) => e.action === action).length;
  const exhausted = tally('exhaust');
  const expired = tally('expire');
  return {
    dryRun: request.dryRun,
    now: now.toISOString(),
    maxRetries: request.maxRetries,
    limit: request.limit,
    found: due.length,
    queued: entries.filter((e) => (e.action === 'queue' || e.action === 'recover') && !e.note).length,
    exhausted,
    expired,
    skipped: tally('skip'),
    ...(request.verbose ? { notifications: entries } : {}),
  };
}
