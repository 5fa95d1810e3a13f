// DynamoDB's own account of what each call cost: a middleware that asks every command for its consumed capacity
// (ReturnConsumedCapacity, per table and per index; item collection metrics off) and sums what the answers report,
// with the number of items written. Estimates would miss what the store really does (conditions, indexes, sizes).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

interface Consumed {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<
    string,
    { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }
  >;
  LocalSecondaryIndexes?: Record<
    string,
    { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }
  >;
}

export interface CapacityTotals {
  /** Write requests: one per item written (a batch or a transaction counts each of its items), failed ones included. */
  writes: number;
  /** Read requests: one per GetItem, Query or Scan page, BatchGetItem key. */
  reads: number;
  wcu: number;
  rcu: number;
  /** Capacity per table and per index (`table` or `table/index`), reads and writes together. */
  byTarget: Record<string, number>;
  /** Calls per command name. */
  calls: Record<string, number>;
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand']);
const CAPACITY_COMMANDS = new Set([
  ...WRITE_COMMANDS,
  ...READ_COMMANDS,
  'BatchWriteItemCommand',
  'BatchGetItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);
const ITEM_METRICS_COMMANDS = new Set([...WRITE_COMMANDS, 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;
type Stack = { add(middleware: Middleware, options: { step: 'initialize'; name: string }): void };

export interface CapacityMeter {
  totals(): CapacityTotals;
  reset(): void;
}

const empty = (): CapacityTotals => ({ writes: 0, reads: 0, wcu: 0, rcu: 0, byTarget: {}, calls: {} });

/**
 * Meters `client` (a base DynamoDBClient: DocumentClient commands reach it as the base commands). 'INDEXES' is
 * 'TOTAL' plus the split per table and index, so the totals are the same as with 'TOTAL'.
 */
export function meterCapacity(client: DynamoDBClient): CapacityMeter {
  let totals = empty();
  const add = (consumed: Consumed | undefined, kind: 'read' | 'write') => {
    if (!consumed) return;
    const units = consumed.CapacityUnits ?? 0;
    const write = consumed.WriteCapacityUnits ?? (kind === 'write' ? units : 0);
    const read = consumed.ReadCapacityUnits ?? (kind === 'read' ? units : 0);
    totals.wcu += write;
    totals.rcu += read;
    const table = consumed.TableName ?? '?';
    const tableUnits = consumed.Table?.CapacityUnits ?? (consumed.GlobalSecondaryIndexes ? 0 : units);
    totals.byTarget[table] = (totals.byTarget[table] ?? 0) + tableUnits;
    for (const [index, value] of Object.entries({
      ...consumed.GlobalSecondaryIndexes,
      ...consumed.LocalSecondaryIndexes,
    })) {
      const key = `${table}/${index}`;
      totals.byTarget[key] = (totals.byTarget[key] ?? 0) + (value.CapacityUnits ?? 0);
    }
  };
  (client.middlewareStack as unknown as Stack).add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      totals.calls[name] = (totals.calls[name] ?? 0) + 1;
      if (CAPACITY_COMMANDS.has(name)) {
        args.input.ReturnConsumedCapacity = 'INDEXES';
        if (ITEM_METRICS_COMMANDS.has(name)) args.input.ReturnItemCollectionMetrics = 'NONE';
      }
      const input = args.input;
      if (WRITE_COMMANDS.has(name)) totals.writes += 1;
      else if (READ_COMMANDS.has(name)) totals.reads += 1;
      else if (name === 'BatchWriteItemCommand') {
        const items = input.RequestItems as Record<string, unknown[]> | undefined;
        totals.writes += Object.values(items ?? {}).reduce((sum, list) => sum + list.length, 0);
      } else if (name === 'TransactWriteItemsCommand') {
        totals.writes += (input.TransactItems as unknown[] | undefined)?.length ?? 0;
      } else if (name === 'BatchGetItemCommand') {
        const items = input.RequestItems as Record<string, { Keys?: unknown[] }> | undefined;
        totals.reads += Object.values(items ?? {}).reduce((sum, request) => sum + (request.Keys?.length ?? 0), 0);
      } else if (name === 'TransactGetItemsCommand') {
        totals.reads += (input.TransactItems as unknown[] | undefined)?.length ?? 0;
      }
      const kind =
        READ_COMMANDS.has(name) || name.startsWith('BatchGet') || name.startsWith('TransactGet') ? 'read' : 'write';
      let result: { output: Record<string, unknown> };
      try {
        result = await next(args);
      } catch (error) {
        // A refused condition still costs its write; AWS reports it on the error when asked for (CancellationReasons
        // aside), which the engines may not: what they do report is counted.
        const consumed = (error as { ConsumedCapacity?: Consumed }).ConsumedCapacity;
        add(consumed, kind);
        throw error;
      }
      const consumed = result.output.ConsumedCapacity as Consumed | Consumed[] | undefined;
      for (const one of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) add(one, kind);
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  return {
    totals: () => structuredClone(totals),
    reset: () => {
      totals = empty();
    },
  };
}

/** Rounds to `digits` decimals, for figures that are read, not computed with. */
export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
