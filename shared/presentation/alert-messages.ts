// What an admin reads: the alert email (text and HTML; French first, then English; worst first; each alert with its
// figures, the notifications it concerns and the commands for its stage) and the short French WhatsApp message for
// critical alerts.
import type { Email } from '../application/ports.js';
import { type AffectedNotification, affectedSelection, type HealthAlert, type Severity } from '../domain/health.js';
import { ALERT_TEXTS, type AlertContext, type AlertStep, stepsOf, textsOf } from './alert-texts.js';
import { FIGURES, formatFigure, formatInstant, type Language } from './figures.js';
import { bounded, EMAIL_SUBJECT_MAX_LENGTH, oneLine } from './plain-text.js';

export type { AlertContext } from './alert-texts.js';

/** An alert as it is sent: the notifications it concerns, when the health check could read them. */
export interface AlertToSend extends HealthAlert {
  affected?: readonly AffectedNotification[];
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const SEVERITY_ORDER: Severity[] = ['critical', 'warning'];
const SEVERITY_TEXT: Record<Severity, Record<Language, string>> = {
  critical: { fr: 'CRITIQUE', en: 'CRITICAL' },
  warning: { fr: 'AVERTISSEMENT', en: 'WARNING' },
};
const LANGUAGES: Language[] = ['fr', 'en'];

/** One summary or piece of advice: they carry provider and operator texts, which are not ours to trust. */
const LINE_MAX_LENGTH = 1000;
/** An affected notification's last error message: enough to recognise it, one line. */
const ERROR_MAX_LENGTH = 200;
/**
 * A WhatsApp alert's summary line and its to-do: six alerts stay under WhatsApp's 4,096, and only the critical
 * kinds (five: provider_unavailable, failure_burst, failure_rate, otp_failures, consecutive_failures) go by WhatsApp.
 */
const WHATSAPP_LINE_MAX_LENGTH = 320;
const WHATSAPP_TO_DO_MAX_LENGTH = 640;
const WHATSAPP_MAX_LENGTH = 4096;

const LABELS = {
  subject: { fr: 'Notifications WhatsApp', en: 'WhatsApp notifications' },
  figures: { fr: 'Chiffres', en: 'Figures' },
  whatToDo: { fr: 'Que faire', en: 'What to do' },
  none: { fr: 'aucune trouvée', en: 'none found' },
  affected: { fr: 'Notifications concernées', en: 'Notifications concerned' },
  newest: {
    fr: (n: number) => (n === 1 ? 'la plus récente' : `les ${n} plus récentes`),
    en: (n: number) => (n === 1 ? 'the newest' : `the ${n} newest`),
  },
  oldestDue: {
    fr: (n: number) => (n === 1 ? 'la plus ancienne à envoyer' : `les ${n} plus anciennes à envoyer`),
    en: (n: number) => (n === 1 ? 'the oldest due' : `the ${n} oldest due`),
  },
  footer: {
    fr: (at: string) => `Vérifié le ${at}. Une alerte du même type n'est pas répétée avant une heure.`,
    en: (at: string) => `Checked at ${at}. The same kind of alert is not repeated for an hour.`,
  },
  others: { fr: (n: number) => ` (+${n} ${n > 1 ? 'autres' : 'autre'})`, en: (n: number) => ` (+${n} more)` },
} as const;

/** "Label : value" in French (a space before the colon), "Label: value" in English. */
const colon = (language: Language) => (language === 'fr' ? ' : ' : ': ');

/**
 * One alert in one language, every text on one line and bounded: a summary holds the provider's own words (a
 * WaChap error text, an operator's reason) and an affected notification its last error, which may carry CR/LF or
 * bidi overrides; they must not start a header line or reorder what the admin reads.
 */
interface Rendered {
  severity: string;
  summary: string;
  advice: string;
  figures: string[];
  affectedTitle?: string;
  affected?: string[];
  steps: { purpose: string; command?: string; link?: string }[];
}

function affectedLine(n: AffectedNotification): string {
  const error = n.lastError
    ? `${oneLine(n.lastError.type, 60)}: ${oneLine(n.lastError.message, ERROR_MAX_LENGTH)}`
    : undefined;
  return [oneLine(n.id, 40), oneLine(n.phone, 32), oneLine(n.category, 64), n.status, ...(error ? [error] : [])].join(
    ' · ',
  );
}

function render(alert: AlertToSend, context: AlertContext, language: Language, maxLength = LINE_MAX_LENGTH): Rendered {
  const { summary, advice } = textsOf(alert, language);
  const figures = Object.entries(alert.figures).flatMap(([name, value]) => {
    const spec = FIGURES[name as keyof typeof FIGURES];
    return spec && value !== undefined
      ? [`${spec.label[language]}${colon(language)}${formatFigure(name as keyof typeof FIGURES, value, language)}`]
      : [];
  });
  const rendered: Rendered = {
    severity: SEVERITY_TEXT[alert.severity][language],
    summary: oneLine(summary, maxLength),
    advice: oneLine(advice, maxLength),
    figures,
    steps: stepsOf(alert, context).map((step: AlertStep) => ({
      purpose: step.purpose[language],
      ...(step.command ? { command: oneLine(step.command.line, maxLength) } : {}),
      ...(step.link ? { link: oneLine(step.link, maxLength) } : {}),
    })),
  };
  if (alert.affected !== undefined) {
    const n = alert.affected.length;
    const which = affectedSelection(alert.kind).source === 'due' ? LABELS.oldestDue : LABELS.newest;
    rendered.affectedTitle =
      n === 0
        ? `${LABELS.affected[language]}${colon(language)}${LABELS.none[language]}`
        : `${LABELS.affected[language]} (${which[language](n)})${colon(language).trimEnd()}`;
    rendered.affected = alert.affected.map(affectedLine);
  }
  return rendered;
}

function textOf(r: Rendered, language: Language): string[] {
  return [
    `[${r.severity}] ${r.summary}`,
    ...(r.figures.length > 0 ? [`  ${LABELS.figures[language]}${colon(language).trimEnd()}`] : []),
    ...r.figures.map((f) => `    - ${f}`),
    ...(r.affectedTitle ? [`  ${r.affectedTitle}`] : []),
    ...(r.affected ?? []).map((a) => `    - ${a}`),
    `  ${LABELS.whatToDo[language]}${colon(language)}${r.advice}`,
    ...r.steps.map((s) => `    - ${s.purpose}${colon(language)}${s.command ?? s.link ?? ''}`),
    '',
  ];
}

function htmlOf(r: Rendered, language: Language): string {
  const list = (items: string[]) => `<ul>${items.join('')}</ul>`;
  const step = (s: Rendered['steps'][number]) =>
    `<li>${escapeHtml(s.purpose)}${colon(language)}${
      s.command
        ? `<code>${escapeHtml(s.command)}</code>`
        : s.link
          ? `<a href="${escapeHtml(s.link)}">${escapeHtml(s.link)}</a>`
          : ''
    }</li>`;
  return [
    `<h2>[${r.severity}] ${escapeHtml(r.summary)}</h2>`,
    ...(r.figures.length > 0 ? [list(r.figures.map((f) => `<li>${escapeHtml(f)}</li>`))] : []),
    ...(r.affectedTitle ? [`<p><strong>${escapeHtml(r.affectedTitle)}</strong></p>`] : []),
    ...(r.affected && r.affected.length > 0 ? [list(r.affected.map((a) => `<li>${escapeHtml(a)}</li>`))] : []),
    `<p><strong>${LABELS.whatToDo[language]}${colon(language).trimEnd()}</strong> ${escapeHtml(r.advice)}</p>`,
    ...(r.steps.length > 0 ? [list(r.steps.map(step))] : []),
  ].join('\n');
}

const worstFirst = <A extends HealthAlert>(alerts: readonly A[]): A[] =>
  [...alerts].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));

