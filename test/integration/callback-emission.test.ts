// Status callbacks leave with the moves (applyTransition), on the real table: one per move that matters, never
// failing the move; and the crash window between a move's write and its callback's enqueue is closed where a retry
// naturally follows: a redelivered message, a write whose answer was lost, an operator's repeated cancel, a sweep that
// finds a notification already ended. Each re-emission carries the same event id, so the receiver keeps one.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/application/errors.js';
import { cancelNotification, type OperatorDependencies } from '../../shared/application/operator.js';
import type { CallbackQueue } from '../../shared/application/ports.js';
import { runRetrySweep, type SweepDependencies } from '../../shared/application/retry-sweep.js';
import { type SenderDependencies, sendNotification } from '../../shared/application/send-notification.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import type { CallbackTarget, OutgoingCallback } from '../../shared/domain/callbacks.js';
import { DEFAULT_VALIDITY_SECONDS } from '../../shared/domain/new-notification.js';
import type { Notification } from '../../shared/domain/notification.js';
import { type CollectingLog, collectingLog } from '../support/collecting-log.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';

const HOOK = 'https://tms.example.com/hooks/wachap';

let engines: TestEngines;
let log: CollectingLog;
let emitted: { callback: OutgoingCallback; target: CallbackTarget }[];
let refuse = false;

/** The callback queue as the movers see it, recording what they hand over; `refuse` makes it fail as SQS can. */
const callbacks: CallbackQueue = {
  enqueue: async (callback, target) => {
    if (refuse) throw new Error('SQS unavailable');
    emitted.push({ callback, target });
  },
};

const due = (overrides: Partial<Notification> = {}) =>
  makeNotification({
    nextAttemptAt: new Date(Date.now() - 1000).toISOString(),
    maxAttempts: 10,
    callbackUrl: HOOK,
    caller: 'key-1',
    ...overrides,
  });

function senderDeps(overrides: Partial<SenderDependencies> = {}): SenderDependencies {
  return {
    store: engines.store,
    callbacks,
    channels: { whatsapp: { deliver: async () => ({ ok: true, messageId: 'MSG-1', durationMs: 5 }) } },
    queue: { enqueue: async () => undefined },
    circuit: { isOpen: async () => false, open: async () => undefined },
    log,
    clock: () => new Date(),
    random: () => 0.5,
    newClaimToken: () => `tok-${Math.random()}`,
    policy: {
      retry: { ...DEFAULT_RETRY_POLICY, jitter: 0 },
      providerHoldMs: 30 * 60_000,
      claimLeaseMs: 60_000,
      recordBackoffMs: [0, 0],
    },
    ...overrides,
  };
}

const operatorDeps = (): OperatorDependencies => ({
  store: engines.store,
  callbacks,
  queue: { enqueue: async () => undefined, enqueueMany: async () => ({ queued: [], failed: [] }) },
  log,
  clock: () => new Date(),
  policy: { maxAttempts: 10, validitySeconds: DEFAULT_VALIDITY_SECONDS },
});

beforeAll(async () => {
  engines = await startTestEngines();
});
afterAll(async () => {
  await engines?.stop();
});
beforeEach(() => {
  emitted = [];
  refuse = false;
  log = collectingLog();
});

