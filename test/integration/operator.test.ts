// Operators' use cases on the real engines (DynamoDB, SQS): what a view shows and hides, cancel and re-drive against
// every state (a cancel racing a queued message included: the sender skips it, WaChap never hears of it), bulk
// re-drives that count first, change only their matches and resume by cursor, and an export read page by page.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendQueues } from '../../local/engines/sqs.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { ConflictError } from '../../shared/application/errors.js';
import {
  cancelNotification,
  getNotification,
  listNotifications,
  type OperatorDependencies,
  redriveMatching,
  redriveNotification,
} from '../../shared/application/operator.js';
import { EXPORT_COLUMNS, type ExportRow, exportRows } from '../../shared/application/operator-export.js';
import {
  type DeliveryChannel,
  type ListQuery,
  NotificationNotFoundError,
  type SendMessage,
} from '../../shared/application/ports.js';
import { type SenderDependencies, sendNotification } from '../../shared/application/send-notification.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import type { Notification } from '../../shared/domain/notification.js';
import { silentLog } from '../../shared/observability/logger.js';
import { putNotifications, randomTableName } from '../support/dynamodb.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';

const MINUTE = 60_000;
const NOW = new Date('2025-03-10T12:00:00.000Z');
const iso = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();
const OPERATOR = 'arn:aws:iam::000000000000:user/awa';
const POLICY = { maxAttempts: 10, validitySeconds: { otp: 600 } };

let engines: TestEngines;
let dynamo: DynamoDBClient;
let worlds = 0;

beforeAll(async () => {
  engines = await startTestEngines();
  dynamo = engines.dynamoClient;
});
afterAll(async () => {
  await engines?.stop();
});

/** A table and two queue lanes of its own, a clock at NOW, and a WaChap that counts its calls. */
async function world() {
  worlds += 1;
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  const doc = notificationDocumentClient(dynamo);
  const store = dynamoDbStore({ client: doc, tableName });
  const lanes = await createSendQueues(engines.sqsClient, { name: `operator-${Date.now()}-${worlds}` });
  const queue = new SqsSendQueue({ client: engines.sqsClient, ...lanes });
  const clock = () => NOW;
  const delivered: string[] = [];
  const channel: DeliveryChannel = {
    deliver: async (n) => {
      delivered.push(n.recipient.phone);
      return { ok: true, messageId: `WA-${delivered.length}`, durationMs: 5 };
    },
  };
  const deps: OperatorDependencies = { store, queue, log: silentLog, clock, policy: POLICY };
  const sender = (overrides: Partial<SenderDependencies> = {}): SenderDependencies => ({
    store,
    channels: { whatsapp: channel },
    queue,
    circuit: { isOpen: async () => false, open: async () => {} },
    log: silentLog,
    clock,
    random: () => 0.5,
    newClaimToken: ulid,
    policy: {
      retry: DEFAULT_RETRY_POLICY,
      providerHoldMs: 30 * MINUTE,
      claimLeaseMs: 2 * MINUTE,
      recordBackoffMs: [0],
    },
    ...overrides,
  });
  /** Receives and deletes what waits on a lane: the message bodies. */
  const drain = async (lane: 'standard' | 'priority'): Promise<SendMessage[]> => {
    const url = lane === 'priority' ? lanes.priorityQueueUrl : lanes.queueUrl;
    const bodies: SendMessage[] = [];
    for (;;) {
      const { Messages = [] } = await engines.sqsClient.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return bodies;
      for (const m of Messages) bodies.push(JSON.parse(m.Body!) as SendMessage);
      await Promise.all(
        Messages.map((m) =>
          engines.sqsClient.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! })),
        ),
      );
    }
  };
  const waiting = async (lane: 'standard' | 'priority'): Promise<number> => {
    const { Attributes } = await engines.sqsClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: lane === 'priority' ? lanes.priorityQueueUrl : lanes.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  };
  const put = async (...notifications: Notification[]) => {
    await putNotifications(doc, tableName, notifications, NOW);
    return notifications;
  };
  return { store, queue, deps, sender, delivered, drain, waiting, put };
}

