// SQS → WaChap. Each record is one notification id; records of a batch run in parallel, bounded,
// and only the failed ones go back to the queue (ReportBatchItemFailures).
import { ulid } from 'ulid';
import { emailChannel } from '../../shared/adapters/ses/email-channel.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { SINGLE_INSTANCE_NAME } from '../../shared/adapters/wachap/credentials.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import { instanceRouter } from '../../shared/application/instance-routing.js';
import { ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { channelPolicyOf, loadConfig, retryPolicyOf } from '../../shared/config.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { createLogger } from '../../shared/observability/logger.js';
import { createTelemetry } from '../../shared/observability/metrics.js';
import { callbackQueue, notificationStore, rateSchedule, sendQueue } from '../../shared/runtime.js';
import { wachapInstancesOf } from '../../shared/runtime-secrets.js';
import { sesClient } from '../../shared/runtime-ses.js';
import { FUNCTIONS } from '../catalog.js';
import { createSenderHandler } from './create-handler.js';
import { senderLanes } from './lanes.js';

const config = loadConfig(FUNCTIONS.sender.environment);
const logger = createLogger('sender');
const metrics = createTelemetry(config.STAGE, logger);
const store = notificationStore(config, logger);
const wachap = wachapInstancesOf(config, logger);
const circuitNamed = (name: string) =>
  new ProviderCircuit({
    store,
    clock: () => new Date(),
    log: logger,
    cacheMs: config.CIRCUIT_CACHE_SECONDS * 1000,
    name,
  });
// Each lane's part of WaChap's rate, on a schedule shared by every sender: the priority lane keeps
// PRIORITY_SENDS_PER_SECOND for itself, the standard lane has the rest (and the priority lane's while it is idle).
// Without the schedule (the table unreachable), each instance paces at its share of its lane's rate, so that all of
// them together still stay under WaChap's.
const lanes = senderLanes({
  priorityQueueUrl: config.PRIORITY_SEND_QUEUE_URL,
  intervalMs: {
    priority: (1000 * config.PRIORITY_SENDER_MAX_CONCURRENCY) / config.PRIORITY_SENDS_PER_SECOND,
    standard:
      (1000 * config.SENDER_MAX_CONCURRENCY) / (config.WACHAP_MAX_SENDS_PER_SECOND - config.PRIORITY_SENDS_PER_SECOND),
  },
  shared: {
    schedule: rateSchedule(config),
    perSecond: {
      priority: config.PRIORITY_SENDS_PER_SECOND,
      standard: config.WACHAP_MAX_SENDS_PER_SECOND - config.PRIORITY_SENDS_PER_SECOND,
    },
    log: logger,
  },
});

export const handler = createSenderHandler(
  logger,
  {
    store,
    // WhatsApp: each notification through the instance its route (or a stand-in) decides, each instance with its
    // circuit. Email only with an SES identity to send from: without one, no fallback (the policy knows it).
    channels: {
      whatsapp: whatsAppChannel((instance) => wachap.client(instance ?? SINGLE_INSTANCE_NAME)),
      ...(config.EMAIL_FROM ? { email: emailChannel(new SesMailer(sesClient(), config.EMAIL_FROM)) } : {}),
    },
    circuit: circuitNamed(WACHAP_PROVIDER),
    instances: instanceRouter({
      instances: () => wachap.list(),
      failover: (list) => wachap.failover(list),
      circuitNamed,
    }),
    queue: sendQueue(config),
    callbacks: callbackQueue(config.CALLBACK_QUEUE_URL),
    log: logger,
    metrics,
    clock: () => new Date(),
    random: Math.random,
    newClaimToken: ulid,
    policy: {
      retry: retryPolicyOf(config),
      providerHoldMs: config.PROVIDER_HOLD_SECONDS * 1000,
      claimLeaseMs: config.CLAIM_LEASE_SECONDS * 1000,
      recordBackoffMs: [200, 1000, 3000],
      channels: channelPolicyOf(config),
    },
  },
  { concurrency: config.SENDER_CONCURRENCY, lanes },
);