export function alertEmail(alerts: readonly AlertToSend[], to: string, now: Date, context: AlertContext): Email {
  const sorted = worstFirst(alerts);
  const stage = oneLine(context.stage, 20);
  const byLanguage = Object.fromEntries(
    LANGUAGES.map((language) => [language, sorted.map((alert) => render(alert, context, language))]),
  ) as Record<Language, Rendered[]>;
  const worst = byLanguage.fr[0]!;
  const more = sorted.length > 1 ? LABELS.others.fr(sorted.length - 1) : '';
  const prefix = `[${stage}] [${worst.severity}] ${LABELS.subject.fr} : `;
  // The summary gives way, so that the stage, the severity and the count of the others always show.
  const summaryRoom = EMAIL_SUBJECT_MAX_LENGTH - prefix.length - more.length;
  const subject = oneLine(`${prefix}${bounded(worst.summary, summaryRoom)}${more}`, EMAIL_SUBJECT_MAX_LENGTH);
  const footer = (language: Language) => LABELS.footer[language](formatInstant(now.getTime(), language));
  const separator = '—'.repeat(20);

  const text = LANGUAGES.flatMap((language, i) => [
    ...(i > 0 ? [separator, `English version (stage ${stage})`, ''] : []),
    ...byLanguage[language].flatMap((r) => textOf(r, language)),
    footer(language),
    '',
  ])
    .join('\n')
    .trimEnd();
  const html = LANGUAGES.map(
    (language) => `<section lang="${language}">
${byLanguage[language].map((r) => htmlOf(r, language)).join('\n')}
<p style="color:#666">${escapeHtml(footer(language))}</p>
</section>`,
  ).join('\n<hr>\n');
  return { to, subject, text, html };
}

/**
 * Short, in French, one thing to do: a line per alert (its stage and summary), then what to do about the worst one
 * with its command; the email has the rest. Nothing from outside adds a line of its own.
 */
export function alertWhatsApp(alerts: readonly HealthAlert[], context: AlertContext): string {
  const sorted = worstFirst(alerts);
  const stage = oneLine(context.stage, 20);
  const lines = sorted.map(
    (alert) =>
      `${alert.severity === 'critical' ? '🔴' : '🟠'} [${stage}] ${oneLine(textsOf(alert, 'fr').summary, WHATSAPP_LINE_MAX_LENGTH)}`,
  );
  const first = sorted[0];
  // Ours only (words, the stage, a command): bounded more loosely than the summaries, so the command stays whole.
  const todo = first
    ? [oneLine(`À faire : ${ALERT_TEXTS[first.kind].whatsappTodo(first, context)}`, WHATSAPP_TO_DO_MAX_LENGTH)]
    : [];
  return bounded([...lines, ...todo].join('\n'), WHATSAPP_MAX_LENGTH);
}

/** The summary and what to do (with each command in backquotes), in English, as the health report carries them. */
export function alertReportTexts(
  alert: HealthAlert,
  context: AlertContext,
): { summary: string; recommendation: string } {
  const r = render(alert, context, 'en');
  const steps = r.steps.map((s) => `${s.purpose}: \`${s.command ?? s.link ?? ''}\`.`);
  return { summary: r.summary, recommendation: [r.advice, ...steps].join(' ') };
}
