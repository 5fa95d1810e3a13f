// The functions' metrics as CloudWatch would read them: the real handlers (their modules, wired from the environment
// as in Lambda) on real engines and the WaChap sandbox, Powertools Metrics writing to the process's stdout, each line
// parsed as EMF. The names, units and dimensions must be the catalogue's, and the values what happened.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startWaChapSandbox, type WaChapSandbox } from '../../local/wachap-sandbox.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { CircuitReport } from '../../shared/application/provider-circuit.js';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { closeCircuit, isCircuitOpen, WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { SERVICE_NAME } from '../../shared/observability/logger.js';
import { METRIC_NAMES, METRICS, type MetricName, metricsNamespace } from '../../shared/observability/metrics.js';
import { captureOutput } from '../support/capture-output.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { apiEvent, lambdaContext, sqsEvent } from '../support/lambda.js';

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
type ApiHandler = Handler<ReturnType<typeof apiEvent>, APIGatewayProxyResult>;

const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };
const STAGE = 'metrics';
const MINUTE = 60_000;

/** One EMF document: the CloudWatch directive, then the dimension values and metric values at the top level. */
interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** A metric as CloudWatch extracts it from one line. */
interface Point {
  name: string;
  unit: string;
  values: number[];
  namespace: string;
  dimensionSets: string[][];
  dimensions: Record<string, unknown>;
}

let engines: TestEngines;
let sandbox: WaChapSandbox;
let ingest: ApiHandler;
let operatorActions: ApiHandler;
let sender: Handler<ReturnType<typeof sqsEvent>, SQSBatchResponse>;
let sweep: Handler<unknown, SweepSummary>;
let healthCheck: Handler<unknown, HealthReport>;
let probe: Handler<unknown, CircuitReport>;

// Literal imports, so that vitest resolves them; each module reads the environment stubbed before it.
const handlerOf = async <H>(module: Promise<unknown>): Promise<H> => ((await module) as { handler: H }).handler;

/** Runs `work` with the process's output captured; returns its result and every EMF line it wrote. */
async function emitted<T>(work: () => Promise<T>): Promise<{ result: T; lines: Emf[]; output: string }> {
  const output = captureOutput();
  let result: T;
  try {
    result = await work();
  } finally {
    output.restore();
  }
  const lines = output
    .text()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((doc): doc is Emf => typeof doc._aws === 'object');
  return { result, lines, output: output.text() };
}

const pointsOf = (lines: Emf[]): Point[] =>
  lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map(({ Name, Unit }) => {
        const dimensionNames = new Set(directive.Dimensions.flat());
        return {
          name: Name,
          unit: Unit,
          values: [line[Name]].flat() as number[],
          namespace: directive.Namespace,
          dimensionSets: directive.Dimensions,
          dimensions: Object.fromEntries([...dimensionNames].map((d) => [d, line[d]])),
        };
      }),
    ),
  );

/** The total of `name` over the lines (what a Sum over the [service] dimension set reads). */
const total = (points: Point[], name: MetricName): number =>
  points.filter((p) => p.name === name).reduce((sum, p) => sum + p.values.reduce((a, b) => a + b, 0), 0);

const names = (points: Point[]): Set<string> => new Set(points.map((p) => p.name));

/** Stores a due notification and delivers its id to the sender, as the event source would. */
async function deliver(overrides: Partial<Notification> = {}) {
  const n = makeNotification({
    nextAttemptAt: new Date(Date.now() - 1000).toISOString(),
    createdAt: new Date(Date.now() - 5000).toISOString(),
    maxAttempts: 10,
    ...overrides,
  });
  await engines.store.create(n);
  const run = await emitted(() => sender(sqsEvent([JSON.stringify({ id: n.id })]), lambdaContext('sender')));
  return { ...run, points: pointsOf(run.lines), stored: (await engines.store.get(n.id))! };
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  emitted(() =>
    ingest(
      apiEvent({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } }),
      lambdaContext('ingest'),
    ),
  );