const failedOnce = (overrides: Partial<Notification> = {}) =>
  makeNotification({
    status: 'failed',
    reason: 'temporary_error',
    attempts: 1,
    maxAttempts: 10,
    nextAttemptAt: iso(30 * MINUTE),
    updatedAt: iso(-MINUTE),
    lastError: {
      type: 'timeout',
      message: 'No answer within 15000 ms',
      classification: 'temporary',
      scope: 'transient',
      reason: 'temporary_error',
      at: iso(-MINUTE),
    },
    history: [{ at: iso(-MINUTE), outcome: 'failed', errorType: 'timeout', durationMs: 15_000 }],
    version: 3,
    ...overrides,
  });

const permanentlyFailed = (overrides: Partial<Notification> = {}): Notification => {
  const { nextAttemptAt: _next, ...n } = failedOnce({
    status: 'permanent_failure',
    reason: 'permanent_error',
    lastError: {
      type: 'application_error',
      message: 'Invalid number',
      httpStatus: 200,
      classification: 'permanent',
      scope: 'recipient',
      reason: 'permanent_error',
      at: iso(-MINUTE),
    },
    ...overrides,
  });
  return n;
};

const sent = (): Notification => {
  const { nextAttemptAt: _next, ...n } = makeNotification({
    status: 'sent',
    attempts: 1,
    sentAt: iso(-MINUTE),
    updatedAt: iso(-MINUTE),
    externalMessageId: 'WA-OLD',
    history: [{ at: iso(-MINUTE), outcome: 'sent', durationMs: 300 }],
    version: 3,
  });
  return n;
};

const conflictOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('getNotification', () => {
  it('shows what operators need and hides the claim token, the version and the store attributes', async () => {
    const w = await world();
    const [claimed] = await w.put(
      failedOnce({
        inFlight: { token: 'secret-claim-token', since: iso(-10_000), leaseUntil: iso(MINUTE) },
        queuedAt: iso(-20_000),
        idempotencyKey: 'order-42',
        operatorActions: [{ at: iso(-MINUTE), action: 'redrive', by: OPERATOR, from: 'failed' }],
      }),
    );

    const view = await getNotification(claimed!.id, w.deps);

    expect(view).toMatchObject({
      id: claimed!.id,
      status: 'failed',
      reason: 'temporary_error',
      attempts: 1,
      maxAttempts: 10,
      nextAttemptAt: claimed!.nextAttemptAt,
      category: 'colis_arrive',
      priority: 'normal',
      recipient: claimed!.recipient,
      lastError: claimed!.lastError,
      history: claimed!.history,
      operatorActions: claimed!.operatorActions,
      inFlight: true,
    });
    const json = JSON.stringify(view);
    expect(json).not.toContain('secret-claim-token');
    for (const hidden of [
      'version',
      'queuedAt',
      'idempotencyKey',
      'pk',
      'dueShard',
      'statusShard',
      'statusAt',
      'ttl',
    ]) {
      expect(JSON.parse(json)).not.toHaveProperty(hidden);
    }
  });

  it('says inFlight false once a claim has lapsed, and NotificationNotFoundError for an unknown id', async () => {
    const w = await world();
    const [lapsed] = await w.put(
      failedOnce({ inFlight: { token: 'tok', since: iso(-10 * MINUTE), leaseUntil: iso(-5 * MINUTE) } }),
    );

    expect((await getNotification(lapsed!.id, w.deps)).inFlight).toBe(false);
    await expect(getNotification(ulid(), w.deps)).rejects.toThrow(NotificationNotFoundError);
  });
});

