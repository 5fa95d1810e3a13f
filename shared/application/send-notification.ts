// One send attempt, end to end, read forward: load → skip, expire, give up or hold what must not be sent →
// claim → deliver through the channel → act on its verdict → one conditional write (the counters follow it).
// The claim is a conditional write, so two deliveries of one message (or a sweep racing the ingest) can never
// both reach the provider.
//
// Channels: the record says which channel its attempts use (WhatsApp, or email after a fallback) and the channel
// policy (domain/channel-policy nextChannel) says when it changes; this file only asks. The invariant that keeps a
// notification off two channels: every delivery, on any channel, is made under a claim won by a conditional write,
// through the channel of the record as claimed; a switch is written either by the holder of the claim whose attempt
// definitively failed (its token), or with no claim live, and never out of `sent`. A duplicate across channels would
// therefore need two claims to win over one version, which the conditional write forbids.
import type { RetryPolicy } from '../domain/backoff.js';
import { type ChannelPolicy, CIRCUIT_CHANNEL, fallbackInstant, nextChannel } from '../domain/channel-policy.js';
import type { FailureVerdict } from '../domain/error-classifier.js';
import { isTerminal, type Notification } from '../domain/notification.js';
import { maskPhone, maskPhonesInText } from '../domain/phone.js';
import {
  attemptsMade,
  hasAbandonedClaim,
  IllegalTransitionError,
  isExpired,
  type NotificationEvent,
} from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import { applyTransition, type MoveDependencies, reemitCallback } from './apply-transition.js';
import { withRetries } from './concurrency.js';
import type { InstanceRouter } from './instance-routing.js';
import {
  ConcurrentUpdateError,
  type DeliveryChannels,
  type DeliveryOutcome,
  MAX_QUEUE_DELAY_SECONDS,
  type SendMessage,
  type SendQueue,
} from './ports.js';
import type { ProviderCircuit } from './provider-circuit.js';
import { claim, describe, recordOutcome, settle, writeMove } from './sender-moves.js';

export type SendResult =
  | 'sent'
  | 'failed'
  | 'permanent_failure'
  | 'held'
  | 'expired'
  | 'exhausted'
  | 'skipped'
  | 'missing'
  | 'recorded'
  | 'unrecorded';

export interface SenderDependencies {
  store: MoveDependencies['store'];
  /** Where the status callbacks of the moves go (none: no callbacks). */
  callbacks?: MoveDependencies['callbacks'];
  /** Where the moves' hourly counts go when a batch writes them once (none: each move writes its own). */
  counters?: MoveDependencies['counters'];
  /** Every channel configured; the record's `channel` picks one. */
  channels: DeliveryChannels;
  queue: Pick<SendQueue, 'enqueue'>;
  /** The provider circuit shared by every sender: while it is open, nobody calls the provider. */
  circuit: Pick<ProviderCircuit, 'isOpen' | 'open'>;
  /**
   * Several WaChap instances: each notification goes through the instance its route (or a stand-in) decides, each
   * instance with its own circuit; `circuit` above is then unused.
   */
  instances?: InstanceRouter | undefined;
  log: Log;
  /** The function's telemetry: WaChap's latency here, the moves' figures in applyTransition. */
  metrics?: Telemetry | undefined;
  clock: () => Date;
  random: () => number;
  newClaimToken: () => string;
  policy: {
    retry: RetryPolicy;
    providerHoldMs: number;
    /** How long a claim protects an attempt; past it, the sender is presumed dead. */
    claimLeaseMs: number;
    /**
     * Pauses between tries of a read, and of an outcome's write before giving up (an accepted send then goes to
     * the queue).
     */
    recordBackoffMs: readonly number[];
    /** When a notification leaves WhatsApp for email (none: never). */
    channels?: ChannelPolicy;
  };
}

/** No fallback at all: what a sender without a channel policy does. */
const WHATSAPP_ONLY: ChannelPolicy = { enabled: ['whatsapp'], emailFallbackCategories: [], fallbackBeforeExpiryMs: 0 };
const channelPolicyOf = (deps: SenderDependencies): ChannelPolicy => deps.policy.channels ?? WHATSAPP_ONLY;

