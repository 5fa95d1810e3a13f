// The sender's Lambda entry point, built from its dependencies (handler.ts wires them from the
// environment; the soak passes a virtual clock and fault-injecting adapters).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLimiter } from '../../shared/application/concurrency.js';
import { sendMessageSchema } from '../../shared/application/ports.js';
import {
  type SenderDependencies,
  type SendResult,
  sendNotification,
} from '../../shared/application/send-notification.js';
import { maskPhonesInText } from '../../shared/domain/phone.js';

export function createSenderHandler(logger: Logger, deps: SenderDependencies, options: { concurrency: number }) {
  const processor = new BatchProcessor(EventType.SQS);
  const limit = createLimiter(options.concurrency);

  async function processRecord(record: SQSRecord): Promise<SendResult | 'discarded'> {
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
    return limit(() => sendNotification(message.data, deps));
  }

  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) =>
      processPartialResponse(event, processRecord, processor, { context, processInParallel: true }),
    );
}
