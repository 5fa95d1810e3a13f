// The release after a real outage: tens of thousands of held notifications, the circuit open, WaChap
// healthy again. The provider-probe handler (the factory Lambda runs) is invoked tick after tick,
// each with a Lambda context counting down from the probe's timeout, a virtual minute apart, until
// the circuit no longer says `releasePending`. Measured: ticks, wall time per tick, items read from
// the due index per held notification, ids that reached the queue, notifications left held.

import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { FUNCTIONS } from '../../functions/catalog.js';
import { createProviderProbeHandler } from '../../functions/provider-probe/create-handler.js';
import { lambdaContext } from '../../local/aws-events.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { PARTITION_KEY } from '../../shared/adapters/dynamodb/table.js';
import { queueDepth, SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { mapWithConcurrency } from '../../shared/application/concurrency.js';
import { type CircuitReport, ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import { createNotification, DEFAULT_VALIDITY_SECONDS } from '../../shared/domain/new-notification.js';
import type { QueueTicket } from '../../shared/domain/notification.js';
import { isAwaitingAttempt, type Notification, PRIORITIES } from '../../shared/domain/notification.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { transition } from '../../shared/domain/transitions.js';
import { silentLog } from '../../shared/observability/logger.js';
import { startSoakEngines } from './engines.js';
import { captureLogs, HOUR, MINUTE, phoneOf, START, seededRandom } from './support.js';

/** The provider probe's Lambda timeout (the catalog's). */
export const PROBE_TIMEOUT_MS = FUNCTIONS['provider-probe'].timeoutSeconds * 1000;
const HOLD_MS = 30 * MINUTE;
const CATEGORIES = ['colis_arrive', 'colis_livre', 'lot_ferme'];
/** Items read from the due index per held notification, at most. */
export const READS_PER_HELD_GOAL = 1.1;

export interface ReleaseScaleOptions {
  held: number;
  /** Each tick's context counts down from this (the probe's Lambda timeout, or less to force more ticks). */
  tickTimeoutMs: number;
  seed: number;
  maxTicks: number;
  writeConcurrency: number;
  progress?: (line: string) => void;
}

export const DEFAULT_RELEASE_SCALE: Omit<ReleaseScaleOptions, 'held'> = {
  tickTimeoutMs: PROBE_TIMEOUT_MS,
  seed: 42,
  maxTicks: 60,
  writeConcurrency: 32,
};

export interface ReleaseTick {
  at: string;
  wallSeconds: number;
  released: number;
  itemsRead: number;
  outcome: string;
}

export interface ReleaseScaleResult {
  mode: 'release-scale';
  options: Omit<ReleaseScaleOptions, 'progress'>;
  held: number;
  seedWallSeconds: number;
  ticks: number;
  tickWallSeconds: { max: number; total: number };
  tickTimeoutSeconds: number;
  releasePendingCleared: boolean;
  /** What the probe's reports say it released (a notification released twice counts twice). */
  releasedReported: number;
  releaseItemsRead: number;
  releaseReadsPerHeld: number;
  /** Distinct held ids that SQS accepted. */
  queued: number;
  /** Messages on the queue at the end: more than `queued` when an id was enqueued twice. */
  queueMessages: number;
  enqueueFailures: number;
  stillHeld: number;
  /** Seeded notifications gone or no longer awaiting an attempt: nothing here sends them, so none should be. */
  notDue: number;
  reheld: number;
  tickDetails: ReleaseTick[];
  wallSeconds: number;
}

/** Items DynamoDB returned to Query and Scan calls (ScannedCount: what is read and billed). */
function countItemsRead(client: DynamoDBClient): { read: number } {
  const counter = { read: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const scanned = (result.output as { ScannedCount?: unknown }).ScannedCount;
      if (typeof scanned === 'number') counter.read += scanned;
      return result;
    },
    { step: 'initialize', name: 'soakCountItemsRead' },
  );
  return counter;
}

/** The send queue, remembering which ids SQS accepted. */
class CountingSendQueue extends SqsSendQueue {
  readonly queued = new Set<string>();
  failures = 0;

  override async enqueueMany<T extends QueueTicket>(tickets: readonly T[]): Promise<{ queued: T[]; failed: T[] }> {
    const result = await super.enqueueMany(tickets);
    for (const { id } of result.queued) this.queued.add(id);
    this.failures += result.failed.length;
    return result;
  }
}

/** A notification held during the last 30 minutes: due again within the next 30. */
function heldNotification(index: number, random: () => number): Notification {
  const heldAt = new Date(START - Math.floor(random() * HOLD_MS));
  const createdAt = new Date(heldAt.getTime() - Math.floor(random() * HOUR));
  const created = createNotification(
    {
      recipient: { phone: phoneOf(index), name: `Client ${index}` },
      category: CATEGORIES[index % CATEGORIES.length]!,
      message: `Release scale ${index}`,
      priority: PRIORITIES[index % PRIORITIES.length]!,
    },
    {
      id: ulid(createdAt.getTime(), random),
      now: createdAt,
      policy: { maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts, validitySeconds: DEFAULT_VALIDITY_SECONDS },
    },
  );
  return transition(created, { type: 'hold', at: heldAt, holdMs: HOLD_MS });
}

type Leftover = Pick<Notification, 'id' | 'status' | 'reason' | 'nextAttemptAt' | 'history'>;

/** The fields the audit needs, for every id, by BatchGetItem (100 keys a call). */
async function readBack(client: DynamoDBDocumentClient, tableName: string, ids: string[]): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (let start = 0; start < ids.length; start += 100) {
    let keys: Record<string, unknown>[] = ids.slice(start, start + 100).map((id) => ({ [PARTITION_KEY]: id }));
    while (keys.length > 0) {
      const result = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: keys,
              ProjectionExpression: 'id, #status, reason, nextAttemptAt, history',
              ExpressionAttributeNames: { '#status': 'status' },
            },
          },
        }),
      );
      found.push(...((result.Responses?.[tableName] ?? []) as Leftover[]));
      keys = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return found;
}