export async function sendNotification(message: SendMessage, deps: SenderDependencies): Promise<SendResult> {
  const { log } = deps;
  // Reads are tried again after a throttle or a timeout, as outcome writes are: a message that fails here comes
  // back only after the queue's visibility timeout (minutes), which an OTP, or a released backlog, cannot afford.
  const read = <T>(work: () => Promise<T>) => withRetries(work, { pausesMs: deps.policy.recordBackoffMs });
  const loaded = await read(() => deps.store.get(message.id));
  if (!loaded) {
    log.warn('notification not found; message dropped', { notificationId: message.id });
    return 'missing';
  }
  if (message.accepted) return recordLateAcceptance(loaded, message.accepted, deps);
  if (isTerminal(loaded.status)) {
    log.info('not sendable; duplicate or late delivery ignored', { notificationId: loaded.id, status: loaded.status });
    // A redelivery of the message whose sender recorded the outcome and died before queueing its callback: the
    // callback is queued again (same event id; a receiver that has it keeps one).
    await reemitCallback(deps, loaded);
    return 'skipped';
  }

  const now = deps.clock();
  if (isExpired(loaded, now)) return settle(loaded, { type: 'expire', at: now }, 'expired', deps);
  if (attemptsMade(loaded, now) >= loaded.maxAttempts) {
    return settle(loaded, { type: 'exhaust', at: now, maxAttempts: loaded.maxAttempts }, 'exhausted', deps);
  }
  if (loaded.channel === CIRCUIT_CHANNEL) {
    const route = await read(() => routeNow(loaded, deps));
    if (route.action === 'hold') return holdOrFallBack(loaded, now, deps, route.instance);
    return sendOnChannel(loaded, now, deps, route);
  }
  return sendOnChannel(loaded, now, deps, {});
}

/**
 * The provider is down: near the end of its validity, a notification allowed to fall back leaves for the other
 * channel and is sent there now; otherwise it is held, until the fallback instant at the latest (the queue brings
 * it back then when that is within its delay limit; else the sweep finds it due).
 */
async function holdOrFallBack(
  loaded: Notification,
  now: Date,
  deps: SenderDependencies,
  /** The instance whose circuit is open (several instances), which the hold remembers for its release. */
  instance: string | undefined,
): Promise<SendResult> {
  const policy = channelPolicyOf(deps);
  const to = nextChannel(loaded, { kind: 'held' }, now, policy);
  if (to !== loaded.channel) {
    let switched: Notification;
    try {
      // Only onto the record as read: a change means a release or a claim got there first, and it is theirs.
      switched = await writeMove(deps, loaded, { type: 'switch_channel', at: now, to }, 0);
    } catch (error) {
      if (!(error instanceof IllegalTransitionError || error instanceof ConcurrentUpdateError)) throw error;
      deps.log.info('not switched; changed since it was read', { notificationId: loaded.id });
      return 'skipped';
    }
    deps.log.warn('provider unavailable near expiry; falling back', { notificationId: loaded.id, channel: to });
    return sendOnChannel(switched, now, deps, {});
  }
  const until = fallbackInstant(loaded, now, policy);
  // Only onto the record as it was read: if it changed since, the probe released it (and queued it) or a
  // sender claimed it; holding that fresh record would park it for providerHoldMs after the provider is back.
  const hold = {
    type: 'hold' as const,
    at: now,
    holdMs: deps.policy.providerHoldMs,
    ...(until !== undefined ? { until } : {}),
    ...(instance ? { instance } : {}),
  };
  const result = await settle(loaded, hold, 'held', deps, { onlyUnchanged: true });
  if (result === 'held' && until !== undefined) await comeBackAt(loaded, until, now, deps);
  return result;
}

/** Asks the queue for the notification again at `at`, when that is within its delay limit (best effort: the sweep). */
async function comeBackAt(n: Notification, at: Date, now: Date, deps: SenderDependencies): Promise<void> {
  // A second past the instant, so that the message never arrives before it.
  const delaySeconds = Math.ceil((at.getTime() - now.getTime()) / 1000) + 1;
  if (delaySeconds > MAX_QUEUE_DELAY_SECONDS) return;
  await deps.queue
    .enqueue({ id: n.id }, { priority: n.priority, delaySeconds })
    .catch((error: unknown) =>
      deps.log.warn('fallback look not queued; left to the sweep', { error: describe(error) }),
    );
}

