// The defects an independent review found between the provider probe, the senders and the store, each
// replayed against real engines (DynamoDB, SQS): a sender racing the release, a queue refusing the released,
// a release larger than one function's time, a failure that cannot be recorded, an abandoned last attempt.
// Each test failed before its fix.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendQueues } from '../../local/engines/sqs.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { dueShardOf } from '../../shared/adapters/dynamodb/table.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import type { SendOutcome } from '../../shared/adapters/wachap/client.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import { mapWithConcurrency } from '../../shared/application/concurrency.js';
import type { SendQueue } from '../../shared/application/ports.js';
import {
  type CircuitReport,
  type ProbeDependencies,
  ProviderCircuit,
  runCircuitCommand,
} from '../../shared/application/provider-circuit.js';
import { RELEASE_STOP_MARGIN_MS, VERIFY_AFTER_CLOSE_MS } from '../../shared/application/release-held.js';
import { type SenderDependencies, sendNotification } from '../../shared/application/send-notification.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import type { Notification } from '../../shared/domain/notification.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { silentLog } from '../../shared/observability/logger.js';
import { randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';

const MINUTE = 60_000;
const HOLD_MS = 30 * MINUTE;
const LEASE_MS = 2 * MINUTE;
const TOKEN_EXPIRED: SendOutcome = {
  ok: false,
  error: { type: 'http_error', httpStatus: 401, message: 'Unauthorized: token expired' },
  durationMs: 80,
};

let engines: TestEngines;
let dynamo: DynamoDBClient;
let queueNumber = 0;

beforeAll(async () => {
  engines = await startTestEngines();
  dynamo = engines.dynamoClient;
});
afterAll(async () => {
  await engines?.stop();
});

/** A world of its own per test: its table, its queue, a clock it moves, WaChap calls recorded. */
async function world() {
  queueNumber += 1;
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  const store = dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });
  const { queueUrl } = await createSendQueues(engines.sqsClient, { name: `races-${Date.now()}-${queueNumber}` });
  let now = Date.now();
  const clock = () => new Date(now);
  const wachapCalls: string[] = [];
  let answer: SendOutcome = { ok: true, messageId: 'MSG-1', httpStatus: 200, durationMs: 50 };
  const queue = new SqsSendQueue({ client: engines.sqsClient, queueUrl });
  const sender = (overrides: Partial<SenderDependencies> = {}): SenderDependencies => ({
    store,
    channels: {
      whatsapp: whatsAppChannel({
        send: async ({ phone }) => {
          wachapCalls.push(phone);
          return answer;
        },
      }),
    },
    queue,
    circuit: new ProviderCircuit({ store, clock, log: silentLog, cacheMs: 60_000 }),
    log: silentLog,
    clock,
    random: () => 0.5,
    newClaimToken: ulid,
    policy: { retry: DEFAULT_RETRY_POLICY, providerHoldMs: HOLD_MS, claimLeaseMs: LEASE_MS, recordBackoffMs: [0, 0] },
    ...overrides,
  });
  return {
    store,
    queue,
    queueUrl,
    clock,
    advance: (ms: number) => {
      now += ms;
    },
    wachapCalls,
    answer: (outcome: SendOutcome) => {
      answer = outcome;
    },
    sender,
    probe: (overrides: Partial<ProbeDependencies> = {}) => ({ ...probeDeps(store, queue, clock), ...overrides }),
    openCircuit: () =>
      new ProviderCircuit({ store, clock, log: silentLog, cacheMs: 0 }).open({
        reason: 'HTTP 401: Unauthorized: token expired',
        errorType: 'http_error',
        recommendation: 'Renew the token.',
      }),
  };
}

function probeDeps(
  store: Store,
  queue: Pick<SendQueue, 'enqueueMany'>,
  clock: () => Date = () => new Date(),
): ProbeDependencies {
  return {
    store,
    queue,
    provider: { checkConnection: async () => ({ ok: true }) },
    log: silentLog,
    clock,
    settings: { probeIntervalMs: MINUTE, holdMs: HOLD_MS, alertsEnabled: false, cooldownMs: 60 * MINUTE },
  };
}

/** Receives (and deletes) every message of the queue; returns the ids, one per message, duplicates kept. */
async function drain(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages = [] } = await engines.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return ids;
    for (const m of Messages) ids.push((JSON.parse(m.Body!) as { id: string }).id);
    await Promise.all(
      Messages.map((m) =>
        engines.sqsClient.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! })),
      ),
    );
  }
}

