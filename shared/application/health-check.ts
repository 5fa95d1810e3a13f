// The hourly health check: figures from the hourly counters (never from reading notifications one
// by one), the DLQ depth and the due backlog; thresholds evaluated by the domain; alerts sent by
// email and, when critical, by WhatsApp, at most once per kind per cooldown. Each alert shows up to
// 10 of the notifications it concerns: one bounded read per alert, never a reason for the check to fail.

import type { HourlyCounts } from '../domain/counters.js';
import {
  AFFECTED_LIMIT,
  type AffectedNotification,
  type AffectedSelection,
  affectedNotification,
  affectedSelection,
  evaluateHealth,
  type HealthAlert,
  type HealthThresholds,
  type WindowCounts,
  type WindowFigures,
  windowFigures,
} from '../domain/health.js';
import type { Notification } from '../domain/notification.js';
import { LOCAL_STAGE } from '../domain/operator-command.js';
import { type ProviderState, WACHAP_PROVIDER } from '../domain/provider-circuit.js';
import type { Log } from '../observability/logger.js';
import type { Telemetry } from '../observability/metrics.js';
import {
  type AlertContext,
  type AlertToSend,
  alertEmail,
  alertReportTexts,
  alertWhatsApp,
} from '../presentation/alert-messages.js';
import type {
  AdminContacts,
  AdminContactsSource,
  AlertCooldowns,
  DeliveryChannel,
  HourlyCounters,
  Mailer,
  NotificationRepository,
  ProviderStates,
  SendQueue,
} from './ports.js';

export interface HealthCheckSettings {
  systemEnabled: boolean;
  emailEnabled: boolean;
  whatsappEnabled: boolean;
  /** Where the admin is, when no `adminContacts` source is given (tests, fixed settings). */
  adminEmail?: string | undefined;
  adminPhone?: string | undefined;
  cooldownMs: number;
  thresholds: HealthThresholds;
  backlogCap: number;
  /** The provider circuit reported on (default: WaChap's). */
  circuit?: string;
  /** The stage checked, named in the commands the alerts print (default: the local stack). */
  stage?: string;
  /** The send queue's DLQ, named in the dead_letters commands. */
  dlqUrl?: string | undefined;
  /** The operations page, linked from every alert (OPERATIONS_PAGE_URL). */
  operationsPageUrl?: string | undefined;
}

export interface HealthCheckDependencies {
  store: Pick<NotificationRepository, 'dueBacklog' | 'listNotifications' | 'dueNotifications'> &
    Pick<HourlyCounters, 'readCounters'> &
    AlertCooldowns &
    Pick<ProviderStates, 'getProviderState'>;
  queue: Pick<SendQueue, 'dlqDepth'>;
  mailer?: Mailer | undefined;
  /** Critical alerts go to the admin's WhatsApp too. */
  whatsapp?: DeliveryChannel | undefined;
  /**
   * Several WaChap instances: each instance's name and circuit, so that an open one is an alert naming it (one
   * instance, or none given: the circuit of settings.circuit alone, as before).
   */
  instanceCircuits?: (() => Promise<{ instance: string; circuit: string }[]>) | undefined;
  /**
   * Where the admin is, read only when there is an alert to address (in AWS the admin-contacts secret); without it,
   * settings.adminEmail / adminPhone.
   */
  adminContacts?: AdminContactsSource | undefined;
  log: Log;
  /** The function's telemetry: the DLQ depth and the due backlog it reads, published each run. */
  metrics?: Telemetry | undefined;
  clock: () => Date;
  settings: HealthCheckSettings;
}

export type AlertDelivery = 'sent' | 'failed' | 'disabled' | 'not_configured' | 'not_critical' | 'cooldown' | 'dry_run';

export interface AlertReport extends AlertToSend {
  /** In English, as `npm run health` prints it (the email has both languages). */
  summary: string;
  /** What to do and the commands for the stage, in English. */
  recommendation: string;
  email: AlertDelivery;
  whatsapp: AlertDelivery;
  errors?: string[];
}

export interface HealthReport {
  dryRun: boolean;
  now: string;
  windows: { lastHour: WindowFigures; last24Hours: WindowFigures };
  /** WhatsApp sends failed in a row, none delivered since (the recipient's faults aside). */
  consecutiveFailures: number;
  dlqDepth: number | null;
  backlog: { count: number; capped: boolean; oldestDueAt: string | null; oldestAgeMinutes: number | null };
  /** The provider circuit as the check found it (null: never opened). */
  provider: Pick<ProviderState, 'status' | 'since' | 'reason' | 'forced' | 'releasePending'> | null;
  alerts: AlertReport[];
  delivered: { email: number; whatsapp: number };
}

