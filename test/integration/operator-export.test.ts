// The CSV export's pages on a real table: however the rows are written (names and errors full of quotes, the
// worst case for CSV and then for the JSON that carries Lambda's answer), a page stays under Lambda's 6 MB answer
// and ends on a cursor of its own, and the pages together hold every row once. However little a filter matches, a
// request reads a bounded number of items (counted as DynamoDB counts them) and answers with the cursor of the rest.
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorReadHandler } from '../../functions/operator-read/create-handler.js';
import { ReadMeter } from '../../functions/operator-read/read-meter.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { localDynamoDbClient, putNotifications } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { apiEvent, lambdaContext } from '../support/lambda.js';

/** What Lambda returns at most from a synchronous invocation (the answer API Gateway receives). */
const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
const ROWS = 3_500;

/** Items that do not match the sparse filter, newer than the few that do. */
const NOISE = 3_000;
/** The budget the sparse-filter test gives a request (the deployed one is EXPORT_MAX_READS, 20,000). */
const TEST_MAX_READS = 1_000;

let engines: TestEngines;
let handler: ReturnType<typeof createOperatorReadHandler>;
let cappedHandler: ReturnType<typeof createOperatorReadHandler>;
let meteredClient: DynamoDBClient;
/** Items read by the handlers' store, as DynamoDB reports them (ScannedCount), counted by the test itself. */
let scanned = 0;

beforeAll(async () => {
  engines = await startTestEngines();
  const logger = new Logger({ serviceName: 'operator-export-test', logLevel: 'SILENT' });
  // The handler's store as handler.ts builds it: on a client whose reads the handler's meter counts.
  const reads = new ReadMeter();
  meteredClient = reads.attach(localDynamoDbClient(engines.dynamodb.endpoint));
  meteredClient.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      scanned += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
      return result;
    },
    { step: 'initialize', name: 'testScannedCount' },
  );
  const store = dynamoDbStore({ client: notificationDocumentClient(meteredClient), tableName: engines.tableName });
  handler = createOperatorReadHandler(logger, { store, clock: () => new Date(), reads }, { defaultCountry: 'ML' });
  cappedHandler = createOperatorReadHandler(
    logger,
    { store, clock: () => new Date(), reads },
    { defaultCountry: 'ML', exportMaxReads: TEST_MAX_READS },
  );
  const quotes = (n: number) => '"'.repeat(n);
  const notifications = Array.from({ length: ROWS }, (_, i) =>
    makeNotification({
      status: 'permanent_failure',
      reason: 'permanent_error',
      nextAttemptAt: undefined,
      attempts: 1,
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
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
  // The sparse filter's table: expired notifications, the few OTPs older than all the rest (listed last).
  const at = (ms: number) => new Date(Date.UTC(2026, 1, 1) + ms).toISOString();
  const noise = Array.from({ length: NOISE }, (_, i) =>
    makeNotification({
      status: 'expired',
      reason: 'validity_expired',
      nextAttemptAt: undefined,
      createdAt: at(60_000 + i * 1000),
      updatedAt: at(60_000 + i * 1000),
    }),
  );
  const otps = Array.from({ length: 5 }, (_, i) =>
    makeNotification({
      status: 'expired',
      reason: 'validity_expired',
      nextAttemptAt: undefined,
      category: 'otp',
      createdAt: at(i * 1000),
      updatedAt: at(i * 1000),
    }),
  );
  sparseIds.push(...otps.map((n) => n.id));
  const client = localDynamoDbClient(engines.dynamodb.endpoint);
  await putNotifications(notificationDocumentClient(client), engines.tableName, [...notifications, ...noise, ...otps]);
  client.destroy();
}, 180_000);
afterAll(async () => {
  meteredClient?.destroy();
  await engines?.stop();
});
const sparseIds: string[] = [];

const exportPage = async (
  query: Record<string, string>,
  which: ReturnType<typeof createOperatorReadHandler> = handler,
): Promise<APIGatewayProxyResult> =>
  (await which(
    apiEvent({
      method: 'GET',
      path: '/v1/notifications/export.csv',
      resource: '/v1/notifications/export.csv',
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

  it('a sparse filter: a request stops at its budget of items read, on a page without a row but with a cursor', async () => {
    const query = { status: 'expired', category: 'otp', limit: '50' };
    // A page of 50 rows costs a list call at most about ten times that: the budget stops the request after a few.
    const oneCallBound = 10 * (50 + 8);

    // Unbounded by the request (the deployed budget, 20,000, is far above this table), the first page reads all
    // the noise to reach the OTPs: the table is large enough for the budget to show.
    scanned = 0;
    const unbounded = await exportPage(query);
    expect(unbounded.statusCode, unbounded.body.slice(0, 300)).toBe(200);
    expect((parse(unbounded.body, { columns: true }) as unknown[]).length).toBe(5);
    expect(scanned).toBeGreaterThan(NOISE);

    const ids: string[] = [];
    const reads: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      scanned = 0;
      const answer = await exportPage({ ...query, ...(cursor ? { cursor } : {}) }, cappedHandler);
      reads.push(scanned);
      expect(answer.statusCode, answer.body.slice(0, 300)).toBe(200);
      if (pages === 0) {
        // Only the header: nothing matched in what the budget allowed, and the cursor says where to go on.
        expect(answer.body).toBe(`${EXPORT_HEADER.join(',')}\r\n`);
        expect(answer.headers?.['x-next-cursor']).toBeTruthy();
        expect(answer.headers?.link).toMatch(/^<export\.csv\?.*cursor=[^>]+>; rel="next"$/);
      }
      const rows = parse(answer.body, { columns: pages === 0 ? true : EXPORT_HEADER }) as { id: string }[];
      ids.push(...rows.map((row) => row.id));
      cursor = answer.headers?.['x-next-cursor'] as string | undefined;
      pages += 1;
    } while (cursor && pages < 50);

    expect(cursor).toBeUndefined();
    expect(pages).toBeGreaterThan(2);
    for (const read of reads) expect(read).toBeLessThanOrEqual(TEST_MAX_READS + oneCallBound);
    expect(ids.sort()).toEqual([...sparseIds].sort());
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
