// The engines the store-cost figures run on: DynamoDB Local (the official emulator, whose consumed capacity follows
// DynamoDB's rules) when it can start here, dynalite otherwise; fauxqs for the queues. A store on a metered client.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { availableEngines } from '../local/engines/dynamodb.js';
import { notificationDocumentClient } from '../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../shared/adapters/dynamodb/store.js';
import { SqsSendQueue } from '../shared/adapters/sqs/send-queue.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../test/support/engines.js';
import { type CapacityMeter, meterCapacity } from './capacity.js';

export interface MeteredEngines {
  engines: TestEngines;
  engine: string;
  /** The store on a client whose every call is metered. */
  store: Store;
  meter: CapacityMeter;
  client: DynamoDBClient;
  queue: SqsSendQueue;
  stop(): Promise<void>;
}

export async function startMeteredEngines(): Promise<MeteredEngines> {
  process.env.TEST_DYNAMODB_ENGINE ??= availableEngines()[0] ?? 'dynalite';
  const engines = await startTestEngines();
  const client = new DynamoDBClient({
    endpoint: engines.dynamodb.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const meter = meterCapacity(client);
  const store = dynamoDbStore({ client: notificationDocumentClient(client), tableName: engines.tableName });
  const queue = new SqsSendQueue({
    client: engines.sqsClient,
    queueUrl: engines.queueUrl,
    priorityQueueUrl: engines.priorityQueueUrl,
  });
  return {
    engines,
    engine: engines.dynamodb.engine,
    store,
    meter,
    client,
    queue,
    async stop() {
      client.destroy();
      await engines.stop();
    },
  };
}
