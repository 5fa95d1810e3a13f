// `npm run backfill-status-index -- [--stage NAME] [--dry-run]`: gives the notifications stored before the status
// index existed its keys, on the local stack or a deployed stage. See bin/cli/backfill-command.ts.
import { runBackfill } from './cli/backfill-command.js';

process.exitCode = await runBackfill(process.argv.slice(2));
