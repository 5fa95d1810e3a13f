// The real engines the soak runs against, started on free ports and stopped at the end: DynamoDB
// (dynalite by default) with the deployed table, and fauxqs with the send queue and its DLQ.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDbEngine, startDynamoDb } from '../../local/engines/dynamodb.js';
import { createSendQueues, startSqs } from '../../local/engines/sqs.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';

export const REGION = 'us-east-1';
/** The send queue's ARN, as the event source names it in each record. */
export const QUEUE_ARN = `arn:aws:sqs:${REGION}:000000000000:notifications-send`;
const CREDENTIALS = { accessKeyId: 'soak', secretAccessKey: 'soak' };

export interface SoakEngines {
  engine: DynamoDbEngine;
  dynamoEndpoint: string;
  /** A fresh DynamoDB client per caller, so that a caller can add middleware to its own. */
  dynamoClient: () => DynamoDBClient;
  sqs: SQSClient;
  tableName: string;
  queueUrl: string;
  dlqUrl: string;
  stop(): Promise<void>;
}

export async function startSoakEngines(options: { engine?: DynamoDbEngine } = {}): Promise<SoakEngines> {
  const [dynamodb, sqsEngine] = await Promise.all([
    startDynamoDb({ engine: options.engine ?? 'dynalite' }),
    startSqs(),
  ]);
  const clients: DynamoDBClient[] = [];
  const dynamoClient = () => {
    const client = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: REGION, credentials: CREDENTIALS });
    clients.push(client);
    return client;
  };
  const sqs = new SQSClient({
    endpoint: sqsEngine.endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  const tableName = 'notifications';
  await ensureTable(dynamoClient(), tableName);
  const { queueUrl, dlqUrl } = await createSendQueues(sqs);
  return {
    engine: dynamodb.engine,
    dynamoEndpoint: dynamodb.endpoint,
    dynamoClient,
    sqs,
    tableName,
    queueUrl,
    dlqUrl,
    stop: async () => {
      for (const client of clients) client.destroy();
      sqs.destroy();
      await Promise.all([dynamodb.stop(), sqsEngine.stop()]);
    },
  };
}
