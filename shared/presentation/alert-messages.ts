// What an admin reads: the alert email (text and HTML, worst first, each with what to do) and the WhatsApp
// message for critical alerts.
import type { Email } from '../application/ports.js';
import type { HealthAlert, Severity } from '../domain/health.js';
import { bounded, EMAIL_SUBJECT_MAX_LENGTH, oneLine } from './plain-text.js';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const SEVERITY_ORDER: Severity[] = ['critical', 'warning'];

/** One summary or recommendation: they carry provider and operator texts, which are not ours to trust. */
const LINE_MAX_LENGTH = 1000;
/**
 * A WhatsApp alert's summary and recommendation, each: six alerts stay under WhatsApp's 4,096, and only the critical
 * kinds (five: provider_unavailable, failure_burst, failure_rate, otp_failures, consecutive_failures) go by WhatsApp.
 */
const WHATSAPP_LINE_MAX_LENGTH = 320;
const WHATSAPP_MAX_LENGTH = 4096;

/**
 * The alert with every text on one line and bounded: a summary holds the provider's own words (a WaChap error
 * text, an operator's reason), which may carry CR/LF or bidi overrides; they must not start a header line or
 * reorder what the admin reads.
 */
const cleaned = (alert: HealthAlert, maxLength = LINE_MAX_LENGTH): HealthAlert => ({
  ...alert,
  summary: oneLine(alert.summary, maxLength),
  recommendation: oneLine(alert.recommendation, maxLength),
  figures: Object.fromEntries(Object.entries(alert.figures).map(([name, value]) => [oneLine(name, 100), value])),
});

export function alertEmail(alerts: readonly HealthAlert[], to: string, now: Date): Email {
  const sorted = alerts
    .map((alert) => cleaned(alert))
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  const worst = sorted[0]!;
  const more = sorted.length > 1 ? ` (+${sorted.length - 1} more)` : '';
  const prefix = `[${worst.severity.toUpperCase()}] WhatsApp notifications: `;
  // The summary gives way, so that the prefix and the count of the others always show.
  const summaryRoom = EMAIL_SUBJECT_MAX_LENGTH - prefix.length - more.length;
  const subject = oneLine(`${prefix}${bounded(worst.summary, summaryRoom)}${more}`, EMAIL_SUBJECT_MAX_LENGTH);
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
  return { to, subject, text, html };
}

/** Title, summary and what to do, three lines per alert; nothing from outside adds a line of its own. */
export const alertWhatsApp = (alerts: readonly HealthAlert[]): string =>
  bounded(
    alerts
      .map((alert) => cleaned(alert, WHATSAPP_LINE_MAX_LENGTH))
      .map((alert) => `*ALERTE ${alert.severity.toUpperCase()}*\n${alert.summary}\n${alert.recommendation}`)
      .join('\n\n'),
    WHATSAPP_MAX_LENGTH,
  );