const HOUR_MS = 3_600_000;
const ZERO: WindowCounts = { attempts: 0, sent: 0, temporaryFailures: 0, permanentFailures: 0, otpFailures: 0 };

const add = (a: WindowCounts, b: WindowCounts, weight = 1): WindowCounts => ({
  attempts: a.attempts + b.attempts * weight,
  sent: a.sent + b.sent * weight,
  temporaryFailures: a.temporaryFailures + b.temporaryFailures * weight,
  permanentFailures: a.permanentFailures + b.permanentFailures * weight,
  otpFailures: (a.otpFailures ?? 0) + (b.otpFailures ?? 0) * weight,
});

const rounded = (c: WindowCounts): WindowCounts => ({
  attempts: Math.round(c.attempts),
  sent: Math.round(c.sent),
  temporaryFailures: Math.round(c.temporaryFailures),
  permanentFailures: Math.round(c.permanentFailures),
  otpFailures: Math.round(c.otpFailures ?? 0),
});

/**
 * WhatsApp failures in a row up to now: each hour's run (set back to 0 by a delivered send), summed back to the
 * last hour in which a send was delivered. Hours counted before the run was (missing fields) read as 0.
 */
export function failuresInARow(buckets: readonly HourlyCounts[]): number {
  let run = 0;
  for (let i = buckets.length - 1; i >= 0; i--) {
    const bucket = buckets[i]!;
    run += bucket.failureStreak;
    if (bucket.sent > 0) break;
  }
  return run;
}

/**
 * Hourly buckets to sliding windows: the current (partial) hour counts whole, and the oldest bucket
 * of the window counts for the share of it that lies inside the window.
 */
export function slidingWindows(
  buckets: readonly HourlyCounts[],
  now: Date,
): { lastHour: WindowCounts; last24Hours: WindowCounts } {
  const intoHour = (now.getTime() % HOUR_MS) / HOUR_MS;
  const window = (hours: number): WindowCounts => {
    const inside = buckets.slice(-hours);
    const older = buckets.at(-hours - 1);
    const whole = inside.reduce((sum, bucket) => add(sum, bucket), ZERO);
    return rounded(older ? add(whole, older, 1 - intoHour) : whole);
  };
  return { lastHour: window(1), last24Hours: window(24) };
}

/** Reads every instance's circuit, when there are several WaChap instances. */
async function instanceCircuitsOf(
  deps: HealthCheckDependencies,
): Promise<{ instance: string; state: ProviderState | undefined }[] | undefined> {
  // An unreadable list (the WaChap secret) must not cost the whole check: the default circuit is still reported.
  const circuits = await deps.instanceCircuits?.().catch((error: unknown) => {
    deps.log.warn('WaChap instances unavailable; only the default circuit is checked', { error: String(error) });
    return undefined;
  });
  if (!circuits || circuits.length < 2) return undefined;
  return Promise.all(
    circuits.map(async ({ instance, circuit }) => ({ instance, state: await deps.store.getProviderState(circuit) })),
  );
}

export async function runHealthCheck(dryRun: boolean, deps: HealthCheckDependencies): Promise<HealthReport> {
  const { settings, log } = deps;
  const now = deps.clock();
  const [buckets, backlog, dlqDepth, provider, instanceCircuits] = await Promise.all([
    deps.store.readCounters(now, 25),
    deps.store.dueBacklog({ now, cap: settings.backlogCap }),
    deps.queue.dlqDepth().catch((error: unknown) => {
      log.warn('DLQ depth unavailable', { error: String(error) });
      return undefined;
    }),
    deps.store.getProviderState(settings.circuit ?? WACHAP_PROVIDER),
    instanceCircuitsOf(deps),
  ]);
  const windows = slidingWindows(buckets, now);
  const consecutiveFailures = failuresInARow(buckets);
  const evaluated = evaluateHealth(
    {
      ...windows,
      consecutiveFailures,
      dlqDepth,
      backlog,
      ...(provider ? { provider } : {}),
      ...(instanceCircuits ? { instanceCircuits } : {}),
      now,
    },
    settings.thresholds,
  );
  const found = await withAffected(evaluated, now, deps);

  const alerts = await deliver(found, dryRun, now, deps);

  const oldestAgeMinutes = backlog.oldestDueAt
    ? Math.round((now.getTime() - Date.parse(backlog.oldestDueAt)) / 60_000)
    : null;
  publishFigures(deps.metrics, now, dlqDepth, backlog);
  const report: HealthReport = {
    dryRun,
    now: now.toISOString(),
    windows: { lastHour: windowFigures(windows.lastHour), last24Hours: windowFigures(windows.last24Hours) },
    consecutiveFailures,
    dlqDepth: dlqDepth ?? null,
    backlog: {
      count: backlog.count,
      capped: backlog.capped,
      oldestDueAt: backlog.oldestDueAt ?? null,
      oldestAgeMinutes,
    },
    provider: provider
      ? {
          status: provider.status,
          since: provider.since,
          ...(provider.reason ? { reason: provider.reason } : {}),
          ...(provider.forced ? { forced: true } : {}),
          ...(provider.releasePending ? { releasePending: true } : {}),
        }
      : null,
    alerts,
    delivered: {
      email: alerts.filter((a) => a.email === 'sent').length,
      whatsapp: alerts.filter((a) => a.whatsapp === 'sent').length,
    },
  };
  log.info('health check', { report });
  return report;
}

