// Every 30 minutes (EventBridge) and on demand (operators, often with dryRun): re-enqueue due work.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { SendQueue } from '../../shared/adapters/send-queue.js';
import {
  type InvokeRejection,
  parseInvokePayload,
  sweepPayloadSchema,
} from '../../shared/application/invoke-payload.js';
import { formatSweepReport, runRetrySweep, type SweepSummary } from '../../shared/application/retry-sweep.js';
import { loadConfig, sweepEnv } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { notificationStore, sqsClient } from '../../shared/runtime.js';

const config = loadConfig(sweepEnv);
const logger = createLogger('retry-sweep');
const deps = {
  store: notificationStore(config, logger),
  queue: new SendQueue({ client: sqsClient(), queueUrl: config.SEND_QUEUE_URL }),
  log: logger,
  clock: () => new Date(),
  queueLeaseMs: config.SWEEP_LEASE_SECONDS * 1000,
  writeConcurrency: 10,
};

export const handler = middy<unknown, SweepSummary | InvokeRejection, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const payload = parseInvokePayload(sweepPayloadSchema, event);
    if (!payload.ok) {
      logger.warn('invalid invoke payload', { details: payload.rejection.details });
      return payload.rejection;
    }
    const { dryRun, verbose, limit, maxRetries } = payload.value;
    const summary = await runRetrySweep(
      { dryRun, verbose, limit: limit ?? config.SWEEP_DEFAULT_LIMIT, maxRetries: maxRetries ?? config.MAX_RETRIES },
      deps,
    );
    // The original command's report, readable in the logs; one block per notification when verbose.
    const { notifications: _entries, ...counts } = summary;
    logger.info(`retry sweep\n${formatSweepReport(summary)}`, { summary: counts });
    return summary;
  });
