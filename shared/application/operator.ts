// What operators do with notifications (the operator routes and CLIs): read one, list them by status, cancel one,
// re-drive one or every match of a filter; their export is in operator-export.ts. Every change is a domain
// transition written conditionally (applyTransition), so an operator racing a sender or a sweep never overwrites
// what they did: the sender finds a cancelled notification cancelled, and an operator finds an attempt in flight
// refused until its outcome is known.
import type { NotificationPolicy } from '../domain/new-notification.js';
import type { FailureReason, Notification, OperatorAction } from '../domain/notification.js';
import { hasLiveClaim, IllegalTransitionError, isStale, type NotificationEvent } from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import {
  applyTransition,
  type MoveDependencies,
  NotificationVanishedError,
  reemitCallback,
} from './apply-transition.js';
import { mapWithConcurrency } from './concurrency.js';
import { ConflictError, InvalidInputError } from './errors.js';
import {
  ConcurrentUpdateError,
  type CountQuery,
  type HourlyCounters,
  type ListQuery,
  NotificationNotFoundError,
  type NotificationRepository,
  type SendQueue,
  type StatusCounts,
} from './ports.js';

/** A notification as operators see it: never the claim token, the version, nor the store's own attributes. */
export interface NotificationView
  extends Pick<
    Notification,
    | 'id'
    | 'status'
    | 'reason'
    | 'attempts'
    | 'maxAttempts'
    | 'nextAttemptAt'
    | 'createdAt'
    | 'updatedAt'
    | 'sentAt'
    | 'expiresAt'
    | 'category'
    | 'priority'
    | 'channel'
    | 'title'
    | 'message'
    | 'recipient'
    | 'lastError'
    | 'history'
    | 'externalMessageId'
    | 'instance'
    | 'routedTo'
    | 'callbackUrl'
    | 'callbackExhausted'
  > {
  operatorActions?: OperatorAction[];
  /** A sender holds a live claim: an attempt is under way, and cancel or re-drive waits for its outcome. */
  inFlight: boolean;
}

export interface OperatorDependencies {
  store: Pick<NotificationRepository, 'get' | 'save' | 'listNotifications'> & Pick<HourlyCounters, 'incrementCounters'>;
  queue: Pick<SendQueue, 'enqueue' | 'enqueueMany'>;
  log: Log;
  /** Where the status callbacks of a cancel go (none: no callbacks). */
  callbacks?: MoveDependencies['callbacks'];
  /** The function's telemetry: the cancels and re-drives are counted by applyTransition. */
  metrics?: Telemetry | undefined;
  clock: () => Date;
  /**
   * A re-drive's fresh budget (maxAttempts), and which categories have a validity window (validitySeconds): one of
   * theirs whose validity ran out is stale and never re-driven.
   */
  policy: Pick<NotificationPolicy, 'maxAttempts' | 'validitySeconds'>;
}

/** Who acted and why, recorded with the notification. */
export interface OperatorInput {
  by?: string;
  reason?: string;
}

/** A bulk re-drive: which notifications, whether only to count them, and how far this call goes. */
export interface RedriveFilter {
  status: 'failed' | 'permanent_failure' | 'expired';
  /** The failure reason to match (the operator's own why is `note`). */
  reason?: FailureReason;
  category?: string;
  /** Bounds on createdAt, both inclusive. */
  from?: Date;
  to?: Date;
  dryRun: boolean;
  /** Matches handled by this call, at most REDRIVE_MAX_MATCHES (the default). */
  limit?: number;
  /** Where the previous call stopped (its nextCursor). */
  cursor?: string;
  by?: string;
  /** Why, in the operator's words: each re-drive's recorded reason. */
  note?: string;
}

