import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIngestHandler } from '../../functions/ingest/create-handler.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore } from '../../shared/adapters/dynamodb/store.js';
import { newNotificationId } from '../../shared/application/ingest.js';
import { DEFAULT_RECIPIENT_LIMITS } from '../../shared/domain/recipient-limits.js';
import { silentLog } from '../../shared/observability/logger.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { apiEvent, lambdaContext } from '../support/lambda.js';

type Handler = (
  event: ReturnType<typeof apiEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;

let engines: TestEngines;
let handler: Handler;

async function loadHandler(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return ((await import('../../functions/ingest/handler.js')) as unknown as { handler: Handler }).handler;
}

const post = (
  body: unknown,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
  path = '/v1/notifications',
) =>
  handler(
    apiEvent({ body: typeof body === 'string' ? body : JSON.stringify(body), headers, path }),
    lambdaContext('ingest'),
  );

const parse = (response: APIGatewayProxyResult) => JSON.parse(response.body) as Record<string, unknown>;

async function queueDepth(): Promise<number> {
  const { Attributes } = await engines.sqsClient.send(
    new GetQueueAttributesCommand({ QueueUrl: engines.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

const valid = {
  recipient: { phone: '+223 70 12 34 56', name: 'Mamadou Traoré' },
  category: 'colis_arrive',
  message: 'Votre colis est arrivé à Bamako.',
};

beforeAll(async () => {
  engines = await startTestEngines();
  handler = await loadHandler(engines.env);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await engines?.stop();
});

describe('ingest handler', () => {
  it('accepts a notification: 202, a pending record due now, and its id on the queue', async () => {
    const before = await queueDepth();
    const response = await post(valid);
    expect(response.statusCode).toBe(202);
    const body = parse(response);
    // Where to read it: under the stage the caller called (apiEvent's requestContext.path is /local/v1/…).
    const self = `/local/v1/notifications/${body.id}`;
    expect(body).toEqual({ id: expect.stringMatching(/^[0-9A-Z]{26}$/), status: 'pending', links: { self } });
    expect(response.headers).toMatchObject({ location: self });
    expect(response.headers).not.toHaveProperty('deprecation');

    const stored = await engines.store.get(body.id as string);
    expect(stored).toMatchObject({
      status: 'pending',
      attempts: 0,
      maxAttempts: 10,
      priority: 'normal',
      recipient: { phone: '+22370123456', name: 'Mamadou Traoré' },
      title: 'Colis arrivé',
    });
    expect(Date.now() - Date.parse(stored!.nextAttemptAt!)).toBeLessThan(10_000);
    expect(await queueDepth()).toBe(before + 1);
  });

  it('keeps an https callbackUrl to a public host (the AWS policy, public-https, by default)', async () => {
    const response = await post({ ...valid, callbackUrl: 'https://tms.example.com/hooks/wachap?from=notifications' });

    expect(response.statusCode).toBe(202);
    expect((await engines.store.get(parse(response).id as string))?.callbackUrl).toBe(
      'https://tms.example.com/hooks/wachap?from=notifications',
    );
  });

  it.each([
    ['http://tms.example.com/hooks', /https/],
    ['https://169.254.169.254/latest/meta-data', /public host/],
    ['https://[::ffff:10.0.0.7]/hooks', /public host/],
    ['https://localhost:8443/hooks', /localhost/],
  ])('refuses callbackUrl %s under public-https: 400 naming it, nothing queued', async (callbackUrl, why) => {
    const before = await queueDepth();

    const response = await post({ ...valid, callbackUrl });

    expect(response.statusCode).toBe(400);
    expect(parse(response)).toMatchObject({
      code: 'validation_error',
      errors: [{ path: 'callbackUrl', message: expect.stringMatching(why) }],
    });
    expect(await queueDepth()).toBe(before);
  });

  it('gives an otp high priority and a 10-minute validity', async () => {
    const response = await post({ recipient: { phone: '70123456' }, category: 'otp', message: 'Code: 123456' });
    const stored = await engines.store.get(parse(response).id as string);
    expect(stored?.priority).toBe('high');
    expect(Date.parse(stored!.expiresAt!) - Date.parse(stored!.createdAt)).toBe(600_000);
  });

  it('answers the same idempotency key and the same request with the first id, 200, and writes nothing', async () => {
    const key = `order-${Date.now()}`;
    const first = await post({ ...valid, idempotencyKey: key });
    const stored = await engines.store.get(parse(first).id as string);
    // The same request written otherwise: keys in another order, spaces, the phone in another writing, the key in
    // the header instead of the body.
    const again = await post(
      `{ "message": ${JSON.stringify(valid.message)},\n  "category": "colis_arrive",
         "recipient": { "name": "Mamadou Traoré", "phone": "+223 70-12-34-56" } }`,
      { 'content-type': 'application/json', 'Idempotency-Key': key },
    );
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(200);
    expect(parse(again)).toEqual(parse(first));
    expect(again.headers).toMatchObject({ location: first.headers?.location });
    expect(await engines.store.get(parse(first).id as string)).toEqual(stored);
  });

  it('still accepts at the unversioned POST /notifications, saying it is deprecated and where its successor is', async () => {
    const response = await post(valid, { 'content-type': 'application/json' }, '/notifications');

    expect(response.statusCode).toBe(202);
    expect(response.headers).toMatchObject({
      deprecation: `@${Date.parse('2026-11-30T00:00:00Z') / 1000}`,
      link: '</local/v1/notifications>; rel="successor-version"',
      location: `/local/v1/notifications/${parse(response).id}`,
    });
  });

  it.each([
    ['in the body', 'idempotencyKey', (key: string) => [{ ...valid, message: 'changed', idempotencyKey: key }, {}]],
    [
      'in the header',
      'headers.Idempotency-Key',
      (key: string) => [{ ...valid, message: 'changed' }, { 'Idempotency-Key': key }],
    ],
  ] as const)(
    'refuses a key reused %s with another body: 422 idempotency_key_reused naming the field, nothing written',
    async (_where, field, reuse) => {
      // Prepare: a first request claims the key.
      const key = `reused-${field}-${Date.now()}`;
      const first = await post({ ...valid }, { 'content-type': 'application/json', 'Idempotency-Key': key });
      const stored = await engines.store.get(parse(first).id as string);
      const depth = await queueDepth();

      // Act: the same key with another message.
      const [body, headers] = reuse(key);
      const reused = await post(body, { 'content-type': 'application/json', ...headers });

      // Assess: refused, naming where the key came from; the first notification untouched, nothing queued.
      expect(first.statusCode).toBe(202);
      expect(reused.statusCode).toBe(422);
      expect(parse(reused)).toMatchObject({
        status: 422,
        code: 'idempotency_key_reused',
        errors: [{ path: field, message: expect.stringContaining('another request') }],
      });
      expect(await engines.store.get(parse(first).id as string)).toEqual(stored);
      expect(await queueDepth()).toBe(depth);
    },
  );

  it('answers a key claimed before fingerprints were kept as a repeat, whatever the body', async () => {
    // Prepare: the key's record as the previous version wrote it (no fingerprint).
    const key = `legacy-${Date.now()}`;
    const notification = (
      await engines.store.create(
        {
          ...(await engines.store.get(parse(await post(valid)).id as string))!,
          id: newNotificationId(),
          idempotencyKey: key,
        },
        new Date(),
      )
    ).notification;

    const again = await post({ ...valid, message: 'changed', idempotencyKey: key });

    expect(again.statusCode).toBe(200);
    expect(parse(again).id).toBe(notification.id);
  });

  it('queues a repeat whose first request failed after writing (the caller got a 5xx), instead of leaving it to the sweep', async () => {
    // Prepare: the first request claims the key, then its notification write is throttled: the caller gets a 500.
    // (The fault is injected where DynamoDB answers: the notification's PutItem is throttled once.)
    let throttle = true;
    const client = new DynamoDBClient({
      endpoint: engines.dynamodb.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const pk = (args.input as { Item?: { pk?: unknown } }).Item?.pk;
        if (throttle && typeof pk === 'string' && !pk.startsWith('idempotency#')) {
          throttle = false;
          throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleOnce' },
    );
    const store = dynamoDbStore({ client: notificationDocumentClient(client), tableName: engines.tableName });
    const queued: string[] = [];
    const flaky = createIngestHandler(new Logger({ logLevel: 'SILENT' }), {
      store,
      recipientCounters: store,
      recipientLimits: DEFAULT_RECIPIENT_LIMITS,
      queue: { enqueue: async (message) => void queued.push(message.id) },
      log: silentLog,
      clock: () => new Date(),
      newId: newNotificationId,
      policy: { maxAttempts: 10, validitySeconds: { otp: 600 } },
      defaultCountry: 'ML',
    });
    const key = `otp-${Date.now()}`;
    const request = () =>
      flaky(
        apiEvent({ body: JSON.stringify({ ...valid, category: 'otp', message: 'Code 123456', idempotencyKey: key }) }),
        lambdaContext('ingest'),
      ) as Promise<APIGatewayProxyResult>;
    expect((await request()).statusCode).toBe(500);
    expect(queued).toEqual([]);

    // Act: the caller retries with the same key.
    const retry = await request();

    // Assess: the repaired notification is on the queue now, not in 30 minutes.
    expect(retry.statusCode).toBe(200);
    expect(queued).toEqual([parse(retry).id]);
    expect(await engines.store.get(parse(retry).id as string)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('schedules a future sendAt without sending it now', async () => {
    const sendAt = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const depth = await queueDepth();
    const response = await post({ ...valid, sendAt });
    const stored = await engines.store.get(parse(response).id as string);
    expect(stored?.nextAttemptAt).toBe(sendAt);
    expect(await queueDepth()).toBe(depth);
  });

  it.each([
    ['a missing message', { recipient: valid.recipient, category: 'otp' }, 'message'],
    ['an unknown field', { ...valid, colour: 'blue' }, 'colour'],
    ['an invalid phone', { ...valid, recipient: { phone: '12' } }, 'recipient.phone'],
    ['a message over 4096 characters', { ...valid, message: 'x'.repeat(4097) }, 'message'],
    ['a bad category', { ...valid, category: 'Colis Arrivé!' }, 'category'],
    ['both expiresAt and ttlSeconds', { ...valid, ttlSeconds: 60, expiresAt: '2099-01-01T00:00:00Z' }, 'ttlSeconds'],
    ['a past expiresAt', { ...valid, expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    ['a wrong priority', { ...valid, priority: 'urgent' }, 'priority'],
    ['an array body', [valid], ''],
    ['a US toll-free number', { ...valid, recipient: { phone: '+1 800 555 0199' } }, 'recipient.phone'],
    ['a Malian toll-free number', { ...valid, recipient: { phone: '80 12 34 56' } }, 'recipient.phone'],
    ['a number in full-width digits', { ...valid, recipient: { phone: '+２２３７０１２３４５６' } }, 'recipient.phone'],
    [
      'a number with a right-to-left override',
      { ...valid, recipient: { phone: '+223\u202E70123456' } },
      'recipient.phone',
    ],
    ['a message of only NUL', { ...valid, message: '\u0000' }, 'message'],
    ['a message of zero-width and bidi characters', { ...valid, message: '\u200B\u202E\u2066\uFEFF' }, 'message'],
    ['a title of zero-width spaces', { ...valid, title: '\u200B\u200B' }, 'title'],
    [
      'a name with a right-to-left override',
      { ...valid, recipient: { ...valid.recipient, name: 'Awa\u202E' } },
      'recipient.name',
    ],
    ['an idempotency key with a newline', { ...valid, idempotencyKey: 'order-42\n' }, 'idempotencyKey'],
    ['a non-ASCII idempotency key', { ...valid, idempotencyKey: 'commande-é' }, 'idempotencyKey'],
  ])('refuses %s with 400 validation_error naming the field', async (_name, body, path) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    const parsed = parse(response) as { code: string; errors: { path: string; message: string }[] };
    expect(parsed.code).toBe('validation_error');
    expect(parsed.errors.map((d) => d.path)).toContain(path);
  });

  it('says which type of number WhatsApp cannot reach, without echoing it', async () => {
    const before = await queueDepth();

    const response = await post({ ...valid, recipient: { phone: '+1 800 555 0199' } });

    expect(response.statusCode).toBe(400);
    expect(parse(response).errors).toEqual([
      { path: 'recipient.phone', message: 'is a toll-free number, which WhatsApp cannot reach' },
    ]);
    expect(response.body).not.toMatch(/800\D?555/);
    expect(await queueDepth()).toBe(before);
  });

  it.each([
    ['a newline', 'order-42\nx'],
    ['non-ASCII', 'commande-é'],
    ['129 characters', 'k'.repeat(129)],
  ])('refuses an Idempotency-Key header with %s, naming the header', async (_what, key) => {
    const response = await post(valid, { 'content-type': 'application/json', 'Idempotency-Key': key });

    expect(response.statusCode).toBe(400);
    expect((parse(response).errors as { path: string }[]).map((d) => d.path)).toEqual(['headers.Idempotency-Key']);
  });

  it('stores CRLF from a Windows upstream as LF', async () => {
    const response = await post({ ...valid, message: 'Ligne 1\r\nLigne 2' });

    expect(response.statusCode).toBe(202);
    expect((await engines.store.get(parse(response).id as string))?.message).toBe('Ligne 1\nLigne 2');
  });

  it('refuses bytes that are not UTF-8 with 400 invalid_encoding, and another charset with 415', async () => {
    const bytes = Buffer.concat([Buffer.from(JSON.stringify(valid).slice(0, -2)), Buffer.from([0xe9, 0x22, 0x7d])]);
    const event = (contentType: string) =>
      apiEvent({ body: bytes.toString('base64'), isBase64Encoded: true, headers: { 'Content-Type': contentType } });

    const invalid = await handler(event('application/json'), lambdaContext('ingest'));
    const latin1 = await handler(event('application/json; charset=iso-8859-1'), lambdaContext('ingest'));

    expect([invalid.statusCode, parse(invalid).code]).toEqual([400, 'invalid_encoding']);
    expect([latin1.statusCode, parse(latin1).code]).toEqual([415, 'unsupported_media_type']);
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await post('{"recipient": ');
    expect(response.statusCode).toBe(400);
    expect(parse(response).code).toBe('malformed_json');
  });

  it('refuses a body over 16 KB with 413', async () => {
    const response = await post({ ...valid, title: 'x'.repeat(17 * 1024) });
    expect(response.statusCode).toBe(413);
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['']])(
    'refuses content type "%s" with 415',
    async (type) => {
      const response = await post(valid, type ? { 'Content-Type': type } : {});
      expect(response.statusCode).toBe(415);
    },
  );

  it('still accepts when the queue is unreachable: the record is due for the next sweep', async () => {
    const broken = await loadHandler({
      ...engines.env,
      SEND_QUEUE_URL: engines.queueUrl.replace(/[^/]+$/, 'missing-queue'),
    });
    const response = await broken(apiEvent({ body: JSON.stringify(valid) }), lambdaContext('ingest'));
    expect(response.statusCode).toBe(202);
    const due = await engines.store.dueNotifications({ now: new Date(), limit: 100 });
    expect(due.map((n) => n.id)).toContain(parse(response).id);
  });

  it('answers 500 without internals when the table is unreachable', async () => {
    const broken = await loadHandler({ ...engines.env, TABLE_NAME: 'no-such-table' });
    const response = await broken(apiEvent({ body: JSON.stringify(valid) }), lambdaContext('ingest'));
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/no-such-table|ResourceNotFound|stack/i);
  });
});

describe('ingest configuration', () => {
  it('stops at cold start naming a missing variable', async () => {
    const { TABLE_NAME: _omitted, ...env } = engines.env;
    vi.stubEnv('TABLE_NAME', undefined as unknown as string);
    await expect(loadHandler(env)).rejects.toThrow(/TABLE_NAME/);
  });
});
