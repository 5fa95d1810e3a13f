import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A client for a local engine: fixed region, dummy credentials. */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export const randomTableName = (prefix = 'notifications'): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
