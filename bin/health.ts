// `npm run health -- [--dry-run]`: the hourly health check, on demand, printed for a person.
import type { HealthReport } from '../shared/application/health-check.js';
import type { FigureName, WindowFigures } from '../shared/domain/health.js';
import { formatFigure } from '../shared/presentation/figures.js';
import { DELIVERY_TEXT, RULE, runOperatorCommand, TARGET_USAGE } from './operator-cli.js';

const USAGE = `Usage: npm run health -- [options]

Runs the health check now, through the health-check function: failure figures for the last hour
and the last 24 hours, the DLQ depth, the due backlog, and the alerts (sent by email and, when
critical, by WhatsApp, at most once an hour per kind).

Check:
  --dry-run              evaluate and report, send no alert and take no cooldown

${TARGET_USAGE}

Examples:
  npm run health -- --dry-run                           # the local stack (npm start)
  npm run health -- --json
  npm run health -- --stage prod --dry-run              # the deployed stage prod (its stack's outputs)
  npm run health -- --stage prod --profile=prod --region=eu-west-3`;

const percent = (rate: number) => `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;

function windowsTable(windows: HealthReport['windows']): string[] {
  const header = [
    'Fenêtre / window',
    'Tentatives',
    'Envoyées',
    'Échecs temp.',
    'Échecs perm.',
    "Taux d'échec",
    'OTP en échec',
  ];
  const row = (label: string, w: WindowFigures) => [
    label,
    String(w.attempts),
    String(w.sent),
    String(w.temporaryFailures),
    String(w.permanentFailures),
    percent(w.failureRate),
    String(w.otpFailures ?? 0),
  ];
  const rows = [
    header,
    row('Dernière heure / 1 h', windows.lastHour),
    row('Dernières 24 h / 24 h', windows.last24Hours),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
  );
}

function backlogLine(backlog: HealthReport['backlog']): string {
  const count = `${backlog.capped ? '≥ ' : ''}${backlog.count} notification(s) due(s)`;
  if (backlog.oldestAgeMinutes === null) return `Arriéré / backlog : ${count}`;
  return `Arriéré / backlog : ${count}, la plus ancienne depuis ${backlog.oldestAgeMinutes} min (${backlog.oldestDueAt})`;
}

function providerLine(provider: HealthReport['provider']): string {
  if (!provider || provider.status === 'healthy') {
    const releasing = provider?.releasePending ? ' (libération en cours / held backlog being released)' : '';
    return `WaChap : disponible / available${releasing}`;
  }
  return `WaChap : INDISPONIBLE / UNAVAILABLE depuis / since ${provider.since}${provider.forced ? ' (opérateur / operator)' : ''}: ${provider.reason ?? '?'}`;
}

function formatHealthReport(report: HealthReport): string {
  const lines = [
    RULE,
    `SANTÉ DES NOTIFICATIONS / NOTIFICATION HEALTH${report.dryRun ? ' (DRY RUN: no alert sent)' : ''}`,
    RULE,
    `Date/Heure actuelle : ${report.now}`,
    '',
    ...windowsTable(report.windows),
    `Échecs d'affilée / failures in a row : ${report.consecutiveFailures ?? 0}`,
    '',
    `DLQ (messages abandonnés / dead letters) : ${report.dlqDepth ?? 'inconnue / unavailable'}`,
    backlogLine(report.backlog),
    providerLine(report.provider),
    '',
    RULE,
    `ALERTES / ALERTS : ${report.alerts.length === 0 ? 'aucune / none' : report.alerts.length}`,
    RULE,
  ];
  for (const alert of report.alerts) {
    const figures = Object.entries(alert.figures).map(
      ([name, value]) => `${name}=${formatFigure(name as FigureName, value ?? 0, 'en')}`,
    );
    const affected = (alert.affected ?? []).map(
      (n) => `   - ${[n.id, n.phone, n.category, n.status, n.lastError?.type].filter(Boolean).join(' · ')}`,
    );
    lines.push(
      '',
      `[${alert.severity.toUpperCase()}] ${alert.kind}`,
      `   ${alert.summary}`,
      ...(figures.length > 0 ? [`   Chiffres / figures: ${figures.join(', ')}`] : []),
      ...(affected.length > 0 ? ['   Notifications concernées / concerned:', ...affected] : []),
      `   À faire / what to do: ${alert.recommendation}`,
      `   Email: ${DELIVERY_TEXT[alert.email]}`,
      `   WhatsApp: ${DELIVERY_TEXT[alert.whatsapp]}`,
      ...(alert.errors ?? []).map((e) => `   Erreur / error: ${e}`),
    );
  }
  lines.push(
    '',
    `Alertes envoyées / delivered : email ${report.delivered.email}, WhatsApp ${report.delivered.whatsapp}`,
  );
  return lines.join('\n');
}

process.exitCode = await runOperatorCommand(
  {
    usage: USAGE,
    defaultFunctionName: 'health-check',
    stackOutput: 'HealthCheckFunctionName',
    options: { 'dry-run': { type: 'boolean', default: false } },
    payloadOf: (flags) => ({ dryRun: flags['dry-run'] === true }),
    format: (result) => formatHealthReport(result as HealthReport),
  },
  process.argv.slice(2),
);
