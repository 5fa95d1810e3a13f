// The hourly health check: figures from the hourly counters (never from reading notifications one
// by one), the DLQ depth and the due backlog; thresholds evaluated by the domain; alerts sent by
// email and, when critical, by WhatsApp, at most once per kind per cooldown.

import type { Email, Mailer } from '../adapters/mailer.js';
import type { HourlyCounts, NotificationStore } from '../adapters/notification-store.js';
import type { SendQueue } from '../adapters/send-queue.js';
import type { WaChapClient } from '../adapters/wachap.js';
import {
  evaluateHealth,
  type HealthAlert,
  type HealthThresholds,
  type WindowCounts,
  type WindowFigures,
  windowFigures,
} from '../domain/health.js';
import type { Log } from '../observability/logger.js';

export interface HealthCheckSettings {
  systemEnabled: boolean;
  emailEnabled: boolean;
  whatsappEnabled: boolean;
  adminEmail?: string | undefined;
  adminPhone?: string | undefined;
  cooldownMs: number;
  thresholds: HealthThresholds;
  backlogCap: number;
}

export interface HealthCheckDependencies {
  store: Pick<NotificationStore, 'readCounters' | 'dueBacklog' | 'acquireAlertCooldown' | 'releaseAlertCooldown'>;
  queue: Pick<SendQueue, 'dlqDepth'>;
  mailer?: Pick<Mailer, 'send'> | undefined;
  wachap?: Pick<WaChapClient, 'send'> | undefined;
  log: Log;
  clock: () => Date;
  settings: HealthCheckSettings;
}

export type AlertDelivery = 'sent' | 'failed' | 'disabled' | 'not_configured' | 'not_critical' | 'cooldown' | 'dry_run';

export interface AlertReport extends HealthAlert {
  email: AlertDelivery;
  whatsapp: AlertDelivery;
  errors?: string[];
}

export interface HealthReport {
  dryRun: boolean;
  now: string;
  windows: { lastHour: WindowFigures; last24Hours: WindowFigures };
  dlqDepth: number | null;
  backlog: { count: number; capped: boolean; oldestDueAt: string | null; oldestAgeMinutes: number | null };
  alerts: AlertReport[];
  delivered: { email: number; whatsapp: number };
}

const HOUR_MS = 3_600_000;
const ZERO: WindowCounts = { attempts: 0, sent: 0, temporaryFailures: 0, permanentFailures: 0 };

const add = (a: WindowCounts, b: WindowCounts, weight = 1): WindowCounts => ({
  attempts: a.attempts + b.attempts * weight,
  sent: a.sent + b.sent * weight,
  temporaryFailures: a.temporaryFailures + b.temporaryFailures * weight,
  permanentFailures: a.permanentFailures + b.permanentFailures * weight,
});

const rounded = (c: WindowCounts): WindowCounts => ({
  attempts: Math.round(c.attempts),
  sent: Math.round(c.sent),
  temporaryFailures: Math.round(c.temporaryFailures),
  permanentFailures: Math.round(c.permanentFailures),
});

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

export async function runHealthCheck(dryRun: boolean, deps: HealthCheckDependencies): Promise<HealthReport> {
  const { settings, log } = deps;
  const now = deps.clock();
  const [buckets, backlog, dlqDepth] = await Promise.all([
    deps.store.readCounters(now, 25),
    deps.store.dueBacklog({ now, cap: settings.backlogCap }),
    deps.queue.dlqDepth().catch((error: unknown) => {
      log.warn('DLQ depth unavailable', { error: String(error) });
      return undefined;
    }),
  ]);
  const windows = slidingWindows(buckets, now);
  const found = evaluateHealth({ ...windows, dlqDepth, backlog, now }, settings.thresholds);

  const alerts: AlertReport[] = [];
  for (const alert of found) alerts.push(await deliver(alert, dryRun, now, deps));

  const oldestAgeMinutes = backlog.oldestDueAt
    ? Math.round((now.getTime() - Date.parse(backlog.oldestDueAt)) / 60_000)
    : null;
  const report: HealthReport = {
    dryRun,
    now: now.toISOString(),
    windows: { lastHour: windowFigures(windows.lastHour), last24Hours: windowFigures(windows.last24Hours) },
    dlqDepth: dlqDepth ?? null,
    backlog: {
      count: backlog.count,
      capped: backlog.capped,
      oldestDueAt: backlog.oldestDueAt ?? null,
      oldestAgeMinutes,
    },
    alerts,
    delivered: {
      email: alerts.filter((a) => a.email === 'sent').length,
      whatsapp: alerts.filter((a) => a.whatsapp === 'sent').length,
    },
  };
  log.info('health check', { report });
  return report;
}

