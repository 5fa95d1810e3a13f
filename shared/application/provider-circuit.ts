// The provider circuit, shared by every sender through one record in the store, and the probe
// that closes it: a check of WaChap every probe interval while it is open (a minute's tick keeps
// checking within its own invocation), which releases the held backlog at once when WaChap answers
// healthily again. Operators can force it either way.

import { providerUnavailableAlert } from '../domain/health.js';
import { LOCAL_STAGE } from '../domain/operator-command.js';
import {
  closeCircuit,
  drainingAfterProbe,
  isCircuitOpen,
  nextWatchCheck,
  type OpenCause,
  openCircuit,
  type ProviderState,
  probeDue,
  recordProbe,
  WACHAP_PROVIDER,
  watchesCircuit,
} from '../domain/provider-circuit.js';
import { circuitNameOf, defaultInstance, type WaChapInstance } from '../domain/wachap-instances.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import { alertEmail } from '../presentation/alert-messages.js';
import { type Pause, realPause } from './concurrency.js';
import type { AdminContactsSource, AlertCooldowns, Mailer, ProviderProbe, SendQueue } from './ports.js';
import { type CircuitStore, readState, updateState } from './provider-state.js';
import { continueRelease, RELEASE_STOP_MARGIN_MS, type ReleaseDependencies } from './release-held.js';

/**
 * What a sender asks before calling WaChap. A "closed" answer is cached briefly per instance (the worst it
 * costs is one more WaChap call that fails and holds); an "open" one never is, because it leads to a hold:
 * a stale "open" read just after the probe closed the circuit would park a released notification again.
 */
export class ProviderCircuit {
  private cached: { state: ProviderState | undefined; at: number } | undefined;

  private readonly name: string;

  constructor(
    private readonly deps: {
      store: CircuitStore;
      clock: () => Date;
      log: Log;
      cacheMs: number;
      /** Whose circuit: one per provider (or provider instance). */
      name?: string;
    },
  ) {
    this.name = deps.name ?? WACHAP_PROVIDER;
  }

  async isOpen(): Promise<boolean> {
    const now = this.deps.clock().getTime();
    const fresh = this.cached && now - this.cached.at < this.deps.cacheMs;
    if (fresh && !isCircuitOpen(this.cached!.state)) return false;
    this.cached = { state: await this.deps.store.getProviderState(this.name), at: now };
    return isCircuitOpen(this.cached.state);
  }

  /** Opens the circuit after a provider-wide failure; a circuit already open stays as it is. */
  async open(cause: OpenCause): Promise<void> {
    const at = this.deps.clock();
    const opened = await updateState(this.deps.store, this.name, (latest) => openCircuit(latest, at, cause));
    if (opened) this.deps.log.error('provider circuit opened: notifications are held', { reason: cause.reason });
    this.cached = undefined;
  }
}

export type CircuitCommand =
  /** scheduled: the schedule's tick (EventBridge's event), which also watches a drain (see watchesCircuit). */
  | { action: 'tick'; scheduled?: boolean }
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
  /** Held notifications made due and queued again by this call. */
  released: number;
  /** Held notifications this call could not release or queue; a later tick tries again. */
  releaseFailed?: number;
  /**
   * Whether the release of the held backlog is over, as this call's checks last left it (absent when none of them
   * found a release pending).
   */
  releaseDone?: boolean;
  alert?: 'sent' | 'cooldown' | 'failed' | 'disabled' | 'not_configured';
}

