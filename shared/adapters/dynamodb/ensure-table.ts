// Creating the notifications table where the CDK does not (the local engines, the tests) and waiting until it and
// its indexes are ACTIVE; a table from before the status index is upgraded on the way.
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { Log } from '../../observability/logger.js';
import { addStatusIndex, backfillStatusIndex, hasStatusIndex } from './status-index.js';
import { createTableInput, DUE_INDEX_NAME, describe, hasName } from './table.js';

const isActive = (table: TableDescription | undefined): boolean =>
  table?.TableStatus === 'ACTIVE' &&
  (table.GlobalSecondaryIndexes ?? []).every(
    (index) => index.IndexStatus === undefined || index.IndexStatus === 'ACTIVE',
  );

/**
 * Creates the table when it is missing, adds the status index to one from before it (and gives the notifications
 * already stored its keys), and waits until the table and its indexes are ACTIVE. Safe to call concurrently: a lost
 * creation race (ResourceInUseException) just waits, and the backfill's writes are conditional. An engine that
 * cannot add an index (dynalite) gets StatusIndexUpgradeError, its table untouched. For the local engines and the
 * tests: the CDK owns the table on AWS (there, `npm run backfill-status-index` fills the index).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number; log?: Log } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let table = await describe(client, tableName);
  let upgraded = false;
  if (!table) {
    try {
      table = (await client.send(new CreateTableCommand(createTableInput(tableName)))).TableDescription;
    } catch (error) {
      if (!(error instanceof ResourceInUseException || hasName(error, 'ResourceInUseException'))) throw error;
    }
  } else if (!(table.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === DUE_INDEX_NAME)) {
    // The due index changed its projection and key (due-index → due-v2, sharded dueShard values): a table from before
    // holds notifications keyed for the old one, which the new one would never find. Nothing was deployed with it;
    // locally, start from an empty table rather than lose due work silently.
    throw new Error(
      `table ${tableName} was created before the ${DUE_INDEX_NAME} index; its due notifications are keyed for the ` +
        'old one. Start from an empty table (rm -rf .local-data/dynamodb, or another LOCAL_DATA_DIR); the README ' +
        "(Deployment, upgrading a stack's indexes) says how a deployed one moves.",
    );
  } else if (!hasStatusIndex(table)) {
    table = await addStatusIndex(client, tableName);
    upgraded = true;
  }
  while (!isActive(table)) {
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} is not ACTIVE after waiting (status ${table?.TableStatus ?? 'unknown'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    table = await describe(client, tableName);
  }
  if (upgraded) await backfillStatusIndex(client, tableName, options.log ? { log: options.log } : {});
}
