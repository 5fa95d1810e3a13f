// SQS → WaChap. Each record is one notification id; records of a batch run in parallel, bounded,
// and only the failed ones go back to the queue (ReportBatchItemFailures).
import { ulid } from 'ulid';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import { createPacer } from '../../shared/application/concurrency.js';
import { ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { loadConfig, retryPolicyOf } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { notificationStore, sqsClient, wachapClient } from '../../shared/runtime.js';
import { FUNCTIONS } from '../catalog.js';
import { createSenderHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS.sender.environment);
const logger = createLogger('sender');
const store = notificationStore(config, logger);
const wachap = wachapClient(config, logger);
// This instance's share of WaChap's rate, so that all of them together stay under it.
const pace = createPacer((1000 * config.SENDER_MAX_CONCURRENCY) / config.WACHAP_MAX_SENDS_PER_SECOND);

export const handler = createSenderHandler(
  logger,
  {
    store,
    channel: whatsAppChannel({
      send: async (input) => {
        await pace();
        return wachap.send(input);
      },
    }),
    circuit: new ProviderCircuit({
      store,
      clock: () => new Date(),
      log: logger,
      cacheMs: config.CIRCUIT_CACHE_SECONDS * 1000,
    }),
    queue: new SqsSendQueue({ client: sqsClient(), queueUrl: config.SEND_QUEUE_URL }),
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
  },
  { concurrency: config.SENDER_CONCURRENCY },
);
