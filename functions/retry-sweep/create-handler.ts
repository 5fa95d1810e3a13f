// The retry sweep's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type InvokeRejection,
  parseInvokePayload,
  sweepPayloadSchema,
} from '../../shared/application/invoke-payload.js';
import {
  formatSweepReport,
  runRetrySweep,
  type SweepDependencies,
  type SweepSummary,
} from '../../shared/application/retry-sweep.js';
import { maskPhonesInText } from '../../shared/domain/phone.js';

export function createRetrySweepHandler(
  logger: Logger,
  deps: SweepDependencies,
  defaults: { limit: number; maxRetries: number },
) {
  return middy<unknown, SweepSummary | InvokeRejection, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const payload = parseInvokePayload(sweepPayloadSchema, event);
      if (!payload.ok) {
        // Field names come from the caller: a phone number used as a key must not reach the logs.
        logger.warn('invalid invoke payload', { details: maskPhonesInText(payload.rejection.message) });
        return payload.rejection;
      }
      const { dryRun, verbose, limit, maxRetries } = payload.value;
      const summary = await runRetrySweep(
        { dryRun, verbose, limit: limit ?? defaults.limit, maxRetries: maxRetries ?? defaults.maxRetries },
        deps,
      );
      // The original command's report, readable in the logs; one block per notification when verbose.
      const { notifications: _entries, ...counts } = summary;
      logger.info(`retry sweep\n${formatSweepReport(summary)}`, { summary: counts });
      return summary;
    });
}