export interface RedriveReport {
  dryRun: boolean;
  /** Matches found in this call (a dry run: what a real run would try). */
  matched: number;
  redriven: number;
  /**
   * Matches left alone: stale ones (see `stale`), and those that changed before their turn (re-driven, sent,
   * claimed…). A dry run counts the stale ones only, which a real run skips for sure.
   */
  skipped: number;
  /**
   * Of the skipped, present when some were: notifications of a category with a validity window (an OTP) whose
   * validity ran out. Their code is stale: they are never sent again; the upstream system must send new ones.
   */
  stale?: number;
  /** More may match: call again with it. */
  nextCursor?: string;
}

/** One bulk re-drive call handles at most this many matches: bounded work per request, resumable by cursor. */
export const REDRIVE_MAX_MATCHES = 500;
/** Notifications read per list call in a bulk re-drive (each then written). */
const REDRIVE_PAGE_SIZE = 100;
/** List calls one request makes at most: a filter that matches little stops early, with a cursor, not a timeout. */
export const MAX_LIST_CALLS = 20;
/** Re-drives written at once. */
const WRITE_CONCURRENCY = 8;

export const viewOf = (n: Notification, now: Date): NotificationView => ({
  id: n.id,
  status: n.status,
  reason: n.reason,
  attempts: n.attempts,
  maxAttempts: n.maxAttempts,
  nextAttemptAt: n.nextAttemptAt,
  createdAt: n.createdAt,
  updatedAt: n.updatedAt,
  sentAt: n.sentAt,
  expiresAt: n.expiresAt,
  category: n.category,
  priority: n.priority,
  // The channel in use: email after a fallback (the history says which channel each attempt used).
  channel: n.channel,
  title: n.title,
  message: n.message,
  recipient: n.recipient,
  lastError: n.lastError,
  history: n.history,
  externalMessageId: n.externalMessageId,
  instance: n.instance,
  routedTo: n.routedTo,
  operatorActions: n.operatorActions,
  callbackUrl: n.callbackUrl,
  // Status callbacks given up on after their 24 h of retries (their copies wait in the callback DLQ).
  callbackExhausted: n.callbackExhausted,
  inFlight: hasLiveClaim(n, now),
});

/** One notification, or NotificationNotFoundError. */
export async function getNotification(
  id: string,
  deps: Pick<OperatorDependencies, 'store' | 'clock'>,
): Promise<NotificationView> {
  return viewOf(await found(id, deps), deps.clock());
}

/** One page of the list, newest created first; nextCursor resumes it. */
export async function listNotifications(
  query: ListQuery,
  deps: Pick<OperatorDependencies, 'store' | 'clock'>,
): Promise<{ items: NotificationView[]; nextCursor?: string }> {
  const page = await deps.store.listNotifications(query);
  const now = deps.clock();
  const items = page.notifications.map((n) => viewOf(n, now));
  return page.cursor === undefined ? { items } : { items, nextCursor: page.cursor };
}

/** How many notifications each status holds among those created in the query's window, each up to its cap. */
export async function countNotifications(
  query: CountQuery,
  deps: { store: Pick<NotificationRepository, 'countNotifications'> },
): Promise<{ counts: StatusCounts; cap: number; from: string | null; to: string | null }> {
  return {
    counts: await deps.store.countNotifications(query),
    cap: query.cap,
    from: query.from?.toISOString() ?? null,
    to: query.to?.toISOString() ?? null,
  };
}

/** Cancels a pending or failed notification for good; ConflictError when it is final or an attempt is in flight. */
export async function cancelNotification(
  id: string,
  input: OperatorInput,
  deps: OperatorDependencies,
): Promise<NotificationView> {
  const at = deps.clock();
  const cancelled = await act(await found(id, deps), () => ({ type: 'cancel', at, ...input }), deps);
  deps.log.info('notification cancelled by an operator', { notificationId: id, by: input.by });
  return viewOf(cancelled, at);
}

