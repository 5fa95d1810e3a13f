// The retry sweep's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { sweepPayloadSchema } from '../../shared/application/invoke-payload.js';
import { runRetrySweep, type SweepDependencies } from '../../shared/application/retry-sweep.js';
import { formatSweepReport } from '../../shared/presentation/sweep-report.js';
import { createInvokeHandler } from '../invoke-handler.js';

export const createRetrySweepHandler = (
  logger: Logger,
  deps: SweepDependencies,
  defaults: { limit: number; maxRetries: number },
) =>
  createInvokeHandler(
    logger,
    sweepPayloadSchema,
    async ({ dryRun, verbose, limit, maxRetries }) => {
      const summary = await runRetrySweep(
        {
          dryRun,
          verbose,
          limit: limit ?? defaults.limit,
          maxRetries: maxRetries ?? defaults.maxRetries,
          configuredMaxRetries: defaults.maxRetries,
        },
        deps,
      );
      // The original command's report, readable in the logs; one block per notification when verbose.
      const { notifications: _entries, ...counts } = summary;
      logger.info(`retry sweep\n${formatSweepReport(summary)}`, { summary: counts });
      return summary;
    },
    deps.metrics,
  );
