// The fault-injection soak: thousands of notifications over days of virtual time, through the real
// handlers (the same factories Lambda runs) against real engines (dynalite, fauxqs), with WaChap
// faults, a long expired-token outage, sender crashes, DynamoDB throttling, duplicated and
// redelivered SQS messages and overlapping sweeps. At the end, every notification is accounted for.

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { createIngestHandler } from '../../functions/ingest/create-handler.js';
import { createProviderProbeHandler } from '../../functions/provider-probe/create-handler.js';
import { createRetrySweepHandler } from '../../functions/retry-sweep/create-handler.js';
import { createSenderHandler } from '../../functions/sender/create-handler.js';
import { apiEvent, lambdaContext } from '../../local/aws-events.js';
import { startDynamoDb } from '../../local/engines/dynamodb.js';
import { createSendQueues, startSqs } from '../../local/engines/sqs.js';
import { recordOf } from '../../local/event-source.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { ensureTable } from '../../shared/adapters/dynamodb/table.js';
import { SEND_QUEUE_VISIBILITY_SECONDS } from '../../shared/adapters/sqs/queue-settings.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import { ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import type { Notification } from '../../shared/domain/notification.js';
import { isCircuitOpen, WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { DEFAULT_FAULTS, FakeWaChap, type FaultRates } from './fake-wachap.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse('2026-03-02T00:00:00.000Z');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'soak', secretAccessKey: 'soak' };
const SWEEP_EVERY = 30 * MINUTE;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:000000000000:notifications-send`;
/** A scheduled notification whose next attempt is this far in the past has been forgotten. */
const OVERDUE_AFTER = 60 * MINUTE;

export interface SoakOptions {
  notifications: number;
  hours: number;
  seed: number;
  outageStartHour: number;
  outageHours: number;
  faults: FaultRates;
  /** Share of DynamoDB calls that fail with ProvisionedThroughputExceededException. */
  throttleRate: number;
  /** Share of received SQS messages delivered a second time. */
  duplicateRate: number;
  /** Share of sweeps that run twice at once. */
  overlapRate: number;
  otpShare: number;
  invalidShare: number;
  /** Share of ingest requests the upstream system sends again (same idempotency key). */
  replayRate: number;
  progress?: (line: string) => void;
}

export const DEFAULT_SOAK: SoakOptions = {
  notifications: 10_000,
  hours: 72,
  seed: 42,
  outageStartHour: 20,
  outageHours: 6,
  faults: DEFAULT_FAULTS,
  throttleRate: 0.01,
  duplicateRate: 0.02,
  overlapRate: 0.2,
  otpShare: 0.1,
  invalidShare: 0.01,
  replayRate: 0.01,
};

export interface SoakResult {
  options: SoakOptions;
  ingested: number;
  ingestRetries: number;
  replays: number;
  replaysAnsweredWithSameId: number;
  sent: number;
  permanentFailures: Record<string, number>;
  expired: number;
  scheduled: { count: number; byReason: Record<string, number>; earliest?: string; latest?: string };
  lost: string[];
  sentMoreThanOnce: number;
  crashWindow: number;
  crashes: number;
  deliveredNotRecordedSent: number;
  sentWithoutDelivery: number;
  attemptsBurnedByOutage: number;
  heldDuringOutage: number;
  circuitOpenedAt?: string;
  recoveryDetectedAfterMs?: number;
  lastHeldAttemptAfterMs?: number;
  /** Recovery → first attempt of each held notification: median and 95th percentile. */
  heldAttemptAfterMs?: { p50: number; p95: number };
  lastHeldSentAfterMs?: number;
  wachapCalls: number;
  wachapCallsDuringOutage: number;
  throttled: number;
  duplicatesInjected: number;
  sweeps: number;
  overlappingSweeps: number;
  dlqDepth: number;
  unmaskedPhonesInLogs: number;
  logLines: number;
  wallSeconds: number;
}

/** mulberry32: a small, fast, seedable generator. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const phoneOf = (index: number): string => `+2237${String(index).padStart(7, '0')}`;

/** Collects what the functions log (stdout and stderr), counting lines and unmasked recipient numbers. */
function captureLogs(phones: ReadonlySet<string>) {
  const state = { lines: 0, unmasked: 0 };
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level"')) return originals[i]!(chunk, ...(rest as []));
      state.lines += text.split('\n').filter(Boolean).length;
      for (const digits of text.match(/\+?\d{8,}/g) ?? [])
        if (phones.has(digits.replace(/^\+?/, '+'))) state.unmasked++;
      return true;
    }) as typeof stream.write;
  });
  return {
    state,
    restore: () =>
      streams.forEach((stream, i) => {
        stream.write = originals[i] as typeof stream.write;
      }),
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const wallStart = performance.now();
  const random = seededRandom(options.seed);
  let now = START;
  const clock = () => new Date(now);
  const end = START + options.hours * HOUR;
  const outage = {
    start: START + options.outageStartHour * HOUR,
    end: START + (options.outageStartHour + options.outageHours) * HOUR,
  };
  const progress = options.progress ?? (() => undefined);

  const [dynamodb, sqsEngine] = await Promise.all([startDynamoDb({ engine: 'dynalite' }), startSqs()]);
  const dynamoClient = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: REGION, credentials: CREDENTIALS });
  const sqs = new SQSClient({
    endpoint: sqsEngine.endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  const tableName = 'notifications';
  await ensureTable(dynamoClient, tableName);
  const { queueUrl, dlqUrl } = await createSendQueues(sqs);

  // DynamoDB throttling, injected below the store: it can strike between any two writes of a use case.
  let throttled = 0;
  const faultyDocument = notificationDocumentClient(dynamoClient);
  const send = faultyDocument.send.bind(faultyDocument);
  faultyDocument.send = ((command: Parameters<typeof send>[0], ...rest: unknown[]) => {
    if (random() < options.throttleRate) {
      throttled++;
      const error = Object.assign(
        new Error('The level of configured provisioned throughput for the table was exceeded.'),
        {
          name: 'ProvisionedThroughputExceededException',
        },
      );
      return Promise.reject(error);
    }
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as typeof faultyDocument.send;
  const store = dynamoDbStore({ client: faultyDocument, tableName });
  const auditStore = dynamoDbStore({ client: notificationDocumentClient(dynamoClient), tableName });

  const invalidRecipients = new Set<string>();
  const phones = new Set<string>();
  for (let i = 0; i < options.notifications; i++) {
    phones.add(phoneOf(i));
    if (random() < options.invalidShare) invalidRecipients.add(phoneOf(i));
  }
  const wachap = new FakeWaChap({ random, clock: () => now, faults: options.faults, outage, invalidRecipients });
  const logs = captureLogs(phones);
  const logger = new Logger({ serviceName: 'wachap-notifications-soak', logLevel: 'WARN' });
  const sendQueue = new SqsSendQueue({ client: sqs, queueUrl });

  const sender = createSenderHandler(
    logger,
    {
      store,
      channel: whatsAppChannel(wachap),
      queue: sendQueue,
      circuit: new ProviderCircuit({ store, clock, log: logger, cacheMs: 0 }),
      log: logger,
      clock,
      random,
      newClaimToken: () => ulid(now, random),
      policy: {
        retry: DEFAULT_RETRY_POLICY,
        providerHoldMs: 30 * MINUTE,
        claimLeaseMs: 2 * MINUTE,
        recordBackoffMs: [0, 0, 0],
      },
    },
    { concurrency: 5 },
  );
  const sweep = createRetrySweepHandler(
    logger,
    { store, queue: sendQueue, log: logger, clock, queueLeaseMs: 20 * MINUTE, writeConcurrency: 10 },
    { limit: 500, maxRetries: DEFAULT_RETRY_POLICY.maxAttempts },
  );
  const probe = createProviderProbeHandler(logger, {
    store,
    queue: sendQueue,
    provider: wachap,
    log: logger,
    clock,
    settings: { probeIntervalMs: MINUTE, holdMs: 30 * MINUTE, alertsEnabled: false, cooldownMs: HOUR },
  });
  const ingest = createIngestHandler(logger, {
    store,
    queue: sendQueue,
    log: logger,
    clock,
    newId: () => ulid(now, random),
    policy: { maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts, validitySeconds: { otp: 600 } },
    defaultCountry: 'ML',
  });

  // Arrivals spread over the first 90 % of the run, so the last ones still get a chance.
  const arrivals = Array.from(
    { length: options.notifications },
    () => START + random() * options.hours * 0.9 * HOUR,
  ).sort((a, b) => a - b);
  const ids = new Map<number, string>();
  const pendingIngest: { index: number; at: number; replay: boolean }[] = arrivals.map((at, index) => ({
    index,
    at,
    replay: false,
  }));
  let ingestRetries = 0;
  let replays = 0;
  let replaysAnsweredWithSameId = 0;

  const requestFor = (index: number) => ({
    recipient: { phone: phoneOf(index), name: `Client ${index}` },
    category: random() < options.otpShare ? 'otp' : ['colis_arrive', 'colis_livre', 'lot_ferme'][index % 3],
    message: `Soak message ${index}`,
    idempotencyKey: `soak-${options.seed}-${index}`,
  });
  const requests = new Map<number, ReturnType<typeof requestFor>>();

  async function ingestDue(): Promise<void> {
    while (pendingIngest.length > 0 && pendingIngest[0]!.at <= now) {
      const item = pendingIngest.shift()!;
      const body = requests.get(item.index) ?? requestFor(item.index);
      requests.set(item.index, body);
      const response = (await ingest(
        apiEvent({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
        lambdaContext('ingest'),
      )) as APIGatewayProxyResult;
      if (response.statusCode >= 500) {
        // The upstream system tries again a minute later, with the same idempotency key.
        ingestRetries++;
        pendingIngest.push({ ...item, at: now + MINUTE });
        pendingIngest.sort((a, b) => a.at - b.at);
        continue;
      }
      if (response.statusCode >= 400) throw new Error(`ingest refused a valid request: ${response.body}`);
      const { id } = JSON.parse(response.body) as { id: string };
      if (item.replay) {
        replays++;
        if (ids.get(item.index) === id && response.statusCode === 200) replaysAnsweredWithSameId++;
      } else {
        ids.set(item.index, id);
        if (random() < options.replayRate) {
          pendingIngest.push({ index: item.index, at: now + 5 * MINUTE, replay: true });
          pendingIngest.sort((a, b) => a.at - b.at);
        }
      }
    }
  }

  // The SQS event source: two pollers, batches of ten, partial batch failures; a failed message
  // comes back after the queue's visibility timeout (in virtual time), then goes to the DLQ.
  const redeliveries: { handle: string; at: number }[] = [];
  let duplicatesInjected = 0;
  const receive = () =>
    sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 43_200,
          AttributeNames: ['All'],
        }),
      )
      .then((r) => r.Messages ?? []);

  async function deliver(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => recordOf(m, QUEUE_ARN, REGION)) };
    for (const m of messages) {
      if (random() < options.duplicateRate) {
        duplicatesInjected++;
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.Body ?? '' }));
      }
    }
    let failed: Set<string>;
    try {
      const result = (await sender(event, lambdaContext('sender'))) as SQSBatchResponse;
      failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(messages.map((m) => m.MessageId!));
    }
    for (const m of messages) {
      if (failed.has(m.MessageId!))
        redeliveries.push({ handle: m.ReceiptHandle!, at: now + SEND_QUEUE_VISIBILITY_SECONDS * 1000 });
      else await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }

  async function pumpQueue(): Promise<void> {
    for (let i = redeliveries.length - 1; i >= 0; i--) {
      if (redeliveries[i]!.at <= now) {
        const [{ handle }] = redeliveries.splice(i, 1) as unknown as [{ handle: string }];
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }),
        );
      }
    }
    // At most 60 batches a minute: the mapping's concurrency is the limit, not the queue.
    for (let round = 0; round < 30; round++) {
      const batches = await Promise.all([receive(), receive()]);
      const nonEmpty = batches.filter((b) => b.length > 0);
      if (nonEmpty.length === 0) return;
      await Promise.all(nonEmpty.map(deliver));
    }
  }

  let sweeps = 0;
  let overlappingSweeps = 0;
  let circuitOpenedAt: number | undefined;
  let recoveredAt: number | undefined;
  let nextSweep = START + SWEEP_EVERY;
  let lastReport = START;

  try {
    for (; now <= end; now += MINUTE) {
      await ingestDue();
      await pumpQueue();
      await probe({}, lambdaContext('provider-probe')).catch(() => undefined);
      if (now >= nextSweep) {
        nextSweep += SWEEP_EVERY;
        const overlap = random() < options.overlapRate;
        sweeps += overlap ? 2 : 1;
        if (overlap) overlappingSweeps++;
        await Promise.all(
          Array.from({ length: overlap ? 2 : 1 }, () => sweep({}, lambdaContext('retry-sweep')).catch(() => undefined)),
        );
      }
      const circuit = await auditStore.getProviderState(WACHAP_PROVIDER);
      if (isCircuitOpen(circuit) && now >= outage.start && circuitOpenedAt === undefined) circuitOpenedAt = now;
      if (!isCircuitOpen(circuit) && circuitOpenedAt !== undefined && now >= outage.end && recoveredAt === undefined) {
        recoveredAt = now;
      }
      if (now - lastReport >= 6 * HOUR) {
        lastReport = now;
        progress(
          `t+${Math.round((now - START) / HOUR)}h: ${ids.size} ingested, ${wachap.calls} WaChap calls, ${Math.round((performance.now() - wallStart) / 1000)} s`,
        );
      }
    }
    now = end;

    // The audit: every notification ingested is in exactly one of the accountable states.
    const result: SoakResult = {
      options,
      ingested: ids.size,
      ingestRetries,
      replays,
      replaysAnsweredWithSameId,
      sent: 0,
      permanentFailures: {},
      expired: 0,
      scheduled: { count: 0, byReason: {} },
      lost: [],
      sentMoreThanOnce: [...wachap.deliveries.values()].filter((n) => n > 1).length,
      crashWindow: wachap.crashWindow,
      crashes: wachap.crashes,
      deliveredNotRecordedSent: 0,
      sentWithoutDelivery: 0,
      attemptsBurnedByOutage: 0,
      heldDuringOutage: 0,
      ...(circuitOpenedAt ? { circuitOpenedAt: new Date(circuitOpenedAt).toISOString() } : {}),
      ...(recoveredAt ? { recoveryDetectedAfterMs: recoveredAt - outage.end } : {}),
      wachapCalls: wachap.calls,
      wachapCallsDuringOutage: wachap.callsDuringOutage,
      throttled,
      duplicatesInjected,
      sweeps,
      overlappingSweeps,
      dlqDepth: 0,
      unmaskedPhonesInLogs: 0,
      logLines: 0,
      wallSeconds: 0,
    };
    let lastHeldAttempt = 0;
    const heldDelays: number[] = [];
    let lastHeldSent = 0;
    for (const [index, id] of ids) {
      const n: Notification | undefined = await auditStore.get(id);
      if (!n) {
        result.lost.push(`${id} (no record)`);
        continue;
      }
      const delivered = wachap.deliveries.get(phoneOf(index)) ?? 0;
      if (delivered > 0 && n.status !== 'sent') result.deliveredNotRecordedSent++;
      if (n.status === 'sent' && delivered === 0) result.sentWithoutDelivery++;
      const during = n.history.filter((h) => Date.parse(h.at) >= outage.start && Date.parse(h.at) < outage.end);
      result.attemptsBurnedByOutage += during.filter(
        (h) => h.outcome === 'failed' || h.outcome === 'permanent_failure',
      ).length;
      if (during.some((h) => h.outcome === 'held')) {
        result.heldDuringOutage++;
        const after = n.history.find((h) => Date.parse(h.at) >= outage.end && h.outcome !== 'held');
        if (after) {
          heldDelays.push(Date.parse(after.at) - outage.end);
          lastHeldAttempt = Math.max(lastHeldAttempt, Date.parse(after.at) - outage.end);
        }
        if (n.sentAt) lastHeldSent = Math.max(lastHeldSent, Date.parse(n.sentAt) - outage.end);
      }
      switch (n.status) {
        case 'sent':
          result.sent++;
          break;
        case 'permanent_failure':
          result.permanentFailures[n.reason ?? 'unknown'] = (result.permanentFailures[n.reason ?? 'unknown'] ?? 0) + 1;
          break;
        case 'expired':
          result.expired++;
          break;
        default: {
          const next = n.nextAttemptAt ? Date.parse(n.nextAttemptAt) : undefined;
          if (next === undefined || next < end - OVERDUE_AFTER) {
            result.lost.push(`${id} (${n.status}, next attempt ${n.nextAttemptAt ?? 'none'})`);
            break;
          }
          result.scheduled.count++;
          const reason = n.inFlight ? 'attempt_in_flight' : (n.reason ?? n.status);
          result.scheduled.byReason[reason] = (result.scheduled.byReason[reason] ?? 0) + 1;
          if (!result.scheduled.earliest || n.nextAttemptAt! < result.scheduled.earliest)
            result.scheduled.earliest = n.nextAttemptAt!;
          if (!result.scheduled.latest || n.nextAttemptAt! > result.scheduled.latest)
            result.scheduled.latest = n.nextAttemptAt!;
        }
      }
    }
    if (result.heldDuringOutage > 0) {
      result.lastHeldAttemptAfterMs = lastHeldAttempt;
      heldDelays.sort((a, b) => a - b);
      const at = (q: number) => heldDelays[Math.min(heldDelays.length - 1, Math.floor(q * heldDelays.length))] ?? 0;
      result.heldAttemptAfterMs = { p50: at(0.5), p95: at(0.95) };
      result.lastHeldSentAfterMs = lastHeldSent;
    }
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    result.dlqDepth = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
    result.unmaskedPhonesInLogs = logs.state.unmasked;
    result.logLines = logs.state.lines;
    result.wallSeconds = Math.round((performance.now() - wallStart) / 1000);
    return result;
  } finally {
    logs.restore();
    dynamoClient.destroy();
    sqs.destroy();
    await Promise.all([dynamodb.stop(), sqsEngine.stop()]);
  }
}

/** Lines that are off: an empty list means the promise held. */
export function soakProblems(r: SoakResult): string[] {
  const problems: string[] = [];
  if (r.ingested !== r.options.notifications) problems.push(`ingested ${r.ingested} of ${r.options.notifications}`);
  if (r.lost.length > 0) problems.push(`${r.lost.length} lost: ${r.lost.slice(0, 5).join(', ')}`);
  if (r.sentMoreThanOnce > r.crashWindow) {
    problems.push(`${r.sentMoreThanOnce} sent more than once, more than the ${r.crashWindow} crash-window events`);
  }
  if (r.sentWithoutDelivery > 0) problems.push(`${r.sentWithoutDelivery} recorded sent that WaChap never accepted`);
  if (r.attemptsBurnedByOutage > 0) problems.push(`${r.attemptsBurnedByOutage} attempts burned by the provider outage`);
  if (r.options.outageHours > 0) {
    if (r.recoveryDetectedAfterMs === undefined) problems.push('the provider recovery was never detected');
    else if (r.recoveryDetectedAfterMs > 2 * MINUTE) {
      problems.push(`recovery detected ${r.recoveryDetectedAfterMs / MINUTE} min after WaChap was healthy (limit 2)`);
    }
    if (r.heldDuringOutage === 0) problems.push('nothing was held during the outage: the outage was not exercised');
    if ((r.lastHeldAttemptAfterMs ?? 0) > 10 * MINUTE) {
      problems.push(
        `held notifications were attempted up to ${Math.round(r.lastHeldAttemptAfterMs! / MINUTE)} min after recovery (limit 10)`,
      );
    }
  }
  if (r.replays !== r.replaysAnsweredWithSameId) {
    problems.push(`${r.replays - r.replaysAnsweredWithSameId} idempotent repeats answered with another id`);
  }
  if (r.unmaskedPhonesInLogs > 0) problems.push(`${r.unmaskedPhonesInLogs} unmasked phone numbers in the logs`);
  return problems;
}

const minutes = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / MINUTE).toFixed(1)} min`);