/** A notification as the sender leaves it when the circuit is open: failed, provider_unavailable, no attempt. */
function held(at: Date, overrides: Partial<Notification> = {}): Notification {
  return makeNotification({
    status: 'failed',
    reason: 'provider_unavailable',
    nextAttemptAt: new Date(at.getTime() + HOLD_MS).toISOString(),
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
    history: [{ at: at.toISOString(), outcome: 'held', errorType: 'circuit_open', durationMs: 0 }],
    ...overrides,
  });
}

describe('a sender racing the release (defect 1)', () => {
  it('a sender whose cached read says "open" sends a notification the probe just released, instead of holding it', async () => {
    // Prepare: the circuit is open and this sender has read it so (its cache would keep that for a minute).
    const w = await world();
    const n = held(w.clock());
    await w.store.create(n);
    await w.openCircuit();
    const senderDeps = w.sender();
    expect(await senderDeps.circuit.isOpen()).toBe(true);

    // Act: the probe finds WaChap healthy, closes the circuit and releases the backlog; the release's message
    // reaches that sender.
    const closed = await runCircuitCommand({ action: 'close' }, w.probe());
    expect(closed.released).toBe(1);
    expect(await drain(w.queueUrl)).toEqual([n.id]);
    const result = await sendNotification({ id: n.id }, senderDeps);

    // Assess: sent at once, not parked for another 30 minutes.
    expect(result).toBe('sent');
    expect(w.wachapCalls).toHaveLength(1);
    expect((await w.store.get(n.id))?.status).toBe('sent');
  });

  it('never re-applies a hold to a record that changed since it was read: the release that changed it wins', async () => {
    // Prepare: the circuit is open; a sender has read the held notification and the (fresh) open circuit...
    const w = await world();
    const n = held(w.clock());
    await w.store.create(n);
    await w.openCircuit();
    let released: CircuitReport | undefined;
    const racing: Pick<Store, 'get' | 'save' | 'incrementCounters'> = {
      get: (id) => w.store.get(id),
      incrementCounters: (at, delta) => w.store.incrementCounters(at, delta),
      // ...and just before its hold is written, the probe closes the circuit and releases that notification.
      save: async (next, expected) => {
        if (!released && next.reason === 'provider_unavailable') {
          released = await runCircuitCommand({ action: 'close' }, w.probe());
        }
        return w.store.save(next, expected);
      },
    };

    // Act
    const result = await sendNotification({ id: n.id }, w.sender({ store: racing }));

    // Assess: the sender let go; the notification is released, due, and on the queue.
    expect(released?.released).toBe(1);
    expect(result).toBe('skipped');
    const stored = (await w.store.get(n.id))!;
    expect(stored.reason).toBeUndefined();
    expect(Date.parse(stored.nextAttemptAt!)).toBeLessThanOrEqual(w.clock().getTime());
    expect(await drain(w.queueUrl)).toEqual([n.id]);
    expect(w.wachapCalls).toEqual([]);
  });
});

describe('a release the queue refuses (defect 2)', () => {
  it('counts refused ids as failures, keeps them, and queues them first at the next tick', async () => {
    // Prepare: three held, in one due-index shard (one page of the release); the queue refuses one of them on every
    // try of the first tick.
    const w = await world();
    const shard = dueShardOf('normal', ulid());
    const inShard = (): Notification => {
      for (;;) {
        const id = ulid();
        if (dueShardOf('normal', id) === shard) return held(w.clock(), { id });
      }
    };
    const backlog = [inShard(), inShard(), inShard()];
    for (const n of backlog) await w.store.create(n);
    await w.openCircuit();
    const refusedId = backlog[1]!.id;
    let refusing = true;
    const flaky: Pick<SendQueue, 'enqueueMany'> = {
      enqueueMany: async (tickets) => {
        const refused = tickets.filter((t) => t.id === refusedId);
        if (!refusing || refused.length === 0) return w.queue.enqueueMany(tickets);
        const result = await w.queue.enqueueMany(tickets.filter((t) => t.id !== refusedId));
        return { queued: result.queued, failed: [...result.failed, ...refused] };
      },
    };

    // Act 1
    const first = await runCircuitCommand({ action: 'close' }, w.probe({ queue: flaky }));

    // Assess 1: not counted as released, remembered as unqueued, the release still pending.
    expect(first).toMatchObject({ released: 2, releaseFailed: 1, releaseDone: false });
    const state = await w.store.getProviderState(WACHAP_PROVIDER);
    expect(state).toMatchObject({
      releasePending: true,
      release: { unqueued: [{ id: refusedId, priority: 'normal' }] },
    });
    expect((await drain(w.queueUrl)).sort()).toEqual(
      backlog
        .map((n) => n.id)
        .filter((id) => id !== refusedId)
        .sort(),
    );

    // Act 2: the queue is back.
    refusing = false;
    const second = await runCircuitCommand({ action: 'tick' }, w.probe({ queue: flaky }));

    // Assess 2
    expect(second.released).toBe(1);
    expect(await drain(w.queueUrl)).toEqual([refusedId]);
    expect((await w.store.getProviderState(WACHAP_PROVIDER))?.release?.unqueued).toBeUndefined();
  });
});