beforeAll(async () => {
  [engines, sandbox] = await Promise.all([
    startTestEngines(),
    startWaChapSandbox({ instanceId: CREDENTIALS.WACHAP_INSTANCE_ID, accessToken: CREDENTIALS.WACHAP_ACCESS_TOKEN }),
  ]);
  vi.resetModules();
  for (const [key, value] of Object.entries({
    ...engines.env,
    ...CREDENTIALS,
    WACHAP_BASE_URL: sandbox.url,
    WACHAP_TIMEOUT_MS: '400',
    CIRCUIT_CACHE_SECONDS: '0',
    STAGE,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // The test engines turn them off; here they are what is tested.
    POWERTOOLS_METRICS_DISABLED: 'false',
  })) {
    vi.stubEnv(key, value);
  }
  [ingest, operatorActions, sender, sweep, healthCheck, probe] = await Promise.all([
    handlerOf<typeof ingest>(import('../../functions/ingest/handler.js')),
    handlerOf<typeof operatorActions>(import('../../functions/operator-actions/handler.js')),
    handlerOf<typeof sender>(import('../../functions/sender/handler.js')),
    handlerOf<typeof sweep>(import('../../functions/retry-sweep/handler.js')),
    handlerOf<typeof healthCheck>(import('../../functions/health-check/handler.js')),
    handlerOf<typeof probe>(import('../../functions/provider-probe/handler.js')),
  ]);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([engines?.stop(), sandbox?.close()]);
});
beforeEach(async () => {
  sandbox.reset();
  const state = await engines.store.getProviderState(WACHAP_PROVIDER);
  if (isCircuitOpen(state))
    await engines.store.putProviderState(WACHAP_PROVIDER, closeCircuit(state, new Date()), state!.version);
});

describe('metrics: every line is the catalogue', () => {
  it('names, units, namespace and dimensions of whatever the functions wrote', async () => {
    const lines: Emf[] = [];
    lines.push(
      ...(await post({ recipient: { phone: '+22370123456' }, category: 'otp', message: 'Code 123456' })).lines,
    );
    lines.push(...(await deliver({ category: 'lot_ferme' })).lines);
    lines.push(...(await emitted(() => sweep({}, lambdaContext('retry-sweep')))).lines);
    lines.push(...(await emitted(() => healthCheck({}, lambdaContext('health-check')))).lines);
    lines.push(...(await emitted(() => probe({}, lambdaContext('provider-probe')))).lines);

    const points = pointsOf(lines);
    expect(points.length).toBeGreaterThan(5);
    for (const point of points) {
      expect(METRIC_NAMES).toContain(point.name);
      const spec = METRICS[point.name as MetricName];
      expect(point.unit).toBe(spec.unit);
      expect(point.namespace).toBe(metricsNamespace(STAGE));
      expect(point.dimensions.service).toBe(SERVICE_NAME);
      // The total, then each split the catalogue declares alone: never a dimension it does not, never their product.
      expect(point.dimensionSets).toEqual([['service'], ...spec.dimensions.map((d) => ['service', d])]);
      for (const value of point.values) expect(Number.isFinite(value)).toBe(true);
    }
  });
});

describe('metrics: ingest', () => {
  it('counts an acceptance by category and priority, and not its idempotent repeat', async () => {
    const body = {
      recipient: { phone: '+22370123457' },
      category: 'colis_arrive',
      message: 'Votre colis est arrivé.',
      idempotencyKey: `metrics-${Date.now()}`,
    };
    const first = await post(body);
    expect(first.result.statusCode).toBe(202);
    const [accepted] = pointsOf(first.lines).filter((p) => p.name === 'NotificationsAccepted');
    expect(accepted).toMatchObject({
      unit: 'Count',
      values: [1],
      dimensions: { service: SERVICE_NAME, category: 'colis_arrive', priority: 'normal' },
    });

    const repeat = await post(body);
    expect(repeat.result.statusCode).toBe(200);
    expect(repeat.lines).toEqual([]);
    // Nothing to publish is said nowhere: Powertools' "no metrics" warning is not a log line per request.
    expect(repeat.output).not.toMatch(/No application metrics/);
  });

  it("publishes a category it does not know as 'other', so callers cannot multiply the metrics billed", async () => {
    const { lines } = await post({ recipient: { phone: '+22370123458' }, category: 'alerte_douane', message: 'x' });
    expect(pointsOf(lines).find((p) => p.name === 'NotificationsAccepted')?.dimensions).toMatchObject({
      category: 'other',
      priority: 'normal',
    });
  });
});

