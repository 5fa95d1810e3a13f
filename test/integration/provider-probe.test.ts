// The provider probe against real engines (DynamoDB, SQS, SES) and the WaChap sandbox: the scheduled
// tick, the probe's pace, the alert's cooldown, the release of the held backlog, and the operators'
// forced open and close. Each test gets its own table and queue, so the circuit starts never opened.

import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROVIDER_PROBE_TIMEOUT_SECONDS } from '../../functions/catalog.js';
import { createProviderProbeHandler } from '../../functions/provider-probe/create-handler.js';
import { storedEmails } from '../../local/engines/ses.js';
import { createSendQueues } from '../../local/engines/sqs.js';
import { type SandboxMode, startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { createWaChapClient } from '../../shared/adapters/wachap/client.js';
import type { InvokeRejection } from '../../shared/application/invoke-payload.js';
import {
  type CircuitReport,
  type ProbeDependencies,
  ProviderCircuit,
  runCircuitCommand,
  WATCH_STOP_MARGIN_MS,
} from '../../shared/application/provider-circuit.js';
import { VERIFY_AFTER_CLOSE_MS } from '../../shared/application/release-held.js';
import type { Notification } from '../../shared/domain/notification.js';
import { DRAIN_WATCH_MS, WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import type { WaChapInstance } from '../../shared/domain/wachap-instances.js';
import { silentLog } from '../../shared/observability/logger.js';
import { randomTableName } from '../support/dynamodb.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext } from '../support/lambda.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const INTERVAL_MS = MINUTE;
const HOLD_MS = 30 * MINUTE;
const COOLDOWN_MS = 60 * MINUTE;
const CREDENTIALS = { instanceId: '609ACF283XXXX', accessToken: 'secret-token-646116c7' };
const FROM = 'alerts@ts-aircargo.com';

let engines: TestEngines;
let sandbox: WaChapSandbox;
let dynamo: DynamoDBClient;
let ses: SESClient;
let testNumber = 0;

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<CircuitReport | InvokeRejection>;

/** One test's world: its own table, queue and admin address, a clock it moves, and WaChap requests counted. */
interface World {
  store: Store;
  queueUrl: string;
  admin: string;
  deps: ProbeDependencies;
  handler: Handler;
  /** Every HTTP request the probe made to WaChap (get_qrcode), whatever the answer. */
  wachapRequests: () => number;
  /** Moves the probe's clock forward. */
  advance: (ms: number) => void;
  run: (payload?: unknown) => Promise<CircuitReport>;
  emails: () => Promise<Awaited<ReturnType<typeof storedEmails>>>;
}

/**
 * `instances`: the handler is given the list of WaChap instances, as deployed (handler.ts), each probed with the
 * world's client; absent, it runs the one circuit without a list.
 */
async function world(
  settings: Partial<ProbeDependencies['settings']> = {},
  instances?: readonly WaChapInstance[],
): Promise<World> {
  testNumber += 1;
  const tableName = randomTableName();
  await ensureTable(dynamo, tableName);
  const { queueUrl } = await createSendQueues(engines.sqsClient, { name: `probe-${Date.now()}-${testNumber}` });
  const store = dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });
  const admin = `admin-${testNumber}-${Date.now()}@ts-aircargo.com`;
  let requests = 0;
  let offset = 0;
  const countingFetch: typeof fetch = (input, init) => {
    requests += 1;
    return fetch(input, init);
  };
  const deps: ProbeDependencies = {
    store,
    queue: new SqsSendQueue({ client: engines.sqsClient, queueUrl }),
    provider: createWaChapClient({
      baseUrl: sandbox.url,
      timeoutMs: 2_000,
      credentials: CREDENTIALS,
      fetch: countingFetch,
    }),
    mailer: new SesMailer(ses, FROM),
    log: silentLog,
    clock: () => new Date(Date.now() + offset),
    settings: {
      probeIntervalMs: INTERVAL_MS,
      holdMs: HOLD_MS,
      alertsEnabled: true,
      adminEmail: admin,
      cooldownMs: COOLDOWN_MS,
      ...settings,
    },
  };
  const probes = instances && { list: async () => [...instances], probe: () => deps.provider };
  const handler = createProviderProbeHandler(new Logger({ logLevel: 'SILENT' }), deps, probes) as unknown as Handler;
  return {
    store,
    queueUrl,
    admin,
    deps,
    handler,
    wachapRequests: () => requests,
    advance: (ms) => {
      offset += ms;
    },
    run: async (payload = {}) => {
      const result = await handler(payload, lambdaContext('provider-probe'));
      if ('statusCode' in result) throw new Error(`rejected: ${JSON.stringify(result)}`);
      return result;
    },
    emails: async () => (await storedEmails(engines.ses!.endpoint)).filter((e) => e.destination.to.includes(admin)),
  };
}

/** What the sender does on a provider-wide failure. */
const openBySender = (w: World) =>
  new ProviderCircuit({ store: w.store, clock: w.deps.clock, log: silentLog, cacheMs: 0 }).open({
    reason: 'HTTP 401: Unauthorized: token expired',
    errorType: 'http_error',
    recommendation: 'Renew the WaChap access token in the dashboard.',
  });

/** Drains the queue and returns the notification ids it held. */
async function queuedIds(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages = [] } = await engines.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return ids.sort();
    for (const m of Messages) {
      ids.push((JSON.parse(m.Body!) as { id: string }).id);
      await engines.sqsClient.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}

