// POST /notifications/{id}/cancel, /notifications/{id}/retry and /notifications/retry: API Gateway has already
// checked the caller's SigV4 signature and execute-api:Invoke grant (IAM authorization); this checks the rest.
import { loadConfig, notificationPolicyOf } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { createTelemetry } from '../../shared/observability/metrics.js';
import { callbackQueue, notificationStore, sendQueue } from '../../shared/runtime.js';
import { FUNCTIONS } from '../catalog.js';
import { createOperatorActionsHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS['operator-actions'].environment);
const logger = createLogger('operator-actions');
const metrics = createTelemetry(config.STAGE, logger);

export const handler = createOperatorActionsHandler(logger, {
  store: notificationStore(config, logger),
  queue: sendQueue(config),
  callbacks: callbackQueue(config.CALLBACK_QUEUE_URL),
  log: logger,
  metrics,
  clock: () => new Date(),
  policy: notificationPolicyOf(config),
});
