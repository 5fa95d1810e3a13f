// What every DynamoDB adapter of the table shares: the document client's settings, item parsing that names
// what is wrong, and the conditional-check test.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';

export type Item = Record<string, unknown>;

/** A stored item does not have the shape its key promises (hand edit gone wrong, foreign writer). */
export class CorruptItemError extends Error {
  override name = 'CorruptItemError';
  constructor(
    readonly key: string,
    readonly issues: string,
  ) {
    super(`Stored item ${key} is malformed: ${issues}`);
  }
}

/** The DocumentClient the adapters expect: optional fields left undefined are dropped, not rejected. */
export function notificationDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export interface TableOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

export const timestamp = z.iso.datetime({ offset: true });
export const count = z.number().int().nonnegative();

export function parseItem<T>(schema: z.ZodType<T>, key: string, item: Item): T {
  const result = schema.safeParse(item);
  if (!result.success) throw new CorruptItemError(key, z.prettifyError(result.error).replaceAll('\n', '; '));
  return result.data;
}

export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
export const DAY_SECONDS = 86_400;

export const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ConditionalCheckFailedException');