/** Claims the attempt and delivers through the channel of the record as claimed (see the invariant above). */
async function sendOnChannel(
  loaded: Notification,
  now: Date,
  deps: SenderDependencies,
  /** On WhatsApp, the instance to send through and the one it was routed to (a stand-in's failover). */
  route: { via?: string; routedTo?: string },
): Promise<SendResult> {
  const { log } = deps;
  const token = deps.newClaimToken();
  let claimed: Notification;
  try {
    claimed = await claim(loaded, token, now, deps);
  } catch (error) {
    if (!(error instanceof IllegalTransitionError)) throw error;
    log.info('not claimed', { notificationId: loaded.id, why: error.why });
    return 'skipped';
  }
  if (hasAbandonedClaim(loaded, now)) {
    // The previous holder died between claiming and recording: the provider may have the message already.
    log.warn('previous attempt abandoned with an unknown outcome; sending again', { notificationId: claimed.id });
  }

  const channel = deps.channels[claimed.channel];
  const outcome: DeliveryOutcome = channel
    ? // WhatsApp through the instance its route (or a stand-in) decided; other channels have no instances.
      await channel.deliver(
        claimed,
        claimed.channel === CIRCUIT_CHANNEL && route.via ? { instance: route.via } : undefined,
      )
    : // On a channel this sender has no adapter for (its configuration was removed): retried with the backoff.
      {
        ok: false,
        error: { type: 'channel_not_configured', message: `no ${claimed.channel} channel is configured` },
        verdict: {
          action: 'retry',
          classification: 'temporary',
          scope: 'transient',
          recommendation: `Configure the ${claimed.channel} channel (README: Channels) or re-drive the notification.`,
        },
        durationMs: 0,
      };
  if (claimed.channel === CIRCUIT_CHANNEL) deps.metrics?.timing('WaChapCallLatency', outcome.durationMs);
  return outcome.ok ? recordSent(claimed, outcome, deps, route) : recordFailure(claimed, token, outcome, deps, route);
}

type Route = { action: 'hold'; instance?: string } | { action: 'send'; via?: string; routedTo?: string };

/** Send now (through which instance), or hold: the one circuit of a single instance, or the instances' routing. */
async function routeNow(n: Notification, deps: SenderDependencies): Promise<Route> {
  if (!deps.instances) return (await deps.circuit.isOpen()) ? { action: 'hold' } : { action: 'send' };
  return deps.instances.decide(n);
}

/** The circuit a send through `instance` opens when the provider fails it. */
const circuitOf = (deps: SenderDependencies, instance: string | undefined) =>
  deps.instances && instance ? deps.instances.circuit(instance) : deps.circuit;

async function recordSent(
  claimed: Notification,
  outcome: Extract<DeliveryOutcome, { ok: true }>,
  deps: SenderDependencies,
  route: { via?: string; routedTo?: string },
): Promise<SendResult> {
  const at = deps.clock();
  const accepted = {
    at: at.toISOString(),
    durationMs: Math.round(outcome.durationMs),
    ...(outcome.messageId ? { externalMessageId: outcome.messageId } : {}),
    ...(route.via ? { instance: route.via } : {}),
    ...(route.routedTo && route.routedTo !== route.via ? { routedTo: route.routedTo } : {}),
  };
  const recorded = await recordOutcome(claimed, sentEvent(at, accepted), deps);
  if (recorded === 'superseded') return 'skipped';
  if (recorded) {
    deps.log.info('sent', {
      notificationId: claimed.id,
      externalMessageId: outcome.messageId,
      to: maskPhone(claimed.recipient.phone),
      ...(accepted.instance ? { instance: accepted.instance } : {}),
      ...(accepted.routedTo ? { routedTo: accepted.routedTo, failover: true } : {}),
    });
    return 'sent';
  }
  // The provider has the message: hand the outcome to the queue rather than let the sweep send it again.
  try {
    await deps.queue.enqueue({ id: claimed.id, accepted }, { priority: claimed.priority });
    deps.log.warn('accepted send handed to the queue for recording', { notificationId: claimed.id });
  } catch (error) {
    deps.log.error('accepted send could not be recorded anywhere; the claim will lapse and the sweep will resend', {
      notificationId: claimed.id,
      error: describe(error),
    });
  }
  return 'unrecorded';
}

async function recordLateAcceptance(
  loaded: Notification,
  accepted: NonNullable<SendMessage['accepted']>,
  deps: SenderDependencies,
): Promise<SendResult> {
  if (isTerminal(loaded.status)) {
    await reemitCallback(deps, loaded);
    return 'skipped';
  }
  await applyTransition(deps, loaded, sentEvent(new Date(accepted.at), accepted));
  deps.log.info('accepted send recorded late', { notificationId: loaded.id });
  return 'recorded';
}

