// The sender's Lambda entry point, built from its dependencies (handler.ts wires them from the
// environment; the soak passes a virtual clock and fault-injecting adapters).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLimiter } from '../../shared/application/concurrency.js';
import { type CounterBatch, counterBatch } from '../../shared/application/counter-batch.js';
import { sendMessageSchema } from '../../shared/application/ports.js';
import {
  type SenderDependencies,
  type SendResult,
  sendNotification,
} from '../../shared/application/send-notification.js';
import type { Lane } from '../../shared/domain/notification.js';
import { maskPhonesInText } from '../../shared/domain/phone.js';
import { metricsMiddleware } from '../../shared/observability/metrics.js';

/** The two send queues: each paces its sends at its own share of WaChap's rate. */
export interface SenderLanes {
  /** The lane a record comes from (by its queue). */
  laneOf(record: SQSRecord): Lane;
  /**
   * Waits for the lane's next slot at WaChap, for the execution environment `context` runs in (its log stream):
   * each instance paces at its share; on Lambda a module holds one instance, locally it may hold several. With
   * several WaChap instances, each has its own pace (`wachapInstance`): each WhatsApp number has its own limits.
   */
  pace(lane: Lane, context: Context, wachapInstance?: string): Promise<void>;
}

export function createSenderHandler(
  logger: Logger,
  deps: SenderDependencies,
  options: { concurrency: number; lanes?: SenderLanes },
) {
  const { lanes } = options;
  const depsFor = (lane: Lane, context: Context, counters: CounterBatch): SenderDependencies =>
    lanes
      ? {
          ...deps,
          counters,
          // The lanes pace WaChap's rate, per instance; email (SES) keeps its own.
          channels: {
            ...deps.channels,
            whatsapp: {
              deliver: async (notification, via) => {
                await lanes.pace(lane, context, via?.instance);
                return deps.channels.whatsapp.deliver(notification, via);
              },
            },
          },
        }
      : { ...deps, counters };

  async function processRecord(
    record: SQSRecord,
    limit: ReturnType<typeof createLimiter>,
    context: Context,
    counters: CounterBatch,
  ): Promise<SendResult | 'discarded'> {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const message = sendMessageSchema.safeParse(body);
    if (!message.success) {
      // Retrying garbage would only fill the DLQ: report it and move on.
      logger.error('unreadable send message discarded', {
        messageId: record.messageId,
        problems: message.error.issues.map((i) => maskPhonesInText(`${i.path.join('.') || '(body)'}: ${i.message}`)),
      });
      return 'discarded';
    }
    const lane = lanes?.laneOf(record) ?? 'standard';
    return limit(() => sendNotification(message.data, depsFor(lane, context, counters)));
  }

  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware(deps.metrics))
    .handler(async (event, context) => {
      // One processor and one limit per batch, as Lambda runs one batch at a time per instance: the local stack
      // runs several pollers' batches in one process, and a shared one would let a priority batch wait for a
      // standard batch's slots (or mix two batches' failures).
      const processor = new BatchProcessor(EventType.SQS);
      const limit = createLimiter(options.concurrency);
      // The batch's hourly counts, written once when it is done (a crash before loses counts, never a move).
      const counters = counterBatch(deps.counters ?? deps.store, logger);
      try {
        return await processPartialResponse(
          event,
          (record: SQSRecord) => processRecord(record, limit, context, counters),
          processor,
          { context, processInParallel: true },
        );
      } finally {
        await counters.flush();
      }
    });
}