export interface ProbeDependencies {
  store: ReleaseDependencies['store'] & AlertCooldowns;
  queue: Pick<SendQueue, 'enqueueMany'>;
  /** The provider the circuit is about, asked whether it would take messages again. */
  provider: ProviderProbe;
  mailer?: Mailer | undefined;
  /** Where the admin is, read only when an alert is to be sent (in AWS the admin-contacts secret); else settings. */
  adminContacts?: AdminContactsSource | undefined;
  log: Log;
  /** The function's telemetry: the circuit's state after each command (each tick: once a minute). */
  metrics?: Telemetry | undefined;
  clock: () => Date;
  /** How retries wait (the real clock unless a simulation on a virtual clock says otherwise). */
  pause?: Pause;
  settings: {
    /** About how often WaChap is checked while the circuit is open (at most once per interval, less a quarter). */
    probeIntervalMs: number;
    /**
     * How long a tick keeps watching a circuit it finds open, checking it again every probeIntervalMs within its own
     * invocation: the schedule's period, after which the next tick takes over. Absent: a tick checks once.
     */
    watchMs?: number | undefined;
    /** A release's verify pass waits this long after the close (release-held.ts's VERIFY_AFTER_CLOSE_MS). */
    verifyAfterCloseMs?: number | undefined;
    /**
     * How long after a probe closes the circuit the schedule's ticks keep watching it (DRAIN_WATCH_MS as deployed):
     * each tick in that time watches for its watchMs. Absent: a scheduled tick that finds the circuit closed (its
     * release over) does not watch it.
     */
    drainWatchMs?: number | undefined;
    /** How far ahead held notifications may be scheduled (the sender's hold). */
    holdMs: number;
    alertsEnabled: boolean;
    /** The circuit this probe looks after (default: WaChap's). */
    circuit?: string;
    /**
     * The WaChap instance whose circuit this is, when there are several: its release touches only the notifications
     * held for it, and its alert names it. `isDefault`: it also owns holds that name no instance (written before).
     */
    instance?: { name: string; isDefault: boolean; names?: readonly string[] } | undefined;
    adminEmail?: string | undefined;
    cooldownMs: number;
    /** The stage this probe runs in, named in the alert's commands (default: the local stack). */
    stage?: string;
    /** The operations page, linked from the alert (OPERATIONS_PAGE_URL). */
    operationsPageUrl?: string | undefined;
  };
}

const circuitOf = (deps: Pick<ProbeDependencies, 'settings'>): string => deps.settings.circuit ?? WACHAP_PROVIDER;

const holdsOf = (instance: ProbeDependencies['settings']['instance']) =>
  instance
    ? (n: { instance?: string | undefined }) =>
        n.instance === instance.name ||
        // The default instance also takes the holds no configured instance owns: written before the list (none),
        // or for an instance since removed, whose probe will never run.
        (instance.isDefault && (n.instance === undefined || !(instance.names ?? []).includes(n.instance)))
    : undefined;

/** Goes on with the release of the held backlog, if one is pending, and reports it. */
async function releaseStep(
  deps: ProbeDependencies,
  now: Date,
  remainingMs: () => number,
): Promise<Pick<CircuitReport, 'released' | 'releaseFailed' | 'releaseDone'> & { state?: ProviderState }> {
  const state = await readState(deps.store, circuitOf(deps), deps.pause);
  if (!state || isCircuitOpen(state) || !state.releasePending) return { released: 0 };
  const tick = await continueRelease(
    {
      store: deps.store,
      queue: deps.queue,
      log: deps.log,
      holdMs: deps.settings.holdMs,
      circuit: circuitOf(deps),
      holds: holdsOf(deps.settings.instance),
      ...(deps.pause ? { pause: deps.pause } : {}),
      ...(deps.settings.verifyAfterCloseMs ? { verifyAfterCloseMs: deps.settings.verifyAfterCloseMs } : {}),
    },
    state,
    now,
    remainingMs,
  );
  return {
    released: tick.released,
    ...(tick.failed > 0 ? { releaseFailed: tick.failed } : {}),
    releaseDone: tick.done,
    ...(tick.state ? { state: tick.state } : {}),
  };
}

