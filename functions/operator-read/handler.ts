// GET /notifications/{id}, GET /notifications, /notifications/counts, /notifications/export.csv: API Gateway has checked the
// caller's SigV4 signature and execute-api:Invoke grant (IAM authorization); this checks the rest and reads.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { loadConfig } from '../../shared/config.js';
import { recordAwsCalls } from '../../shared/observability/aws-calls.js';
import { createLogger } from '../../shared/observability/logger.js';
import { FUNCTIONS } from '../catalog.js';
import { createOperatorReadHandler } from './create-handler.js';
import { ReadMeter } from './read-meter.js';

const config = loadConfig(FUNCTIONS['operator-read'].environment);
const logger = createLogger('operator-read');
// runtime.ts's notificationStore, on a client whose reads are counted (the export's budget).
const reads = new ReadMeter();
const store = dynamoDbStore({
  client: notificationDocumentClient(reads.attach(recordAwsCalls(new DynamoDBClient({})))),
  tableName: config.TABLE_NAME,
  retentionDays: config.RETENTION_DAYS,
  log: logger,
});

export const handler = createOperatorReadHandler(
  logger,
  { store, clock: () => new Date(), reads },
  { defaultCountry: config.DEFAULT_COUNTRY },
);
