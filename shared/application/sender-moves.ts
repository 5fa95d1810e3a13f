// How the sender writes its moves when the store misbehaves: each write is tried again after a throttle or a timeout
// (a message that fails instead comes back only after the queue's visibility timeout, minutes), and a write that
// landed although its answer was lost is recognised on the next try as its own: a claim by its token, an outcome
// because its move no longer applies, a hold, an expiry or a switch by the record it left (its version and instant).
import type { Notification } from '../domain/notification.js';
import { IllegalTransitionError, type NotificationEvent, transition } from '../domain/transitions.js';
import { applyTransition, NotificationVanishedError, reemitIfAlreadyMade } from './apply-transition.js';
import { withRetries } from './concurrency.js';
import { ConcurrentUpdateError } from './ports.js';
import type { SenderDependencies, SendResult } from './send-notification.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Claims the attempt, trying again after a throttle or a timeout. A claim whose write landed although its answer
 * was lost is found again by its token, and is ours.
 */
export async function claim(
  loaded: Notification,
  token: string,
  now: Date,
  deps: SenderDependencies,
): Promise<Notification> {
  const event = { type: 'claim' as const, at: now, token, leaseMs: deps.policy.claimLeaseMs };
  return withRetries(
    async () => {
      try {
        return await applyTransition(deps, loaded, event);
      } catch (error) {
        if (!(error instanceof IllegalTransitionError)) throw error;
        const latest = await deps.store.get(loaded.id);
        if (latest?.inFlight?.token === token) return latest;
        throw error;
      }
    },
    { pausesMs: deps.policy.recordBackoffMs, retryable: (error) => !(error instanceof IllegalTransitionError) },
  );
}

/**
 * Writes an attempt's outcome, trying again after a pause when the write fails (a throttle, a timeout): an
 * outcome that is not written costs an attempt of its own later. Returns the stored record, `superseded` when
 * the outcome no longer applies (another sender took over), or undefined when every try failed.
 */
export async function recordOutcome(
  claimed: Notification,
  event: NotificationEvent,
  deps: SenderDependencies,
): Promise<Notification | 'superseded' | undefined> {
  for (const pause of [0, ...deps.policy.recordBackoffMs]) {
    await sleep(pause);
    try {
      return await applyTransition(deps, claimed, event);
    } catch (error) {
      if (error instanceof IllegalTransitionError) {
        // Maybe our own earlier try, whose write landed while its answer was lost: its callback is queued again.
        await reemitIfAlreadyMade(deps, claimed, event);
        return 'superseded';
      }
      deps.log.warn(`could not record the ${event.type} outcome; trying again`, {
        notificationId: claimed.id,
        error: describe(error),
      });
    }
  }
  return undefined;
}

export async function settle(
  loaded: Notification,
  event: NotificationEvent,
  result: SendResult,
  deps: SenderDependencies,
  options: { onlyUnchanged?: boolean } = {},
): Promise<SendResult> {
  try {
    await writeMove(deps, loaded, event, options.onlyUnchanged ? 0 : undefined);
  } catch (error) {
    if (error instanceof IllegalTransitionError) {
      await reemitIfAlreadyMade(deps, loaded, event);
      return 'skipped';
    }
    if (options.onlyUnchanged && error instanceof ConcurrentUpdateError) {
      deps.log.info('changed since it was read; left to whoever changed it', { notificationId: loaded.id });
      return 'skipped';
    }
    throw error;
  }
  deps.log.info(`notification ${result}`, { notificationId: loaded.id });
  return result;
}

/**
 * A move written by the sender outside an attempt (a hold, an expiry, a switch of channel), tried again after a
 * failure (a throttle, a timeout), as reads and outcomes are: left to fail, its message would come back only after
 * the queue's visibility timeout (minutes), and a notification held by a short reopening of the circuit would miss
 * the release that follows it. A try that may have landed although its answer was lost is recognised on the next
 * one, which then meets a changed record: the record as this move would have left it (its version and instant) is
 * this move, done, and is returned as such (so a hold still queues its look at the fallback instant, and a switch
 * still sends on the new channel). `races`: as applyTransition's.
 */
export async function writeMove(
  deps: SenderDependencies,
  loaded: Notification,
  event: NotificationEvent,
  races?: number,
): Promise<Notification> {
  let unsure = false;
  return withRetries(
    async () => {
      try {
        return await applyTransition(deps, loaded, event, races);
      } catch (error) {
        if (unsure && (error instanceof ConcurrentUpdateError || error instanceof IllegalTransitionError)) {
          const landed = await landedAsMoved(deps, loaded, event);
          if (landed) return landed;
        }
        unsure = !(error instanceof IllegalTransitionError || error instanceof ConcurrentUpdateError);
        throw error;
      }
    },
    {
      pausesMs: deps.policy.recordBackoffMs,
      retryable: (error) =>
        !(
          error instanceof IllegalTransitionError ||
          error instanceof ConcurrentUpdateError ||
          error instanceof NotificationVanishedError
        ),
    },
  );
}

/** The stored record, if it is the one `event` would have made of `loaded` (the same version, instant and state). */
async function landedAsMoved(
  deps: SenderDependencies,
  loaded: Notification,
  event: NotificationEvent,
): Promise<Notification | undefined> {
  const intended = transition(loaded, event);
  const latest = await deps.store.get(loaded.id);
  const same =
    latest !== undefined &&
    latest.version === intended.version &&
    latest.updatedAt === intended.updatedAt &&
    latest.status === intended.status &&
    latest.channel === intended.channel &&
    latest.reason === intended.reason &&
    latest.inFlight === undefined;
  return same ? latest : undefined;
}

export const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