describe('a release larger than one tick (defects 2 and 3)', () => {
  it('stops before the time runs out, queues everything it released, and resumes exactly where it stopped', async () => {
    // Prepare: 1,200 held over both priorities, due over the next half hour.
    const w = await world();
    const COUNT = 1_200;
    const start = w.clock().getTime();
    const backlog = Array.from({ length: COUNT }, (_, i) =>
      held(new Date(start - HOLD_MS + ((i * 7) % COUNT) * 1_000), { priority: i % 3 === 0 ? 'high' : 'normal' }),
    );
    await mapWithConcurrency(backlog, 25, (n) => w.store.create(n));
    await w.openCircuit();
    let itemsRead = 0;
    const counting = Object.assign(Object.create(w.store) as Store, {
      dueNotificationsPage: async (input: Parameters<Store['dueNotificationsPage']>[0]) => {
        const page = await w.store.dueNotificationsPage(input);
        itemsRead += page.notifications.length;
        return page;
      },
    });
    // Each tick may read three pages before its function's time is nearly over.
    const tickBudget = () => {
      let checks = 0;
      return () => (++checks <= 3 ? 60_000 : RELEASE_STOP_MARGIN_MS - 1);
    };

    // Act: the close, then one tick a minute until the release is over.
    const reports = [await runCircuitCommand({ action: 'close' }, w.probe({ store: counting }), tickBudget())];
    while (reports.at(-1)?.releaseDone === false && reports.length < 50) {
      const tick = await runCircuitCommand({ action: 'tick' }, w.probe({ store: counting }), tickBudget());
      // Everything a tick released is on the queue when it ends: nothing is marked released and left behind.
      const stillHeldOrQueued = await mapWithConcurrency(backlog, 25, (n) => w.store.get(n.id));
      expect(stillHeldOrQueued.filter((n) => n?.reason !== 'provider_unavailable').length).toBe(
        reports.reduce((sum, r) => sum + r.released, 0) + tick.released,
      );
      reports.push(tick);
    }

    // Assess
    expect(reports.at(-1)?.releaseDone).toBe(true);
    expect(reports.length).toBeGreaterThan(4);
    const queued = await drain(w.queueUrl);
    expect(queued).toHaveLength(COUNT);
    expect(new Set(queued).size).toBe(COUNT);
    const after = await mapWithConcurrency(backlog, 25, (n) => w.store.get(n.id));
    expect(after.filter((n) => n?.reason === 'provider_unavailable')).toEqual([]);
    // Reads grow with the backlog: each held notification read about once (the verify pass reads none of them).
    expect(itemsRead).toBeLessThanOrEqual(COUNT * 1.1);
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).not.toHaveProperty('releasePending');
  }, 120_000);

  it('finds a hold written after the close (a slow sender, a lagging index) in the verify pass', async () => {
    const w = await world();
    await w.openCircuit();
    await runCircuitCommand({ action: 'close' }, w.probe());
    // A sender that read "open" just before the close writes its hold just after the release's first pass.
    const late = held(w.clock());
    await w.store.create(late);

    const verify = await runCircuitCommand({ action: 'tick' }, w.probe());

    expect(verify).toMatchObject({ released: 1, releaseDone: false });
    expect(await drain(w.queueUrl)).toEqual([late.id]);
    expect(await runCircuitCommand({ action: 'tick' }, w.probe())).toMatchObject({ released: 0, releaseDone: true });
  });

  it('as deployed, verifies no sooner than VERIFY_AFTER_CLOSE_MS after a close, so a hold landing late is still found', async () => {
    // A close within the probe's minute (its watch) is followed by the next tick seconds later.
    const w = await world();
    const deployed = () => {
      const deps = w.probe();
      return { ...deps, settings: { ...deps.settings, verifyAfterCloseMs: VERIFY_AFTER_CLOSE_MS } };
    };
    await w.openCircuit();
    await runCircuitCommand({ action: 'close' }, deployed());
    w.advance(10_000);

    const tooSoon = await runCircuitCommand({ action: 'tick' }, deployed());
    // A sender that read "open" just before the close writes its hold after that early tick.
    const late = held(w.clock());
    await w.store.create(late);
    w.advance(VERIFY_AFTER_CLOSE_MS);
    const verify = await runCircuitCommand({ action: 'tick' }, deployed());

    expect(tooSoon).toMatchObject({ released: 0, releaseDone: false });
    expect(verify).toMatchObject({ released: 1, releaseDone: false });
    expect(await drain(w.queueUrl)).toEqual([late.id]);
    expect(await runCircuitCommand({ action: 'tick' }, deployed())).toMatchObject({ released: 0, releaseDone: true });
  });
});

