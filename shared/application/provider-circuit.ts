// The provider circuit, shared by every sender through one record in the store, and the probe
// that closes it: a minute-by-minute check of WaChap while it is open, which releases the held
// backlog at once when WaChap answers healthily again. Operators can force it either way.

import type { Mailer } from '../adapters/mailer.js';
import { ConcurrentUpdateError, type NotificationStore } from '../adapters/notification-store.js';
import type { SendQueue } from '../adapters/send-queue.js';
import type { WaChapClient } from '../adapters/wachap.js';
import type { HealthAlert } from '../domain/health.js';
import {
  closeCircuit,
  isCircuitOpen,
  type OpenCause,
  openCircuit,
  type ProviderState,
  probeDue,
  recordProbe,
  releaseDone,
  WACHAP_PROVIDER,
} from '../domain/provider-circuit.js';
import { IllegalTransitionError } from '../domain/transitions.js';
import type { Log } from '../observability/logger.js';
import { applyTransition } from './apply-transition.js';
import { alertEmail } from './health-check.js';

type CircuitStore = Pick<NotificationStore, 'getProviderState' | 'putProviderState'>;

/** Applies `change` to the latest state with a conditional write; returns the state it wrote, if any. */
async function updateState(
  store: CircuitStore,
  change: (latest: ProviderState | undefined) => ProviderState | undefined,
): Promise<ProviderState | undefined> {
  for (let round = 0; ; round++) {
    const latest = await store.getProviderState(WACHAP_PROVIDER);
    const next = change(latest);
    if (!next) return undefined;
    try {
      await store.putProviderState(WACHAP_PROVIDER, next, latest?.version ?? 0);
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || round >= 3) throw error;
    }
  }
}

/** What a sender asks before calling WaChap; the answer is cached briefly per instance. */
export class ProviderCircuit {
  private cached: { state: ProviderState | undefined; at: number } | undefined;

  constructor(private readonly deps: { store: CircuitStore; clock: () => Date; log: Log; cacheMs: number }) {}

  async isOpen(): Promise<boolean> {
    const now = this.deps.clock().getTime();
    if (!this.cached || now - this.cached.at >= this.deps.cacheMs) {
      this.cached = { state: await this.deps.store.getProviderState(WACHAP_PROVIDER), at: now };
    }
    return isCircuitOpen(this.cached.state);
  }

  /** Opens the circuit after a provider-wide failure; a circuit already open stays as it is. */
  async open(cause: OpenCause): Promise<void> {
    const at = this.deps.clock();
    const opened = await updateState(this.deps.store, (latest) => openCircuit(latest, at, cause));
    if (opened) this.deps.log.error('provider circuit opened: notifications are held', { reason: cause.reason });
    this.cached = undefined;
  }
}

export type CircuitCommand =
  | { action: 'tick' }
  | { action: 'status' }
  | { action: 'probe' }
  | { action: 'open'; reason?: string | undefined }
  | { action: 'close' };

export interface CircuitReport {
  action: CircuitCommand['action'];
  now: string;
  circuit: ProviderState | null;
  probed: boolean;
  probeResult?: string;
  /** Held notifications made due and queued again. */
  released: number;
  alert?: 'sent' | 'cooldown' | 'failed' | 'disabled' | 'not_configured';
}

export interface ProbeDependencies {
  store: Pick<
    NotificationStore,
    | 'getProviderState'
    | 'putProviderState'
    | 'dueNotifications'
    | 'get'
    | 'save'
    | 'acquireAlertCooldown'
    | 'releaseAlertCooldown'
  >;
  queue: Pick<SendQueue, 'enqueueMany'>;
  wachap: Pick<WaChapClient, 'checkConnection'>;
  mailer?: Pick<Mailer, 'send'> | undefined;
  log: Log;
  clock: () => Date;
  settings: {
    probeIntervalMs: number;
    /** How far ahead held notifications may be scheduled (the sender's hold). */
    holdMs: number;
    alertsEnabled: boolean;
    adminEmail?: string | undefined;
    cooldownMs: number;
  };
}

const RELEASE_BATCH = 1000;
const RELEASE_ROUNDS = 20;

/**
 * Makes every held notification due now and queues it: the backlog goes out as soon as WaChap is
 * back. A notification that could not be released (a throttled write) is counted, and the circuit
 * keeps `releasePending` so that the next probe tick finishes the job.
 */
export async function releaseHeld(deps: ProbeDependencies, now: Date): Promise<{ released: number; failed: number }> {
  // Held notifications are scheduled at most holdMs ahead; look a minute past that.
  const horizon = new Date(now.getTime() + deps.settings.holdMs + 60_000);
  let released = 0;
  let failed = 0;
  // The due index is read earliest first, and a released notification becomes due now, ahead of those
  // still held: each round reads past every notification already looked at, or a backlog larger than
  // one batch would stop at the first.
  const seen = new Set<string>();
  for (let round = 0; round < RELEASE_ROUNDS; round++) {
    const limit = seen.size + RELEASE_BATCH;
    const due = await deps.store.dueNotifications({ now: horizon, limit });
    const held = due.filter((n) => !seen.has(n.id) && n.reason === 'provider_unavailable');
    for (const n of due) seen.add(n.id);
    const ids: string[] = [];
    for (const n of held) {
      try {
        await applyTransition(deps.store, n, { type: 'release', at: now });
        ids.push(n.id);
      } catch (error) {
        if (error instanceof IllegalTransitionError) continue;
        failed++;
        deps.log.warn('held notification not released; the next probe tick tries again', {
          notificationId: n.id,
          error: String(error),
        });
      }
    }
    if (ids.length > 0) await deps.queue.enqueueMany(ids);
    released += ids.length;
    if (due.length < limit) break;
  }
  return { released, failed };
}

