import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSendQueues } from '../../local/engines/sqs.js';
import { NotificationStore, notificationDocumentClient } from '../../shared/adapters/notification-store.js';
import { SendQueue } from '../../shared/adapters/send-queue.js';
import { ensureTable } from '../../shared/adapters/table.js';
import { releaseHeld } from '../../shared/application/provider-circuit.js';
import { silentLog } from '../../shared/observability/logger.js';
import { randomTableName } from '../support/dynamodb.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';

let engines: TestEngines;
beforeAll(async () => { engines = await startTestEngines(); });
afterAll(async () => { await engines?.stop(); });

it('releases more than 1000 held', async () => {
  const dynamo = new DynamoDBClient({ endpoint: engines.dynamodb.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  const store = new NotificationStore({ client: notificationDocumentClient(dynamo), tableName });
  const { queueUrl } = await createSendQueues(engines.sqsClient, { name: `rel-${Date.now()}` });
  const N = 1200;
  const t0 = Date.now();
  const all = Array.from({ length: N }, (_, i) => makeNotification({ status: 'failed', reason: 'provider_unavailable', nextAttemptAt: new Date(Date.now() + 60_000 + i * 1000).toISOString() }));
  for (let i = 0; i < N; i += 50) await Promise.all(all.slice(i, i + 50).map((n) => store.create(n)));
  console.log('seeded in', Date.now() - t0);
  const deps = { store, queue: new SendQueue({ client: engines.sqsClient, queueUrl }), wachap: { checkConnection: async () => ({ ok: true as const, httpStatus: 200, durationMs: 1 }) }, log: silentLog, clock: () => new Date(), settings: { probeIntervalMs: 60_000, holdMs: 30 * 60_000, alertsEnabled: false, cooldownMs: 1 } };
  const released = await releaseHeld(deps, new Date());
  console.log('released', released, 'in', Date.now() - t0);
  expect(released).toBe(N);
}, 120_000);