describe('metrics: sender', () => {
  it('a send: sent by category and priority, the WaChap call, the time since creation', async () => {
    const { points, stored } = await deliver({ category: 'otp', priority: 'high' });
    expect(stored.status).toBe('sent');
    expect(points.find((p) => p.name === 'NotificationsSent')).toMatchObject({
      values: [1],
      dimensions: { category: 'otp', priority: 'high' },
    });
    const wachap = points.find((p) => p.name === 'WaChapCallLatency');
    expect(wachap).toMatchObject({ unit: 'Milliseconds', dimensionSets: [['service']] });
    expect(wachap?.values).toHaveLength(1);
    expect(wachap?.values[0]).toBeGreaterThanOrEqual(0);
    const sinceCreation = points.find((p) => p.name === 'CreationToSendLatency');
    expect(sinceCreation).toMatchObject({ unit: 'Milliseconds', dimensions: { priority: 'high' } });
    // Created 5 s before the delivery.
    expect(sinceCreation?.values[0]).toBeGreaterThanOrEqual(5000);
    expect(total(points, 'SendFailures')).toBe(0);
  });

  it('a 503: a failed attempt, temporary and nobody’s fault', async () => {
    sandbox.configure({ mode: 'unavailable' });
    const { points, stored } = await deliver();
    expect(stored.status).toBe('failed');
    expect(total(points, 'SendFailures')).toBe(1);
    expect(total(points, 'SendFailedTemporaryTransient')).toBe(1);
    expect(names(points)).not.toContain('NotificationsSent');
    expect(names(points)).not.toContain('PermanentFailurePermanentError');
  });

  it('an invalid number: failed, permanent, the recipient’s fault, and a permanent failure by its reason', async () => {
    sandbox.configure({ invalidNumbers: ['22370123456'] });
    const { points, stored } = await deliver();
    expect(stored).toMatchObject({ status: 'permanent_failure', reason: 'permanent_error' });
    expect(total(points, 'SendFailedPermanentRecipient')).toBe(1);
    expect(total(points, 'PermanentFailurePermanentError')).toBe(1);
  });

  it('the last allowed attempt failing: a permanent failure, max_retries_exceeded', async () => {
    sandbox.configure({ mode: 'unavailable' });
    const { points, stored } = await deliver({ status: 'failed', attempts: 2, maxAttempts: 3 });
    expect(stored).toMatchObject({ status: 'permanent_failure', reason: 'max_retries_exceeded' });
    expect(total(points, 'SendFailedTemporaryTransient')).toBe(1);
    expect(total(points, 'PermanentFailureMaxRetriesExceeded')).toBe(1);
  });

  it('an expired token: a provider failure, held; then the open circuit holds without calling WaChap', async () => {
    sandbox.configure({ mode: 'token_expired' });
    const first = await deliver();
    expect(first.stored.reason).toBe('provider_unavailable');
    expect(total(first.points, 'SendFailedPermanentProvider')).toBe(1);
    expect(total(first.points, 'NotificationsHeld')).toBe(1);

    const second = await deliver();
    expect(total(second.points, 'NotificationsHeld')).toBe(1);
    // No attempt: neither a failure nor a WaChap call.
    expect(names(second.points)).not.toContain('SendFailures');
    expect(names(second.points)).not.toContain('WaChapCallLatency');
  });

  it('an expired OTP: expired by category and priority, never sent', async () => {
    const { points, stored } = await deliver({
      category: 'otp',
      priority: 'high',
      expiresAt: new Date(Date.now() - MINUTE).toISOString(),
    });
    expect(stored.status).toBe('expired');
    expect(points.find((p) => p.name === 'NotificationsExpired')).toMatchObject({
      values: [1],
      dimensions: { category: 'otp', priority: 'high' },
    });
    expect(names(points)).not.toContain('WaChapCallLatency');
  });

  it('a duplicate delivery publishes nothing', async () => {
    const sent = await deliver();
    const again = await emitted(() =>
      sender(sqsEvent([JSON.stringify({ id: sent.stored.id })]), lambdaContext('sender')),
    );
    expect(again.lines).toEqual([]);
  });

  it('a batch: one line per combination of dimension values, the totals adding up', async () => {
    const batch = [
      makeNotification({ category: 'otp', priority: 'high' }),
      makeNotification({ category: 'otp', priority: 'high' }),
      makeNotification({ category: 'colis_livre' }),
    ].map((n) => ({ ...n, nextAttemptAt: new Date(Date.now() - 1000).toISOString() }));
    for (const n of batch) await engines.store.create(n);
    const { lines } = await emitted(() =>
      sender(sqsEvent(batch.map((n) => JSON.stringify({ id: n.id }))), lambdaContext('sender')),
    );
    const points = pointsOf(lines);
    const sent = points.filter((p) => p.name === 'NotificationsSent');
    expect(sent.map((p) => [p.dimensions.category, p.values]).sort()).toEqual([
      ['colis_livre', [1]],
      ['otp', [2]],
    ]);
    expect(points.find((p) => p.name === 'WaChapCallLatency')?.values).toHaveLength(3);
  });
});

