// The retry sweep's report, as the original command printed it (French first, English after): what operators
// read in the CLI and in the sweep's log line.
import type { SweepAction, SweepEntry, SweepSummary } from '../application/retry-sweep.js';

const ACTION_TEXT: Record<SweepAction, (e: SweepEntry) => string> = {
  queue: (e) => `Mise en file d'attente (tentative ${e.attempts + 1}) / queued (attempt ${e.attempts + 1})`,
  recover: (e) =>
    `Tentative précédente interrompue, remise en file (tentative ${e.attempts + 1}) / previous attempt abandoned, queued again`,
  exhaust: () => 'Abandon : nombre maximal de tentatives atteint / gave up: max_retries_exceeded',
  expire: () => 'Expirée : validité dépassée / expired: validity ran out',
  skip: (e) => `Ignorée / skipped (${e.note ?? 'changed meanwhile'})`,
};

const RULE = '='.repeat(60);

/** The original command's report, line for line where it still applies. */
export function formatSweepReport(summary: SweepSummary): string {
  const lines = [
    RULE,
    `RETRY NOTIFICATIONS ÉCHOUÉES${summary.dryRun ? ' (DRY RUN: nothing changed)' : ''}`,
    RULE,
    '',
    `Notifications trouvées : ${summary.found}`,
    `Date/Heure actuelle : ${summary.now}`,
    `Limite de tentatives : ${summary.maxRetries}`,
    RULE,
  ];
  for (const e of summary.notifications ?? []) {
    lines.push(
      '',
      `Notification ${e.id}`,
      `   Destinataire: ${e.recipient}`,
      `   Tentatives: ${e.attempts}/${e.maxRetries}`,
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
    `Abandonnées        : ${summary.exhausted}`,
    `Expirées           : ${summary.expired}`,
    `Ignorées           : ${summary.skipped}`,
  );
  return lines.join('\n');
}
