// Hourly counters: one item per hour (ADD, so concurrent increments sum exactly), read back in batches by the
// health check, which never reads notifications one by one.
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HourlyCounters } from '../../application/ports.js';
import { COUNTER_FIELDS, type HourlyCounts } from '../../domain/counters.js';
import { DAY_SECONDS, epochSeconds, type Item, type TableOptions } from './items.js';
import { KEY_PREFIX, PARTITION_KEY, TTL_ATTRIBUTE } from './table.js';

const COUNTER_TTL_DAYS = 40;
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ATTEMPTS = 8;
const HOUR_MS = 3_600_000;

const hourOf = (date: Date): string => date.toISOString().slice(0, 13);

export class DynamoDbHourlyCounters implements HourlyCounters {
  constructor(private readonly table: TableOptions) {}

  async incrementCounters(
    at: Date,
    delta: Partial<HourlyCounts>,
    options: { resetFailureStreak?: boolean } = {},
  ): Promise<void> {
    const fields = COUNTER_FIELDS.filter((field) => delta[field] !== undefined && delta[field] !== 0);
    const reset = options.resetFailureStreak === true;
    // A run of failures, not a sum: set back to 0 in the same write that counts the delivered send, or to the run
    // since it when a batch's moves are written together (failureStreak in the delta, then set rather than added).
    const added = reset ? fields.filter((field) => field !== 'failureStreak') : fields;
    if (added.length === 0 && !reset) return;
    const names: Record<string, string> = { '#ttl': TTL_ATTRIBUTE, '#hour': 'hour' };
    const values: Record<string, unknown> = {};
    const resetClause = reset ? ', #failureStreak = :streak' : '';
    if (reset) {
      const streak = delta.failureStreak ?? 0;
      if (!Number.isInteger(streak) || streak < 0) {
        throw new Error(`incrementCounters: a reset failureStreak must be a whole number, got ${streak}`);
      }
      names['#failureStreak'] = 'failureStreak';
      values[':streak'] = streak;
    }
    for (const field of added) {
      const amount = delta[field]!;
      if (!Number.isInteger(amount)) throw new Error(`incrementCounters: ${field} must be an integer, got ${amount}`);
      names[`#${field}`] = field;
      values[`:${field}`] = amount;
    }
    const hour = hourOf(at);
    const hourStart = new Date(`${hour}:00:00.000Z`);
    values[':ttl'] = epochSeconds(hourStart) + COUNTER_TTL_DAYS * DAY_SECONDS;
    values[':hour'] = hour;
    await this.table.client.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { [PARTITION_KEY]: KEY_PREFIX.counter + hour },
        UpdateExpression: `${added.length > 0 ? `ADD ${added.map((f) => `#${f} :${f}`).join(', ')} ` : ''}SET #ttl = :ttl, #hour = :hour${resetClause}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async readCounters(now: Date, hours: number): Promise<Array<{ hour: string } & HourlyCounts>> {
    if (!Number.isInteger(hours) || hours < 0)
      throw new Error(`readCounters: hours must be a whole number, got ${hours}`);
    const currentHourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    const wanted = Array.from({ length: hours }, (_, i) =>
      hourOf(new Date(currentHourStart - (hours - 1 - i) * HOUR_MS)),
    );

    const found = new Map<string, Item>();
    for (let start = 0; start < wanted.length; start += BATCH_GET_LIMIT) {
      let keys: Item[] = wanted
        .slice(start, start + BATCH_GET_LIMIT)
        .map((hour) => ({ [PARTITION_KEY]: KEY_PREFIX.counter + hour }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > BATCH_GET_ATTEMPTS) throw new Error(`readCounters: ${keys.length} keys still unprocessed`);
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25));
        const result = await this.table.client.send(
          new BatchGetCommand({ RequestItems: { [this.table.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.table.tableName] ?? []) found.set(String(item[PARTITION_KEY]), item);
        keys = result.UnprocessedKeys?.[this.table.tableName]?.Keys ?? [];
      }
    }

    return wanted.map((hour) => {
      const item = found.get(KEY_PREFIX.counter + hour);
      const counts = {} as HourlyCounts;
      for (const field of COUNTER_FIELDS) {
        const value = item?.[field];
        counts[field] = typeof value === 'number' ? value : 0;
      }
      return { hour, ...counts };
    });
  }
}
