// Operators and schedules invoke retry-sweep, health-check and provider-probe with a JSON payload.
// Whatever that payload is, the answer is a normal result or a 400-style validation result naming
// the field (never a function error), exactly as the contract says; and a payload that asks for a
// dry run never changes the table.
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack, waitFor } from '../support/local-stack.js';

let e2e: E2eStack;
/** Failed notifications, made due: what a real (not dry) sweep would change. */
let dueIds: string[] = [];

beforeAll(async () => {
  e2e = await startE2eStack({
    env: {
      ADMIN_EMAIL: 'ops-fuzz@example.com',
      ALERT_FROM_EMAIL: 'alerts-fuzz@example.com',
      // One failure is enough for an alert: a real health check then takes a cooldown (writes the table).
      ALERT_HOURLY_FAILURE_THRESHOLD: '1',
    },
  });
  await e2e.configureSandbox({ mode: 'unavailable' });
  const answers = await Promise.all([60, 61, 62].map((i) => e2e.post(notificationRequest(malianPhone(i)))));
  dueIds = answers.map((a) => a.body.id!);
  await waitFor(
    async () => (await Promise.all(dueIds.map((id) => e2e.getNotification(id)))).every((n) => n?.status === 'failed'),
    15_000,
    'seeded failures',
  );
  await Promise.all(dueIds.map((id) => e2e.makeDue(id)));
  await e2e.configureSandbox({ mode: 'healthy' });
});
afterAll(async () => {
  await e2e?.stop();
});

type FunctionName = 'retry-sweep' | 'health-check' | 'provider-probe';

interface Rejection {
  statusCode: 400;
  error: 'validation_error';
  message: string;
  details: { path: string; message: string }[];
}

/** Every item, sorted: the table as a value. */
async function snapshot(): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await e2e.dynamodb.send(
      new ScanCommand({ TableName: e2e.stack.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => (a.pk?.S ?? '').localeCompare(b.pk?.S ?? ''));
}

// ── The contract, written out independently of the schemas (README: operations) ──────────────────────

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const EVENTBRIDGE_KEYS = ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'];
/** An EventBridge scheduled event (nothing but its envelope) means "the defaults". */
const isScheduledEvent = (value: unknown): boolean =>
  isPlainObject(value) &&
  value['detail-type'] === 'Scheduled Event' &&
  Object.keys(value).every((key) => EVENTBRIDGE_KEYS.includes(key));
const intIn = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
const optional = (value: unknown, ok: (v: unknown) => boolean) => value === undefined || ok(value);
const isBoolean = (value: unknown) => typeof value === 'boolean';

const CONTRACT: Record<FunctionName, { keys: string[]; valid: (payload: Record<string, unknown>) => boolean }> = {
  'retry-sweep': {
    keys: ['dryRun', 'verbose', 'limit', 'maxRetries'],
    valid: (p) =>
      optional(p.dryRun, isBoolean) &&
      optional(p.verbose, isBoolean) &&
      optional(p.limit, (v) => intIn(v, 1, 10_000)) &&
      optional(p.maxRetries, (v) => intIn(v, 1, 100)),
  },
  'health-check': { keys: ['dryRun'], valid: (p) => optional(p.dryRun, isBoolean) },
  'provider-probe': {
    keys: ['action', 'reason'],
    valid: (p) =>
      optional(p.action, (v) => ['tick', 'status', 'probe', 'open', 'close'].includes(v as string)) &&
      optional(p.reason, (v) => typeof v === 'string' && [...v.trim()].length >= 1 && [...v.trim()].length <= 200),
  },
};

function acceptable(name: FunctionName, payload: unknown): boolean {
  if (payload === null || isScheduledEvent(payload)) return true;
  if (!isPlainObject(payload)) return false;
  const { keys, valid } = CONTRACT[name];
  return Object.keys(payload).every((key) => keys.includes(key)) && valid(payload);
}

/** The result each function returns when it runs. */
function expectResult(name: FunctionName, payload: unknown, result: unknown): void {
  const seen = JSON.stringify(result)?.slice(0, 400);
  expect(isPlainObject(result), seen).toBe(true);
  const r = result as Record<string, unknown>;
  const dryRun = isPlainObject(payload) && !isScheduledEvent(payload) && payload.dryRun === true;
  if (name === 'retry-sweep') {
    expect(r, seen).toMatchObject({ dryRun, found: expect.any(Number), queued: expect.any(Number) });
    if (isPlainObject(payload) && typeof payload.limit === 'number') expect(r.limit).toBe(payload.limit);
  } else if (name === 'health-check') {
    expect(r, seen).toMatchObject({ dryRun, windows: expect.any(Object), alerts: expect.any(Array) });
  } else {
    const action = isPlainObject(payload) && !isScheduledEvent(payload) ? (payload.action ?? 'tick') : 'tick';
    expect(r, seen).toMatchObject({ action, now: expect.any(String), released: expect.any(Number) });
  }
}

function expectRejection(payload: unknown, result: unknown): void {
  const seen = JSON.stringify(result)?.slice(0, 400);
  expect(result, seen).toMatchObject({ statusCode: 400, error: 'validation_error', message: expect.any(String) });
  const { details } = result as Rejection;
  expect(details.length, seen).toBeGreaterThan(0);
  // Each problem names a field of the payload (all are top-level), or the payload itself ('') when it is not an object.
  const fields = isPlainObject(payload) ? Object.keys(payload) : [];
  for (const detail of details) {
    expect(detail.message, seen).toEqual(expect.any(String));
    if (isPlainObject(payload)) expect(fields, seen).toContain(detail.path);
    else expect(detail.path, seen).toBe('');
  }
}

async function invokeChecked(name: FunctionName, payload: unknown): Promise<unknown> {
  const answer = await e2e.invoke(name, payload);
  const seen = JSON.stringify(answer.payload)?.slice(0, 600);
  expect(answer.functionError, seen).toBeUndefined();
  expect(answer.statusCode).toBe(200);
  if (acceptable(name, payload)) expectResult(name, payload, answer.payload);
  else expectRejection(payload, answer.payload);
  return answer.payload;
}

// ── Arbitraries ────────────────────────────────────────────────────────────────────────────────────

const anyValue = fc.jsonValue({ maxDepth: 2 });
const scheduledEnvelope = fc.record({
  version: fc.constant('0'),
  id: fc.uuid(),
  'detail-type': fc.constant('Scheduled Event'),
  source: fc.constant('aws.events'),
  time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  detail: fc.constant({}),
});
const oddKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'dryrun', 'DryRun', 'dry_run', 'Limit', ''),
  fc.string({ maxLength: 12 }),
);

