// The retry sweep, successor of the original's retry_failed_notifications command: read the due
// work, give up on what exhausted its attempts, and put the rest on the send queue, marking each
// one first so that two overlapping sweeps cannot both enqueue it. Its `maxRetries` is the original's
// `--max-retries`: a limit for this run only. Lowered, it leaves alone what reached it (only a
// notification's own maxAttempts ends it); raised, it re-drives what ended at its own limit, up to it.
import type { Notification } from '../domain/notification.js';
import { maskPhone } from '../domain/phone.js';
import {
  attemptsMade,
  hasLiveClaim,
  IllegalTransitionError,
  isExpired,
  type NotificationEvent,
} from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import { applyTransition, type MoveDependencies, reemitIfAlreadyMade } from './apply-transition.js';
import { mapWithConcurrency } from './concurrency.js';
import { ConcurrentUpdateError, type NotificationRepository, type SendQueue } from './ports.js';

export interface SweepRequest {
  dryRun: boolean;
  verbose: boolean;
  limit: number;
  /** This run's attempt limit (the effective one). */
  maxRetries: number;
  /** MAX_RETRIES, the limit notifications are created with: the report says when the run's differs. */
  configuredMaxRetries: number;
}

/**
 * queue: sent to the sender; recover: same, after a sender died mid-attempt; redrive: a notification at its own limit
 * (due, or already ended there), given a budget up to this run's higher one and queued; skip: left as it is; the
 * others are final.
 */
export type SweepAction = 'queue' | 'recover' | 'redrive' | 'exhaust' | 'expire' | 'skip';

export interface SweepEntry {
  id: string;
  recipient: string;
  category: string;
  attempts: number;
  /** The notification's own limit, as found (a re-drive raises it to maxRetries). */
  maxAttempts: number;
  /** This run's limit. */
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
  /** This run's limit (the effective one). */
  maxRetries: number;
  /** MAX_RETRIES: when it differs from maxRetries, this run lowered or raised the limit. */
  configuredMaxRetries: number;
  maxRetriesChange: 'none' | 'lowered' | 'raised';
  limit: number;
  found: number;
  queued: number;
  /** At (or ended at) their own limit, below this run's: given attempts up to it and queued (counted in queued too). */
  redriven: number;
  /** A raised run stopped at its limit (or its read budget) with more to re-drive: run it again. */
  moreToRedrive?: boolean;
  exhausted: number;
  expired: number;
  skipped: number;
  notifications?: SweepEntry[];
}

export interface SweepDependencies {
  store: Pick<NotificationRepository, 'dueNotifications' | 'listNotifications'> & MoveDependencies['store'];
  queue: Pick<SendQueue, 'enqueueMany'>;
  log: Log;
  /** Where the status callbacks of what it expires or exhausts go (none: no callbacks). */
  callbacks?: MoveDependencies['callbacks'];
  /** The function's telemetry: what a run found and queued here, the moves' figures in applyTransition. */
  metrics?: Telemetry | undefined;
  clock: () => Date;
  /** How long a queued notification stays hidden from later sweeps; past it, a lost message is re-sent. */
  queueLeaseMs: number;
  writeConcurrency: number;
}

const limitChange = (request: SweepRequest): SweepSummary['maxRetriesChange'] =>
  request.maxRetries < request.configuredMaxRetries
    ? 'lowered'
    : request.maxRetries > request.configuredMaxRetries
      ? 'raised'
      : 'none';

/** Who a raised run's re-drives are recorded as: the function does not know who invoked it. */
const SWEEP_ACTOR = 'retry-sweep';
/**
 * A raised run makes at most one list call per this many notifications of its limit (at least one): a bounded cost.
 * Each call reads at most about 10 × (LIST_PAGE_SIZE + the status shards) items, filtered-out ones included (the
 * list's own cap): the full page size gives the filters that much room, even when few are wanted.
 */
const REDRIVE_NOTIFICATIONS_PER_LIST_CALL = 10;
const LIST_PAGE_SIZE = 100;