describe('status callbacks leave with the moves', () => {
  it('hands the sent event to the queue after the write, with its caller and the move’s version in its id', async () => {
    const n = due();
    await engines.store.create(n);

    expect(await sendNotification({ id: n.id }, senderDeps())).toBe('sent');

    const stored = (await engines.store.get(n.id))!;
    expect(emitted).toEqual([
      {
        callback: expect.objectContaining({ id: `${n.id}.v${stored.version}` }),
        target: { url: HOOK, caller: 'key-1' },
      },
    ]);
    expect(emitted[0]!.callback.event).toMatchObject({ type: 'notification.sent', data: { id: n.id, attempts: 1 } });
  });

  it('never fails the move when the queue refuses: the notification is sent, a warning names the ids', async () => {
    const n = due();
    await engines.store.create(n);
    refuse = true;

    expect(await sendNotification({ id: n.id }, senderDeps())).toBe('sent');

    expect((await engines.store.get(n.id))?.status).toBe('sent');
    expect(log.messages('warn')).toContain('status callback not queued; the caller will not hear of this move');
    expect(log.text()).toContain(n.id);
    expect(log.text()).not.toContain(n.recipient.phone);
  });

  it('emits nothing for a notification without callbackUrl, nor from a function without a callback queue', async () => {
    const plain = due({ callbackUrl: undefined });
    const asked = due();
    await engines.store.create(plain);
    await engines.store.create(asked);

    await sendNotification({ id: plain.id }, senderDeps());
    await sendNotification({ id: asked.id }, senderDeps({ callbacks: undefined }));

    expect(emitted).toEqual([]);
  });
});

describe('the crash window between the write and the callback', () => {
  it('is closed by the redelivered message: the sender finds it sent and emits the same event again', async () => {
    const n = due();
    await engines.store.create(n);
    await sendNotification({ id: n.id }, senderDeps());

    // The sender died after its write: SQS delivers the message again.
    expect(await sendNotification({ id: n.id }, senderDeps())).toBe('skipped');

    expect(emitted).toHaveLength(2);
    expect(emitted[1]).toEqual(emitted[0]);
  });

  it('is closed when the outcome write landed but its answer was lost: the retry finds it made and emits it', async () => {
    const n = due();
    await engines.store.create(n);
    let lost = false;
    const store = {
      ...engines.store,
      // The first write of the outcome lands, then the connection drops before its answer.
      save: async (next: Notification, expected: number, now?: Date) => {
        await engines.store.save(next, expected, now);
        if (next.status === 'sent' && !lost) {
          lost = true;
          throw new Error('socket hang up');
        }
      },
    };

    expect(await sendNotification({ id: n.id }, senderDeps({ store }))).toBe('skipped');

    const stored = (await engines.store.get(n.id))!;
    expect(stored.status).toBe('sent');
    expect(emitted.map((e) => e.callback.id)).toEqual([`${n.id}.v${stored.version}`]);
  });

  it("is closed by an operator's repeated cancel: refused as final, and the cancelled event emitted again", async () => {
    const n = due({ nextAttemptAt: new Date(Date.now() + 3_600_000).toISOString() });
    await engines.store.create(n);
    await cancelNotification(n.id, { by: 'ops' }, operatorDeps());

    // The answer was lost (a timeout at the operator's end): the operator cancels again.
    await expect(cancelNotification(n.id, { by: 'ops' }, operatorDeps())).rejects.toBeInstanceOf(ConflictError);

    expect(emitted.map((e) => e.callback.event.type)).toEqual(['notification.cancelled', 'notification.cancelled']);
    expect(emitted[1]!.callback.id).toBe(emitted[0]!.callback.id);
  });

  it('is closed by a sweep that finds a due copy of a notification already expired (a lagging index)', async () => {
    const n = due({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    await engines.store.create(n);
    const deps: SweepDependencies = {
      store: engines.store,
      queue: { enqueueMany: async (tickets) => ({ queued: [...tickets], failed: [] }) },
      callbacks,
      log,
      clock: () => new Date(),
      queueLeaseMs: 60_000,
      writeConcurrency: 2,
    };
    const request = { dryRun: false, verbose: false, limit: 10, maxRetries: 10, configuredMaxRetries: 10 };
    await runRetrySweep(request, deps);
    expect(emitted.map((e) => e.callback.event.type)).toEqual(['notification.expired']);

    // The due index still shows the old copy: the next sweep's write loses, and it emits the event again.
    const stale = await runRetrySweep(request, {
      ...deps,
      store: { ...engines.store, dueNotifications: async () => [n] },
    });

    expect(stale.skipped).toBe(1);
    expect(emitted).toHaveLength(2);
    expect(emitted[1]!.callback.id).toBe(emitted[0]!.callback.id);
  });
});
