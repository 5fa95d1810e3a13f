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

/** The two send queues: each paces its sends at its own part of WaChap's rate. */
export interface SenderLanes {
  /** The lane a record comes from (by its queue). */
  laneOf(record: SQSRecord): Lane;
  /**
   * Waits for the lane's next send at WaChap, booked on the lane's schedule shared by every sender, from the
   * execution environment `context` runs in (its log stream; on Lambda a module holds one, locally it may hold
   * several). With several WaChap instances, each has its own pace (`wachapInstance`): each WhatsApp number has its
   * own limits.
   */
  pace(lane: Lane, context: Context, wachapInstance?: string): Promise<void>;
}

type Limiter = ReturnType<typeof createLimiter>;

export function createSenderHandler(
  logger: Logger,
  deps: SenderDependencies,
  /** `concurrency`: WaChap calls of one batch in flight at once. */
  options: { concurrency: number; lanes?: SenderLanes },
) {
  const { lanes } = options;
  // WaChap's calls wait for their send at the lane's pace first, and only then for one of the batch's slots: a call
  // waiting for its turn at the rate never holds a slot another call could use. Email (SES) keeps its own pace.
  const depsFor = (lane: Lane, context: Context, limit: Limiter, counters: CounterBatch): SenderDependencies => ({
    ...deps,
    counters,
    channels: {
      ...deps.channels,
      whatsapp: {
        deliver: async (notification, via) => {
          await lanes?.pace(lane, context, via?.instance);
          return limit(() => deps.channels.whatsapp.deliver(notification, via));
        },
      },
    },
  });

  async function processRecord(
    record: SQSRecord,
    limit: Limiter,
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
    try {
      return await sendNotification(message.data, depsFor(lane, context, limit, counters));
    } catch (error) {
      // Given back to the queue, which brings it again after its visibility timeout (minutes): said, with why.
      logger.warn('send not finished; the queue brings the message back', {
        notificationId: message.data.id,
        error: maskPhonesInText(String(error)),
      });
      throw error;
    }
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