/** Payloads shaped like the function's own: its fields with valid and invalid values, sometimes an extra key. */
function shaped(name: FunctionName): fc.Arbitrary<unknown> {
  const bool = fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 1, 0, null), anyValue);
  const int = (min: number, max: number) =>
    fc.oneof(
      fc.integer({ min, max }),
      fc.integer({ min: min - 1000, max: max + 1000 }),
      fc.double(),
      fc.constantFrom('10', null, 1e300, -0),
      anyValue,
    );
  const fields: Record<FunctionName, Record<string, fc.Arbitrary<unknown>>> = {
    'retry-sweep': { dryRun: bool, verbose: bool, limit: int(1, 10_000), maxRetries: int(1, 100) },
    'health-check': { dryRun: bool },
    'provider-probe': {
      action: fc.oneof(fc.constantFrom('tick', 'status', 'probe', 'open', 'close', 'OPEN', ' open', ''), anyValue),
      reason: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 220 }), fc.constantFrom('', '   ', 'x'.repeat(201))),
    },
  };
  return fc
    .tuple(
      fc.record(fields[name], { requiredKeys: [] }),
      fc.option(fc.tuple(oddKey, anyValue), { freq: 4 }),
      fc.option(scheduledEnvelope, { freq: 6 }),
    )
    .map(([record, extra, envelope]) => {
      const payload: Record<string, unknown> = { ...envelope, ...record };
      // defineProperty: an own "__proto__" key, as JSON.parse would make it.
      if (extra) Object.defineProperty(payload, extra[0], { value: extra[1], enumerable: true, writable: true });
      return payload;
    });
}

/** Payloads the contract accepts. */
function validPayload(name: FunctionName): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<FunctionName, Record<string, fc.Arbitrary<unknown>>> = {
    'retry-sweep': {
      dryRun: fc.boolean(),
      verbose: fc.boolean(),
      limit: fc.integer({ min: 1, max: 10_000 }),
      maxRetries: fc.integer({ min: 1, max: 100 }),
    },
    'health-check': { dryRun: fc.boolean() },
    'provider-probe': {
      action: fc.constantFrom('tick', 'status', 'probe', 'open', 'close'),
      reason: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((r) => r.trim() !== ''),
    },
  };
  return fc.record(fields[name], { requiredKeys: [] });
}

const anyPayload = (name: FunctionName) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 3, arbitrary: shaped(name) },
    { weight: 2, arbitrary: validPayload(name) },
    { weight: 1, arbitrary: fc.constantFrom(null, {}, [], '', 0, true, 'dryRun', [{ dryRun: true }]) },
    { weight: 1, arbitrary: scheduledEnvelope },
  );