/** What the sweep does with a due notification, and why when it leaves it alone. */
function plannedAction(n: Notification, now: Date, request: SweepRequest): { action: SweepAction; note?: string } {
  // A claim keeps the due time it found (a fresh one's is already past): its sender decides, or its lease runs out
  // and a later sweep recovers it.
  if (hasLiveClaim(n, now)) return { action: 'skip', note: 'an attempt is in flight' };
  if (isExpired(n, now)) return { action: 'expire' };
  // An abandoned claim counts: it may have reached WaChap.
  const made = attemptsMade(n, now);
  // Only its own limit ends a notification: a lowered run limit must not make it permanent for good.
  if (made >= n.maxAttempts) {
    // At its own limit below a raised run's: it goes on up to the run's (the original's --max-retries=15).
    return limitChange(request) === 'raised' && made < request.maxRetries
      ? { action: 'redrive' }
      : { action: 'exhaust' };
  }
  if (made >= request.maxRetries) {
    return {
      action: 'skip',
      note: `limite de cette exécution atteinte, laissée pour plus tard / reached this run's limit of ${request.maxRetries}, left for a later run (its own: ${n.maxAttempts})`,
    };
  }
  return { action: n.inFlight ? 'recover' : 'queue' };
}

/**
 * The notifications that ended at their own limit (max_retries_exceeded) with fewer attempts than a raised run's
 * limit, newest first, at most `budget`. One whose validity ran out is left: a re-drive never sends it late.
 * The query itself leaves out the ineligible ones (attemptsBelow, validAt), so that those already taken up to this
 * limit, or expired, never fill a run's pages: each run reaches the older eligible ones behind them. Only the read
 * cost of the filtered ones remains (see REDRIVE_NOTIFICATIONS_PER_LIST_CALL): past about 100 × limit (at least about
 * 1,000) ineligible ones in a row, a run stops with moreToRedrive and the next one reads the same again.
 */