export function formatSoakTable(r: SoakResult): string {
  const o = r.options;
  const perm =
    Object.entries(r.permanentFailures)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const scheduled =
    Object.entries(r.scheduled.byReason)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const ok = (good: boolean) => (good ? 'ok ' : 'OFF');
  const rows: [string, string, string][] = [
    [
      ok(r.ingested === o.notifications),
      'ingested',
      `${r.ingested} (ingest 5xx retried by upstream: ${r.ingestRetries}; idempotent repeats ${r.replaysAnsweredWithSameId}/${r.replays} same id)`,
    ],
    ['   ', 'sent', String(r.sent)],
    ['   ', 'permanent failures', `${Object.values(r.permanentFailures).reduce((a, b) => a + b, 0)} (${perm})`],
    ['   ', 'expired', String(r.expired)],
    [
      '   ',
      'still scheduled',
      `${r.scheduled.count} (${scheduled}; next attempts ${r.scheduled.earliest ?? '-'} … ${r.scheduled.latest ?? '-'})`,
    ],
    [ok(r.lost.length === 0), 'lost', String(r.lost.length)],
    [
      ok(r.sentMoreThanOnce <= r.crashWindow),
      'sent more than once',
      `${r.sentMoreThanOnce} (crash-window events: ${r.crashWindow}; all crashes: ${r.crashes})`,
    ],
    [ok(r.sentWithoutDelivery === 0), 'recorded sent, never accepted', String(r.sentWithoutDelivery)],
    [
      '   ',
      'accepted, not recorded sent',
      `${r.deliveredNotRecordedSent} (crash window: WaChap has them, the record does not say sent)`,
    ],
    [
      ok(r.attemptsBurnedByOutage === 0),
      'attempts burned by the outage',
      `${r.attemptsBurnedByOutage} (${r.heldDuringOutage} held; WaChap calls during the outage: ${r.wachapCallsDuringOutage})`,
    ],
    [
      ok((r.recoveryDetectedAfterMs ?? Number.POSITIVE_INFINITY) <= 2 * MINUTE || o.outageHours === 0),
      'recovery detected after',
      minutes(r.recoveryDetectedAfterMs),
    ],
    [
      ok((r.heldAttemptAfterMs?.p95 ?? 0) <= 10 * MINUTE),
      'recovery → held attempted',
      `median ${minutes(r.heldAttemptAfterMs?.p50)}, 95% ${minutes(r.heldAttemptAfterMs?.p95)}, last ${minutes(r.lastHeldAttemptAfterMs)}`,
    ],
    [
      '   ',
      'recovery → last held sent',
      `${minutes(r.lastHeldSentAfterMs)} (later ones met ordinary faults and backed off)`,
    ],
    [
      ok(r.unmaskedPhonesInLogs === 0),
      'unmasked phones in logs',
      `${r.unmaskedPhonesInLogs} (${r.logLines} log lines)`,
    ],
  ];
  const width = Math.max(...rows.map(([, name]) => name.length));
  return [
    `Soak: ${o.notifications} notifications over ${o.hours} h (seed ${o.seed}; expired-token outage ${o.outageHours} h from t+${o.outageStartHour} h)`,
    `Faults injected: WaChap calls ${r.wachapCalls}, sender crashes ${r.crashes}, DynamoDB throttles ${r.throttled}, duplicate SQS deliveries ${r.duplicatesInjected}, sweeps ${r.sweeps} (${r.overlappingSweeps} overlapping), DLQ ${r.dlqDepth}`,
    '',
    ...rows.map(([flag, name, value]) => `${flag}  ${name.padEnd(width)}  ${value}`),
    '',
    `Wall time ${r.wallSeconds} s.`,
  ].join('\n');
}
