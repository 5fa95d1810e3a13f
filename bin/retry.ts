// `npm run retry -- [--dry-run] [--verbose] [--limit=N] [--max-retries=N]`: the original
// `manage.py retry_failed_notifications`, run by the retry-sweep function and printed as it did.
import type { SweepSummary } from '../shared/application/retry-sweep.js';
import { formatSweepReport } from '../shared/presentation/sweep-report.js';
import { RETRY_OPTIONS, retryPayloadOf } from './cli/retry-args.js';
import { runOperatorCommand, TARGET_USAGE } from './operator-cli.js';

const USAGE = `Usage: npm run retry -- [options]

Re-queues the failed notifications that are due, through the retry-sweep function
(the successor of \`python manage.py retry_failed_notifications\`).

Sweep:
  --dry-run              show what would be done, change nothing
  --verbose              one block per notification (otherwise only the header and the summary)
  --limit=N              at most N notifications (function default: 500)
  --max-retries=N        attempt limit for this run (function default: MAX_RETRIES, 10). Lower: what
                         reached N is left for a later run (only its own limit ends a notification).
                         Higher: also re-drives the max_retries_exceeded ones with fewer than N
                         attempts, up to N (try it with --dry-run first)

${TARGET_USAGE}

Examples:
  npm run retry -- --dry-run --verbose                  # the local stack (npm start)
  npm run retry -- --limit=50 --max-retries=15
  npm run retry -- --dry-run --json
  npm run retry -- --stage prod --dry-run --verbose     # the deployed stage prod (its stack's outputs)
  AWS_PROFILE=prod npm run retry -- --stage prod --limit=50`;

process.exitCode = await runOperatorCommand(
  {
    usage: USAGE,
    defaultFunctionName: 'retry-sweep',
    stackOutput: 'RetrySweepFunctionName',
    options: RETRY_OPTIONS,
    payloadOf: retryPayloadOf,
    format: (result) => formatSweepReport(result as SweepSummary),
  },
  process.argv.slice(2),
);