/** Releases the held backlog after a close, and marks the job done once nothing was left behind. */
async function finishRelease(deps: ProbeDependencies, now: Date): Promise<{ released: number; state?: ProviderState }> {
  const { released, failed } = await releaseHeld(deps, now);
  if (failed > 0) return { released };
  const state = await updateState(deps.store, (latest) =>
    latest && !isCircuitOpen(latest) && latest.releasePending ? releaseDone(latest) : undefined,
  );
  return { released, ...(state ? { state } : {}) };
}

async function alertOpenCircuit(
  state: ProviderState,
  deps: ProbeDependencies,
  now: Date,
): Promise<CircuitReport['alert']> {
  const { settings } = deps;
  if (!settings.alertsEnabled) return 'disabled';
  if (!settings.adminEmail || !deps.mailer) return 'not_configured';
  if (!(await deps.store.acquireAlertCooldown('provider_unavailable', now, settings.cooldownMs))) return 'cooldown';
  const minutes = Math.round((now.getTime() - Date.parse(state.since)) / 60_000);
  const alert: HealthAlert = {
    kind: 'provider_unavailable',
    severity: 'critical',
    summary: `WaChap is unavailable since ${state.since} (${minutes} min): ${state.reason ?? 'unknown reason'}. Notifications are held, none is lost.`,
    figures: { minutesSinceOpen: minutes },
    recommendation: `${state.recommendation ?? 'Check the WaChap dashboard.'} After fixing it, close the circuit at once with \`npm run circuit -- --close\` (or wait for the next probe, within a minute).`,
  };
  try {
    // Email only: WhatsApp goes through the very provider that is broken.
    await deps.mailer.send(alertEmail([alert], settings.adminEmail, now));
    return 'sent';
  } catch (error) {
    deps.log.error('provider alert email failed', { error: String(error) });
    await deps.store.releaseAlertCooldown('provider_unavailable', now).catch(() => undefined);
    return 'failed';
  }
}

export async function runCircuitCommand(command: CircuitCommand, deps: ProbeDependencies): Promise<CircuitReport> {
  const now = deps.clock();
  const report = (circuit: ProviderState | undefined, extra: Partial<CircuitReport> = {}): CircuitReport => ({
    action: command.action,
    now: now.toISOString(),
    circuit: circuit ?? null,
    probed: false,
    released: 0,
    ...extra,
  });
  const state = await deps.store.getProviderState(WACHAP_PROVIDER);

  switch (command.action) {
    case 'status':
      return report(state);
    case 'open': {
      const reason = `opened by an operator${command.reason ? `: ${command.reason}` : ''}`;
      const cause = {
        reason,
        errorType: 'operator',
        recommendation: 'Close the circuit when WaChap is usable again.',
        forced: true,
      };
      const opened = await updateState(deps.store, (latest) => openCircuit(latest, now, cause));
      deps.log.warn('provider circuit opened by an operator', { reason });
      return report(opened ?? state);
    }
    case 'close': {
      const closed = await updateState(deps.store, (latest) => closeCircuit(latest, now));
      const { released, state: done } = await finishRelease(deps, now);
      deps.log.info('provider circuit closed by an operator', { released });
      return report(done ?? closed, { released });
    }
    case 'tick':
    case 'probe': {
      if (!isCircuitOpen(state)) {
        if (!state?.releasePending) return report(state);
        const { released, state: done } = await finishRelease(deps, now);
        return report(done ?? state, { released });
      }
      const due = command.action === 'probe' || probeDue(state, now, deps.settings.probeIntervalMs);
      if (!due) return report(state, { alert: await alertOpenCircuit(state!, deps, now) });
      const outcome = await deps.wachap.checkConnection();
      const probeResult = outcome.ok
        ? 'healthy'
        : `${outcome.error.type}${outcome.error.httpStatus ? ` ${outcome.error.httpStatus}` : ''}: ${outcome.error.message}`;
      if (outcome.ok && !state!.forced) {
        const closed = await updateState(deps.store, (latest) =>
          isCircuitOpen(latest) && !latest?.forced ? closeCircuit(latest, now, probeResult) : undefined,
        );
        const { released, state: done } = await finishRelease(deps, now);
        deps.log.info('provider healthy again: circuit closed, held notifications released', { released, probeResult });
        return report(done ?? closed ?? state, { probed: true, probeResult, released });
      }
      const probed = await updateState(deps.store, (latest) =>
        isCircuitOpen(latest) ? recordProbe(latest!, now, probeResult) : undefined,
      );
      return report(probed ?? state, { probed: true, probeResult, alert: await alertOpenCircuit(state!, deps, now) });
    }
  }
}