export const alertContextOf = (settings: HealthCheckSettings): AlertContext => ({
  stage: settings.stage ?? LOCAL_STAGE,
  dlqUrl: settings.dlqUrl,
  operationsPageUrl: settings.operationsPageUrl,
});

/** One bounded read of the notifications a selection names (a page of AFFECTED_LIMIT); none for 'none'. */
function readSelection(
  selection: AffectedSelection,
  now: Date,
  store: HealthCheckDependencies['store'],
): Promise<Notification[]> | undefined {
  switch (selection.source) {
    case 'status_index':
      return store
        .listNotifications({
          statuses: selection.statuses,
          ...(selection.category ? { category: selection.category } : {}),
          ...(selection.reason ? { reason: selection.reason } : {}),
          ...(selection.withinHours ? { from: new Date(now.getTime() - selection.withinHours * HOUR_MS) } : {}),
          limit: AFFECTED_LIMIT,
        })
        .then((page) => page.notifications);
    case 'due':
      return store.dueNotifications({ now, limit: AFFECTED_LIMIT });
    case 'none':
      return undefined;
    default: {
      const _never: never = selection;
      return _never;
    }
  }
}

/**
 * Each alert with up to AFFECTED_LIMIT of the notifications it concerns, one read per selection (the burst, the rate
 * and the run of failures share theirs). A read that fails leaves the list empty and is logged: the alert matters
 * more than its examples.
 */
async function withAffected(
  alerts: readonly HealthAlert[],
  now: Date,
  deps: HealthCheckDependencies,
): Promise<AlertToSend[]> {
  const reads = new Map<string, Promise<AffectedNotification[] | undefined>>();
  const affectedBy = (alert: HealthAlert) => {
    const selection = affectedSelection(alert.kind);
    const key = JSON.stringify(selection);
    if (!reads.has(key)) {
      const read = readSelection(selection, now, deps.store);
      reads.set(
        key,
        read
          ? read
              .then((found) => found.slice(0, AFFECTED_LIMIT).map(affectedNotification))
              .catch((error: unknown) => {
                deps.log.warn('affected notifications unavailable', { kind: alert.kind, error: String(error) });
                return [];
              })
          : Promise.resolve(undefined),
      );
    }
    return reads.get(key)!;
  };
  return Promise.all(
    alerts.map(async (alert) => {
      const affected = await affectedBy(alert);
      return affected ? { ...alert, affected } : { ...alert };
    }),
  );
}

/**
 * What the alarms watch between two runs: the DLQ depth (unless it could not be read), the due backlog and its
 * oldest one's age (0 when nothing waits, so that the alarm sees a value rather than missing data).
 */
function publishFigures(
  metrics: Telemetry | undefined,
  now: Date,
  dlqDepth: number | undefined,
  backlog: { count: number; oldestDueAt?: string },
): void {
  if (!metrics) return;
  if (dlqDepth !== undefined) metrics.level('DlqDepth', dlqDepth);
  metrics.level('DueBacklog', backlog.count);
  const age = backlog.oldestDueAt ? Math.max(0, now.getTime() - Date.parse(backlog.oldestDueAt)) : 0;
  metrics.level('OldestDueAge', Math.round(age / 1000));
}

/** Where an alert would go, before cooldowns and failures. */
function plan(
  alert: HealthAlert,
  deps: HealthCheckDependencies,
  contacts: AdminContacts,
): { email: AlertDelivery; whatsapp: AlertDelivery } {
  const { settings } = deps;
  if (!settings.systemEnabled) return { email: 'disabled', whatsapp: 'disabled' };
  const email: AlertDelivery = !settings.emailEnabled
    ? 'disabled'
    : !contacts.email || !deps.mailer
      ? 'not_configured'
      : 'sent';
  const whatsapp: AlertDelivery = !settings.whatsappEnabled
    ? 'disabled'
    : alert.severity !== 'critical'
      ? 'not_critical'
      : !contacts.phone || !deps.whatsapp
        ? 'not_configured'
        : 'sent';
  return { email, whatsapp };
}