describe('metrics: retry sweep', () => {
  it('found and queued as its report says, and what it gives up on by reason', async () => {
    const due = new Date(Date.now() - MINUTE).toISOString();
    await engines.store.create(makeNotification({ nextAttemptAt: due }));
    await engines.store.create(makeNotification({ status: 'failed', attempts: 5, maxAttempts: 5, nextAttemptAt: due }));

    const { result, lines } = await emitted(() => sweep({}, lambdaContext('retry-sweep')));
    const points = pointsOf(lines);
    expect(result.queued).toBeGreaterThanOrEqual(1);
    expect(total(points, 'SweepFound')).toBe(result.found);
    expect(total(points, 'SweepQueued')).toBe(result.queued);
    expect(total(points, 'PermanentFailureMaxRetriesExceeded')).toBe(result.exhausted);
    expect(result.exhausted).toBeGreaterThanOrEqual(1);

    // A dry run changes nothing and publishes no work done.
    const dry = await emitted(() => sweep({ dryRun: true }, lambdaContext('retry-sweep')));
    expect(names(pointsOf(dry.lines))).not.toContain('SweepFound');
  });
});

describe('metrics: health check and provider probe', () => {
  it('the DLQ depth, the due backlog and its oldest age, as the check read them', async () => {
    await engines.sqsClient.send(new SendMessageCommand({ QueueUrl: engines.dlqUrl, MessageBody: '{"id":"dead"}' }));
    await engines.store.create(makeNotification({ nextAttemptAt: new Date(Date.now() - 10 * MINUTE).toISOString() }));

    const { result, lines } = await emitted(() => healthCheck({}, lambdaContext('health-check')));
    const points = pointsOf(lines);
    expect(total(points, 'DlqDepth')).toBe(result.dlqDepth);
    expect(result.dlqDepth).toBeGreaterThanOrEqual(1);
    expect(total(points, 'DueBacklog')).toBe(result.backlog.count);
    const age = Math.round((Date.parse(result.now) - Date.parse(result.backlog.oldestDueAt!)) / 1000);
    expect(points.find((p) => p.name === 'OldestDueAge')).toMatchObject({ unit: 'Seconds', values: [age] });
    expect(age).toBeGreaterThanOrEqual(600);
  });

  it('the circuit: 0 on each tick while closed, 1 while open', async () => {
    const closed = await emitted(() => probe({}, lambdaContext('provider-probe')));
    expect(closed.result.circuit?.status ?? 'closed').not.toBe('unavailable');
    expect(pointsOf(closed.lines).find((p) => p.name === 'ProviderCircuitOpen')?.values).toEqual([0]);

    const opened = await emitted(() =>
      probe({ action: 'open', reason: 'metrics test' }, lambdaContext('provider-probe')),
    );
    expect(pointsOf(opened.lines).find((p) => p.name === 'ProviderCircuitOpen')?.values).toEqual([1]);
    const tick = await emitted(() => probe({}, lambdaContext('provider-probe')));
    expect(pointsOf(tick.lines).find((p) => p.name === 'ProviderCircuitOpen')?.values).toEqual([1]);
  });
});

describe('metrics: operator actions', () => {
  const action = (id: string, verb: 'cancel' | 'retry') =>
    emitted(() =>
      operatorActions(
        apiEvent({
          method: 'POST',
          path: `/v1/notifications/${id}/${verb}`,
          resource: `/v1/notifications/{id}/${verb}`,
          pathParameters: { id },
          caller: {
            accessKey: 'AKIAOPS',
            accountId: '000000000000',
            caller: 'AIDAOPS',
            user: 'AIDAOPS',
            userArn: 'arn:aws:iam::000000000000:user/ops',
          },
        }),
        lambdaContext('operator-actions'),
      ),
    );

  it('a cancel and a re-drive, each counted once', async () => {
    const pending = makeNotification({ nextAttemptAt: new Date(Date.now() + MINUTE).toISOString() });
    const failed = makeNotification({ status: 'permanent_failure', reason: 'permanent_error', attempts: 1 });
    const { nextAttemptAt: _due, ...ended } = failed;
    await engines.store.create(pending);
    await engines.store.create(ended);

    const cancel = await action(pending.id, 'cancel');
    expect(cancel.result.statusCode).toBe(200);
    expect(total(pointsOf(cancel.lines), 'NotificationsCancelled')).toBe(1);

    const redrive = await action(failed.id, 'retry');
    expect(redrive.result.statusCode).toBe(200);
    expect(total(pointsOf(redrive.lines), 'NotificationsRedriven')).toBe(1);
  });
});
