// The callback dispatcher's Lambda entry point, built from its dependencies (handler.ts wires them from the
// environment; the tests pass real engines, a receiver of their own and a virtual clock).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type CallbackDispatchDependencies, deliverCallback } from '../../shared/application/deliver-callback.js';

/**
 * Each record is one callback; a batch's POSTs run at once (each bounded by its timeout). Only a record whose next
 * step could not be queued fails, and only it comes back (ReportBatchItemFailures).
 */
export function createCallbackDispatcherHandler(logger: Logger, deps: CallbackDispatchDependencies) {
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const processor = new BatchProcessor(EventType.SQS);
      return processPartialResponse(event, (record: SQSRecord) => deliverCallback(record.body, deps), processor, {
        context,
        processInParallel: true,
      });
    });
}
