// SQS → WaChap. Each record is one notification id; records of a batch run in parallel, bounded,
// and only the failed ones go back to the queue (ReportBatchItemFailures).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ulid } from 'ulid';
import { SendQueue, sendMessageSchema } from '../../shared/adapters/send-queue.js';
import { createLimiter, createPacer } from '../../shared/application/concurrency.js';
import { ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { type SendResult, sendNotification } from '../../shared/application/send-notification.js';
import { loadConfig, retryPolicyOf, senderEnv, wachapEnv } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { notificationStore, sqsClient, wachapClient } from '../../shared/runtime.js';

const config = loadConfig(senderEnv.and(wachapEnv));
const logger = createLogger('sender');
const store = notificationStore(config, logger);
const wachap = wachapClient(config, logger);
// This instance's share of WaChap's rate, so that all of them together stay under it.
const pace = createPacer((1000 * config.SENDER_MAX_CONCURRENCY) / config.WACHAP_MAX_SENDS_PER_SECOND);
const deps = {
  store,
  wachap: {
    send: async (input: Parameters<typeof wachap.send>[0]) => {
      await pace();
      return wachap.send(input);
    },
  },
  circuit: new ProviderCircuit({
    store,
    clock: () => new Date(),
    log: logger,
    cacheMs: config.CIRCUIT_CACHE_SECONDS * 1000,
  }),
  queue: new SendQueue({ client: sqsClient(), queueUrl: config.SEND_QUEUE_URL }),
  log: logger,
  clock: () => new Date(),
  random: Math.random,
  newClaimToken: ulid,
  policy: {
    retry: retryPolicyOf(config),
    providerHoldMs: config.PROVIDER_HOLD_SECONDS * 1000,
    claimLeaseMs: config.CLAIM_LEASE_SECONDS * 1000,
    recordBackoffMs: [200, 1000, 3000],
  },
};
const processor = new BatchProcessor(EventType.SQS);
const limit = createLimiter(config.SENDER_CONCURRENCY);

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
      problems: message.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
    });
    return 'discarded';
  }
  return limit(() => sendNotification(message.data, deps));
}

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event, context) =>
    processPartialResponse(event, processRecord, processor, { context, processInParallel: true }),
  );
