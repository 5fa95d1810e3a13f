// What an admin reads: the alert email (text and HTML, worst first, each with what to do) and the WhatsApp
// message for critical alerts.
import type { Email } from '../application/ports.js';
import type { HealthAlert, Severity } from '../domain/health.js';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const SEVERITY_ORDER: Severity[] = ['critical', 'warning'];

export function alertEmail(alerts: readonly HealthAlert[], to: string, now: Date): Email {
  const sorted = [...alerts].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  const worst = sorted[0]!;
  const more = sorted.length > 1 ? ` (+${sorted.length - 1} more)` : '';
  const subject = `[${worst.severity.toUpperCase()}] WhatsApp notifications: ${worst.summary}${more}`;
  const figuresOf = (alert: HealthAlert) => Object.entries(alert.figures).map(([name, value]) => `${name}: ${value}`);
  const footer = `Checked at ${now.toISOString()}. The same kind of alert is not repeated for an hour.`;
  const text = [
    ...sorted.flatMap((alert) => [
      `[${alert.severity.toUpperCase()}] ${alert.summary}`,
      ...figuresOf(alert).map((f) => `  - ${f}`),
      `  What to do: ${alert.recommendation}`,
      '',
    ]),
    footer,
  ].join('\n');
  const html = [
    ...sorted.map(
      (alert) => `<h2>[${alert.severity.toUpperCase()}] ${escapeHtml(alert.summary)}</h2>
<ul>${figuresOf(alert)
        .map((f) => `<li>${escapeHtml(f)}</li>`)
        .join('')}</ul>
<p><strong>What to do:</strong> ${escapeHtml(alert.recommendation)}</p>`,
    ),
    `<p style="color:#666">${footer}</p>`,
  ].join('\n');
  return { to, subject: subject.slice(0, 200), text, html };
}

export const alertWhatsApp = (alerts: readonly HealthAlert[]): string =>
  alerts
    .map((alert) => `*ALERTE ${alert.severity.toUpperCase()}*\n${alert.summary}\n${alert.recommendation}`)
    .join('\n\n');