async function recordFailure(
  claimed: Notification,
  token: string,
  outcome: Extract<DeliveryOutcome, { ok: false }>,
  deps: SenderDependencies,
  route: { via?: string; routedTo?: string },
): Promise<SendResult> {
  const instance = route.via;
  const at = deps.clock();
  const { error, verdict } = outcome;
  if (verdict.action === 'hold') {
    // First, before anything can fail: every other sender stops calling the provider. If the failure below cannot
    // be recorded, the redelivered message then finds the circuit open and holds instead of calling it again.
    const reason = `${error.httpStatus ? `HTTP ${error.httpStatus}: ` : ''}${error.message}`;
    await circuitOf(deps, instance)
      .open({ reason, errorType: error.type, recommendation: verdict.recommendation })
      .catch((caught: unknown) => deps.log.warn('provider circuit not updated', { error: describe(caught) }));
  }
  const policy = channelPolicyOf(deps);
  const to = nextChannel(claimed, { kind: 'failed', verdict }, at, policy);
  const durationMs = Math.round(outcome.durationMs);
  const until = verdict.action === 'hold' ? fallbackInstant(claimed, at, policy) : undefined;
  const event: NotificationEvent =
    to !== claimed.channel
      ? { type: 'switch_channel', at, to, attempt: { token, error, verdict, durationMs } }
      : {
          type: 'failure',
          at,
          token,
          error,
          verdict,
          durationMs,
          policy: deps.policy.retry,
          providerHoldMs: deps.policy.providerHoldMs,
          random: deps.random,
          ...(until !== undefined ? { holdUntil: until } : {}),
          // A stand-in's failure opens the stand-in's circuit, but the notification waits for its own instance (the
          // number its customer knows): that instance's probe releases it, and it is routed afresh then.
          ...(route.routedTo ? { instance: route.routedTo } : instance ? { instance } : {}),
        };
  const recorded = await recordOutcome(claimed, event, deps);
  if (recorded === 'superseded') return 'skipped';
  if (!recorded) {
    // Back to the queue: the redelivery finds the claim lapsed and settles it as an attempt of unknown outcome.
    throw new Error(`the failed attempt on ${claimed.id} could not be recorded`);
  }
  if (event.type === 'switch_channel') {
    deps.log.warn('channel cannot take it; falling back', {
      notificationId: claimed.id,
      from: claimed.channel,
      to,
      errorType: error.type,
      scope: verdict.scope,
    });
    // Sent now on the new channel; if this sender dies first, the record is due there and the sweep sends it.
    return sendOnChannel(recorded, at, deps, {});
  }
  if (until !== undefined) await comeBackAt(recorded, until, at, deps);
  const result = failureResult(verdict, recorded);
  const fields = {
    notificationId: claimed.id,
    to: maskPhone(claimed.recipient.phone),
    errorType: error.type,
    httpStatus: error.httpStatus,
    // WaChap's own words (a number it refused may be in them): what the dashboard's latest failures show.
    error: maskPhonesInText(error.message),
    classification: verdict.classification,
    scope: verdict.scope,
    attempts: recorded.attempts,
    nextAttemptAt: recorded.nextAttemptAt,
    reason: recorded.reason,
    ...(instance ? { instance } : {}),
  };
  if (result === 'failed') deps.log.warn('send failed; retry scheduled', fields);
  else
    deps.log.error(result === 'held' ? 'provider unavailable; notification held' : 'send failed permanently', fields);
  return result;
}

/** What a recorded failure amounts to for the sender's report. */
function failureResult(verdict: FailureVerdict, recorded: Notification): 'held' | 'failed' | 'permanent_failure' {
  switch (verdict.action) {
    case 'hold':
      return 'held';
    case 'give_up':
      return 'permanent_failure';
    case 'retry':
      // The last allowed attempt ends in max_retries_exceeded.
      return recorded.status === 'permanent_failure' ? 'permanent_failure' : 'failed';
    default: {
      const unhandled: never = verdict;
      throw new Error(`unhandled verdict ${JSON.stringify(unhandled)}`);
    }
  }
}

const sentEvent = (
  at: Date,
  accepted: { durationMs: number; externalMessageId?: string; instance?: string; routedTo?: string },
): NotificationEvent => ({
  type: 'sent',
  at,
  durationMs: accepted.durationMs,
  ...(accepted.externalMessageId ? { externalMessageId: accepted.externalMessageId } : {}),
  ...(accepted.instance ? { instance: accepted.instance } : {}),
  ...(accepted.routedTo ? { routedTo: accepted.routedTo } : {}),
});