describe('a failure that cannot be recorded (defect 5)', () => {
  it('opens the circuit before writing, and tries the write again as a success is', async () => {
    const w = await world();
    const n = makeNotification({ nextAttemptAt: w.clock().toISOString() });
    await w.store.create(n);
    w.answer(TOKEN_EXPIRED);
    let throttles = 0;
    const circuitOpenWhenWriting: boolean[] = [];
    const throttled = Object.assign(Object.create(w.store) as Store, {
      save: async (next: Notification, expected: number) => {
        if (next.lastError) {
          circuitOpenWhenWriting.push((await w.store.getProviderState(WACHAP_PROVIDER))?.status === 'unavailable');
          if (throttles++ < 2) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        }
        return w.store.save(next, expected);
      },
    });

    const result = await sendNotification({ id: n.id }, w.sender({ store: throttled }));

    expect(result).toBe('held');
    expect(circuitOpenWhenWriting).toEqual([true, true, true]);
    expect(await w.store.get(n.id)).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
  });

  it('when it never can be: the redelivery holds without calling WaChap again, and the history keeps the attempt', async () => {
    const w = await world();
    const n = makeNotification({ nextAttemptAt: w.clock().toISOString() });
    await w.store.create(n);
    w.answer(TOKEN_EXPIRED);
    const broken = Object.assign(Object.create(w.store) as Store, {
      save: async (next: Notification, expected: number) => {
        if (next.lastError) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        return w.store.save(next, expected);
      },
    });

    await expect(sendNotification({ id: n.id }, w.sender({ store: broken }))).rejects.toThrow(/could not be recorded/);
    // SQS hands the message back after its visibility timeout, by when the claim has lapsed.
    w.advance(LEASE_MS + MINUTE);
    const again = await sendNotification({ id: n.id }, w.sender());

    expect(again).toBe('held');
    expect(w.wachapCalls).toHaveLength(1);
    const stored = (await w.store.get(n.id))!;
    expect(stored).toMatchObject({ status: 'failed', reason: 'provider_unavailable' });
    expect(stored.history.map((h) => h.outcome)).toEqual(['unknown', 'held']);
  });
});

