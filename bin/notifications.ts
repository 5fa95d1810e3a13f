// `npm run notifications -- show|list|cancel|retry|export …`: operators read and act on notifications through the
// API's IAM-authorised routes, on the local stack or a deployed stage (--stage). See bin/cli/notifications-command.ts.
import { defaultNotificationsIo, runNotificationsCommand } from './cli/notifications-command.js';

// `… export | head`: the reader closing the pipe early is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

process.exitCode = await runNotificationsCommand(process.argv.slice(2), defaultNotificationsIo());
