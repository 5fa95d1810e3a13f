// Alert cooldowns: one item per alert kind; taking one is a conditional write, so of two concurrent runs only
// one sends a given kind of alert.
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertCooldowns } from '../../application/ports.js';
import { isConditionalCheckFailed, type TableOptions } from './items.js';
import { KEY_PREFIX, PARTITION_KEY } from './table.js';

export class DynamoDbAlertCooldowns implements AlertCooldowns {
  constructor(private readonly table: TableOptions) {}

  async acquireAlertCooldown(kind: string, now: Date, cooldownMs: number): Promise<boolean> {
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { [PARTITION_KEY]: KEY_PREFIX.alert + kind, kind, lastSentAt: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(#pk) OR lastSentAt <= :threshold',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':threshold': new Date(now.getTime() - cooldownMs).toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async releaseAlertCooldown(kind: string, acquiredAt: Date): Promise<void> {
    try {
      await this.table.client.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: { [PARTITION_KEY]: KEY_PREFIX.alert + kind },
          ConditionExpression: 'lastSentAt = :acquired',
          ExpressionAttributeValues: { ':acquired': acquiredAt.toISOString() },
        }),
      );
    } catch (error) {
      // Someone acquired it again since: theirs now, leave it.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
