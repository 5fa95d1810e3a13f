// The fault-injection soak: thousands of notifications over days of virtual time, through the real
// handlers (the same factories Lambda runs) against real engines (dynalite, fauxqs), with WaChap
// faults (some of which deliver anyway), a long expired-token outage, sender crashes, DynamoDB
// throttling, duplicated and redelivered SQS messages and overlapping sweeps. At the end, every
// notification is accounted for (audit.ts) and every line is checked (report.ts).
//
// Virtual time: each minute is played in rounds. A round is what the two sender instances (the event
// source's maximum concurrency, each with its own circuit cache) take from the queue, a batch of ten
// each; it lasts 0.2 s, plus 0.18 s per WaChap call of an instance (2 s for ten). The sweep fires
// at the start of its minute and the probe a second later, both running while the senders go on;
// when the queue is empty and a scheduled function is still working, the clock waits for it, so what
// it queues is taken within the same seconds. A sender can thus act on a cached circuit read from
// before the probe closed it, as one can in production.

import { Logger } from '@aws-lambda-powertools/logger';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ulid } from 'ulid';
import { createIngestHandler } from '../../functions/ingest/create-handler.js';
import { createProviderProbeHandler } from '../../functions/provider-probe/create-handler.js';
import { createRetrySweepHandler } from '../../functions/retry-sweep/create-handler.js';
import { createSenderHandler } from '../../functions/sender/create-handler.js';
import { apiEvent, lambdaContext } from '../../local/aws-events.js';
import { scheduledEvent } from '../../local/schedules.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { emailChannel } from '../../shared/adapters/ses/email-channel.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import type { SendMessage } from '../../shared/application/ports.js';
import { type CircuitReport, ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { VERIFY_AFTER_CLOSE_MS } from '../../shared/application/release-held.js';
import { probeEnv, senderEnv } from '../../shared/config.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import { DEFAULT_EMAIL_FALLBACK_CATEGORIES } from '../../shared/domain/channel-policy.js';
import type { Priority } from '../../shared/domain/notification.js';
import { DRAIN_WATCH_MS } from '../../shared/domain/provider-circuit.js';
import { DEFAULT_RECIPIENT_LIMITS } from '../../shared/domain/recipient-limits.js';
import { PROVIDER_PROBE_PERIOD_SECONDS } from '../../shared/schedules.js';
import { auditNotifications } from './audit.js';
import { CircuitWatch } from './circuit-watch.js';
import { type SoakEngines, startSoakEngines } from './engines.js';
import { SoakEventSource } from './event-source.js';
import { emailOf, FakeMailbox } from './fake-mailbox.js';
import { DEFAULT_FAULTS, FakeWaChap } from './fake-wachap.js';
import { MessageTrace } from './message-trace.js';
import { PROBE_TIMEOUT_MS } from './release-scale.js';
import type { SoakResult, SoakSettings } from './report.js';
import { captureLogs, HOUR, MINUTE, phoneOf, SECOND, START, seededRandom } from './support.js';

const SWEEP_EVERY = 30 * MINUTE;
/** A round of holds, skips and expiries: DynamoDB work only. */
const QUICK_ROUND_MS = 200;
/** Each WaChap call adds this to its instance's round: ten calls each make a 2-second round (600 sends a minute). */
const CALL_MS = 180;
/** The probe's schedule fires a second after the sweep's. */
const PROBE_OFFSET_MS = SECOND;
/**
 * The probe's pauses shorter than this are its retries' (1 s at most: withRetries' and the release's); its watch
 * waits for a check 10 s apart, and a check lasts no virtual time, so its waits are longer.
 */
const RETRY_PAUSE_MAX_MS = 2 * SECOND;
/** The deployed sender's circuit cache: CIRCUIT_CACHE_SECONDS as the configuration defaults it. */
export const DEPLOYED_CIRCUIT_CACHE_MS = senderEnv.shape.CIRCUIT_CACHE_SECONDS.parse(undefined) * SECOND;

export interface SoakOptions extends SoakSettings {
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
  invalidShare: 0.03,
  emailShare: 0.4,
  emailThrottleRate: 0.02,
  replayRate: 0.01,
  circuitCacheMs: DEPLOYED_CIRCUIT_CACHE_MS,
};

/** Where the outage starts when not told: hour 20, earlier in a short run so that 4 hours follow it. */
export const defaultOutageStart = (hours: number, outageHours: number): number =>
  Math.max(0, Math.min(DEFAULT_SOAK.outageStartHour, hours - outageHours - 4));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const wallStart = performance.now();
  const engines = await startSoakEngines();
  try {
    return await playSoak(options, engines, wallStart);
  } finally {
    await engines.stop();
  }
}