async function deliver(
  alert: HealthAlert,
  dryRun: boolean,
  now: Date,
  deps: HealthCheckDependencies,
): Promise<AlertReport> {
  const { settings } = deps;
  const emailPlan: AlertDelivery = !settings.emailEnabled
    ? 'disabled'
    : !settings.adminEmail || !deps.mailer
      ? 'not_configured'
      : 'sent';
  const whatsappPlan: AlertDelivery = !settings.whatsappEnabled
    ? 'disabled'
    : alert.severity !== 'critical'
      ? 'not_critical'
      : !settings.adminPhone || !deps.wachap
        ? 'not_configured'
        : 'sent';
  if (!settings.systemEnabled) return { ...alert, email: 'disabled', whatsapp: 'disabled' };
  if (emailPlan !== 'sent' && whatsappPlan !== 'sent') return { ...alert, email: emailPlan, whatsapp: whatsappPlan };
  if (dryRun) {
    return {
      ...alert,
      email: emailPlan === 'sent' ? 'dry_run' : emailPlan,
      whatsapp: whatsappPlan === 'sent' ? 'dry_run' : whatsappPlan,
    };
  }
  // The conditional write makes the cooldown atomic: of two concurrent runs, one sends.
  if (!(await deps.store.acquireAlertCooldown(alert.kind, now, settings.cooldownMs))) {
    return { ...alert, email: 'cooldown', whatsapp: 'cooldown' };
  }

  const errors: string[] = [];
  const attempt = async (
    plan: AlertDelivery,
    channel: string,
    send: () => Promise<unknown>,
  ): Promise<AlertDelivery> => {
    if (plan !== 'sent') return plan;
    try {
      await send();
      return 'sent';
    } catch (error) {
      errors.push(`${channel}: ${error instanceof Error ? error.message : String(error)}`);
      deps.log.error('alert channel failed', { channel, kind: alert.kind, error: String(error) });
      return 'failed';
    }
  };
  const email = await attempt(emailPlan, 'email', () =>
    deps.mailer!.send(alertEmail(alert, settings.adminEmail!, now)),
  );
  const whatsapp = await attempt(whatsappPlan, 'whatsapp', async () => {
    const outcome = await deps.wachap!.send({ phone: settings.adminPhone!, message: alertWhatsApp(alert) });
    if (!outcome.ok) throw new Error(`${outcome.error.type}: ${outcome.error.message}`);
  });
  if (email !== 'sent' && whatsapp !== 'sent') {
    // Nobody was told: give the cooldown back so the next run tries again.
    await deps.store.releaseAlertCooldown(alert.kind, now).catch(() => undefined);
  }
  return { ...alert, email, whatsapp, ...(errors.length > 0 ? { errors } : {}) };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function alertEmail(alert: HealthAlert, to: string, now: Date): Email {
  const figures = Object.entries(alert.figures).map(([name, value]) => `${name}: ${value}`);
  const subject = `[${alert.severity.toUpperCase()}] WhatsApp notifications: ${alert.summary}`;
  const text = [
    alert.summary,
    '',
    'Figures:',
    ...figures.map((f) => `  - ${f}`),
    '',
    `What to do: ${alert.recommendation}`,
    '',
    `Alert kind ${alert.kind}, checked at ${now.toISOString()}. You will not get this alert again for an hour.`,
  ].join('\n');
  const html = `<h2>${escapeHtml(alert.summary)}</h2>
<p><strong>Severity:</strong> ${alert.severity}</p>
<ul>${figures.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>
<p><strong>What to do:</strong> ${escapeHtml(alert.recommendation)}</p>
<p style="color:#666">Alert kind ${alert.kind}, checked at ${now.toISOString()}. You will not get this alert again for an hour.</p>`;
  return { to, subject: subject.slice(0, 200), text, html };
}

export const alertWhatsApp = (alert: HealthAlert): string =>
  `*ALERTE ${alert.severity.toUpperCase()}*\n${alert.summary}\n\n${alert.recommendation}`;
