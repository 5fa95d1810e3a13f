// GET /notifications/{id}, GET /notifications, GET /notifications/export.csv: API Gateway has already checked the
// caller's SigV4 signature and execute-api:Invoke grant (IAM authorization); this checks the rest and reads.
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/observability/logger.js';
import { notificationStore } from '../../shared/runtime.js';
import { FUNCTIONS } from '../catalog.js';
import { createOperatorReadHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS['operator-read'].environment);
const logger = createLogger('operator-read');

export const handler = createOperatorReadHandler(
  logger,
  { store: notificationStore(config, logger), clock: () => new Date() },
  { defaultCountry: config.DEFAULT_COUNTRY },
);
