// POST /notifications: API Gateway has already checked the API key; this checks everything else.
import { newNotificationId } from '../../shared/application/ingest.js';
import { loadConfig, notificationPolicyOf } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { createTelemetry } from '../../shared/observability/metrics.js';
import { notificationStore, sendQueue } from '../../shared/runtime.js';
import { FUNCTIONS } from '../catalog.js';
import { createIngestHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS.ingest.environment);
const logger = createLogger('ingest');
const metrics = createTelemetry(config.STAGE, logger);
const store = notificationStore(config, logger);

export const handler = createIngestHandler(logger, {
  store,
  recipientCounters: store,
  recipientLimits: config.RECIPIENT_LIMITS,
  queue: sendQueue(config),
  log: logger,
  metrics,
  clock: () => new Date(),
  newId: newNotificationId,
  policy: notificationPolicyOf(config),
  defaultCountry: config.DEFAULT_COUNTRY,
  callbackUrls: config.CALLBACK_URLS,
});