// ── Properties ─────────────────────────────────────────────────────────────────────────────────────

describe('a payload asking for a dry run', () => {
  it.each(['retry-sweep', 'health-check', 'provider-probe'] as const)(
    '%s: never changes the table, never calls WaChap, never emails',
    async (name) => {
      const requests = (await e2e.inbox()).requests;
      const emails = (await e2e.emails()).length;
      const dryRun = fc
        .oneof(shaped(name), validPayload(name))
        .map((payload) => ({ ...(payload as object), dryRun: true }));
      let ran = 0;
      await fc.assert(
        fc.asyncProperty(dryRun, async (payload) => {
          const before = await snapshot();
          await invokeChecked(name, payload);
          if (acceptable(name, payload)) ran += 1;
          expect(await snapshot()).toStrictEqual(before);
        }),
        { numRuns: 40 },
      );
      // The property saw real dry runs, not only refusals (the probe has no dry run: it refuses them all).
      if (name === 'provider-probe') expect(ran).toBe(0);
      else expect(ran).toBeGreaterThan(0);
      expect((await e2e.inbox()).requests).toBe(requests);
      expect((await e2e.emails()).length).toBe(emails);
      expect(await e2e.queueDepth(e2e.stack.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    },
  );

  it('is worth checking: the same table is changed by a real run', async () => {
    const before = await snapshot();
    const health = await invokeChecked('health-check', {});
    expect(health).toMatchObject({ dryRun: false, alerts: [expect.objectContaining({ email: 'sent' })] });
    expect(await snapshot()).not.toStrictEqual(before);
  });
});

describe('any payload', () => {
  it.each(['retry-sweep', 'health-check', 'provider-probe'] as const)(
    '%s: a result or a validation result naming the field, as the contract says; never a function error',
    async (name) => {
      const outcomes = { ran: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(anyPayload(name), async (payload) => {
          await invokeChecked(name, payload);
          outcomes[acceptable(name, payload) ? 'ran' : 'refused'] += 1;
        }),
        { numRuns: 80 },
      );
      expect(outcomes.ran).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
      // Whatever the property opened, the next file of tests starts from a closed circuit.
      await invokeChecked('provider-probe', { action: 'close' });
    },
  );

  it('a real sweep after all that still finds and queues the due notifications', async () => {
    const sweep = (await invokeChecked('retry-sweep', { verbose: true })) as SweepSummary;
    expect(sweep.dryRun).toBe(false);
    const seen = sweep.notifications?.map((n) => n.id) ?? [];
    // Earlier real runs may already have queued (and sent) them: each is either seen now or sent.
    for (const id of dueIds) {
      const n = await waitFor(
        async () => {
          const current = await e2e.getNotification(id);
          return current?.status === 'sent' || seen.includes(id) ? current : undefined;
        },
        10_000,
        `notification ${id}`,
      );
      expect(n).toBeDefined();
    }
  });
});

describe('the Invoke door itself', () => {
  async function raw(path: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
    const response = await fetch(`${e2e.stack.urls.lambda}${path}`, {
      method: 'POST',
      body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
      headers,
    });
    return { status: response.status, type: response.headers.get('x-amzn-errortype'), text: await response.text() };
  }

  it('any function name: the function, or 404 ResourceNotFoundException; never a 5xx', async () => {
    const name = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent),
      fc.constantFrom(
        '%',
        '%E0%A4%A',
        '%ZZ',
        '..',
        '%2F',
        'retry-sweep%00',
        'arn:aws:lambda:x:function:',
        ':function:',
      ),
      fc.stringMatching(/^[A-Za-z0-9%:._~-]{1,40}$/),
    );
    await fc.assert(
      fc.asyncProperty(name, async (fn) => {
        const answer = await raw(`/2015-03-31/functions/${fn}/invocations`, '{"dryRun":true}');
        expect(answer.status, answer.text).toBeLessThan(500);
        if (answer.status !== 200) {
          expect(answer.status, answer.text).toBe(404);
          expect(answer.type).toMatch(/^(ResourceNotFoundException|UnknownOperationException)$/);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a body that is not JSON: 400 InvalidRequestContentException', async () => {
    const notJson = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }),
      fc.constantFrom('{', '{"a":}', 'nul'),
    );
    await fc.assert(
      fc.asyncProperty(
        notJson.filter((text) => {
          try {
            JSON.parse(text);
            return false;
          } catch {
            return true;
          }
        }),
        async (body) => {
          const answer = await raw('/2015-03-31/functions/health-check/invocations', body);
          expect(answer).toMatchObject({ status: 400, type: 'InvalidRequestContentException' });
        },
      ),
      { numRuns: 40 },
    );
  });
});
