// Every 30 minutes (EventBridge) and on demand (operators, often with dryRun): re-enqueue due work.
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { createTelemetry } from '../../shared/observability/metrics.js';
import { callbackQueue, notificationStore, sendQueue } from '../../shared/runtime.js';
import { FUNCTIONS } from '../catalog.js';
import { createRetrySweepHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS['retry-sweep'].environment);
const logger = createLogger('retry-sweep');
const metrics = createTelemetry(config.STAGE, logger);

export const handler = createRetrySweepHandler(
  logger,
  {
    store: notificationStore(config, logger),
    queue: sendQueue(config),
    callbacks: callbackQueue(config.CALLBACK_QUEUE_URL),
    log: logger,
    metrics,
    clock: () => new Date(),
    queueLeaseMs: config.SWEEP_LEASE_SECONDS * 1000,
    writeConcurrency: 10,
  },
  { limit: config.SWEEP_DEFAULT_LIMIT, maxRetries: config.MAX_RETRIES },
);
