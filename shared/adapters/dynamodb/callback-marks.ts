// The mark a callback given up on leaves on its notification: a bounded list (the last CALLBACK_EXHAUSTED_LIMIT),
// which operators read with the notification. One conditional UpdateItem on the version that was read, and it moves
// the version on, as every write to a notification does: a mover holding the older version then loses its race,
// reads again (mark included) and decides again, instead of writing the item back without the mark. The move's own
// fields (status, updatedAt, the TTL of a final one) are left as they are: the mark is not a move.
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { CallbackExhaustedMarks } from '../../application/ports.js';
import { appendCallbackExhausted } from '../../domain/callbacks.js';
import type { CallbackExhaustion } from '../../domain/notification.js';
import { count, isConditionalCheckFailed, type TableOptions } from './items.js';
import { PARTITION_KEY } from './table.js';

/** What the mark needs of the item: read loosely, the notification's own parse is the store's business. */
const markedItem = z.object({
  version: count,
  callbackExhausted: z.array(z.looseObject({ eventId: z.string() })).optional(),
});

/** Lost races tolerated before giving up (each is a mover's write in between: rare, and a retry wins at once). */
const ROUNDS = 4;

export class DynamoDbCallbackMarks implements CallbackExhaustedMarks {
  constructor(private readonly table: TableOptions) {}

  async markCallbackExhausted(id: string, exhaustion: CallbackExhaustion): Promise<boolean> {
    for (let round = 1; ; round++) {
      const { Item } = await this.table.client.send(
        new GetCommand({ TableName: this.table.tableName, Key: { [PARTITION_KEY]: id }, ConsistentRead: true }),
      );
      if (!Item) return false;
      const item = markedItem.parse(Item);
      const list = appendCallbackExhausted(item.callbackExhausted as CallbackExhaustion[] | undefined, exhaustion);
      try {
        await this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { [PARTITION_KEY]: id },
            UpdateExpression: 'SET #marks = :marks, #version = :next',
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#marks': 'callbackExhausted', '#version': 'version' },
            ExpressionAttributeValues: { ':marks': list, ':next': item.version + 1, ':expected': item.version },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionalCheckFailed(error) || round >= ROUNDS) throw error;
      }
    }
  }
}