/** The admin's contacts, read only when an enabled channel has an alert to address. */
async function contactsFor(found: readonly AlertToSend[], deps: HealthCheckDependencies): Promise<AdminContacts> {
  const { settings } = deps;
  const wanted = settings.systemEnabled && (settings.emailEnabled || settings.whatsappEnabled) && found.length > 0;
  if (!wanted) return {};
  if (!deps.adminContacts) return { email: settings.adminEmail, phone: settings.adminPhone };
  // The source logs and reports its problems rather than throwing; this guards the health check all the same.
  return deps.adminContacts().catch((error: unknown) => ({
    problems: [`the admin's contacts could not be read (${error instanceof Error ? error.name : 'error'})`],
  }));
}

/**
 * One email (and one WhatsApp message for the critical ones) per run, holding every alert whose
 * kind is out of its cooldown. The cooldown is taken per kind by a conditional write, so of two
 * concurrent runs only one reports a given kind.
 */
async function deliver(
  found: AlertToSend[],
  dryRun: boolean,
  now: Date,
  deps: HealthCheckDependencies,
): Promise<AlertReport[]> {
  const reports: AlertReport[] = [];
  const contacts = await contactsFor(found, deps);
  const context = alertContextOf(deps.settings);
  for (const evaluated of found) {
    const alert = { ...evaluated, ...alertReportTexts(evaluated, context) };
    const planned = plan(alert, deps, contacts);
    const wanted = planned.email === 'sent' || planned.whatsapp === 'sent';
    // A channel left unaddressed by a malformed or unreadable contacts secret says why in the report.
    const unaddressed = planned.email === 'not_configured' || planned.whatsapp === 'not_configured';
    const why = unaddressed && contacts.problems?.length ? { errors: [...contacts.problems] } : {};
    if (!wanted) reports.push({ ...alert, ...planned, ...why });
    else if (dryRun) reports.push({ ...alert, ...dryRunOf(planned), ...why });
    else if (!(await deps.store.acquireAlertCooldown(alert.kind, now, deps.settings.cooldownMs))) {
      reports.push({ ...alert, email: 'cooldown', whatsapp: 'cooldown' });
    } else reports.push({ ...alert, ...planned, ...why });
  }

  const fresh = reports.filter((r) => r.email === 'sent' || r.whatsapp === 'sent');
  if (fresh.length === 0) return reports;
  const errors: string[] = [...(contacts.problems ?? [])];
  const attempt = async (channel: 'email' | 'whatsapp', alerts: AlertReport[], send: () => Promise<unknown>) => {
    if (alerts.length === 0) return;
    let outcome: AlertDelivery = 'sent';
    try {
      await send();
    } catch (error) {
      outcome = 'failed';
      errors.push(`${channel}: ${error instanceof Error ? error.message : String(error)}`);
      deps.log.error('alert channel failed', { channel, error: String(error) });
    }
    for (const alert of alerts) alert[channel] = outcome;
  };
  const byEmail = fresh.filter((r) => r.email === 'sent');
  const byWhatsApp = fresh.filter((r) => r.whatsapp === 'sent');
  // If one channel fails, the other still goes.
  await attempt('email', byEmail, () => deps.mailer!.send(alertEmail(byEmail, contacts.email!, now, context)));
  await attempt('whatsapp', byWhatsApp, async () => {
    const outcome = await deps.whatsapp!.deliver({
      recipient: { phone: contacts.phone! },
      title: '',
      message: alertWhatsApp(byWhatsApp, context),
    });
    if (!outcome.ok) throw new Error(`WaChap ${outcome.error.type}: ${outcome.error.message}`);
  });
  for (const alert of fresh) {
    if (errors.length > 0) alert.errors = errors;
    if (alert.email !== 'sent' && alert.whatsapp !== 'sent') {
      // Nobody was told: give the cooldown back so that the next run tries again.
      await deps.store.releaseAlertCooldown(alert.kind, now).catch(() => undefined);
    }
  }
  return reports;
}

const dryRunOf = (planned: { email: AlertDelivery; whatsapp: AlertDelivery }) => ({
  email: planned.email === 'sent' ? ('dry_run' as const) : planned.email,
  whatsapp: planned.whatsapp === 'sent' ? ('dry_run' as const) : planned.whatsapp,
});
