// The provider circuit's record (one item per provider), written only over the version that was read.
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ConcurrentUpdateError, type ProviderStates } from '../../application/ports.js';
import { PRIORITIES } from '../../domain/notification.js';
import type { ProviderState } from '../../domain/provider-circuit.js';
import { count, isConditionalCheckFailed, parseItem, type TableOptions, timestamp } from './items.js';
import { KEY_PREFIX, PARTITION_KEY } from './table.js';

const providerStateSchema = z.object({
  status: z.enum(['healthy', 'unavailable']),
  since: timestamp,
  reason: z.string().optional(),
  errorType: z.string().optional(),
  recommendation: z.string().optional(),
  forced: z.boolean().optional(),
  lastProbeAt: timestamp.optional(),
  lastProbeResult: z.string().optional(),
  releasePending: z.boolean().optional(),
  release: z
    .object({
      pass: z.enum(['sweep', 'verify']),
      resume: z
        .object({ shard: z.string(), after: z.object({ dueAt: timestamp, id: z.string() }).optional() })
        .optional(),
      found: count.optional(),
      // Ids alone were written before the priority lane: those take the standard lane.
      unqueued: z
        .array(
          z.union([
            z.object({ id: z.string(), priority: z.enum(PRIORITIES) }),
            z.string().transform((id) => ({ id, priority: 'normal' as const })),
          ]),
        )
        .optional(),
    })
    .optional(),
  version: z.number().int().positive(),
});

export class DynamoDbProviderStates implements ProviderStates {
  constructor(private readonly table: TableOptions) {}

  async getProviderState(name: string): Promise<ProviderState | undefined> {
    const key = KEY_PREFIX.provider + name;
    const { Item: item } = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }),
    );
    if (item === undefined) return undefined;
    const { [PARTITION_KEY]: _pk, ...state } = item;
    return parseItem(providerStateSchema, key, state);
  }

  async putProviderState(name: string, state: ProviderState, expectedVersion: number): Promise<void> {
    if (state.version !== expectedVersion + 1) {
      throw new Error(`putProviderState(${name}): state.version must be ${expectedVersion + 1}, got ${state.version}`);
    }
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...state, [PARTITION_KEY]: KEY_PREFIX.provider + name },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw new ConcurrentUpdateError(`Provider state ${name} is no longer at version ${expectedVersion}`);
    }
  }
}