const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();

/** A notification held for the provider, as the sender leaves it: failed, provider_unavailable, no attempt used. */
const heldNotification = (nextInMs: number, overrides: Partial<Notification> = {}) =>
  makeNotification({
    status: 'failed',
    reason: 'provider_unavailable',
    attempts: 0,
    nextAttemptAt: fromNow(nextInMs),
    updatedAt: fromNow(0),
    history: [{ at: fromNow(0), outcome: 'held', errorType: 'circuit_open', durationMs: 0 }],
    ...overrides,
  });

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([startTestEngines({ ses: true }), startWaChapSandbox(CREDENTIALS)]);
  dynamo = engines.dynamoClient;
  ses = new SESClient({ endpoint: engines.ses!.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  ses?.destroy();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});
beforeEach(() => sandbox.reset());

describe('the scheduled tick', () => {
  it('does nothing while the circuit is closed: no WaChap request, no write, no email', async () => {
    const w = await world();
    sandbox.configure({ mode: 'token_expired' });

    const never = await w.run({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
    expect(never).toMatchObject({ action: 'tick', circuit: null, probed: false, released: 0 });
    expect(never.alert).toBeUndefined();

    await openBySender(w);
    await w.run({ action: 'close' });
    // The tick after a close verifies that nothing held is left, and ends the release.
    expect(await w.run()).toMatchObject({ released: 0, releaseDone: true, circuit: { status: 'healthy' } });
    const closed = await w.store.getProviderState(WACHAP_PROVIDER);
    expect(closed?.releasePending).toBeUndefined();
    const requestsBefore = w.wachapRequests();
    const again = await w.run();
    expect(again).toMatchObject({ action: 'tick', circuit: { status: 'healthy' }, probed: false, released: 0 });
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(closed);

    expect(w.wachapRequests()).toBe(requestsBefore);
    expect(w.wachapRequests()).toBe(0);
    expect(sandbox.requests()).toBe(0);
    expect(await w.emails()).toEqual([]);
  });

  it.each<[SandboxMode, RegExp]>([
    ['token_expired', /^http_error 401: .*token expired/i],
    ['subscription_expired', /^http_error 403: .*subscription expired/i],
    ['disconnected', /^application_error 200: .*disconnected/i],
    ['unavailable', /^http_error 503/],
  ])('while open and WaChap still %s: probes, stays open, records the probe, alerts once', async (mode, result) => {
    const w = await world();
    await openBySender(w);
    sandbox.configure({ mode });
    const opened = (await w.store.getProviderState(WACHAP_PROVIDER))!;

    const report = await w.run();

    expect(report).toMatchObject({ action: 'tick', probed: true, released: 0, alert: 'sent' });
    expect(report.probeResult).toMatch(result);
    expect(w.wachapRequests()).toBe(1);
    const state = await w.store.getProviderState(WACHAP_PROVIDER);
    expect(state).toMatchObject({
      status: 'unavailable',
      since: opened.since,
      reason: opened.reason,
      lastProbeAt: report.now,
      lastProbeResult: report.probeResult,
      version: opened.version + 1,
    });
    expect(report.circuit).toEqual(state);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toMatch(/^\[local\] \[CRITIQUE\] .*WaChap est indisponible/);
    expect(emails[0]?.from).toBe(FROM);
    expect(emails[0]?.body.text).toContain('token expired');
    expect(emails[0]?.body.text).toContain('npm run circuit -- --close');
    // The probe checks the connection; it never sends a message.
    expect(sandbox.requests()).toBe(0);
  });

  it("a deployed stage's email names the command for that stage, which closes that stage's circuit", async () => {
    const w = await world({ stage: 'prod' });
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });

    await w.run();

    const [email] = await w.emails();
    expect(email?.body.text).toMatch(/: npm run circuit -- --stage prod --close$/m);
    expect(email?.body.html).toContain('npm run circuit -- --stage prod --close');
  });

  it('probes at most once per interval, and emails at most once per cooldown', async () => {
    const w = await world();
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });

    const first = await w.run();
    expect(first).toMatchObject({ probed: true, alert: 'sent' });
    const afterFirst = await w.store.getProviderState(WACHAP_PROVIDER);

    // A tick half an interval later (an operator's, say): no probe, no write, no second email.
    w.advance(INTERVAL_MS / 2);
    const second = await w.run();
    expect(second).toMatchObject({ probed: false, alert: 'cooldown', released: 0 });
    expect(second.probeResult).toBeUndefined();
    expect(w.wachapRequests()).toBe(1);
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(afterFirst);

    // The next minute's tick: probed again, still within the alert's cooldown.
    w.advance(INTERVAL_MS / 2);
    const third = await w.run();
    expect(third).toMatchObject({ probed: true, alert: 'cooldown' });
    expect(w.wachapRequests()).toBe(2);
    expect((await w.store.getProviderState(WACHAP_PROVIDER))?.lastProbeAt).toBe(third.now);
    expect(await w.emails()).toHaveLength(1);

    // An hour on, still broken: reminded once more.
    w.advance(COOLDOWN_MS);
    const later = await w.run();
    expect(later).toMatchObject({ probed: true, alert: 'sent' });
    const emails = await w.emails();
    expect(emails).toHaveLength(2);
    expect(emails[1]?.body.text).toMatch(/since .* \(1 h 0\d min\)/);
    expect(sandbox.requests()).toBe(0);
  });

  it('says why no email went out when alerts are off or have nowhere to go', async () => {
    const disabled = await world({ alertsEnabled: false });
    await openBySender(disabled);
    sandbox.configure({ mode: 'token_expired' });
    expect((await disabled.run()).alert).toBe('disabled');

    const nowhere = await world({ adminEmail: undefined });
    await openBySender(nowhere);
    expect((await nowhere.run()).alert).toBe('not_configured');
  });
});