/**
 * Re-drives one notification now and queues it on its lane: a failed or pending one becomes due, keeping its
 * budget; a permanent failure or an expired one gets a fresh budget of policy.maxAttempts. Its validity is never
 * renewed (see the domain's redrive). ConflictError when it is sent, cancelled, in flight, or stale (an OTP whose
 * validity ran out: its code is dead, the upstream system must send a new one).
 */
export async function redriveNotification(
  id: string,
  input: OperatorInput,
  deps: OperatorDependencies,
): Promise<NotificationView> {
  const at = deps.clock();
  const redriven = await act(
    await found(id, deps),
    (n) => {
      if (isStale(n, at, hasValidityWindow(n, deps))) throw staleConflict(n, at);
      return redriveEvent(n, at, input, deps);
    },
    deps,
  );
  deps.log.info('notification re-driven by an operator', { notificationId: id, by: input.by, status: redriven.status });
  try {
    await deps.queue.enqueue({ id: redriven.id }, { priority: redriven.priority });
  } catch (error) {
    // It is due now: the next sweep queues it.
    deps.log.warn('re-driven notification not queued; the next sweep sends it', {
      notificationId: id,
      error: String(error),
    });
  }
  return viewOf(redriven, at);
}

/**
 * Re-drives every notification matching `filter`, at most `limit` in this call (a cursor resumes), or only counts
 * them (dryRun). Each is decided on its stored copy: one that no longer matches, or changed meanwhile, is skipped.
 */
