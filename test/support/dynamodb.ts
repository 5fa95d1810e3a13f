import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toItem } from '../../shared/adapters/dynamodb/notification-item.js';
import type { Notification } from '../../shared/domain/notification.js';

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

/**
 * Writes notifications as the store does (toItem: index keys included), 25 a call and a few calls at once: quick
 * enough for the thousands a list or an export is tested on.
 */
export async function putNotifications(
  doc: DynamoDBDocumentClient,
  tableName: string,
  notifications: readonly Notification[],
  now = new Date(),
): Promise<void> {
  const batches: Notification[][] = [];
  for (let i = 0; i < notifications.length; i += 25) batches.push(notifications.slice(i, i + 25));
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map(async (batch) => {
        let requests = batch.map((n) => ({ PutRequest: { Item: toItem(n, now, 90) } }));
        while (requests.length > 0) {
          const result = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
          requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
        }
      }),
    );
  }
}