describe('recovery', () => {
  it('a tick after WaChap is healthy closes the circuit and releases the held backlog at once', async () => {
    const w = await world();
    const held = [
      heldNotification(5 * MINUTE),
      heldNotification(HOLD_MS - MINUTE, { attempts: 2, priority: 'high' }),
      // Its hold ran out before the sweep came by: still held.
      heldNotification(-MINUTE),
    ];
    const untouched = [
      // An ordinary retry: its backoff is not the provider's business.
      makeNotification({
        status: 'failed',
        reason: 'temporary_error',
        attempts: 2,
        nextAttemptAt: fromNow(5 * MINUTE),
      }),
      // Held past the horizon (a provider's long Retry-After): left for the sweep.
      heldNotification(3 * 60 * MINUTE),
      // Already sent.
      makeNotification({ status: 'sent', attempts: 1, sentAt: fromNow(-MINUTE), nextAttemptAt: undefined }),
    ];
    for (const n of [...held, ...untouched]) await w.store.create(n);
    const before = await Promise.all(untouched.map((n) => w.store.get(n.id)));

    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    expect(await w.run()).toMatchObject({ probed: true, released: 0 });
    expect(await queuedIds(w.queueUrl)).toEqual([]);

    sandbox.configure({ mode: 'healthy' });
    w.advance(INTERVAL_MS);
    const report = await w.run();

    expect(report).toMatchObject({
      action: 'tick',
      probed: true,
      probeResult: 'healthy',
      released: held.length,
      circuit: { status: 'healthy', since: report.now, lastProbeAt: report.now, lastProbeResult: 'healthy' },
    });
    expect(report.alert).toBeUndefined();
    // Everything held was released; the release stays pending until a tick verifies that nothing held is left.
    expect(report.circuit).toMatchObject({ releasePending: true, release: { pass: 'verify' } });
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(report.circuit);

    const clock = Date.parse(report.now);
    for (const n of held) {
      const released = (await w.store.get(n.id))!;
      expect(released).toMatchObject({ status: 'failed', attempts: n.attempts, version: n.version + 1 });
      expect(released.reason).toBeUndefined();
      // Due at the close, or where it was if it was due before.
      expect(Date.parse(released.nextAttemptAt!)).toBe(Math.min(clock, Date.parse(n.nextAttemptAt!)));
    }
    // Due now by the store's own index, the one the sweep reads.
    const due = await w.store.dueNotifications({ now: new Date(clock), limit: 100 });
    expect(due.map((n) => n.id).sort()).toEqual(held.map((n) => n.id).sort());
    expect(await queuedIds(w.queueUrl)).toEqual(held.map((n) => n.id).sort());
    expect(await Promise.all(untouched.map((n) => w.store.get(n.id)))).toEqual(before);

    // The next tick finds nothing held and ends the release; after that, ticks do nothing.
    const verify = await w.run();
    expect(verify).toMatchObject({ probed: false, released: 0, releaseDone: true });
    expect(verify.circuit?.releasePending).toBeUndefined();
    const after = await w.run();
    expect(after).toMatchObject({ probed: false, released: 0 });
    expect(after.releaseDone).toBeUndefined();
    expect(w.wachapRequests()).toBe(2);
    expect(await queuedIds(w.queueUrl)).toEqual([]);
    expect(sandbox.requests()).toBe(0);
  });

  it('a release cut short by a failed write keeps the job pending, and the next tick finishes it', async () => {
    const w = await world();
    const held = [heldNotification(MINUTE), heldNotification(2 * MINUTE), heldNotification(3 * MINUTE)];
    for (const n of held) await w.store.create(n);
    await openBySender(w);
    // One write is throttled, on every try of this tick (each write is tried three times).
    const unlucky = held[1]!.id;
    let throttles = 0;
    const save = w.store.save.bind(w.store);
    w.deps.store = Object.assign(Object.create(w.store) as Store, {
      save: async (...args: Parameters<Store['save']>) => {
        if (args[0].id === unlucky && throttles < 3) {
          throttles += 1;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
            name: 'ProvisionedThroughputExceededException',
          });
        }
        return save(...args);
      },
    });

    const report = await w.run({ action: 'probe' });

    expect(report).toMatchObject({
      probed: true,
      released: 2,
      releaseFailed: 1,
      releaseDone: false,
      circuit: { status: 'healthy', releasePending: true },
    });
    expect((await w.store.get(unlucky))?.reason).toBe('provider_unavailable');
    expect(await queuedIds(w.queueUrl)).toEqual(
      held
        .filter((n) => n.id !== unlucky)
        .map((n) => n.id)
        .sort(),
    );

    // The circuit is closed, but the job is not done: the next scheduled tick finds it, without a probe...
    const tick = await w.run();
    expect(tick).toMatchObject({ action: 'tick', probed: false, released: 1, releaseDone: false });
    expect(await queuedIds(w.queueUrl)).toEqual([unlucky]);
    // ...and the one after finds nothing held left.
    const done = await w.run();
    expect(done).toMatchObject({ released: 0, releaseDone: true, circuit: { status: 'healthy' } });
    expect(done.circuit?.releasePending).toBeUndefined();
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(done.circuit);
    expect(w.wachapRequests()).toBe(1);

    // Then ticks are idle again.
    expect(await w.run()).toMatchObject({ probed: false, released: 0 });
    expect(await queuedIds(w.queueUrl)).toEqual([]);
  });

  it('releases a backlog larger than one read of the due index (1000) in one go', async () => {
    const w = await world();
    const COUNT = 1050;
    const held = Array.from({ length: COUNT }, (_, i) => heldNotification(MINUTE + i * SECOND));
    for (let i = 0; i < COUNT; i += 50) await Promise.all(held.slice(i, i + 50).map((n) => w.store.create(n)));
    await openBySender(w);

    const report = await w.run({ action: 'close' });

    expect(report).toMatchObject({ released: COUNT, circuit: { status: 'healthy' } });
    const last = (await w.store.get(held.at(-1)!.id))!;
    expect(last.reason).toBeUndefined();
    expect(last.nextAttemptAt).toBe(report.now);
    const { Attributes } = await engines.sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: w.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(COUNT);
  }, 60_000);

  it('an operator probe does not wait for the interval', async () => {
    const w = await world();
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    await w.run();
    sandbox.configure({ mode: 'healthy' });
    const held = heldNotification(10 * MINUTE);
    await w.store.create(held);

    expect(await w.run()).toMatchObject({ action: 'tick', probed: false });
    const report = await w.run({ action: 'probe' });

    expect(report).toMatchObject({ action: 'probe', probed: true, released: 1, circuit: { status: 'healthy' } });
    expect(w.wachapRequests()).toBe(2);
    expect(await queuedIds(w.queueUrl)).toEqual([held.id]);
  });
});

