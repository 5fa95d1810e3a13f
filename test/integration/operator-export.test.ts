// The CSV export's pages on a real table: however the rows are written (names and errors full of quotes, the
// worst case for CSV and then for the JSON that carries Lambda's answer), a page stays under Lambda's 6 MB answer
// and ends on a cursor of its own, and the pages together hold every row once.
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorReadHandler } from '../../functions/operator-read/create-handler.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { localDynamoDbClient, putNotifications } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { apiEvent, lambdaContext } from '../support/lambda.js';

/** What Lambda returns at most from a synchronous invocation (the answer API Gateway receives). */
const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
const ROWS = 3_500;

let engines: TestEngines;
let handler: ReturnType<typeof createOperatorReadHandler>;

beforeAll(async () => {
  engines = await startTestEngines();
  handler = createOperatorReadHandler(
    new Logger({ serviceName: 'operator-export-test', logLevel: 'SILENT' }),
    { store: engines.store, clock: () => new Date() },
    { defaultCountry: 'ML' },
  );
  const quotes = (n: number) => '"'.repeat(n);
  const notifications = Array.from({ length: ROWS }, (_, i) =>
    makeNotification({
      status: 'permanent_failure',
      reason: 'permanent_error',
      nextAttemptAt: undefined,
      attempts: 1,
      updatedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      recipient: { phone: '+22370123456', name: quotes(120) },
      lastError: {
        type: 'application_error',
        message: quotes(200),
        classification: 'permanent',
        scope: 'recipient',
        reason: 'permanent_error',
        at: '2026-01-01T00:00:00.000Z',
      },
    }),
  );
  const client = localDynamoDbClient(engines.dynamodb.endpoint);
  await putNotifications(notificationDocumentClient(client), engines.tableName, notifications);
  client.destroy();
}, 120_000);
afterAll(async () => {
  await engines?.stop();
});

const exportPage = async (query: Record<string, string>): Promise<APIGatewayProxyResult> =>
  (await handler(
    apiEvent({
      method: 'GET',
      path: '/notifications/export.csv',
      resource: '/notifications/export.csv',
      headers: {},
      query,
    }),
    lambdaContext('operator-read'),
  )) as APIGatewayProxyResult;

describe('GET /notifications/export.csv on a real table', () => {
  it('ends a page before Lambda would refuse its answer, on a cursor that resumes it exactly', async () => {
    const ids: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const answer = await exportPage({ status: 'permanent_failure', ...(cursor ? { cursor } : {}) });
      expect(answer.statusCode, answer.body.slice(0, 300)).toBe(200);
      sizes.push(Buffer.byteLength(JSON.stringify(answer)));
      const rows = parse(answer.body, { columns: page === 0 ? true : EXPORT_HEADER }) as { id: string; name: string }[];
      expect(rows.every((row) => row.name === '"'.repeat(120))).toBe(true);
      ids.push(...rows.map((row) => row.id));
      cursor = answer.headers?.['x-next-cursor'] as string | undefined;
      if (!cursor) break;
    }

    // More than one page although 5,000 rows were allowed: the size decided.
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    expect(ids).toHaveLength(ROWS);
    expect(new Set(ids).size).toBe(ROWS);
  }, 120_000);
});

const EXPORT_HEADER = [
  'id',
  'createdAt',
  'status',
  'reason',
  'attempts',
  'category',
  'priority',
  'phone',
  'name',
  'lastErrorType',
  'lastErrorMessage',
  'lastErrorHttpStatus',
  'nextAttemptAt',
  'sentAt',
];
