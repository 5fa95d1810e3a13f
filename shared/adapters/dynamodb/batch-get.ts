// Reading items by key, many at once: what the key-only indexes point at (a sweep's due work, a list's page).
// BatchGetItem takes 100 keys a call and may leave some unprocessed under load: those are asked again, backing off.
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item } from './items.js';
import { PARTITION_KEY } from './table.js';

const BATCH_GET_LIMIT = 100;
const BATCH_GET_ATTEMPTS = 8;

/**
 * The items at `ids` (partition keys). An id with no item is absent from the map. Eventually consistent, at half the
 * read units: the indexes these ids come from lag the table too, and every write is conditional on the version read,
 * so a stale item only loses its write (ConcurrentUpdateError) and is read again. The batches run in parallel.
 */
export async function batchGetItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  ids: readonly string[],
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const unique = [...new Set(ids)];
  const batches: string[][] = [];
  for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
    batches.push(unique.slice(start, start + BATCH_GET_LIMIT));
  }
  await Promise.all(
    batches.map(async (batch) => {
      let keys: Item[] = batch.map((id) => ({ [PARTITION_KEY]: id }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > BATCH_GET_ATTEMPTS) throw new Error(`batchGetItems: ${keys.length} keys still unprocessed`);
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25));
        const result = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
        for (const item of result.Responses?.[tableName] ?? []) found.set(String(item[PARTITION_KEY]), item);
        keys = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
    }),
  );
  return found;
}