async function alertOpenCircuit(
  state: ProviderState,
  deps: ProbeDependencies,
  now: Date,
): Promise<CircuitReport['alert']> {
  const { settings } = deps;
  if (!settings.alertsEnabled) return 'disabled';
  if (!deps.mailer) return 'not_configured';
  // The source logs a malformed or unreadable secret itself, and never throws; this guards the probe all the same.
  const contacts = deps.adminContacts
    ? await deps.adminContacts().catch(() => ({ email: undefined }))
    : { email: settings.adminEmail };
  const to = contacts.email;
  if (!to) return 'not_configured';
  // Each instance's outage has its own cooldown: China's email must not silence Mali's.
  const cooldownKind = settings.instance ? `provider_unavailable#${settings.instance.name}` : 'provider_unavailable';
  if (!(await deps.store.acquireAlertCooldown(cooldownKind, now, settings.cooldownMs))) return 'cooldown';
  const alert = providerUnavailableAlert(state, now, settings.instance?.name);
  const context = { stage: settings.stage ?? LOCAL_STAGE, operationsPageUrl: settings.operationsPageUrl };
  try {
    // Email only: WhatsApp goes through the very provider that is broken. The held notifications are listed by the
    // hourly health check (this function reads no status index); the email prints the command that lists them.
    await deps.mailer.send(alertEmail([alert], to, now, context));
    return 'sent';
  } catch (error) {
    deps.log.error('provider alert email failed', { error: String(error) });
    await deps.store.releaseAlertCooldown(cooldownKind, now).catch(() => undefined);
    return 'failed';
  }
}

/**
 * A check that closes the circuit leaves its release at least this long before the function's time runs out (the
 * release's own stop margin, then a few seconds of release: at 100 a page, a few thousand notifications).
 */
export const WATCH_STOP_MARGIN_MS = RELEASE_STOP_MARGIN_MS + 5_000;

/**
 * One command. `remainingMs` is the time the function has left: a long release stops in time and the next
 * tick resumes it. Each one publishes the circuit's state as it leaves it: the alarm on a circuit open for 15
 * minutes reads the minute ticks.
 */
export async function runCircuitCommand(
  command: CircuitCommand,
  deps: ProbeDependencies,
  remainingMs: () => number = () => Number.POSITIVE_INFINITY,
): Promise<CircuitReport> {
  const [report] = await runOnCircuits(command, [deps], remainingMs);
  return report!;
}

/**
 * A command on one circuit or several (one per WaChap instance, each with its dependencies), one after the other.
 * A tick then watches those it left open (see watchOpenCircuits). Each circuit's state is published once, as the
 * command leaves it.
 */
async function runOnCircuits(
  command: CircuitCommand,
  circuits: readonly ProbeDependencies[],
  remainingMs: () => number,
): Promise<CircuitReport[]> {
  const startedAt = circuits[0]!.clock().getTime();
  const reports: CircuitReport[] = [];
  for (const deps of circuits) reports.push(await circuitCommand(command, deps, remainingMs, { alert: true }));
  if (command.action === 'tick')
    await watchOpenCircuits(circuits, reports, { startedAt, scheduled: command.scheduled === true }, remainingMs);
  for (const [i, deps] of circuits.entries())
    deps.metrics?.level('ProviderCircuitOpen', isCircuitOpen(reports[i]!.circuit ?? undefined) ? 1 : 0);
  return reports;
}

/**
 * EventBridge fires at most once a minute: a provider back just after a tick's check would wait for the next tick.
 * So a tick checks the circuits it left open again, every probe interval, within its own invocation, until the next
 * tick takes over (settings.watchMs) or its function's time runs short; each check re-reads the circuit, so an
 * operator's forced open ends the watch, and a circuit found closed costs its one read. The drain is watched too: a
 * circuit this tick found open and closed stays watched while its release is pending, and the schedule's ticks watch
 * one a probe closed for DRAIN_WATCH_MS after (settings.drainWatchMs). A sender reopening it then (one provider-wide
 * failure among the released) is probed at the next check, and closed and released again if WaChap answers. Only
 * the schedule's ticks watch a drain: an operator's invocation of a closed circuit returns at once.
 * Two invocations at once stay safe: every change is a conditional write, and probeDue spaces their probes.
 */
