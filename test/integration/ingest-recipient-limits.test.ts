// The per-recipient limit at ingest, against real engines: the deployed handler with its default limits, and the
// same factory with an injected clock for windows and races. A refusal is a 429 naming the limit and when to try
// again, and writes nothing; an idempotent repeat is answered as before and never counted twice.
import { Logger } from '@aws-lambda-powertools/logger';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIngestHandler } from '../../functions/ingest/create-handler.js';
import { newNotificationId } from '../../shared/application/ingest.js';
import type { Notification } from '../../shared/domain/notification.js';
import { DEFAULT_RECIPIENT_LIMITS, type RecipientLimits } from '../../shared/domain/recipient-limits.js';
import { silentLog } from '../../shared/observability/logger.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { apiEvent, lambdaContext } from '../support/lambda.js';

type Handler = (
  event: ReturnType<typeof apiEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;

let engines: TestEngines;
let dynamodb: DynamoDBClient;

async function loadHandler(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return ((await import('../../functions/ingest/handler.js')) as unknown as { handler: Handler }).handler;
}

/** The ingest factory on the test engines, with its own clock and limits; the queue is not what is tested. */
function ingestWith(options: { limits?: RecipientLimits; clock?: () => Date; store?: TestEngines['store'] } = {}) {
  const store = options.store ?? engines.store;
  const handler = createIngestHandler(new Logger({ logLevel: 'SILENT' }), {
    store,
    recipientCounters: engines.store,
    recipientLimits: options.limits ?? DEFAULT_RECIPIENT_LIMITS,
    queue: { enqueue: async () => undefined },
    log: silentLog,
    clock: options.clock ?? (() => new Date()),
    newId: newNotificationId,
    policy: { maxAttempts: 10, validitySeconds: { otp: 600 } },
    defaultCountry: 'ML',
  });
  return (body: object, headers: Record<string, string> = {}) =>
    handler(
      apiEvent({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } }),
      lambdaContext('ingest'),
    ) as Promise<APIGatewayProxyResult>;
}

let nextNumber = 0;
/** A Malian mobile number of its own for each test, written as callers write it. */
const newNumber = () => {
  const digits = String(200_000 + nextNumber++);
  return { written: `+223 76 ${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4)}`, e164: `+22376${digits}` };
};

const otp = (phone: string, code = '123456') => ({ recipient: { phone }, category: 'otp', message: `Code: ${code}` });
const parcel = (phone: string) => ({
  recipient: { phone },
  category: 'colis_arrive',
  message: 'Votre colis est arrivé.',
});
const parse = (response: APIGatewayProxyResult) => JSON.parse(response.body) as Record<string, unknown>;
const statuses = (responses: APIGatewayProxyResult[]) => responses.map((r) => r.statusCode);

/** Every item of the table: notifications, idempotency keys, counters. */
async function tableItems(): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: engines.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const notificationsTo = async (e164: string) =>
  (await tableItems()).filter((item) => item.recipient?.M?.phone?.S === e164 && !item.pk?.S?.includes('#'));