describe('a hold or an expiry the store throttles (a soak run: a throttled hold waited out the visibility timeout)', () => {
  /** The store, with the saves `matches` picks failing `times` times (a throttle), or landing with their answer lost. */
  const faulty = (
    store: Store,
    matches: (next: Notification) => boolean,
    fault: 'throttle' | 'lost answer',
    times = 2,
  ) => {
    let faults = 0;
    return Object.assign(Object.create(store) as Store, {
      save: async (next: Notification, expected: number) => {
        if (!matches(next) || faults >= times) return store.save(next, expected);
        faults++;
        if (fault === 'lost answer') {
          await store.save(next, expected);
          throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
        }
        throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      },
    });
  };
  const isHold = (next: Notification) => next.history.at(-1)?.outcome === 'held';

  it('holds after the throttles, instead of failing the message back to the queue for its visibility timeout', async () => {
    const w = await world();
    const n = makeNotification({ nextAttemptAt: w.clock().toISOString() });
    await w.store.create(n);
    await w.openCircuit();

    const result = await sendNotification({ id: n.id }, w.sender({ store: faulty(w.store, isHold, 'throttle') }));

    expect(result).toBe('held');
    expect(w.wachapCalls).toHaveLength(0);
    const stored = (await w.store.get(n.id))!;
    expect(stored).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
    expect(stored.history.map((h) => h.outcome)).toEqual(['held']);
  });

  /** Email allowed for OTPs, 2 minutes before their expiry, with an email channel that records what it sends. */
  const withEmail = (emailed: string[]) => ({
    channels: {
      enabled: ['whatsapp', 'email'] as const,
      emailFallbackCategories: ['otp'],
      fallbackBeforeExpiryMs: 2 * MINUTE,
    },
    email: {
      deliver: async ({ recipient }: Pick<Notification, 'recipient'>) => {
        emailed.push(recipient.email ?? '');
        return { ok: true as const, messageId: 'ses-1', durationMs: 5 };
      },
    },
  });
  const otp = (w: Awaited<ReturnType<typeof world>>, expiresInMs: number) =>
    makeNotification({
      category: 'otp',
      recipient: { phone: '+22370123456', email: 'awa@example.com' },
      nextAttemptAt: w.clock().toISOString(),
      expiresAt: new Date(w.clock().getTime() + expiresInMs).toISOString(),
    });

  it('a hold whose write landed while its answer was lost is written once, and still asks for its look at the fallback instant', async () => {
    const w = await world();
    const n = otp(w, 10 * MINUTE);
    await w.store.create(n);
    await w.openCircuit();
    const looks: { id: string; delaySeconds?: number }[] = [];
    const { channels } = withEmail([]);
    const base = w.sender();

    const result = await sendNotification(
      { id: n.id },
      w.sender({
        store: faulty(w.store, isHold, 'lost answer', 1),
        queue: { enqueue: async (message, options) => void looks.push({ id: message.id, ...options }) },
        policy: { ...base.policy, channels },
      }),
    );

    expect(result).toBe('held');
    const stored = (await w.store.get(n.id))!;
    expect(stored).toMatchObject({ status: 'failed', reason: 'provider_unavailable', version: n.version + 1 });
    expect(stored.history.map((h) => h.outcome)).toEqual(['held']);
    // The look at the fallback instant (8 minutes away, a second past it): without it, only the sweep (every 30
    // minutes) would see the OTP again before it expires.
    expect(looks).toEqual([{ id: n.id, priority: n.priority, delaySeconds: 8 * 60 + 1 }]);
  });

  it.each([
    ['whose write landed while its answer was lost', 'lost answer', 1],
    ['the store throttles twice', 'throttle', 2],
  ] as const)('a switch to email %s is tried again, and the email sent once', async (_, fault, times) => {
    const w = await world();
    const n = otp(w, MINUTE);
    await w.store.create(n);
    await w.openCircuit();
    const emailed: string[] = [];
    const { channels, email } = withEmail(emailed);
    const base = w.sender();
    const isSwitch = (next: Notification) => next.channel === 'email' && next.inFlight === undefined;

    const result = await sendNotification(
      { id: n.id },
      w.sender({
        store: faulty(w.store, isSwitch, fault, times),
        channels: { ...base.channels, email },
        policy: { ...base.policy, channels },
      }),
    );

    expect(result).toBe('sent');
    expect(emailed).toEqual(['awa@example.com']);
    expect(w.wachapCalls).toHaveLength(0);
    expect(await w.store.get(n.id)).toMatchObject({ status: 'sent', channel: 'email', attempts: 1 });
  });

  it('a hold that meets another change after a failed try is theirs: not taken for its own write', async () => {
    const w = await world();
    const n = makeNotification({ nextAttemptAt: w.clock().toISOString() });
    await w.store.create(n);
    await w.openCircuit();
    // The first try is throttled; meanwhile the probe releases it (another writer, another instant).
    let throttled = false;
    const racing = Object.assign(Object.create(w.store) as Store, {
      save: async (next: Notification, expected: number) => {
        if (isHold(next) && !throttled) {
          throttled = true;
          const current = (await w.store.get(n.id))!;
          await w.store.save(
            { ...current, version: current.version + 1, updatedAt: new Date(w.clock().getTime() + 1).toISOString() },
            current.version,
          );
          throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        }
        return w.store.save(next, expected);
      },
    });

    const result = await sendNotification({ id: n.id }, w.sender({ store: racing }));

    expect(result).toBe('skipped');
    const stored = (await w.store.get(n.id))!;
    expect(stored.history.map((h) => h.outcome)).toEqual([]);
    expect(stored.reason).toBeUndefined();
  });

  it('expires after the throttles', async () => {
    const w = await world();
    const n = makeNotification({
      nextAttemptAt: w.clock().toISOString(),
      expiresAt: new Date(w.clock().getTime() - 1000).toISOString(),
    });
    await w.store.create(n);

    const expiring = faulty(w.store, (next) => next.status === 'expired', 'throttle');
    const result = await sendNotification({ id: n.id }, w.sender({ store: expiring }));

    expect(result).toBe('expired');
    expect(w.wachapCalls).toHaveLength(0);
    expect(await w.store.get(n.id)).toMatchObject({ status: 'expired', reason: 'validity_expired' });
  });

  it('gives the message back when the throttles outlast the tries (the queue brings it again)', async () => {
    const w = await world();
    const n = makeNotification({ nextAttemptAt: w.clock().toISOString() });
    await w.store.create(n);
    await w.openCircuit();

    const always = faulty(w.store, isHold, 'throttle', Number.POSITIVE_INFINITY);
    await expect(sendNotification({ id: n.id }, w.sender({ store: always }))).rejects.toThrow(/throttled/);
    expect(await w.store.get(n.id)).toMatchObject({ status: 'pending', version: n.version });
  });
});