async function playSoak(options: SoakOptions, engines: SoakEngines, wallStart: number): Promise<SoakResult> {
  const random = seededRandom(options.seed);
  let now = START;
  const clock = () => new Date(now);
  const end = START + options.hours * HOUR;
  const outage = {
    start: START + options.outageStartHour * HOUR,
    end: START + (options.outageStartHour + options.outageHours) * HOUR,
  };
  const progress = options.progress ?? (() => undefined);

  const { sqs, queueUrl, tableName } = engines;

  // DynamoDB throttling, injected below the store: it can strike between any two writes of a use case.
  let throttled = 0;
  const faultyDocument = notificationDocumentClient(engines.dynamoClient());
  const send = faultyDocument.send.bind(faultyDocument);
  faultyDocument.send = ((command: Parameters<typeof send>[0], ...rest: unknown[]) => {
    if (random() < options.throttleRate) {
      throttled++;
      const error = Object.assign(
        new Error('The level of configured provisioned throughput for the table was exceeded.'),
        { name: 'ProvisionedThroughputExceededException' },
      );
      return Promise.reject(error);
    }
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as typeof faultyDocument.send;
  const store = dynamoDbStore({ client: faultyDocument, tableName });
  const auditStore = dynamoDbStore({ client: notificationDocumentClient(engines.dynamoClient()), tableName });
  const watch = new CircuitWatch();
  watch.watch(store);

  const invalidRecipients = new Set<string>();
  const phones = new Set<string>();
  for (let i = 0; i < options.notifications; i++) {
    phones.add(phoneOf(i));
    if (random() < options.invalidShare) invalidRecipients.add(phoneOf(i));
  }
  const wachap = new FakeWaChap({
    random,
    clock: () => now,
    faults: options.faults,
    outage,
    invalidRecipients,
    ...(options.blipAfterRecoveryMs !== undefined ? { blipAt: outage.end + options.blipAfterRecoveryMs } : {}),
  });
  const mailbox = new FakeMailbox({ random, throttleRate: options.emailThrottleRate });
  const trace = new MessageTrace(() => now);
  trace.watch(sqs, queueUrl);
  const logs = captureLogs(phones, (id, line) => trace.note(id, line));
  const logger = new Logger({ serviceName: 'wachap-notifications-soak', logLevel: 'WARN' });
  const sendQueue = new SqsSendQueue({ client: sqs, queueUrl });
  // A delayed message (the sender's look at a held notification's fallback instant) waits in virtual time, as SQS
  // would make it wait in real time, then goes on the queue.
  const delayed: { at: number; message: SendMessage; priority: Priority }[] = [];
  const senderQueue = {
    enqueue: async (message: SendMessage, options: { priority: Priority; delaySeconds?: number }) => {
      if (!options.delaySeconds) return sendQueue.enqueue(message, options);
      delayed.push({ at: now + options.delaySeconds * SECOND, message, priority: options.priority });
    },
  };
  const releaseDelayed = async () => {
    for (let i = delayed.length - 1; i >= 0; i--) {
      const entry = delayed[i]!;
      if (entry.at > now) continue;
      delayed.splice(i, 1);
      await sendQueue.enqueue(entry.message, { priority: entry.priority });
    }
  };

  const senders = [0, 1].map(() =>
    createSenderHandler(
      logger,
      {
        store,
        channels: { whatsapp: whatsAppChannel(wachap), email: emailChannel(mailbox) },
        queue: senderQueue,
        circuit: new ProviderCircuit({ store, clock, log: logger, cacheMs: options.circuitCacheMs }),
        log: logger,
        clock,
        random,
        newClaimToken: () => ulid(now, random),
        policy: {
          retry: DEFAULT_RETRY_POLICY,
          providerHoldMs: 30 * MINUTE,
          claimLeaseMs: 2 * MINUTE,
          recordBackoffMs: [0, 0, 0],
          channels: {
            enabled: ['whatsapp', 'email'],
            emailFallbackCategories: DEFAULT_EMAIL_FALLBACK_CATEGORIES,
            fallbackBeforeExpiryMs: 2 * MINUTE,
          },
        },
      },
      { concurrency: 5 },
    ),
  );
  // The scheduled functions read the time they were fired at.
  let sweepAt = START;
  let probeAt = START;
  // The probe's watch waits for its next check in virtual time: the wait ends when the soak's clock reaches it, and
  // the probe's clock moves there. Its retries' pauses (a second at most) pass at once, as the senders' do
  // (recordBackoffMs), so that a check lasts an instant: one asleep mid-check would let the senders' clock run past
  // a close not yet written, which is dated at the check's start.
  const probeSleepers: { at: number; wake: () => void }[] = [];
  const probePause = (ms: number): Promise<void> =>
    ms < RETRY_PAUSE_MAX_MS
      ? Promise.resolve()
      : new Promise<void>((wake) => probeSleepers.push({ at: probeAt + ms, wake }));
  const wakeProbe = (upTo: number): boolean => {
    const due = probeSleepers.filter((sleeper) => sleeper.at <= upTo);
    if (due.length === 0) return false;
    for (const sleeper of due) probeSleepers.splice(probeSleepers.indexOf(sleeper), 1);
    probeAt = Math.max(probeAt, upTo);
    for (const sleeper of due) sleeper.wake();
    return true;
  };
  const sweep = createRetrySweepHandler(
    logger,
    {
      store,
      queue: sendQueue,
      log: logger,
      clock: () => new Date(sweepAt),
      queueLeaseMs: 20 * MINUTE,
      writeConcurrency: 10,
    },
    { limit: 500, maxRetries: DEFAULT_RETRY_POLICY.maxAttempts },
  );
  const probeHandler = createProviderProbeHandler(logger, {
    store,
    queue: sendQueue,
    provider: wachap,
    log: logger,
    clock: () => new Date(probeAt),
    pause: probePause,
    // As deployed: a tick watches an open circuit (or a pending release) every interval until the next tick, and a
    // verify pass waits after the close.
    settings: {
      probeIntervalMs: probeEnv.shape.PROVIDER_PROBE_INTERVAL_SECONDS.parse(undefined) * SECOND,
      watchMs: PROVIDER_PROBE_PERIOD_SECONDS * SECOND,
      verifyAfterCloseMs: VERIFY_AFTER_CLOSE_MS,
      drainWatchMs: DRAIN_WATCH_MS,
      holdMs: 30 * MINUTE,
      alertsEnabled: false,
      cooldownMs: HOUR,
    },
  });
  const ingest = createIngestHandler(logger, {
    store,
    // The deployed limits, counted through the throttling client like every other write: each notification has
    // a number of its own (phoneOf), so none is refused, and an idempotent replay must not be refused either.
    recipientCounters: store,
    recipientLimits: DEFAULT_RECIPIENT_LIMITS,
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
    () => START + Math.floor(random() * options.hours * 0.9 * HOUR),
  ).sort((a, b) => a - b);
  const ids = new Map<number, string>();
  const pendingIngest = arrivals.map((at, index) => ({ index, at, replay: false }));
  let ingestRetries = 0;
  let replays = 0;
  let replaysAnsweredWithSameId = 0;

  // A share of the recipients give an email address; the general information category may not fall back to it.
  const requestFor = (index: number) => ({
    recipient: {
      phone: phoneOf(index),
      name: `Client ${index}`,
      ...(random() < options.emailShare ? { email: emailOf(index) } : {}),
    },
    category:
      random() < options.otpShare
        ? 'otp'
        : ['colis_arrive', 'colis_livre', 'lot_ferme', 'information_generale'][index % 4],
    message: `Soak message ${index}`,
    idempotencyKey: `soak-${options.seed}-${index}`,
  });
  const requests = new Map<number, ReturnType<typeof requestFor>>();
  const later = (item: (typeof pendingIngest)[number]) => {
    pendingIngest.push(item);
    pendingIngest.sort((a, b) => a.at - b.at);
  };

  async function ingestDue(): Promise<void> {
    while (pendingIngest.length > 0 && pendingIngest[0]!.at <= now) {
      const item = pendingIngest.shift()!;
      const body = requests.get(item.index) ?? requestFor(item.index);
      requests.set(item.index, body);
      const response = (await ingest(
        apiEvent({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
        lambdaContext('ingest'),
      )) as APIGatewayProxyResult;
      // 409: a request under the same key is still in flight (its claim is younger than ingest's time limit).
      if (response.statusCode >= 500 || response.statusCode === 409) {
        // The upstream system tries again a minute later, with the same idempotency key.
        ingestRetries++;
        later({ ...item, at: now + MINUTE });
        continue;
      }
      if (response.statusCode >= 400) throw new Error(`ingest refused a valid request: ${response.body}`);
      const { id } = JSON.parse(response.body) as { id: string };
      if (item.replay) {
        replays++;
        if (ids.get(item.index) === id && response.statusCode === 200) replaysAnsweredWithSameId++;
      } else {
        ids.set(item.index, id);
        if (random() < options.replayRate) later({ index: item.index, at: now + 5 * MINUTE, replay: true });
      }
    }
  }

  const eventSource = new SoakEventSource({
    sqs,
    queueUrl,
    senders,
    clock: () => now,
    random,
    duplicateRate: options.duplicateRate,
    trace,
  });

  let sweeps = 0;
  let overlappingSweeps = 0;
  let nextSweep = START + SWEEP_EVERY;

  // Probe ticks that failed (a throttled DynamoDB call) between WaChap's recovery and the end of the release.
  let recoveryTicksFailed = 0;
  let released = false;
  async function tick(minute: number): Promise<void> {
    try {
      // Its time runs on the virtual clock too, as its waits do (a watch measured against the wall clock would
      // stop early on a slow machine).
      // The schedule's event, as EventBridge sends it: a scheduled tick also watches the drain after a probe's close.
      const report = await probeHandler(
        scheduledEvent('provider-probe'),
        lambdaContext('provider-probe', { timeoutMs: PROBE_TIMEOUT_MS, now: () => probeAt }),
      );
      const circuit = (report as Partial<CircuitReport>).circuit;
      if (minute >= outage.end && circuit?.status === 'healthy' && !circuit.releasePending) released = true;
    } catch (error) {
      if (minute >= outage.end && !released) recoveryTicksFailed++;
      throw error;
    }
  }

  async function playMinute(minute: number): Promise<void> {
    const scheduled: Promise<unknown>[] = [];
    let running = 0;
    const fire = (invoke: () => Promise<unknown>) => {
      running++;
      const settled = invoke()
        .catch(() => undefined)
        .finally(() => running--);
      scheduled.push(settled);
      return settled;
    };
    if (minute >= nextSweep) {
      nextSweep += SWEEP_EVERY;
      sweepAt = minute;
      const overlap = random() < options.overlapRate;
      sweeps += overlap ? 2 : 1;
      if (overlap) overlappingSweeps++;
      for (let i = 0; i < (overlap ? 2 : 1); i++) fire(() => sweep({}, lambdaContext('retry-sweep')));
    }
    // Each of the probe's checks lasts an instant, until it has decided (closed the circuit, gone back to waiting,
    // or finished): a read made after it in virtual time is made after it for real, and only a stale read can hold
    // after a close.
    let probe: { decided: () => boolean } | undefined;
    let changes = watch.changes.length;
    let done = false;
    const probeWaiting = () => probe !== undefined && !done && probeSleepers.length > 0;
    for (let at = minute; at < minute + MINUTE; ) {
      now = at;
      if (!probe && at >= minute + PROBE_OFFSET_MS) {
        probeAt = at;
        changes = watch.changes.length;
        fire(() => tick(minute)).finally(() => {
          done = true;
        });
        probe = { decided: () => done || probeSleepers.length > 0 || watch.changes.length > changes };
      } else if (probe && wakeProbe(at)) {
        changes = watch.changes.length;
      }
      await ingestDue();
      await releaseDelayed();
      const calls = wachap.calls;
      if ((await eventSource.round()) > 0) {
        if (!probe || probe.decided())
          at += QUICK_ROUND_MS + Math.ceil((wachap.calls - calls) / senders.length) * CALL_MS;
        continue;
      }
      if (running > (probeWaiting() ? 1 : 0)) {
        // Nothing to take yet, and a scheduled function is still working: the clock waits for it.
        await Promise.race([Promise.all(scheduled), sleep(10)]);
        continue;
      }
      // An idle queue: on to the probe's second or its next check, the next arrival or redelivery, or the next minute.
      const next = probe
        ? Math.min(
            pendingIngest[0]?.at ?? Number.POSITIVE_INFINITY,
            eventSource.nextRedelivery(),
            ...delayed.map((entry) => entry.at),
            ...probeSleepers.map((sleeper) => sleeper.at),
          )
        : minute + PROBE_OFFSET_MS;
      at = Math.max(at + QUICK_ROUND_MS, next);
    }
    // A wait of the probe's reaching past the minute (its watch stops before the next tick; a retry's pause may not).
    while (running > 0) {
      if (probeSleepers.length > 0) wakeProbe(Math.min(...probeSleepers.map((sleeper) => sleeper.at)));
      await Promise.race([Promise.all(scheduled), sleep(10)]);
    }
  }

  try {
    let lastReport = START;
    for (let minute = START; minute <= end; minute += MINUTE) {
      await playMinute(minute);
      if (minute - lastReport >= 6 * HOUR) {
        lastReport = minute;
        progress(
          `t+${Math.round((minute - START) / HOUR)}h: ${ids.size} ingested, ${wachap.calls} WaChap calls, ${Math.round((performance.now() - wallStart) / 1000)} s`,
        );
      }
    }
    now = end;

    const audit = await auditNotifications({ store: auditStore, ids, wachap, mailbox, outage, end, watch, trace });
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: engines.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    const { progress: _progress, ...settings } = options;
    return {
      options: settings,
      ingested: ids.size,
      ingestRetries,
      replays,
      replaysAnsweredWithSameId,
      ...audit,
      crashWindowEvents: wachap.crashWindow,
      ambiguousDelivered: wachap.ambiguousDelivered,
      crashes: wachap.crashes,
      outage: { start: new Date(outage.start).toISOString(), end: new Date(outage.end).toISOString() },
      wachapCalls: wachap.calls,
      emailsSent: mailbox.sends,
      emailsThrottled: mailbox.throttled,
      wachapCallsDuringOutage: wachap.callsDuringOutage,
      recoveryTicksFailed,
      throttled,
      duplicatesInjected: eventSource.duplicatesInjected,
      sweeps,
      overlappingSweeps,
      dlqDepth: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      unmaskedPhonesInLogs: logs.state.unmasked,
      logLines: logs.state.lines,
      wallSeconds: Math.round((performance.now() - wallStart) / 1000),
    };
  } finally {
    logs.restore();
  }
}