/** The ten-minute window must not end between the requests of a test on the real clock. */
async function awayFromAWindowEnd(windowSeconds: number, marginMs = 5_000): Promise<void> {
  const left = windowSeconds * 1000 - (Date.now() % (windowSeconds * 1000));
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

beforeAll(async () => {
  engines = await startTestEngines();
  dynamodb = new DynamoDBClient({
    endpoint: engines.dynamodb.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  dynamodb?.destroy();
  await engines?.stop();
});

describe('ingest: per-recipient limits', () => {
  it('refuses the 6th OTP to one number in 10 minutes: 429, Retry-After, the limit named, nothing written', async () => {
    // Prepare: the deployed handler, its limits from the (empty) environment: the defaults.
    const handler = await loadHandler(engines.env);
    const post = (body: object, headers: Record<string, string> = {}) =>
      handler(
        apiEvent({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } }),
        lambdaContext('ingest'),
      );
    const { written, e164 } = newNumber();
    await awayFromAWindowEnd(600);
    const accepted = [];
    for (let i = 0; i < 5; i++) accepted.push(await post(otp(written, `10000${i}`)));
    const before = await tableItems();

    // Act: a sixth, with an idempotency key of its own.
    const refused = await post(otp(written, '999999'), { 'Idempotency-Key': `sixth-${e164}` });

    // Assess
    expect(statuses(accepted)).toEqual([202, 202, 202, 202, 202]);
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers?.['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(refused.headers?.['content-type']).toBe('application/problem+json');
    expect(parse(refused)).toMatchObject({
      type: 'https://docs.ts-aircargo.example/problems/recipient-rate-limited',
      status: 429,
      code: 'recipient_rate_limited',
      detail: `recipient.phone: at most 5 otp notifications per 10 minutes to one number; retry after ${retryAfter} s`,
      errors: [
        {
          path: 'recipient.phone',
          message: `*******${e164.slice(-4)} has reached the limit (at most 5 otp notifications per 10 minutes); retry after ${retryAfter} s`,
        },
      ],
      limit: {
        category: 'otp',
        max: 5,
        windowSeconds: 600,
        windowEndsAt: new Date(Math.ceil(Date.now() / 600_000) * 600_000).toISOString(),
        retryAfterSeconds: retryAfter,
      },
    });
    expect(refused.body).not.toContain(e164.slice(1));
    // Nothing written: no notification, no idempotency key, the counter as it was.
    expect(await tableItems()).toEqual(before);
    expect(await notificationsTo(e164)).toHaveLength(5);
  });

  it('counts a number per category, and each number on its own', async () => {
    const now = new Date('2030-01-01T12:00:00.000Z');
    const post = ingestWith({ clock: () => now });
    const full = newNumber();
    for (let i = 0; i < 5; i++) await post(otp(full.written));
    expect((await post(otp(full.written))).statusCode).toBe(429);

    const answers = await Promise.all([post(parcel(full.written)), post(otp(newNumber().written))]);

    expect(statuses(answers)).toEqual([202, 202]);
  });

  it('answers an idempotent repeat with the original even once the limit is reached, and never counts it twice', async () => {
    const now = new Date('2030-01-01T13:00:00.000Z');
    const post = ingestWith({ clock: () => now });
    const { written, e164 } = newNumber();
    const key = { 'Idempotency-Key': `first-${e164}` };
    const first = await post(otp(written), key);
    // Repeats while there is room take a slot and give it back: four more still fit.
    const earlyRepeats = [await post(otp(written), key), await post(otp(written), key)];
    const others = [];
    for (let i = 0; i < 4; i++) others.push(await post(otp(written)));
    const items = (await tableItems()).length;

    const lateRepeat = await post(otp(written), key);
    const sixth = await post(otp(written));

    expect(first.statusCode).toBe(202);
    expect(statuses(earlyRepeats)).toEqual([200, 200]);
    expect(statuses(others)).toEqual([202, 202, 202, 202]);
    expect(lateRepeat.statusCode).toBe(200);
    expect(parse(lateRepeat)).toEqual({ id: parse(first).id, status: 'pending', links: parse(first).links });
    expect(sixth.statusCode).toBe(429);
    expect((await tableItems()).length).toBe(items);
    expect(await notificationsTo(e164)).toHaveLength(5);
  });

  it('opens a new window when the last one ends', async () => {
    let now = new Date('2030-01-01T14:03:00.000Z');
    const post = ingestWith({ clock: () => now });
    const { written } = newNumber();
    for (let i = 0; i < 5; i++) await post(otp(written));

    const refused = await post(otp(written));
    now = new Date('2030-01-01T14:09:59.999Z');
    const stillRefused = await post(otp(written));
    now = new Date('2030-01-01T14:10:00.000Z');
    const nextWindow = [];
    for (let i = 0; i < 6; i++) nextWindow.push(await post(otp(written)));

    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('420');
    expect(parse(refused).limit).toMatchObject({ windowEndsAt: '2030-01-01T14:10:00.000Z', retryAfterSeconds: 420 });
    expect(stillRefused.headers?.['retry-after']).toBe('1');
    expect(statuses(nextWindow)).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it('of 30 concurrent requests for the last 5 slots, exactly 5 are accepted', async () => {
    const now = new Date('2030-01-01T15:00:00.000Z');
    const post = ingestWith({ clock: () => now });
    const { written, e164 } = newNumber();

    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(otp(written, String(100_000 + i)))));

    expect(answers.filter((a) => a.statusCode === 202)).toHaveLength(5);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(25);
    expect(await notificationsTo(e164)).toHaveLength(5);
  });

  it('counts a scheduled notification in the window of its acceptance, not of its sending', async () => {
    const now = new Date('2030-01-01T16:00:00.000Z');
    const post = ingestWith({ clock: () => now, limits: { default: { max: 2, windowSeconds: 3600 } } });
    const { written } = newNumber();
    const tomorrow = { sendAt: '2030-01-02T09:00:00.000Z' };

    const scheduled = [
      await post({ ...parcel(written), ...tomorrow }),
      await post({ ...parcel(written), ...tomorrow }),
    ];
    const third = await post(parcel(written));

    expect(statuses(scheduled)).toEqual([202, 202]);
    expect(third.statusCode).toBe(429);
    expect(parse(third).detail).toBe(
      'recipient.phone: at most 2 colis_arrive notifications per hour to one number; retry after 3600 s',
    );
  });

  it('never counts a category whose limit is "unlimited"', async () => {
    const now = new Date('2030-01-01T17:00:00.000Z');
    const post = ingestWith({ clock: () => now, limits: { ...DEFAULT_RECIPIENT_LIMITS, otp: 'unlimited' } });
    const { written, e164 } = newNumber();
    const items = (await tableItems()).length;

    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await post(otp(written)));

    expect(statuses(answers)).toEqual(Array(8).fill(202));
    // Eight notifications, and no counter item.
    expect((await tableItems()).length).toBe(items + 8);
    expect(await notificationsTo(e164)).toHaveLength(8);
  });

  it('gives the slot back when the notification cannot be written', async () => {
    const now = new Date('2030-01-01T18:00:00.000Z');
    let failures = 1;
    const flaky = Object.assign(Object.create(engines.store) as TestEngines['store'], {
      async create(notification: Notification, at?: Date) {
        if (failures-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return engines.store.create(notification, at);
      },
    });
    const post = ingestWith({ clock: () => now, limits: { default: { max: 2, windowSeconds: 3600 } }, store: flaky });
    const { written } = newNumber();

    const failed = await post(parcel(written));
    const then = [await post(parcel(written)), await post(parcel(written)), await post(parcel(written))];

    expect(failed.statusCode).toBe(500);
    expect(statuses(then)).toEqual([202, 202, 429]);
  });
});

describe('ingest configuration: RECIPIENT_LIMITS', () => {
  it('reads its limits from RECIPIENT_LIMITS, merged over the defaults', async () => {
    const handler = await loadHandler({
      ...engines.env,
      RECIPIENT_LIMITS: JSON.stringify({ colis_livre: { max: 1, windowSeconds: 86_400 } }),
    });
    const { written } = newNumber();
    const post = (body: object) =>
      handler(apiEvent({ body: JSON.stringify(body) }), lambdaContext('ingest')) as Promise<APIGatewayProxyResult>;
    await awayFromAWindowEnd(86_400);

    const delivered = [
      await post({ ...parcel(written), category: 'colis_livre' }),
      await post({ ...parcel(written), category: 'colis_livre' }),
    ];

    expect(statuses(delivered)).toEqual([202, 429]);
    expect(parse(delivered[1]!).message).toMatch(/at most 1 colis_livre notification per day/);
  });

  it('stops at cold start naming RECIPIENT_LIMITS when it is malformed', async () => {
    await expect(
      loadHandler({ ...engines.env, RECIPIENT_LIMITS: '{"otp":{"max":0,"windowSeconds":600}}' }),
    ).rejects.toThrow(/RECIPIENT_LIMITS\.otp\.max: must be at least 1/);
    await expect(loadHandler({ ...engines.env, RECIPIENT_LIMITS: 'otp=5' })).rejects.toThrow(
      /RECIPIENT_LIMITS: must be JSON/,
    );
  });
});
