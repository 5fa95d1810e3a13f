// The retry sweep's report, as the original command printed it (French first, English after): what operators
// read in the CLI and in the sweep's log line.
import type { SweepAction, SweepEntry, SweepSummary } from '../application/retry-sweep.js';

const ACTION_TEXT: Record<SweepAction, (e: SweepEntry) => string> = {
  queue: (e) => `Mise en file d'attente (tentative ${e.attempts + 1}) / queued (attempt ${e.attempts + 1})`,
  recover: (e) =>
    `Tentative précédente interrompue, remise en file (tentative ${e.attempts + 1}) / previous attempt abandoned, queued again`,
  redrive: (e) =>
    `Relancée : limite relevée à ${e.maxRetries}, mise en file (tentative ${e.attempts + 1}) / re-driven: limit raised to ${e.maxRetries}, queued (attempt ${e.attempts + 1})${e.note ? ` (${e.note})` : ''}`,
  exhaust: () => 'Abandon : nombre maximal de tentatives atteint / gave up: max_retries_exceeded',
  expire: () => 'Expirée : validité dépassée / expired: validity ran out',
  skip: (e) => `Ignorée / skipped (${e.note ?? 'changed meanwhile'})`,
};

const RULE = '='.repeat(60);

/** The run's limit, and whether it is MAX_RETRIES or this run's own. */
function limitLine(summary: SweepSummary): string {
  const line = `Limite de tentatives : ${summary.maxRetries}`;
  switch (summary.maxRetriesChange) {
    case 'none':
      return line;
    case 'lowered':
      return `${line} (abaissée pour cette exécution, MAX_RETRIES = ${summary.configuredMaxRetries} / lowered for this run: what reached it is left for later, only its own limit ends a notification)`;
    case 'raised':
      return `${line} (relevée pour cette exécution, MAX_RETRIES = ${summary.configuredMaxRetries} / raised for this run: what ended at its own limit below it is re-driven up to it)`;
    default: {
      const unhandled: never = summary.maxRetriesChange;
      throw new Error(`unhandled limit change ${String(unhandled)}`);
    }
  }
}

/** The original command's report, line for line where it still applies. */
export function formatSweepReport(summary: SweepSummary): string {
  const lines = [
    RULE,
    `RETRY NOTIFICATIONS ÉCHOUÉES${summary.dryRun ? ' (DRY RUN: nothing changed)' : ''}`,
    RULE,
    '',
    `Notifications trouvées : ${summary.found}`,
    `Date/Heure actuelle : ${summary.now}`,
    limitLine(summary),
    RULE,
  ];
  for (const e of summary.notifications ?? []) {
    lines.push(
      '',
      `Notification ${e.id}`,
      `   Destinataire: ${e.recipient}`,
      `   Tentatives: ${e.attempts}/${e.maxAttempts}`,
      `   Prochaine tentative prévue: ${e.nextAttemptAt ?? '-'}`,
      `   Catégorie: ${e.category} (priorité ${e.priority})`,
      `   ${summary.dryRun ? '[dry run] ' : ''}${ACTION_TEXT[e.action](e)}`,
    );
  }
  lines.push(
    '',
    RULE,
    "RÉSUMÉ DE L'EXÉCUTION",
    RULE,
    `Total traité       : ${summary.found}`,
    `Mises en file      : ${summary.queued}`,
    `Relancées          : ${summary.redriven}`,
    `Abandonnées        : ${summary.exhausted}`,
    `Expirées           : ${summary.expired}`,
    `Ignorées           : ${summary.skipped}`,
  );
  if (summary.moreToRedrive) {
    lines.push(
      `D'autres restent à relancer : relancez la commande / more are left to re-drive (--limit ${summary.limit} reached): run it again`,
    );
  }
  return lines.join('\n');
}