describe('listNotifications', () => {
  it('pages views newest first, with a cursor while more remain', async () => {
    const w = await world();
    const stored = await w.put(
      ...Array.from({ length: 5 }, (_, i) => failedOnce({ createdAt: iso(-i * MINUTE), updatedAt: iso(-i * MINUTE) })),
    );

    const first = await listNotifications({ statuses: ['failed'], limit: 3 }, w.deps);
    const second = await listNotifications({ statuses: ['failed'], limit: 3, cursor: first.nextCursor! }, w.deps);

    expect([...first.items, ...second.items].map((v) => v.id)).toEqual(stored.map((n) => n.id));
    expect(first.items[0]).not.toHaveProperty('version');
    expect(second.nextCursor).toBeUndefined();
  });
});

describe('cancelNotification', () => {
  it('cancels a pending notification for good, recording who and why', async () => {
    const w = await world();
    const [pending] = await w.put(makeNotification({ nextAttemptAt: iso(0) }));

    const view = await cancelNotification(pending!.id, { by: OPERATOR, reason: 'sent twice upstream' }, w.deps);

    expect(view).toMatchObject({ status: 'cancelled', reason: 'cancelled_by_operator', inFlight: false });
    expect(view).not.toHaveProperty('nextAttemptAt', expect.anything());
    const stored = await w.store.get(pending!.id);
    expect(stored).toMatchObject({ status: 'cancelled', version: pending!.version + 1 });
    expect(stored?.operatorActions).toEqual([
      { at: NOW.toISOString(), action: 'cancel', by: OPERATOR, reason: 'sent twice upstream', from: 'pending' },
    ]);
  });

  it('cancels a failed one, and no sweep finds it due any more', async () => {
    const w = await world();
    const [failed] = await w.put(failedOnce({ nextAttemptAt: iso(-MINUTE) }));

    await cancelNotification(failed!.id, {}, w.deps);

    expect(await w.store.dueNotifications({ now: new Date(NOW.getTime() + 86_400_000), limit: 10 })).toEqual([]);
  });

  it('refuses while a sender holds a live claim: ConflictError, in flight, nothing written', async () => {
    const w = await world();
    const [claimed] = await w.put(
      makeNotification({ inFlight: { token: 'tok', since: iso(-1000), leaseUntil: iso(MINUTE) }, version: 2 }),
    );

    const error = await conflictOf(cancelNotification(claimed!.id, { by: OPERATOR }, w.deps));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ status: 'pending', inFlight: true, message: expect.stringMatching(/in flight/) });
    expect(await w.store.get(claimed!.id)).toEqual(claimed);
  });

  it.each([
    ['sent', sent],
    ['permanent_failure', () => permanentlyFailed()],
  ])('refuses a %s notification: ConflictError naming its status', async (status, build) => {
    const w = await world();
    const [final] = await w.put(build());

    const error = await conflictOf(cancelNotification(final!.id, {}, w.deps));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ status, inFlight: false });
  });

  it('answers NotificationNotFoundError for an unknown id', async () => {
    const w = await world();

    await expect(cancelNotification(ulid(), {}, w.deps)).rejects.toThrow(NotificationNotFoundError);
  });

  it('wins over a message already on the queue: the sender skips it and WaChap is never called', async () => {
    // Prepare: accepted and queued, as ingest does.
    const w = await world();
    const [pending] = await w.put(makeNotification({ nextAttemptAt: iso(0) }));
    await w.queue.enqueue({ id: pending!.id }, { priority: 'normal' });

    // Act: the operator cancels; the sender then takes the message off the queue.
    await cancelNotification(pending!.id, { by: OPERATOR }, w.deps);
    const [message] = await w.drain('standard');
    const result = await sendNotification(message!, w.sender());

    // Assess
    expect(result).toBe('skipped');
    expect(w.delivered).toEqual([]);
    expect((await w.store.get(pending!.id))?.status).toBe('cancelled');
  });

  it("wins over a sender that read the notification just before: the sender's claim loses, WaChap is never called", async () => {
    const w = await world();
    const [pending] = await w.put(makeNotification({ nextAttemptAt: iso(0) }));
    // The cancel lands between the sender's read and its claim.
    let cancelled = false;
    const racing: Store = {
      ...w.store,
      get: async (id) => {
        const read = await w.store.get(id);
        if (!cancelled) {
          cancelled = true;
          await cancelNotification(id, {}, w.deps);
        }
        return read;
      },
    };

    const result = await sendNotification({ id: pending!.id }, w.sender({ store: racing }));

    expect(result).toBe('skipped');
    expect(w.delivered).toEqual([]);
    expect((await w.store.get(pending!.id))?.status).toBe('cancelled');
  });
});