async function watchOpenCircuits(
  circuits: readonly ProbeDependencies[],
  reports: CircuitReport[],
  tick: { startedAt: number; scheduled: boolean },
  remainingMs: () => number,
): Promise<void> {
  const { clock, pause = realPause, settings } = circuits[0]!;
  if (!settings.watchMs) return;
  const { startedAt } = tick;
  const drainWatchMs = tick.scheduled ? (settings.drainWatchMs ?? 0) : 0;
  // The circuits this tick found open (a first check that probed found it so, even if it closed it at once).
  const foundOpen = reports.map((report) => report.probed || isCircuitOpen(report.circuit ?? undefined));
  for (;;) {
    const now = clock().getTime();
    const open = reports.flatMap((report, i) => {
      const circuit = report.circuit ?? undefined;
      if (isCircuitOpen(circuit)) foundOpen[i] = true;
      return watchesCircuit(circuit, foundOpen[i], drainingAfterProbe(circuit, now, drainWatchMs)) ? [i] : [];
    });
    if (open.length === 0) return;
    const at = nextWatchCheck({
      startedAt,
      now,
      intervalMs: settings.probeIntervalMs,
      watchMs: settings.watchMs,
      remainingMs: remainingMs(),
      marginMs: WATCH_STOP_MARGIN_MS,
    });
    if (at === undefined) return;
    await pause(at - now);
    // The function's time was cut short while it waited (a local stack stopping): no more calls.
    if (remainingMs() < RELEASE_STOP_MARGIN_MS) return;
    for (const i of open) {
      const deps = circuits[i]!;
      try {
        reports[i] = watchReport(
          reports[i]!,
          await circuitCommand({ action: 'tick' }, deps, remainingMs, { alert: false }),
        );
      } catch (error) {
        // Its store calls were already retried: the next tick takes over, and this one reports what it did.
        deps.log.error('a check of the provider circuit failed; the next tick checks again', { error: String(error) });
        return;
      }
    }
  }
}

/** A watching tick's report: the circuit as its last check left it, with what the earlier checks did. */
function watchReport(before: CircuitReport, after: CircuitReport): CircuitReport {
  const probeResult = after.probeResult ?? before.probeResult;
  // A check that found no release pending says nothing of it: the report keeps how the earlier checks left it.
  const releaseDone = after.releaseDone ?? before.releaseDone;
  return {
    ...after,
    ...(releaseDone !== undefined ? { releaseDone } : {}),
    probed: before.probed || after.probed,
    ...(probeResult !== undefined ? { probeResult } : {}),
    released: before.released + after.released,
    // The alert is the first check's business (its cooldown is an hour): the report still says what became of it.
    ...(before.alert && isCircuitOpen(after.circuit ?? undefined) ? { alert: before.alert } : {}),
  };
}

