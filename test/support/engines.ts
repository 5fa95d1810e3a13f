// Real AWS-compatible engines for a test file: DynamoDB (dynalite by default for speed, or
// TEST_DYNAMODB_ENGINE=dynamodb-local), SQS (fauxqs) and SES (aws-ses-v2-local), on free ports.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { type RunningSes, startSes } from '../../local/engines/ses.js';
import { createSendQueues, type RunningSqs, startSqs } from '../../local/engines/sqs.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { randomTableName } from './dynamodb.js';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const REGION = 'us-east-1';

export interface TestEngines {
  dynamodb: RunningDynamoDb;
  sqs: RunningSqs;
  ses: RunningSes | undefined;
  tableName: string;
  /** A DynamoDB client on the engine (stopped with the engines), for tests that reach below the store. */
  dynamoClient: DynamoDBClient;
  queueUrl: string;
  priorityQueueUrl: string;
  dlqUrl: string;
  store: Store;
  sqsClient: SQSClient;
  /** The environment a handler needs to reach these engines (the SDK reads AWS_ENDPOINT_URL_*). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestEngines(
  options: { ses?: boolean; visibilityTimeoutSeconds?: number } = {},
): Promise<TestEngines> {
  const engine = (process.env.TEST_DYNAMODB_ENGINE as 'dynamodb-local' | 'dynalite' | undefined) ?? 'dynalite';
  const [dynamodb, sqs, ses] = await Promise.all([
    startDynamoDb({ engine }),
    startSqs(),
    options.ses ? startSes() : Promise.resolve(undefined),
  ]);
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamodb.endpoint,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  const tableName = randomTableName();
  await ensureTable(dynamoClient, tableName);
  const { queueUrl, priorityQueueUrl, dlqUrl } = await createSendQueues(sqsClient, {
    name: `send-${Date.now()}`,
    ...(options.visibilityTimeoutSeconds ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds } : {}),
  });
  return {
    dynamodb,
    sqs,
    ses,
    tableName,
    dynamoClient,
    queueUrl,
    priorityQueueUrl,
    dlqUrl,
    store: dynamoDbStore({ client: notificationDocumentClient(dynamoClient), tableName }),
    sqsClient,
    env: {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      ...(ses ? { AWS_ENDPOINT_URL_SES: ses.endpoint } : {}),
      TABLE_NAME: tableName,
      SEND_QUEUE_URL: queueUrl,
      PRIORITY_SEND_QUEUE_URL: priorityQueueUrl,
      SEND_DLQ_URL: dlqUrl,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // The handlers' EMF lines would fill the test output; the metrics tests turn them back on and read them.
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    async stop() {
      dynamoClient.destroy();
      sqsClient.destroy();
      await Promise.all([dynamodb.stop(), sqs.stop(), ses?.stop()]);
    },
  };
}