async function redriveCandidates(
  request: SweepRequest,
  now: Date,
  budget: number,
  seen: ReadonlySet<string>,
  deps: SweepDependencies,
): Promise<{ candidates: Notification[]; more: boolean }> {
  const found: Notification[] = [];
  if (limitChange(request) !== 'raised') return { candidates: found, more: false };
  // One past the budget, to tell whether some are left for another run (the due work may have taken it all).
  const wanted = Math.max(0, budget) + 1;
  const calls = Math.max(1, Math.ceil(request.limit / REDRIVE_NOTIFICATIONS_PER_LIST_CALL));
  let cursor: string | undefined;
  for (let call = 0; call < calls; call++) {
    const page = await deps.store.listNotifications({
      statuses: ['permanent_failure'],
      reason: 'max_retries_exceeded',
      attemptsBelow: request.maxRetries,
      validAt: now,
      limit: LIST_PAGE_SIZE,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const n of page.notifications) {
      // The index may lag the table a little: the filters again on what it gave (the write checks the version).
      if (n.attempts >= request.maxRetries || isExpired(n, now) || seen.has(n.id)) continue;
      found.push(n);
      if (found.length >= wanted) return { candidates: found.slice(0, wanted - 1), more: true };
    }
    cursor = page.cursor;
    if (cursor === undefined) return { candidates: found, more: false };
  }
  // The read budget ran out first: there may be more.
  return { candidates: found.slice(0, Math.max(0, budget)), more: true };
}

/**
 * Raises a notification's limit to the run's and queues it, in one re-drive from where it is: out of
 * permanent_failure, or straight on from failed/pending for a due one at its own limit (never ended first: ending it
 * would count a permanent failure that did not happen), then marked queued.
 */
async function redriveToLimit(
  n: Notification,
  now: Date,
  request: SweepRequest,
  deps: SweepDependencies,
  progress: { redriven: boolean },
): Promise<void> {
  const redriven = await applyTransition(
    deps,
    n,
    {
      type: 'redrive',
      at: now,
      by: SWEEP_ACTOR,
      reason: `--max-retries=${request.maxRetries}: limit raised from ${n.maxAttempts} to ${request.maxRetries}`,
      // Out of permanent_failure, the fresh budget up to the run's limit; from failed/pending, the raise alone.
      maxAttempts: Math.max(0, request.maxRetries - attemptsMade(n, now)),
      raiseMaxAttemptsTo: request.maxRetries,
    },
    0,
  );
  progress.redriven = true;
  await applyTransition(deps, redriven, { type: 'enqueue', at: now, leaseMs: deps.queueLeaseMs }, 0);
}

function eventFor(action: SweepAction, n: Notification, now: Date, leaseMs: number): NotificationEvent {
  switch (action) {
    case 'expire':
      return { type: 'expire', at: now };
    case 'exhaust':
      return { type: 'exhaust', at: now, maxAttempts: n.maxAttempts };
    default:
      return { type: 'enqueue', at: now, leaseMs };
  }
}

const isQueued = (e: SweepEntry): boolean =>
  (e.action === 'queue' || e.action === 'recover' || e.action === 'redrive') && !e.note;

export async function runRetrySweep(request: SweepRequest, deps: SweepDependencies): Promise<SweepSummary> {
  const now = deps.clock();
  const due = await deps.store.dueNotifications({ now, limit: request.limit });
  // Due work first; a raised run's re-drives share what the limit leaves.
  const { candidates, more } = await redriveCandidates(
    request,
    now,
    request.limit - due.length,
    new Set(due.map((n) => n.id)),
    deps,
  );
  const found = [...due, ...candidates];

  const entries = await mapWithConcurrency(found, deps.writeConcurrency, async (n): Promise<SweepEntry> => {
    const entry: SweepEntry = {
      id: n.id,
      recipient: maskPhone(n.recipient.phone),
      category: n.category,
      attempts: n.attempts,
      maxAttempts: n.maxAttempts,
      maxRetries: request.maxRetries,
      nextAttemptAt: n.nextAttemptAt,
      priority: n.priority,
      ...(n.status === 'permanent_failure' ? { action: 'redrive' as const } : plannedAction(n, now, request)),
    };
    if (request.dryRun || entry.action === 'skip') return entry;
    const progress = { redriven: false };
    try {
      if (entry.action === 'redrive') await redriveToLimit(n, now, request, deps, progress);
      else await applyTransition(deps, n, eventFor(entry.action, n, now, deps.queueLeaseMs), 0);
      return entry;
    } catch (error) {
      // Re-driven, but another worker moved it before it was marked queued: it is due, the next sweep queues it.
      if (progress.redriven) return { ...entry, note: 'due at once; queued by the next sweep' };
      // Another sweep or a sender got there first: theirs is the right outcome.
      if (error instanceof IllegalTransitionError || error instanceof ConcurrentUpdateError) {
        // Already expired or exhausted (an overlapping sweep, or a lagging index showing a final one as due): its
        // callback may be the one a worker that died after its write never queued.
        if (entry.action === 'expire' || entry.action === 'exhaust') {
          await reemitIfAlreadyMade(deps, n, eventFor(entry.action, n, now, deps.queueLeaseMs));
        }
        return { ...entry, action: 'skip', note: 'changed by another worker' };
      }
      deps.log.error('sweep could not update a notification', { notificationId: n.id, error: String(error) });
      return { ...entry, action: 'skip', note: 'update failed' };
    }
  });

  const toQueue = entries.filter(isQueued);
  if (!request.dryRun && toQueue.length > 0) {
    const { failed } = await deps.queue.enqueueMany(toQueue);
    const refused = new Set(failed.map((entry) => entry.id));
    for (const entry of entries) {
      if (refused.has(entry.id)) entry.note = 'queue refused it; due again when its lease ends';
    }
    if (failed.length > 0) deps.log.warn('some notifications could not be queued', { count: failed.length });
  }

  const tally = (action: SweepAction) => entries.filter((e) => e.action === action).length;
  const queued = entries.filter(isQueued).length;
  // A dry run changes nothing: its figures would read as work the sweeps did.
  if (!request.dryRun) {
    deps.metrics?.count('SweepFound', found.length);
    deps.metrics?.count('SweepQueued', queued);
  }
  return {
    dryRun: request.dryRun,
    now: now.toISOString(),
    maxRetries: request.maxRetries,
    configuredMaxRetries: request.configuredMaxRetries,
    maxRetriesChange: limitChange(request),
    limit: request.limit,
    found: found.length,
    queued,
    redriven: tally('redrive'),
    ...(more ? { moreToRedrive: true } : {}),
    exhausted: tally('exhaust'),
    expired: tally('expire'),
    skipped: tally('skip'),
    ...(request.verbose ? { notifications: entries } : {}),
  };
}