describe('redriveNotification', () => {
  it('makes a failed notification due at once and queues it on its lane', async () => {
    const w = await world();
    const [failed] = await w.put(failedOnce());

    const view = await redriveNotification(failed!.id, { by: OPERATOR, reason: 'WaChap is back' }, w.deps);

    expect(view).toMatchObject({ status: 'failed', attempts: 1, maxAttempts: 10, nextAttemptAt: NOW.toISOString() });
    expect(view.operatorActions).toEqual([
      { at: NOW.toISOString(), action: 'redrive', by: OPERATOR, reason: 'WaChap is back', from: 'failed' },
    ]);
    expect(await w.drain('standard')).toEqual([{ id: failed!.id }]);
    expect(await w.waiting('priority')).toBe(0);
  });

  it('reopens a permanent failure with a fresh budget, its history kept, and the sender then sends it', async () => {
    const w = await world();
    const [failed] = await w.put(permanentlyFailed({ attempts: 3 }));

    const view = await redriveNotification(failed!.id, { by: OPERATOR, reason: 'number fixed upstream' }, w.deps);

    expect(view).toMatchObject({
      status: 'failed',
      attempts: 3,
      maxAttempts: 13,
      nextAttemptAt: NOW.toISOString(),
      history: failed!.history,
      lastError: failed!.lastError,
    });
    expect(view.reason).toBeUndefined();
    expect(view.operatorActions?.at(-1)).toMatchObject({ action: 'redrive', from: 'permanent_failure', by: OPERATOR });
    const [message] = await w.drain('standard');
    expect(await sendNotification(message!, w.sender())).toBe('sent');
    expect(w.delivered).toHaveLength(1);
    expect((await w.store.get(failed!.id))?.history.map((h) => h.outcome)).toEqual(['failed', 'sent']);
  });

  it('keeps the budget of a failed one: only a final one gets a fresh budget', async () => {
    const w = await world();
    const [failed] = await w.put(failedOnce({ attempts: 4, maxAttempts: 5 }));

    const view = await redriveNotification(failed!.id, {}, w.deps);

    expect(view).toMatchObject({ status: 'failed', attempts: 4, maxAttempts: 5, nextAttemptAt: NOW.toISOString() });
  });

  it.each([
    ['expired', { status: 'expired', reason: 'validity_expired' }],
    // Its validity ran out while it waited in permanent_failure: as stale.
    ['permanent_failure', { status: 'permanent_failure', reason: 'permanent_error' }],
  ] as const)(
    'refuses an otp %s past its validity: its code is stale, nothing written or queued',
    async (status, state) => {
      const w = await world();
      const { nextAttemptAt: _next, ...otp } = makeNotification({
        category: 'otp',
        priority: 'high',
        ...state,
        expiresAt: iso(-20 * MINUTE),
        updatedAt: iso(-20 * MINUTE),
      });
      await w.put(otp);

      const error = await conflictOf(redriveNotification(otp.id, { by: OPERATOR }, w.deps));

      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ status, inFlight: false });
      expect((error as Error).message).toMatch(/stale.*upstream system must send a new notification/);
      expect(await w.store.get(otp.id)).toEqual(otp);
      expect(await w.waiting('priority')).toBe(0);
    },
  );

  it('re-drives an otp still within its validity without renewing it', async () => {
    const w = await world();
    const [otp] = await w.put(permanentlyFailed({ category: 'otp', priority: 'high', expiresAt: iso(5 * MINUTE) }));

    const view = await redriveNotification(otp!.id, {}, w.deps);

    expect(view).toMatchObject({ status: 'failed', expiresAt: iso(5 * MINUTE) });
    expect(await w.drain('priority')).toEqual([{ id: otp!.id }]);
  });

  it('re-drives an expired notification without a validity window, its passed validity removed', async () => {
    const w = await world();
    const { nextAttemptAt: _next, ...parcel } = makeNotification({
      category: 'colis_arrive',
      status: 'expired',
      reason: 'validity_expired',
      expiresAt: iso(-20 * MINUTE),
      updatedAt: iso(-20 * MINUTE),
    });
    await w.put(parcel);

    const view = await redriveNotification(parcel.id, {}, w.deps);

    expect(view).toMatchObject({ status: 'failed', maxAttempts: 10, nextAttemptAt: NOW.toISOString() });
    expect(view.expiresAt).toBeUndefined();
    expect(await w.drain('standard')).toEqual([{ id: parcel.id }]);
  });

  it.each([
    ['sent', sent],
    [
      'cancelled',
      () => ({
        ...makeNotification({ status: 'cancelled', reason: 'cancelled_by_operator' }),
        nextAttemptAt: undefined,
      }),
    ],
  ])('refuses a %s notification and queues nothing', async (status, build) => {
    const w = await world();
    const [final] = await w.put(build() as Notification);

    const error = await conflictOf(redriveNotification(final!.id, {}, w.deps));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ status, inFlight: false });
    expect(await w.waiting('standard')).toBe(0);
  });
});