export async function redriveMatching(filter: RedriveFilter, deps: OperatorDependencies): Promise<RedriveReport> {
  const limit = filter.limit ?? REDRIVE_MAX_MATCHES;
  if (!Number.isInteger(limit) || limit < 1 || limit > REDRIVE_MAX_MATCHES) {
    throw new InvalidInputError([{ path: 'limit', message: `must be from 1 to ${REDRIVE_MAX_MATCHES}` }]);
  }
  const at = deps.clock();
  const report = { matched: 0, redriven: 0, stale: 0 };
  let cursor = filter.cursor;
  for (let call = 0; call < MAX_LIST_CALLS && report.matched < limit; call++) {
    const page = await deps.store.listNotifications({
      statuses: [filter.status],
      ...(filter.reason !== undefined ? { reason: filter.reason } : {}),
      ...(filter.category !== undefined ? { category: filter.category } : {}),
      ...(filter.from !== undefined ? { from: filter.from } : {}),
      ...(filter.to !== undefined ? { to: filter.to } : {}),
      limit: Math.min(REDRIVE_PAGE_SIZE, limit - report.matched),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    report.matched += page.notifications.length;
    if (filter.dryRun) {
      report.stale += page.notifications.filter((n) => isStale(n, at, hasValidityWindow(n, deps))).length;
    } else {
      const done = await redrivePage(page.notifications, filter, at, deps);
      report.redriven += done.redriven;
      report.stale += done.stale;
    }
    cursor = page.cursor;
    if (cursor === undefined) break;
  }
  deps.log.info('bulk re-drive', { ...report, dryRun: filter.dryRun, status: filter.status, by: filter.by });
  const { stale, ...counts } = report;
  return {
    dryRun: filter.dryRun,
    ...counts,
    skipped: filter.dryRun ? stale : counts.matched - counts.redriven,
    ...(stale > 0 ? { stale } : {}),
    ...(cursor !== undefined ? { nextCursor: cursor } : {}),
  };
}

// ---- internals ---------------------------------------------------------------------------------------------

async function found(id: string, deps: Pick<OperatorDependencies, 'store'>): Promise<Notification> {
  const n = await deps.store.get(id);
  if (!n) throw new NotificationNotFoundError(`Notification ${id} does not exist`);
  return n;
}

/**
 * Applies the operator's move, reading again and deciding again after a lost race. A move that does not apply to
 * the notification as it now is becomes ConflictError, with its status and whether an attempt is in flight.
 */
async function act(
  n: Notification,
  eventFor: (n: Notification) => NotificationEvent,
  deps: OperatorDependencies,
): Promise<Notification> {
  try {
    return await applyTransition(deps, n, eventFor(n));
  } catch (error) {
    if (error instanceof NotificationVanishedError) throw new NotificationNotFoundError(error.message);
    if (!(error instanceof IllegalTransitionError || error instanceof ConcurrentUpdateError)) throw error;
    const latest = await found(n.id, deps);
    // A repeated cancel (the first one's answer was lost, or it failed after its write): its callback is queued again.
    if (latest.status === 'cancelled' && eventFor(latest).type === 'cancel') await reemitCallback(deps, latest);
    const message =
      error instanceof IllegalTransitionError ? error.message : `notification ${n.id} keeps changing; try again`;
    throw new ConflictError(message, latest.status, hasLiveClaim(latest, deps.clock()));
  }
}

/** Its category has a validity window (policy.validitySeconds has it, e.g. otp): its content dies with it. */
const hasValidityWindow = (n: Notification, deps: Pick<OperatorDependencies, 'policy'>): boolean =>
  Object.hasOwn(deps.policy.validitySeconds, n.category);

/** The answer to a single re-drive of a stale notification: nothing is sent, the upstream must send a new one. */
function staleConflict(n: Notification, at: Date): ConflictError {
  const when = n.expiresAt !== undefined ? ` at ${n.expiresAt}` : '';
  return new ConflictError(
    `notification ${n.id} (${n.category}) is not re-driven: its validity ran out${when}, so its code is stale; ` +
      'the upstream system must send a new notification with a new code',
    n.status,
    hasLiveClaim(n, at),
  );
}

/**
 * The re-drive of `n`: a final one gets policy.maxAttempts more attempts, a failed or pending one keeps its own
 * limit (no raiseMaxAttemptsTo: only a raised retry sweep raises it).
 */
function redriveEvent(
  n: Notification,
  at: Date,
  input: OperatorInput,
  deps: Pick<OperatorDependencies, 'policy'>,
): NotificationEvent {
  return {
    type: 'redrive',
    at,
    ...input,
    maxAttempts: deps.policy.maxAttempts,
    ...(hasValidityWindow(n, deps) ? { validityWindow: true } : {}),
  };
}

/** Re-drives one page of matches and queues them on their lanes; says how many were re-driven, and how many stale. */
async function redrivePage(
  listed: readonly Notification[],
  filter: RedriveFilter,
  at: Date,
  deps: OperatorDependencies,
): Promise<{ redriven: number; stale: number }> {
  const input = {
    ...(filter.by !== undefined ? { by: filter.by } : {}),
    ...(filter.note ? { reason: filter.note } : {}),
  };
  let stale = 0;
  const redriven = await mapWithConcurrency(listed, WRITE_CONCURRENCY, async (n) => {
    // The index lags the table a little: decide on the table's own copy, and only if it still matches.
    const current = await deps.store.get(n.id);
    if (!current || !matches(current, filter)) return undefined;
    if (isStale(current, at, hasValidityWindow(current, deps))) {
      stale += 1;
      return undefined;
    }
    try {
      return await applyTransition(deps, current, redriveEvent(current, at, input, deps), 0);
    } catch (error) {
      if (error instanceof IllegalTransitionError || error instanceof ConcurrentUpdateError) return undefined;
      throw error;
    }
  });
  const tickets = redriven.flatMap((n) => (n ? [{ id: n.id, priority: n.priority }] : []));
  if (tickets.length > 0) {
    const { failed } = await deps.queue.enqueueMany(tickets);
    if (failed.length > 0)
      deps.log.warn('re-driven notifications not queued; the next sweep sends them', { count: failed.length });
  }
  return { redriven: tickets.length, stale };
}

const matches = (n: Notification, filter: RedriveFilter): boolean =>
  n.status === filter.status &&
  (filter.reason === undefined || n.reason === filter.reason) &&
  (filter.category === undefined || n.category === filter.category);