describe('operators', () => {
  it('open forces the circuit: probes, even healthy ones, do not close it, and senders do not reopen over it', async () => {
    const w = await world();
    const held = heldNotification(5 * MINUTE);
    await w.store.create(held);

    const opened = await w.run({ action: 'open', reason: 'token renewal in progress' });
    expect(opened).toMatchObject({
      action: 'open',
      probed: false,
      released: 0,
      circuit: {
        status: 'unavailable',
        forced: true,
        errorType: 'operator',
        reason: 'opened by an operator: token renewal in progress',
        version: 1,
      },
    });
    expect(w.wachapRequests()).toBe(0);

    // WaChap is healthy, yet the scheduled tick does not probe a forced circuit...
    const tick = await w.run();
    expect(tick).toMatchObject({ probed: false, released: 0, circuit: { status: 'unavailable', forced: true } });
    expect(w.wachapRequests()).toBe(0);
    // ...and an explicit probe records what it found without closing it.
    const probe = await w.run({ action: 'probe' });
    expect(probe).toMatchObject({ probed: true, probeResult: 'healthy', released: 0 });
    expect(probe.circuit).toMatchObject({ status: 'unavailable', forced: true, lastProbeResult: 'healthy' });
    // A sender's provider failure does not replace the operator's reason.
    await openBySender(w);
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(probe.circuit);
    // Opening it again changes nothing.
    const again = await w.run({ action: 'open', reason: 'another reason' });
    expect(again.circuit).toEqual(probe.circuit);

    expect((await w.store.get(held.id))?.reason).toBe('provider_unavailable');
    expect(await queuedIds(w.queueUrl)).toEqual([]);
  });

  it('open turns a circuit a sender opened into a forced one', async () => {
    const w = await world();
    await openBySender(w);
    const sender = (await w.store.getProviderState(WACHAP_PROVIDER))!;

    const report = await w.run({ action: 'open' });

    expect(report.circuit).toMatchObject({
      status: 'unavailable',
      since: sender.since,
      forced: true,
      reason: 'opened by an operator',
      version: sender.version + 1,
    });
  });

  it('close closes a forced circuit and releases the held notifications', async () => {
    const w = await world();
    const held = [heldNotification(MINUTE), heldNotification(20 * MINUTE)];
    const retry = makeNotification({
      status: 'failed',
      reason: 'temporary_error',
      attempts: 1,
      nextAttemptAt: fromNow(MINUTE),
    });
    for (const n of [...held, retry]) await w.store.create(n);
    await w.run({ action: 'open', reason: 'maintenance' });
    sandbox.configure({ mode: 'unavailable' });

    // The operator's word is enough: no probe is needed to close.
    const report = await w.run({ action: 'close' });

    expect(report).toMatchObject({ action: 'close', probed: false, released: 2, circuit: { status: 'healthy' } });
    expect(report.circuit?.forced).toBeUndefined();
    expect(w.wachapRequests()).toBe(0);
    expect(await queuedIds(w.queueUrl)).toEqual(held.map((n) => n.id).sort());
    for (const n of held) {
      const released = (await w.store.get(n.id))!;
      expect(released.reason).toBeUndefined();
      expect(released.nextAttemptAt).toBe(report.now);
    }
    expect((await w.store.get(retry.id))?.version).toBe(retry.version);

    // The next provider failure opens it again, unforced: probes may close it.
    await openBySender(w);
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toMatchObject({ status: 'unavailable' });
    expect((await w.store.getProviderState(WACHAP_PROVIDER))?.forced).toBeUndefined();
  });

  it('status reports the circuit and changes nothing', async () => {
    const w = await world();
    expect(await w.run({ action: 'status' })).toMatchObject({
      action: 'status',
      circuit: null,
      probed: false,
      released: 0,
    });

    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    const state = await w.store.getProviderState(WACHAP_PROVIDER);
    const report = await w.run({ action: 'status' });

    expect(report).toMatchObject({ action: 'status', circuit: state, probed: false, released: 0 });
    expect(report.alert).toBeUndefined();
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(state);
    expect(w.wachapRequests()).toBe(0);
    expect(await w.emails()).toEqual([]);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['an unknown action', { action: 'reboot' }, 'action', /tick.*status.*probe.*open.*close|expected one of/i],
    ['an action of the wrong type', { action: 1 }, 'action', /./],
    ['a reason that is not text', { action: 'open', reason: 42 }, 'reason', /string/i],
    ['an empty reason', { action: 'open', reason: '  ' }, 'reason', /./],
    ['a reason too long', { action: 'open', reason: 'x'.repeat(201) }, 'reason', /200/],
    ['an unknown field', { action: 'close', force: true }, 'force', /not an accepted field/],
    ['not an object', 'close', '', /object/i],
  ])('rejects %s with a 400-style answer naming the field, and does nothing', async (_what, payload, path, message) => {
    const w = await world();
    await openBySender(w);
    const state = await w.store.getProviderState(WACHAP_PROVIDER);

    const result = (await w.handler(payload, lambdaContext('provider-probe'))) as InvokeRejection;

    expect(result).toMatchObject({ statusCode: 400, error: 'validation_error' });
    const detail = result.details.find((d) => d.path === path);
    expect(detail, JSON.stringify(result.details)).toBeDefined();
    expect(detail?.message).toMatch(message);
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toEqual(state);
    expect(w.wachapRequests()).toBe(0);
  });

  it('runCircuitCommand and the handler give the same report', async () => {
    const w = await world();
    await openBySender(w);
    const direct = await runCircuitCommand({ action: 'status' }, w.deps);
    const viaHandler = await w.run({ action: 'status' });
    expect({ ...viaHandler, now: direct.now }).toEqual(direct);
  });
});