describe('redriveMatching', () => {
  it('counts in a dry run and changes nothing; the real run re-drives exactly the matches', async () => {
    // Prepare: 30 wrong numbers (12 of them otp), 10 that ran out of attempts, 5 failed.
    const w = await world();
    const wrong = await w.put(
      ...Array.from({ length: 30 }, (_, i) => permanentlyFailed({ category: i < 12 ? 'otp' : 'colis_arrive' })),
    );
    const exhausted = await w.put(
      ...Array.from({ length: 10 }, () => permanentlyFailed({ reason: 'max_retries_exceeded' })),
    );
    const failed = await w.put(...Array.from({ length: 5 }, () => failedOnce()));
    const filter = { status: 'permanent_failure' as const, reason: 'permanent_error' as const };

    // Act + Assess: the dry run
    const dry = await redriveMatching({ ...filter, dryRun: true }, w.deps);
    expect(dry).toEqual({ dryRun: true, matched: 30, redriven: 0, skipped: 0 });
    for (const n of [...wrong, ...exhausted, ...failed]) expect(await w.store.get(n.id)).toEqual(n);
    expect(await w.waiting('standard')).toBe(0);

    // Act + Assess: narrowed to otp, then the rest
    const otp = await redriveMatching(
      { ...filter, category: 'otp', dryRun: false, by: OPERATOR, note: 'fixed' },
      w.deps,
    );
    const rest = await redriveMatching({ ...filter, dryRun: false }, w.deps);
    expect(otp).toEqual({ dryRun: false, matched: 12, redriven: 12, skipped: 0 });
    expect(rest).toEqual({ dryRun: false, matched: 18, redriven: 18, skipped: 0 });
    for (const n of wrong) {
      expect(await w.store.get(n.id)).toMatchObject({ status: 'failed', maxAttempts: n.attempts + 10 });
    }
    for (const n of [...exhausted, ...failed]) expect(await w.store.get(n.id)).toEqual(n);
    expect((await w.store.get(wrong[0]!.id))?.operatorActions?.[0]).toMatchObject({ by: OPERATOR, reason: 'fixed' });
    expect(new Set((await w.drain('standard')).map((m) => m.id))).toEqual(new Set(wrong.map((n) => n.id)));
  });

  it('skips expired otps as stale, and re-drives the other expired ones', async () => {
    const w = await world();
    const expired = (category: string) => {
      const { nextAttemptAt: _next, ...n } = makeNotification({
        category,
        priority: category === 'otp' ? 'high' : 'normal',
        status: 'expired',
        reason: 'validity_expired',
        expiresAt: iso(-20 * MINUTE),
        updatedAt: iso(-20 * MINUTE),
      });
      return n;
    };
    const otps = await w.put(...Array.from({ length: 3 }, () => expired('otp')));
    const parcels = await w.put(...Array.from({ length: 2 }, () => expired('colis_arrive')));

    const dry = await redriveMatching({ status: 'expired', dryRun: true }, w.deps);
    const run = await redriveMatching({ status: 'expired', dryRun: false }, w.deps);

    expect(dry).toEqual({ dryRun: true, matched: 5, redriven: 0, skipped: 3, stale: 3 });
    expect(run).toEqual({ dryRun: false, matched: 5, redriven: 2, skipped: 3, stale: 3 });
    for (const n of otps) expect(await w.store.get(n.id)).toEqual(n);
    expect(await w.waiting('priority')).toBe(0);
    expect(new Set((await w.drain('standard')).map((m) => m.id))).toEqual(new Set(parcels.map((n) => n.id)));
  });

  it('skips a match that changed after it was listed', async () => {
    const w = await world();
    const [changing, steady] = await w.put(
      permanentlyFailed({ createdAt: iso(-2 * MINUTE) }),
      permanentlyFailed({ createdAt: iso(-3 * MINUTE), updatedAt: iso(-2 * MINUTE) }),
    );
    const racing: Store = {
      ...w.store,
      listNotifications: async (query) => {
        const page = await w.store.listNotifications(query);
        // Meanwhile, someone else re-drives the first one.
        await redriveNotification(changing!.id, {}, w.deps);
        return page;
      },
    };

    const report = await redriveMatching({ status: 'permanent_failure', dryRun: false }, { ...w.deps, store: racing });

    expect(report).toEqual({ dryRun: false, matched: 2, redriven: 1, skipped: 1 });
    expect((await w.store.get(changing!.id))?.operatorActions).toHaveLength(1);
    expect((await w.store.get(steady!.id))?.status).toBe('failed');
  });

  it('decides on the stored copy: a match the index still shows one version behind is re-driven', async () => {
    const w = await world();
    const [failed] = await w.put(failedOnce());
    // The status index is eventually consistent: it may still hold the copy before the last write.
    const lagging: Store = {
      ...w.store,
      listNotifications: async (query) => {
        const page = await w.store.listNotifications(query);
        return { ...page, notifications: page.notifications.map((n) => ({ ...n, version: n.version - 1 })) };
      },
    };

    const report = await redriveMatching({ status: 'failed', dryRun: false }, { ...w.deps, store: lagging });

    expect(report).toMatchObject({ matched: 1, redriven: 1 });
    expect(await w.store.get(failed!.id)).toMatchObject({ version: failed!.version + 1 });
  });

  it('handles at most 500 matches a call and resumes by cursor: 1,200 matches in three calls, each once', async () => {
    const w = await world();
    const matches = await w.put(
      ...Array.from({ length: 1_200 }, (_, i) =>
        permanentlyFailed({ createdAt: iso(-(i % 300) * 1000), updatedAt: iso(-(i % 300) * 1000) }),
      ),
    );
    await w.put(...Array.from({ length: 50 }, () => permanentlyFailed({ reason: 'max_retries_exceeded' })));
    const filter = { status: 'permanent_failure' as const, reason: 'permanent_error' as const };

    const dryCounts: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await redriveMatching({ ...filter, dryRun: true, ...(cursor ? { cursor } : {}) }, w.deps);
      dryCounts.push(page.matched);
      cursor = page.nextCursor;
    } while (cursor);
    const reports = [];
    do {
      const page = await redriveMatching({ ...filter, dryRun: false, ...(cursor ? { cursor } : {}) }, w.deps);
      reports.push(page);
      cursor = page.nextCursor;
    } while (cursor);

    expect(dryCounts).toEqual([500, 500, 200]);
    expect(reports.map((r) => [r.matched, r.redriven, r.skipped])).toEqual([
      [500, 500, 0],
      [500, 500, 0],
      [200, 200, 0],
    ]);
    const stored = await Promise.all(matches.map((n) => w.store.get(n.id)));
    expect(stored.every((n) => n?.status === 'failed' && n.operatorActions?.length === 1)).toBe(true);
    expect(await w.waiting('standard')).toBe(1_200);
    await expect(redriveMatching({ ...filter, dryRun: false }, w.deps)).resolves.toMatchObject({ matched: 0 });
  }, 120_000);

  it('refuses a limit above 500, naming it', async () => {
    const w = await world();

    await expect(redriveMatching({ status: 'failed', dryRun: true, limit: 501 }, w.deps)).rejects.toMatchObject({
      problems: [{ path: 'limit', message: expect.any(String) }],
    });
  });
});

