// `npm run retry`'s flags and the retry-sweep payload they make: apart from bin/retry.ts (which runs on import), so
// that the commands an alert prints can be checked against the very parser that will read them.
import { type parseFlags, positiveInteger } from './flags.js';

export const RETRY_OPTIONS = {
  'dry-run': { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  limit: { type: 'string' },
  'max-retries': { type: 'string' },
} as const;

export function retryPayloadOf(flags: ReturnType<typeof parseFlags<typeof RETRY_OPTIONS>>) {
  const limit = positiveInteger('limit', flags.limit);
  const maxRetries = positiveInteger('max-retries', flags['max-retries']);
  return {
    dryRun: flags['dry-run'] === true,
    verbose: flags.verbose === true,
    ...(limit !== undefined ? { limit } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
  };
}