describe('the deployed handler module', () => {
  type ModuleHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<CircuitReport>;

  it('wires the environment: interval, hold, admin email, queue, WaChap credentials', async () => {
    const tableName = randomTableName();
    await ensureTable(dynamo, tableName);
    const { queueUrl, priorityQueueUrl } = await createSendQueues(engines.sqsClient, {
      name: `probe-module-${Date.now()}`,
    });
    const admin = `module-${Date.now()}@ts-aircargo.com`;
    vi.resetModules();
    for (const [key, value] of Object.entries({
      ...engines.env,
      TABLE_NAME: tableName,
      SEND_QUEUE_URL: queueUrl,
      PRIORITY_SEND_QUEUE_URL: priorityQueueUrl,
      WACHAP_BASE_URL: sandbox.url,
      WACHAP_INSTANCE_ID: CREDENTIALS.instanceId,
      WACHAP_ACCESS_TOKEN: CREDENTIALS.accessToken,
      WACHAP_TIMEOUT_MS: '2000',
      ADMIN_EMAIL: admin,
      ALERT_FROM_EMAIL: FROM,
      PROVIDER_PROBE_INTERVAL_SECONDS: '600',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    })) {
      vi.stubEnv(key, value);
    }
    const { handler } = (await import('../../functions/provider-probe/handler.js')) as unknown as {
      handler: ModuleHandler;
    };
    const invoke = (payload: unknown) => handler(payload, lambdaContext('provider-probe'));
    const store = dynamoDbStore({ client: notificationDocumentClient(dynamo), tableName });
    const held = heldNotification(20 * MINUTE);
    await store.create(held);

    sandbox.configure({ mode: 'disconnected' });
    await new ProviderCircuit({ store, clock: () => new Date(), log: silentLog, cacheMs: 0 }).open({
      reason: 'Instance disconnected',
      errorType: 'application_error',
      recommendation: 'Scan the QR code.',
    });
    const broken = await invoke({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
    expect(broken).toMatchObject({ action: 'tick', probed: true, alert: 'sent', circuit: { status: 'unavailable' } });
    expect(broken.probeResult).toMatch(/disconnected/i);
    const emails = (await storedEmails(engines.ses!.endpoint)).filter((e) => e.destination.to.includes(admin));
    expect(emails).toHaveLength(1);

    // Healthy again, but the ten-minute interval has not passed: the schedule waits...
    sandbox.configure({ mode: 'healthy' });
    expect(await invoke(null)).toMatchObject({ action: 'tick', probed: false, circuit: { status: 'unavailable' } });
    // ...an operator does not.
    const probe = await invoke({ action: 'probe' });
    expect(probe).toMatchObject({ probed: true, released: 1, circuit: { status: 'healthy' } });
    const lane = held.priority === 'high' ? priorityQueueUrl : queueUrl;
    expect(await queuedIds(lane)).toEqual([held.id]);
  });
});

describe('a tick watching an open circuit (EventBridge fires once a minute)', () => {
  // The watch of an open circuit and of a pending release; the 3 minutes of drain watch after a probe's close
  // (drainWatchMs, as deployed) are off unless a test turns them on, so that these see where the others end.
  const WATCH = { probeIntervalMs: 10 * SECOND, watchMs: MINUTE };
  const DEPLOYED_TIMEOUT_MS = PROVIDER_PROBE_TIMEOUT_SECONDS * SECOND;

  /**
   * Virtual time for one world: the ticks' waits (the deps' pause) return only when every running tick waits, and
   * then the earliest is woken with the clock moved to its instant, after the scripted events due by then. The
   * checks themselves run against the real engines and sandbox; the instants and their order are deterministic.
   */
  function virtualTime(w: World) {
    // A clock that only moves when told (the world's own follows the real one between its moves).
    const startedAt = w.deps.clock().getTime();
    let clock = startedAt;
    w.deps.clock = () => new Date(clock);
    const elapsed = () => clock - startedAt;
    const advance = (ms: number) => {
      clock += ms;
    };
    const sleepers: { at: number; wake: () => void }[] = [];
    const events: { at: number; act: () => Promise<unknown> | unknown }[] = [];
    /** The instants (ms since the start) the ticks woke at. */
    const wakes: number[] = [];
    let running = 0;
    let moving = false;
    const move = async () => {
      if (moving || sleepers.length === 0 || sleepers.length < running) return;
      moving = true;
      sleepers.sort((a, b) => a.at - b.at);
      const next = sleepers.shift()!;
      events.sort((a, b) => a.at - b.at);
      while (events.length > 0 && events[0]!.at <= next.at) {
        const event = events.shift()!;
        advance(Math.max(0, event.at - elapsed()));
        await event.act();
      }
      advance(Math.max(0, next.at - elapsed()));
      wakes.push(next.at);
      moving = false;
      next.wake();
    };
    w.deps.pause = (ms) =>
      ms <= 0
        ? Promise.resolve()
        : new Promise<void>((wake) => {
            sleepers.push({ at: elapsed() + ms, wake });
            void move();
          });
    return {
      wakes,
      /** The instant `iso` as ms since the start. */
      sinceStart: (iso: string) => Date.parse(iso) - startedAt,
      /** Something that happens at `at` ms (WaChap fixed, an operator's command). */
      at: (at: number, act: () => Promise<unknown> | unknown) => events.push({ at, act }),
      /** A scheduled tick (or `event`) starting `delayMs` from now, in a function of `timeoutMs` on this clock. */
      tick: async (
        timeoutMs = DEPLOYED_TIMEOUT_MS,
        delayMs = 0,
        event: unknown = SCHEDULED_EVENT,
      ): Promise<CircuitReport & { endedAt: number }> => {
        running += 1;
        try {
          if (delayMs > 0) await w.deps.pause!(delayMs);
          const context = lambdaContext('provider-probe', { timeoutMs, now: () => w.deps.clock().getTime() });
          const report = await w.handler(event, context);
          if ('statusCode' in report) throw new Error(`rejected: ${JSON.stringify(report)}`);
          return { ...report, endedAt: elapsed() };
        } finally {
          running -= 1;
          void move();
        }
      },
    };
  }

  const SCHEDULED_EVENT = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

  /** At `at`, a sender meets a provider-wide failure: it opens the circuit again and holds the notification returned. */
  function reopenedBySender(w: World, time: ReturnType<typeof virtualTime>, at: number): Notification {
    const heldAgain = heldNotification(30 * MINUTE);
    time.at(at, async () => {
      await openBySender(w);
      await w.store.create(heldAgain);
    });
    return heldAgain;
  }

  it('a circuit open at the start whose WaChap recovers 25 s later is closed and released by the same invocation', async () => {
    // Prepare: two held notifications, the circuit open, WaChap refusing the token until 25 s from now.
    const w = await world(WATCH);
    const held = [heldNotification(5 * MINUTE), heldNotification(10 * MINUTE, { priority: 'high' })];
    for (const n of held) await w.store.create(n);
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    const time = virtualTime(w);
    time.at(25 * SECOND, () => sandbox.configure({ mode: 'healthy' }));

    // Act
    const report = await time.tick();

    // Assess: checked at 0, 10 and 20 s (broken), then closed at 30 s and released, in one invocation; watched while
    // the release was pending, whose verify pass (none waiting here after the close) ended it at 40 s.
    expect(time.wakes).toEqual([10, 20, 30, 40].map((s) => s * SECOND));
    expect(w.wachapRequests()).toBe(4);
    expect(report).toMatchObject({
      action: 'tick',
      probed: true,
      probeResult: 'healthy',
      released: held.length,
      releaseDone: true,
      circuit: { status: 'healthy' },
    });
    expect(report.circuit?.releasePending).toBeUndefined();
    const closedAfter = time.sinceStart(report.circuit!.since);
    expect(closedAfter).toBeGreaterThanOrEqual(30 * SECOND);
    expect(closedAfter).toBeLessThan(40 * SECOND);
    expect(report.alert).toBeUndefined();
    expect(await queuedIds(w.queueUrl)).toEqual(held.map((n) => n.id).sort());
    for (const n of held) expect((await w.store.get(n.id))?.reason).toBeUndefined();
    // The release over, the watch ended (the drain watch is off here): no check after it.
    expect(report.endedAt).toBeLessThan(50 * SECOND);
    // The admin was told once, by the first check; the later ones left the alert's cooldown alone.
    expect(await w.emails()).toHaveLength(1);
  });

  it('a sender reopening the circuit during the drain is probed at the next check: closed and released again', async () => {
    // Prepare: two held notifications, the circuit open, WaChap healthy again; the verify pass waits as deployed.
    const w = await world({ ...WATCH, verifyAfterCloseMs: VERIFY_AFTER_CLOSE_MS });
    const held = [heldNotification(5 * MINUTE), heldNotification(6 * MINUTE)];
    for (const n of held) await w.store.create(n);
    await openBySender(w);
    const time = virtualTime(w);
    // 5 s after the close, one released notification meets a provider-wide failure: its sender opens the circuit
    // again and holds it, as the next one does (a disconnected instance that comes back by itself).
    const heldAgain = reopenedBySender(w, time, 5 * SECOND);

    // Act
    const report = await time.tick();

    // Assess: probed again at 10 s (not at the next tick, a minute later), closed, and the new hold released; the
    // watch went on until the verify pass, 30 s after that close, found nothing more.
    expect(w.wachapRequests()).toBe(2);
    expect(time.wakes).toEqual([10, 20, 30, 40].map((s) => s * SECOND));
    expect(time.sinceStart(report.circuit!.since)).toBe(10 * SECOND);
    expect(report).toMatchObject({
      probed: true,
      probeResult: 'healthy',
      released: held.length + 1,
      releaseDone: true,
      circuit: { status: 'healthy' },
    });
    expect(await queuedIds(w.queueUrl)).toEqual([...held, heldAgain].map((n) => n.id).sort());
    expect((await w.store.get(heldAgain.id))?.reason).toBeUndefined();
    expect(report.endedAt).toBeLessThan(MINUTE);
  });

  const instance = (name: string, extra: Partial<WaChapInstance> = {}): WaChapInstance => ({
    name,
    ...CREDENTIALS,
    instanceId: `${CREDENTIALS.instanceId}-${name}`,
    prefixes: [],
    ...extra,
  });

  it.each<[string, WaChapInstance[] | undefined]>([
    ['one circuit', undefined],
    // As deployed, the handler always has the list (a single instance runs the one circuit)...
    ['a list of one instance', [instance('main')]],
    // ...and a tick over several instances watches the default one's drain (the other's circuit never opened).
    ['two instances', [instance('china', { default: true }), instance('mali', { prefixes: ['+223'] })]],
  ])(
    "the schedule's ticks watch the drain after a probe's close: a sender reopening the circuit once the release is over is probed within the interval (%s)",
    async (_, instances) => {
      // Prepare: as deployed (the verify pass 30 s after the close, the drain watched for DRAIN_WATCH_MS), a held
      // notification, the circuit open and WaChap healthy again.
      const w = await world(
        { ...WATCH, verifyAfterCloseMs: VERIFY_AFTER_CLOSE_MS, drainWatchMs: DRAIN_WATCH_MS },
        instances,
      );
      const held = heldNotification(5 * MINUTE);
      await w.store.create(held);
      await openBySender(w);
      const time = virtualTime(w);
      // 64 s in, the release long over, a released send meets a disconnected instance that comes back by itself: its
      // sender opens the circuit again and holds the notification (the soak's slow run, once).
      const heldAgain = reopenedBySender(w, time, 64 * SECOND);

      // Act: the tick that closes the circuit, and the next one a minute later.
      const [first, second] = await Promise.all([time.tick(), time.tick(DEPLOYED_TIMEOUT_MS, MINUTE)]);

      // Assess: the first closed it at 0 s and its release ended at 30 s, yet it watched on to 50 s; the second, which
      // found the circuit closed and released, watched it too, and probed the reopened circuit at 70 s (not at the
      // next tick, 120 s), closed it and released the new hold.
      expect(first).toMatchObject({ probed: true, released: 1, releaseDone: true, circuit: { status: 'healthy' } });
      expect(time.sinceStart(first.circuit!.since)).toBe(0);
      expect(second).toMatchObject({
        probed: true,
        probeResult: 'healthy',
        released: 1,
        releaseDone: true,
        circuit: { status: 'healthy' },
      });
      expect(time.sinceStart(second.circuit!.since)).toBe(70 * SECOND);
      expect(w.wachapRequests()).toBe(2);
      // 60 s is the second tick's start; every check of each tick until the next one takes over.
      expect(time.wakes).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110].map((s) => s * SECOND));
      expect(await queuedIds(w.queueUrl)).toEqual([held.id, heldAgain.id].sort());
      expect((await w.store.get(heldAgain.id))?.reason).toBeUndefined();

      // An operator's tick, during the drain, returns at once: only the schedule's ticks wait.
      const checks = time.wakes.length;
      const operators = await time.tick(DEPLOYED_TIMEOUT_MS, 0, {});
      expect(operators).toMatchObject({ probed: false, released: 0, circuit: { status: 'healthy' } });
      expect(time.wakes).toHaveLength(checks);
      // The drain over (DRAIN_WATCH_MS after the close), a scheduled tick costs its one read too.
      const closedAt = time.sinceStart(second.circuit!.since);
      const late = await time.tick(DEPLOYED_TIMEOUT_MS, closedAt + DRAIN_WATCH_MS - operators.endedAt);
      expect(late.endedAt).toBe(closedAt + DRAIN_WATCH_MS);
      expect(time.wakes).toHaveLength(checks + 1);
      expect(w.wachapRequests()).toBe(2);
    },
  );

  it('stops before the next tick and before its time runs out: a broken WaChap is checked at 0, 10 … 50 s', async () => {
    const w = await world(WATCH);
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    const time = virtualTime(w);

    const report = await time.tick();

    expect(time.wakes).toEqual([10, 20, 30, 40, 50].map((s) => s * SECOND));
    expect(w.wachapRequests()).toBe(6);
    expect(report).toMatchObject({ probed: true, alert: 'sent', released: 0, circuit: { status: 'unavailable' } });
    expect(report.probeResult).toMatch(/^http_error 401/);
    // Its last check 50 s in: the next tick (60 s) takes over, and the function had time to spare.
    expect(report.endedAt).toBeLessThan(MINUTE);
    expect(DEPLOYED_TIMEOUT_MS - report.endedAt).toBeGreaterThanOrEqual(WATCH_STOP_MARGIN_MS);
    expect(await w.store.getProviderState(WACHAP_PROVIDER)).toMatchObject({ lastProbeAt: report.now });
    expect(await w.emails()).toHaveLength(1);

    // A shorter function (an operator's invocation, 30 s) checks again only while a release would still fit.
    const short = await time.tick(30 * SECOND);
    expect(short.endedAt - report.endedAt).toBeLessThanOrEqual(20 * SECOND);
    expect(30 * SECOND - (short.endedAt - report.endedAt)).toBeGreaterThanOrEqual(WATCH_STOP_MARGIN_MS);
    expect(await w.emails()).toHaveLength(1);
  });

  it('a closed circuit costs its one read: no wait, no WaChap request, no write', async () => {
    const w = await world(WATCH);
    const calls: string[] = [];
    w.deps.store = new Proxy(w.store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const time = virtualTime(w);

    // Never opened, then closed and done with its release.
    const never = await time.tick();
    await w.store.putProviderState(WACHAP_PROVIDER, { status: 'healthy', since: fromNow(-MINUTE), version: 1 }, 0);
    const closed = await time.tick();

    expect(never).toMatchObject({ probed: false, released: 0, circuit: null });
    expect(closed).toMatchObject({ probed: false, released: 0, circuit: { status: 'healthy' } });
    expect(calls).toEqual(['getProviderState', 'getProviderState']);
    expect(time.wakes).toEqual([]);
    expect(w.wachapRequests()).toBe(0);
  });

  it('an operator forcing the circuit open ends the watch at its next check, without a probe', async () => {
    const w = await world(WATCH);
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    const time = virtualTime(w);
    time.at(15 * SECOND, () => runCircuitCommand({ action: 'open', reason: 'token renewal' }, w.deps));
    // Healthy again, but the operator holds it open: the watch must not close it.
    time.at(16 * SECOND, () => sandbox.configure({ mode: 'healthy' }));

    const report = await time.tick();

    expect(time.wakes).toEqual([10, 20].map((s) => s * SECOND));
    expect(w.wachapRequests()).toBe(2);
    expect(report).toMatchObject({ circuit: { status: 'unavailable', forced: true } });
    expect(report.endedAt).toBeLessThan(30 * SECOND);
  });

  it("an operator's close during the watch ends it: the held notifications are released once", async () => {
    const w = await world(WATCH);
    const held = [heldNotification(5 * MINUTE), heldNotification(6 * MINUTE)];
    for (const n of held) await w.store.create(n);
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    const time = virtualTime(w);
    time.at(15 * SECOND, () => runCircuitCommand({ action: 'close' }, w.deps));

    const report = await time.tick();

    expect(time.wakes).toEqual([10, 20].map((s) => s * SECOND));
    expect(w.wachapRequests()).toBe(2);
    expect(report).toMatchObject({ released: 0, circuit: { status: 'healthy' } });
    expect(await queuedIds(w.queueUrl)).toEqual(held.map((n) => n.id).sort());
  });

  it("a later check's failure ends the watch: the tick reports what it did, and the next tick checks again", async () => {
    const w = await world(WATCH);
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    // The first check's two reads go through; from then on the table is unreachable, retries included.
    let reads = 0;
    w.deps.store = Object.assign(Object.create(w.store) as Store, {
      getProviderState: (name: string) =>
        ++reads > 2 ? Promise.reject(new Error('connect ECONNREFUSED')) : w.store.getProviderState(name),
    });
    const time = virtualTime(w);

    const report = await time.tick();

    expect(report).toMatchObject({ probed: true, alert: 'sent', circuit: { status: 'unavailable' } });
    expect(w.wachapRequests()).toBe(1);
    expect(report.endedAt).toBeLessThan(20 * SECOND);
  });

  it('two ticks at once (a duplicate delivery 5 s behind) close the circuit once and release each notification once', async () => {
    const w = await world(WATCH);
    const held = Array.from({ length: 30 }, (_, i) => heldNotification(MINUTE + i * SECOND));
    for (const n of held) await w.store.create(n);
    await openBySender(w);
    sandbox.configure({ mode: 'token_expired' });
    const time = virtualTime(w);
    time.at(25 * SECOND, () => sandbox.configure({ mode: 'healthy' }));

    const [first, second] = await Promise.all([time.tick(), time.tick(DEPLOYED_TIMEOUT_MS, 5 * SECOND)]);

    // The second one's checks (5, 15, 25 s) each came too soon after the first one's probe: it never probed.
    expect(w.wachapRequests()).toBe(4);
    expect(first).toMatchObject({ probed: true, released: held.length, circuit: { status: 'healthy' } });
    expect(second).toMatchObject({ probed: false, released: 0, circuit: { status: 'healthy' } });
    const state = await w.store.getProviderState(WACHAP_PROVIDER);
    expect(state?.since).toBe(first.circuit?.since);
    const queued = await queuedIds(w.queueUrl);
    expect(queued).toEqual(held.map((n) => n.id).sort());
  });
});
