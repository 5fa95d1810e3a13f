// SQS (the callback queue) → the callers' receivers: each status callback signed (Standard Webhooks) and POSTed;
// retried with backoff for 24 h as new messages; given up into the callback DLQ, its notification marked.
import { callbackPoster } from '../../shared/adapters/http/callback-transport.js';
import { callbackRetryPolicyOf, loadConfig } from '../../shared/config.js';
import { createLogger, SERVICE_NAME } from '../../shared/observability/logger.js';
import { callbackQueue, notificationStore } from '../../shared/runtime.js';
import { callbackSecrets } from '../../shared/runtime-secrets.js';
import { FUNCTIONS } from '../catalog.js';
import { createCallbackDispatcherHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS['callback-dispatcher'].environment);
const logger = createLogger('callback-dispatcher');

export const handler = createCallbackDispatcherHandler(logger, {
  queue: callbackQueue(config.CALLBACK_QUEUE_URL, config.CALLBACK_DLQ_URL),
  secrets: callbackSecrets(config),
  post: callbackPoster({
    policy: config.CALLBACK_URLS,
    timeoutMs: config.CALLBACK_TIMEOUT_MS,
    userAgent: `${SERVICE_NAME}-callbacks/1 (+Standard Webhooks)`,
  }),
  marks: notificationStore(config, logger),
  log: logger,
  clock: () => new Date(),
  retry: callbackRetryPolicyOf(config),
});