async function circuitCommand(
  command: CircuitCommand,
  deps: ProbeDependencies,
  remainingMs: () => number,
  options: { alert: boolean },
): Promise<CircuitReport> {
  const now = deps.clock();
  // A watching tick's later checks leave the alert (and its cooldown's write) to its first one.
  const alert = async (state: ProviderState): Promise<Pick<CircuitReport, 'alert'>> =>
    options.alert ? { alert: await alertOpenCircuit(state, deps, now) } : {};
  const report = (circuit: ProviderState | undefined, extra: Partial<CircuitReport> = {}): CircuitReport => ({
    action: command.action,
    now: now.toISOString(),
    circuit: circuit ?? null,
    probed: false,
    released: 0,
    ...extra,
  });
  const state = await readState(deps.store, circuitOf(deps), deps.pause);

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
      const opened = await updateState(
        deps.store,
        circuitOf(deps),
        (latest) => openCircuit(latest, now, cause),
        deps.pause,
      );
      deps.log.warn('provider circuit opened by an operator', { reason });
      return report(opened ?? state);
    }
    case 'close': {
      const closed = await updateState(deps.store, circuitOf(deps), (latest) => closeCircuit(latest, now), deps.pause);
      const { state: after, ...release } = await releaseStep(deps, now, remainingMs);
      deps.log.info('provider circuit closed by an operator', release);
      return report(after ?? closed, release);
    }
    case 'tick':
    case 'probe': {
      if (!isCircuitOpen(state)) {
        if (!state?.releasePending) return report(state);
        const { state: after, ...release } = await releaseStep(deps, now, remainingMs);
        return report(after ?? state, release);
      }
      const due = command.action === 'probe' || probeDue(state, now, deps.settings.probeIntervalMs);
      if (!due) return report(state, await alert(state!));
      const outcome = await deps.provider.checkConnection();
      const probeResult = outcome.ok
        ? 'healthy'
        : `${outcome.error.type}${outcome.error.httpStatus ? ` ${outcome.error.httpStatus}` : ''}: ${outcome.error.message}`;
      if (outcome.ok && !state!.forced) {
        const closed = await updateState(
          deps.store,
          circuitOf(deps),
          (latest) => (isCircuitOpen(latest) && !latest?.forced ? closeCircuit(latest, now, probeResult) : undefined),
          deps.pause,
        );
        const { state: after, ...release } = await releaseStep(deps, now, remainingMs);
        deps.log.info('provider healthy again: circuit closed, held notifications released', {
          ...release,
          probeResult,
        });
        return report(after ?? closed ?? state, { probed: true, probeResult, ...release });
      }
      const probed = await updateState(
        deps.store,
        circuitOf(deps),
        (latest) => (isCircuitOpen(latest) ? recordProbe(latest!, now, probeResult) : undefined),
        deps.pause,
      );
      return report(probed ?? state, { probed: true, probeResult, ...(await alert(state!)) });
    }
  }
}

/** Several WaChap instances, each with its own circuit and its own connection check. */
export interface InstanceProbes {
  list(): Promise<WaChapInstance[]>;
  probe(instance: string): ProviderProbe;
}

export class UnknownInstanceError extends Error {
  override readonly name = 'UnknownInstanceError';
}

export type InstancesReport = CircuitReport & {
  /** The instance the report is about (several instances). */
  instance?: string;
  /** A tick with several instances: each instance's report (the top-level one is the default instance's). */
  instances?: Record<string, CircuitReport>;
};

/**
 * A command over several instances. A tick looks after every instance's circuit, one after the other (each is
 * probed and released on its own: closing China's releases only China's held notifications); an operator's
 * command acts on the instance it names, else on the default one. A single instance is exactly runCircuitCommand.
 */
export async function runInstancesCommand(
  command: CircuitCommand & { instance?: string | undefined },
  deps: ProbeDependencies,
  probes: InstanceProbes,
  remainingMs: () => number = () => Number.POSITIVE_INFINITY,
): Promise<InstancesReport> {
  const instances = await probes.list();
  const { instance: named, ...bare } = command;
  const commandOf = (): CircuitCommand => bare as CircuitCommand;
  if (instances.length === 1 && named === undefined) return runCircuitCommand(commandOf(), deps, remainingMs);
  const depsOf = (instance: WaChapInstance): ProbeDependencies => ({
    ...deps,
    provider: probes.probe(instance.name),
    settings: {
      ...deps.settings,
      circuit: circuitNameOf(instance, instances),
      instance: {
        name: instance.name,
        isDefault: defaultInstance(instances).name === instance.name,
        names: instances.map((i) => i.name),
      },
    },
  });
  if (command.action !== 'tick' || named !== undefined) {
    const target = named === undefined ? defaultInstance(instances) : instances.find((i) => i.name === named);
    if (!target) throw new UnknownInstanceError(`no WaChap instance is named "${named}"`);
    return { ...(await runCircuitCommand(commandOf(), depsOf(target), remainingMs)), instance: target.name };
  }
  // One tick for all of them: each probed in turn, then those left open watched together.
  const all = await runOnCircuits(commandOf(), instances.map(depsOf), remainingMs);
  const reports = Object.fromEntries(instances.map((instance, i) => [instance.name, all[i]!]));
  const main = defaultInstance(instances).name;
  return { ...(reports[main] as CircuitReport), instance: main, instances: reports };
}