export async function runReleaseScale(options: ReleaseScaleOptions): Promise<ReleaseScaleResult> {
  const wallStart = performance.now();
  const progress = options.progress ?? (() => undefined);
  const random = seededRandom(options.seed);
  const engines = await startSoakEngines();
  const logs = captureLogs();
  try {
    const auditDocument = notificationDocumentClient(engines.dynamoClient());
    const auditStore = dynamoDbStore({ client: auditDocument, tableName: engines.tableName });
    const probeClient = engines.dynamoClient();
    const reads = countItemsRead(probeClient);
    const probeStore = dynamoDbStore({
      client: notificationDocumentClient(probeClient),
      tableName: engines.tableName,
    });
    const queue = new CountingSendQueue({ client: engines.sqs, queueUrl: engines.queueUrl });
    let now = START;
    const clock = () => new Date(now);

    // The backlog, written as the store writes it, then the circuit opened as a sender opens it.
    const seedStart = performance.now();
    const ids = new Set<string>();
    let written = 0;
    await mapWithConcurrency(
      Array.from({ length: options.held }, (_, i) => i),
      options.writeConcurrency,
      async (index) => {
        const held = heldNotification(index, random);
        ids.add(held.id);
        await auditStore.create(held, clock());
        if (++written % 10_000 === 0) progress(`${written} held notifications written`);
      },
    );
    const seedWallSeconds = (performance.now() - seedStart) / 1000;
    progress(`${options.held} held notifications written in ${seedWallSeconds.toFixed(1)} s`);
    now = START - HOLD_MS;
    await new ProviderCircuit({ store: auditStore, clock, log: silentLog, cacheMs: 0 }).open({
      reason: 'HTTP 401: Unauthorized: token expired',
      errorType: 'http_error',
      recommendation: 'Renew the WaChap access token.',
    });

    const logger = new Logger({ serviceName: 'wachap-notifications-release-scale', logLevel: 'WARN' });
    const probe = createProviderProbeHandler(logger, {
      store: probeStore,
      queue,
      provider: { checkConnection: async () => ({ ok: true }) },
      log: logger,
      clock,
      settings: { probeIntervalMs: MINUTE, holdMs: HOLD_MS, alertsEnabled: false, cooldownMs: HOUR },
    });

    const tickDetails: ReleaseTick[] = [];
    let releasePendingCleared = false;
    let closedAt: number | undefined;
    for (let tick = 0; tick < options.maxTicks && !releasePendingCleared; tick++) {
      now = START + tick * MINUTE;
      const readBefore = reads.read;
      const tickStart = performance.now();
      let outcome: string;
      let released = 0;
      try {
        // The context counts down in real time from the call: the release must stop within it.
        const context = lambdaContext('provider-probe', { timeoutMs: options.tickTimeoutMs });
        const report = (await probe({}, context)) as CircuitReport;
        released = report.released ?? 0;
        const circuit = report.circuit;
        outcome = [
          report.probeResult ? `probe: ${report.probeResult}` : 'no probe',
          `circuit ${circuit?.status ?? 'absent'}${circuit?.releasePending ? ', release pending' : ''}`,
        ].join('; ');
      } catch (error) {
        outcome = `failed: ${String(error)}`;
      }
      const wallSeconds = (performance.now() - tickStart) / 1000;
      const state = await auditStore.getProviderState(WACHAP_PROVIDER);
      if (state?.status === 'healthy' && closedAt === undefined) closedAt = Date.parse(state.since);
      releasePendingCleared = state?.status === 'healthy' && !state.releasePending;
      const entry = { at: clock().toISOString(), wallSeconds, released, itemsRead: reads.read - readBefore, outcome };
      tickDetails.push(entry);
      progress(
        `tick ${tick + 1}: ${wallSeconds.toFixed(1)} s, released ${released}, read ${entry.itemsRead}, ${outcome}${releasePendingCleared ? ', release done' : ''}`,
      );
    }

    // What is left: every seeded notification read back by key, outside the counted client (dynalite's
    // due-index pages skip an item now and then where thousands share one due instant, as released ones do).
    const left = await readBack(auditDocument, engines.tableName, [...ids]);
    const stillHeld = left.filter((n) => n.reason === 'provider_unavailable').length;
    const reheld = left.filter(
      (n) =>
        closedAt !== undefined &&
        n.history.some((h) => h.outcome === 'held' && h.errorType === 'circuit_open' && Date.parse(h.at) > closedAt),
    ).length;
    const notDue = left.filter((n) => !isAwaitingAttempt(n.status) || n.nextAttemptAt === undefined).length;
    const walls = tickDetails.map((t) => t.wallSeconds);
    const { progress: _progress, ...settings } = options;
    return {
      mode: 'release-scale',
      options: settings,
      held: options.held,
      seedWallSeconds: round(seedWallSeconds),
      ticks: tickDetails.length,
      tickWallSeconds: { max: round(Math.max(0, ...walls)), total: round(walls.reduce((a, b) => a + b, 0)) },
      tickTimeoutSeconds: options.tickTimeoutMs / 1000,
      releasePendingCleared,
      releasedReported: tickDetails.reduce((sum, t) => sum + t.released, 0),
      releaseItemsRead: reads.read,
      releaseReadsPerHeld: round(reads.read / Math.max(1, options.held), 3),
      queued: [...queue.queued].filter((id) => ids.has(id)).length,
      queueMessages: await queueDepth(engines.sqs, engines.queueUrl),
      enqueueFailures: queue.failures,
      stillHeld,
      notDue: notDue + (options.held - left.length),
      reheld,
      tickDetails: tickDetails.map((t) => ({ ...t, wallSeconds: round(t.wallSeconds) })),
      wallSeconds: round((performance.now() - wallStart) / 1000),
    };
  } finally {
    logs.restore();
    await engines.stop();
  }
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
