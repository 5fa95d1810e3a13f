// P2: what the store costs per delivered notification, as DynamoDB counts it: every write of the ingest (the record,
// an idempotency key, the recipient's counter) and of the sender (claim, sent, the hourly counters, written once
// per batch of SEND_BATCH_SIZE as the sender does), with their write capacity units, from ReturnConsumedCapacity.
// The real use cases on the real store; WaChap is a channel that accepts at once (its cost is not the store's).
import { ulid } from 'ulid';
import { SEND_BATCH_SIZE } from '../shared/adapters/sqs/queue-settings.js';
import { counterBatch } from '../shared/application/counter-batch.js';
import { ingestNotification } from '../shared/application/ingest.js';
import type { DeliveryChannel } from '../shared/application/ports.js';
import { ProviderCircuit } from '../shared/application/provider-circuit.js';
import { sendNotification } from '../shared/application/send-notification.js';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/backoff.js';
import { DEFAULT_RECIPIENT_LIMITS } from '../shared/domain/recipient-limits.js';
import { silentLog } from '../shared/observability/logger.js';
import { round } from './capacity.js';
import { type MeteredEngines, startMeteredEngines } from './engines.js';

export interface P2Result {
  engine: string;
  p2WritesPerDelivered: number;
  p2WcuPerDelivered: number;
  p2WritesPerDeliveredWithKey: number;
  p2WcuPerDeliveredWithKey: number;
  p2WritesPerDeliveredLargeMessage: number;
  p2WcuPerDeliveredLargeMessage: number;
  /** The stored record's size in bytes (attribute names and values, as DynamoDB sizes it, roughly). */
  p2RecordBytes: number;
  /** DynamoDB calls per delivered notification, by command, and capacity per table or index, for each case. */
  breakdown: Record<'short' | 'withKey' | 'large', { calls: Record<string, number>; byTarget: Record<string, number> }>;
}

/** A short message whose stored record is about 0.5 KB. */
const SMALL_MESSAGE = 'Bonjour Awa, votre colis LOT-42 est arrivé à Bamako. Retrait au point relais de Hamdallaye ACI.';
const LARGE_MESSAGE = 'Colis arrivé à Bamako. '.repeat(200).slice(0, 4000);
const phoneOf = (i: number) => `+2237${String(2_000_000 + i).padStart(7, '0')}`;

const acceptingChannel: DeliveryChannel = {
  deliver: async () => ({ ok: true, messageId: `wamid.${ulid()}`, durationMs: 1 }),
};

async function costPerDelivered(
  metered: MeteredEngines,
  count: number,
  offset: number,
  request: (i: number) => { message: string; idempotencyKey?: string },
) {
  const { store, queue, meter } = metered;
  const clock = () => new Date();
  const circuit = new ProviderCircuit({ store, clock, log: silentLog, cacheMs: 60_000 });
  // The circuit is read once per instance and cached as deployed: its read is not a per-notification cost.
  await circuit.isOpen();
  meter.reset();
  let batch = counterBatch(store, silentLog);
  for (let i = 0; i < count; i++) {
    const { message, idempotencyKey } = request(i);
    const accepted = await ingestNotification(
      {
        recipient: { phone: phoneOf(offset + i), name: 'Awa Traoré' },
        category: 'colis_arrive',
        title: 'Colis arrivé',
        message,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      },
      { caller: 'bench' },
      {
        store,
        recipientCounters: store,
        recipientLimits: DEFAULT_RECIPIENT_LIMITS,
        queue,
        log: silentLog,
        clock,
        newId: ulid,
        policy: { maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts, criticalCategories: ['otp'], validitySeconds: {} },
        defaultCountry: 'ML',
      },
    );
    // The sender's batch: its moves' hourly counts are written once, when the batch is done (create-handler.ts).
    if (i % SEND_BATCH_SIZE === 0) batch = counterBatch(store, silentLog);
    const result = await sendNotification(
      { id: accepted.id },
      {
        store,
        counters: batch,
        channels: { whatsapp: acceptingChannel },
        queue,
        circuit,
        log: silentLog,
        clock,
        random: Math.random,
        newClaimToken: ulid,
        policy: {
          retry: DEFAULT_RETRY_POLICY,
          providerHoldMs: 1_800_000,
          claimLeaseMs: 120_000,
          recordBackoffMs: [200, 1000, 3000],
        },
      },
    );
    if (result !== 'sent') throw new Error(`P2: notification ${i} ended ${result}, not sent`);
    if (i % SEND_BATCH_SIZE === SEND_BATCH_SIZE - 1 || i === count - 1) await batch.flush();
  }
  const totals = meter.totals();
  return { writes: totals.writes / count, wcu: totals.wcu / count, totals, count };
}

const perNotification = (measured: {
  totals: { calls: Record<string, number>; byTarget: Record<string, number> };
  count: number;
}) => {
  const per = (record: Record<string, number>) =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, round(value / measured.count)]));
  return { calls: per(measured.totals.calls), byTarget: per(measured.totals.byTarget) };
};

export async function runP2(options: { quick?: boolean } = {}): Promise<P2Result> {
  const count = options.quick ? 5 : 50;
  const metered = await startMeteredEngines();
  try {
    const plain = await costPerDelivered(metered, count, 0, () => ({ message: SMALL_MESSAGE }));
    const keyed = await costPerDelivered(metered, count, count, (i) => ({
      message: SMALL_MESSAGE,
      idempotencyKey: `bench-${Date.now()}-${i}`,
    }));
    const large = await costPerDelivered(metered, count, 2 * count, () => ({ message: LARGE_MESSAGE }));
    // One sent record's size, read back raw.
    const { Items } = await metered.engines.dynamoClient.send(
      new (await import('@aws-sdk/client-dynamodb')).ScanCommand({
        TableName: metered.engines.tableName,
        FilterExpression: '#m = :m',
        ExpressionAttributeNames: { '#m': 'message' },
        ExpressionAttributeValues: { ':m': { S: SMALL_MESSAGE } },
      }),
    );
    const item = Items?.[0] ?? {};
    const recordBytes = Object.entries(item).reduce(
      (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(JSON.stringify(value)),
      0,
    );
    return {
      engine: metered.engine,
      p2WritesPerDelivered: round(plain.writes),
      p2WcuPerDelivered: round(plain.wcu),
      p2WritesPerDeliveredWithKey: round(keyed.writes),
      p2WcuPerDeliveredWithKey: round(keyed.wcu),
      p2WritesPerDeliveredLargeMessage: round(large.writes),
      p2WcuPerDeliveredLargeMessage: round(large.wcu),
      p2RecordBytes: recordBytes,
      breakdown: { short: perNotification(plain), withKey: perNotification(keyed), large: perNotification(large) },
    };
  } finally {
    await metered.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP2({ quick: true }));