describe('exportRows', () => {
  let w: Awaited<ReturnType<typeof world>>;
  let stored: Notification[];
  const limits: number[] = [];

  beforeAll(async () => {
    w = await world();
    stored = await w.put(
      ...Array.from({ length: 3_000 }, (_, i) =>
        i % 2 === 0
          ? permanentlyFailed({
              createdAt: iso(-i * 1000),
              updatedAt: iso(-i * 1000),
              recipient: { phone: '+22370123456', name: 'Traoré, "Awa"\nBamako' },
            })
          : failedOnce({ createdAt: iso(-i * 1000), updatedAt: iso(-i * 1000) }),
      ),
    );
  }, 60_000);

  /** Every row of one call, and the cursor it returned; the page sizes it asked the store for. */
  async function collect(query: ListQuery) {
    const store: Store = {
      ...w.store,
      listNotifications: (q) => {
        limits.push(q.limit);
        return w.store.listNotifications(q);
      },
    };
    const rows: ExportRow[] = [];
    const pages = exportRows(query, { store });
    let next = await pages.next();
    for (; !next.done; next = await pages.next()) rows.push(next.value);
    return { rows, cursor: next.value };
  }

  it('yields every row newest first, reading the store a page at a time', async () => {
    limits.length = 0;

    const { rows, cursor } = await collect({ statuses: ['failed', 'permanent_failure'], limit: 5_000 });

    expect(cursor).toBeUndefined();
    expect(rows.map((r) => r.id)).toEqual(stored.map((n) => n.id));
    expect(Math.max(...limits)).toBeLessThanOrEqual(1_000);
    expect(limits.length).toBeGreaterThanOrEqual(3);
    const first = stored[0]!;
    expect(Object.keys(rows[0]!)).toEqual([...EXPORT_COLUMNS]);
    expect(rows[0]).toEqual({
      id: first.id,
      createdAt: first.createdAt,
      status: 'permanent_failure',
      reason: 'permanent_error',
      attempts: 1,
      category: 'colis_arrive',
      priority: 'normal',
      phone: '+22370123456',
      name: 'Traoré, "Awa"\nBamako',
      lastErrorType: 'application_error',
      lastErrorMessage: 'Invalid number',
      lastErrorHttpStatus: 200,
      nextAttemptAt: undefined,
      sentAt: undefined,
    });
  });

  it('stops at its limit with the cursor of the rest, which resumes exactly', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const page = await collect({
        statuses: ['failed', 'permanent_failure'],
        limit: 1_100,
        ...(cursor ? { cursor } : {}),
      });
      ids.push(...page.rows.map((r) => String(r.id)));
      cursor = page.cursor;
      calls += 1;
    } while (cursor);

    expect(calls).toBe(3);
    expect(ids).toEqual(stored.map((n) => n.id));
  });
});
