// Per-recipient counters: one item per (number, category, fixed window). A slot is a conditional ADD, so of
// concurrent requests for the last slot exactly one wins, and a refused one writes nothing (a failed condition
// writes nothing). The item expires (TTL) when its window ends; the next window is another item.
//
// The key holds a SHA-256 of the number, never the number: keys reach places values do not (CloudTrail data
// events, SDK and CorruptItemError messages, an operator's console). The hash is stable, so every instance counts
// on the same item. It is not a secret: numbers are few enough to hash them all, and the notifications themselves
// hold the numbers in clear; what it buys is that the key carries no number anyone can read in passing.
import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RecipientCounters, RecipientSlot } from '../../application/ports.js';
import { epochSeconds, isConditionalCheckFailed, type TableOptions } from './items.js';
import { KEY_PREFIX, PARTITION_KEY, TTL_ATTRIBUTE } from './table.js';

/** recipient#<category>#<window seconds>#<window start, epoch s>#<sha-256 of the E.164 number> */
export function recipientCounterKey(slot: RecipientSlot): string {
  const digest = createHash('sha256').update(slot.phone).digest('hex');
  return `${KEY_PREFIX.recipient}${slot.category}#${slot.windowSeconds}#${epochSeconds(slot.windowStart)}#${digest}`;
}

export class DynamoDbRecipientCounters implements RecipientCounters {
  constructor(private readonly table: TableOptions) {}

  async acquireRecipientSlot(slot: RecipientSlot, max: number): Promise<number | false> {
    try {
      const { Attributes } = await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { [PARTITION_KEY]: recipientCounterKey(slot) },
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl, #category = :category, #windowStart = :windowStart',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: {
            '#count': 'count',
            '#ttl': TTL_ATTRIBUTE,
            '#category': 'category',
            '#windowStart': 'windowStart',
          },
          ExpressionAttributeValues: {
            ':one': 1,
            ':max': max,
            // Deleted once its window is over (DynamoDB deletes expired items within days; none is read again).
            ':ttl': epochSeconds(slot.windowStart) + slot.windowSeconds,
            ':category': slot.category,
            ':windowStart': slot.windowStart.toISOString(),
          },
          // The count after this one, for the caller's RateLimit-Remaining: free (an update's cost does not change).
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.count ?? max);
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async releaseRecipientSlot(slot: RecipientSlot): Promise<void> {
    try {
      await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { [PARTITION_KEY]: recipientCounterKey(slot) },
          UpdateExpression: 'ADD #count :minusOne',
          // Never below zero, and never an item of its own where the window is gone.
          ConditionExpression: '#count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
