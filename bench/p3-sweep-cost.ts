// P3: does the sweep's read cost follow the due work or the table? 100 due notifications among 1,000 items, then
// 100 more due among 100,000 (10,000 with --quick): the read capacity each sweep consumed, from
// ReturnConsumedCapacity, and their ratio (≈ 1 when the sweep reads only what is due). The filler is what a table
// holds in the main: sent notifications, and some failed ones due later. Written as the store writes them (toItem).
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { notificationDocumentClient } from '../shared/adapters/dynamodb/items.js';
import { toItem } from '../shared/adapters/dynamodb/notification-item.js';
import { mapWithConcurrency } from '../shared/application/concurrency.js';
import { ingestNotification } from '../shared/application/ingest.js';
import { runRetrySweep } from '../shared/application/retry-sweep.js';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/backoff.js';
import type { Notification } from '../shared/domain/notification.js';
import { DEFAULT_RECIPIENT_LIMITS } from '../shared/domain/recipient-limits.js';
import { silentLog } from '../shared/observability/logger.js';
import { round } from './capacity.js';
import { startMeteredEngines } from './engines.js';

export interface P3Result {
  engine: string;
  p3SweepReadRatio: number;
  p3SmallTableItems: number;
  p3LargeTableItems: number;
  p3SmallTableRcu: number;
  p3LargeTableRcu: number;
  p3Due: number;
}

const DUE = 100;

async function putAll(doc: DynamoDBDocumentClient, tableName: string, items: Record<string, unknown>[]) {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await mapWithConcurrency(batches, 8, async (batch) => {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [tableName]: batch.map((Item) => ({ PutRequest: { Item } })),
    };
    while (request && Object.keys(request).length > 0) {
      const answer = await doc.send(new BatchWriteCommand({ RequestItems: request }));
      request = answer.UnprocessedItems as typeof request;
    }
  });
}

export async function runP3(options: { quick?: boolean } = {}): Promise<P3Result> {
  const small = 1_000;
  const large = options.quick ? 10_000 : 100_000;
  const metered = await startMeteredEngines();
  try {
    const { store, queue, meter, engines } = metered;
    const doc = notificationDocumentClient(engines.dynamoClient);
    const now = new Date();
    // One real notification, created by the ingest, as the template of every item.
    const { id } = await ingestNotification(
      {
        recipient: { phone: '+22370123456', name: 'Awa Traoré' },
        category: 'colis_arrive',
        title: 'Colis arrivé',
        message: 'Bonjour Awa, votre colis LOT-42 est arrivé à Bamako.',
      },
      {},
      {
        store,
        recipientCounters: store,
        recipientLimits: DEFAULT_RECIPIENT_LIMITS,
        queue: { enqueue: async () => undefined },
        log: silentLog,
        clock: () => now,
        newId: ulid,
        policy: { maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts, validitySeconds: {} },
        defaultCountry: 'ML',
      },
    );
    const template = (await store.get(id))!;
    const past = new Date(now.getTime() - 3_600_000).toISOString();
    const later = new Date(now.getTime() + 6 * 3_600_000).toISOString();
    const failed = (nextAttemptAt: string): Notification => {
      const { queuedAt: _queued, inFlight: _inFlight, ...rest } = template;
      return {
        ...rest,
        id: ulid(),
        status: 'failed',
        attempts: 1,
        nextAttemptAt,
        lastError: {
          type: 'server_error',
          message: 'HTTP 502',
          httpStatus: 502,
          classification: 'temporary',
          scope: 'transient',
          reason: 'temporary_error',
          at: past,
        },
        firstFailureAt: past,
      } as Notification;
    };
    const sent = (id = ulid()): Notification => {
      const { queuedAt: _queued, inFlight: _inFlight, nextAttemptAt: _next, ...rest } = template;
      return { ...rest, id, status: 'sent', attempts: 1, sentAt: now.toISOString() } as Notification;
    };
    // Nine sent for one due later.
    const filler = (count: number) =>
      Array.from({ length: count }, (_, i) => toItem(i % 10 === 0 ? failed(later) : sent(), now, 90));
    const due = () => Array.from({ length: DUE }, () => toItem(failed(past), now, 90));

    const sweep = async () => {
      meter.reset();
      const summary = await runRetrySweep(
        { dryRun: false, verbose: false, limit: 500, maxRetries: 5, configuredMaxRetries: 5 },
        { store, queue, log: silentLog, clock: () => new Date(), queueLeaseMs: 1_200_000, writeConcurrency: 10 },
      );
      if (summary.queued !== DUE) throw new Error(`P3: the sweep queued ${summary.queued}, not ${DUE}`);
      return meter.totals().rcu;
    };

    // The template itself becomes one of the sent notifications.
    await putAll(doc, engines.tableName, [toItem(sent(id), now, 90), ...filler(small - DUE - 1), ...due()]);
    const smallRcu = await sweep();
    await putAll(doc, engines.tableName, [...filler(large - small - DUE), ...due()]);
    const largeRcu = await sweep();
    return {
      engine: metered.engine,
      p3SweepReadRatio: smallRcu > 0 ? round(largeRcu / smallRcu) : Number.NaN,
      p3SmallTableItems: small,
      p3LargeTableItems: large,
      p3SmallTableRcu: round(smallRcu, 1),
      p3LargeTableRcu: round(largeRcu, 1),
      p3Due: DUE,
    };
  } finally {
    await metered.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP3({ quick: true }));