describe('a claim whose answer was lost', () => {
  it('finds its own claim again (the write landed, the answer timed out) and sends once', async () => {
    const w = await world();
    const n = makeNotification({ nextAttemptAt: w.clock().toISOString() });
    await w.store.create(n);
    let lostOnce = false;
    const timingOut = Object.assign(Object.create(w.store) as Store, {
      save: async (next: Notification, expected: number) => {
        await w.store.save(next, expected);
        if (next.inFlight && !lostOnce) {
          lostOnce = true;
          throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
        }
      },
    });

    const result = await sendNotification({ id: n.id }, w.sender({ store: timingOut }));

    expect(lostOnce).toBe(true);
    expect(result).toBe('sent');
    expect(w.wachapCalls).toHaveLength(1);
    expect(await w.store.get(n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });
});

/** A notification whose sender claimed it a lease and a minute ago, then died before recording anything. */
function abandoned(now: Date, overrides: Partial<Notification> = {}) {
  const since = new Date(now.getTime() - LEASE_MS - MINUTE);
  const leaseUntil = new Date(since.getTime() + LEASE_MS).toISOString();
  const n = makeNotification({
    nextAttemptAt: since.toISOString(),
    inFlight: { token: 'dead-sender', since: since.toISOString(), leaseUntil },
    ...overrides,
  });
  return { n, since };
}

describe('attempt bookkeeping (defect 8)', () => {
  it('at 9 of 10 with an abandoned claim, gives up instead of making an eleventh call', async () => {
    const w = await world();
    const { n, since } = abandoned(w.clock(), {
      status: 'failed',
      reason: 'temporary_error',
      attempts: 9,
      maxAttempts: 10,
    });
    await w.store.create(n);

    const result = await sendNotification({ id: n.id }, w.sender());

    expect(result).toBe('exhausted');
    expect(w.wachapCalls).toEqual([]);
    const stored = (await w.store.get(n.id))!;
    expect(stored).toMatchObject({ status: 'permanent_failure', reason: 'max_retries_exceeded', attempts: 10 });
    expect(stored.history.at(-1)).toMatchObject({ outcome: 'unknown', at: since.toISOString() });
  });

  it('a hold over an abandoned claim keeps the unknown attempt in the history', async () => {
    const w = await world();
    const { n } = abandoned(w.clock());
    await w.store.create(n);
    await w.openCircuit();

    expect(await sendNotification({ id: n.id }, w.sender())).toBe('held');

    const stored = (await w.store.get(n.id))!;
    expect(stored.history.map((h) => h.outcome)).toEqual(['unknown', 'held']);
    expect(stored.attempts).toBe(1);
    expect(w.wachapCalls).toEqual([]);
  });
});
