// The HTTP edge reads the body as API Gateway hands it over (raw bytes in base64, or text): strictly UTF-8,
// JSON of at most 16 KB, a JSON object of the route's schema. Every refusal is a 4xx before the route's work
// runs, and its log line masks phone numbers however they are written.
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonResponse } from '../../shared/http/errors.js';
import { httpHandler, routedHandler } from '../../shared/http/http-handler.js';
import { notificationRequestSchema } from '../../shared/http/notification-request.js';
import { listQuerySchema, notificationIdPath, operatorActionBody } from '../../shared/http/operator-requests.js';
import { type CapturedOutput, captureOutput } from '../support/capture-output.js';
import { apiEvent, lambdaContext } from '../support/lambda.js';

const VALID = {
  recipient: { phone: '+22370123456', name: 'Awa Traoré' },
  category: 'colis_arrive',
  message: 'I ni ce! Aw ka bɔrɔ sera Bamako 📦',
};

let received: unknown[];
const handler = httpHandler(
  { logger: new Logger({ serviceName: 'http-handler-test', logLevel: 'INFO' }), body: notificationRequestSchema },
  async ({ body }) => {
    received.push(body);
    return jsonResponse(202, { ok: true });
  },
);

/** The handler's log lines (it logs every refusal at INFO). */
let output: CapturedOutput;
beforeEach(() => {
  received = [];
  output = captureOutput();
});
afterEach(() => output.restore());

interface Sent {
  status: number;
  body: { error?: string; message?: string; details?: { path: string; message: string }[] };
}

/** Invokes the handler as API Gateway does with binaryMediaTypes: the raw bytes, base64-encoded. */
async function sendBytes(bytes: Uint8Array, contentType: string | null = 'application/json'): Promise<Sent> {
  const event = apiEvent({
    body: Buffer.from(bytes).toString('base64'),
    isBase64Encoded: true,
    headers: contentType === null ? {} : { 'Content-Type': contentType },
  });
  return answer(await handler(event, lambdaContext('ingest')));
}

/** Invokes the handler with a text body (isBase64Encoded: false), as a direct invocation or a test would. */
async function sendText(text: string, contentType = 'application/json'): Promise<Sent> {
  const event = apiEvent({ body: text, headers: { 'Content-Type': contentType } });
  return answer(await handler(event, lambdaContext('ingest')));
}

const answer = (result: APIGatewayProxyResult): Sent => ({ status: result.statusCode, body: JSON.parse(result.body) });
const utf8 = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => JSON.stringify(value);

describe('the body as bytes', () => {
  it('accepts UTF-8 in base64 and hands the text over intact', async () => {
    const sent = await sendBytes(utf8(json(VALID)));

    expect(sent.status).toBe(202);
    expect(received).toEqual([VALID]);
  });

  const inString = (bytes: number[]) => {
    const [before, after] = json(VALID).split('Bamako');
    return new Uint8Array([...utf8(`${before}Bamako`), ...bytes, ...utf8(after!)]);
  };
  it.each([
    ['0xFF, never UTF-8', [0xff]],
    ['a Latin-1 é', [0xe9]],
    ['a lone continuation byte', [0x80]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses %s inside a string with 400 invalid_encoding, handling nothing', async (_what, bytes) => {
    // Act
    const sent = await sendBytes(inString(bytes));

    // Assess
    expect(sent.status).toBe(400);
    expect(sent.body.error).toBe('invalid_encoding');
    expect(sent.body.message).toMatch(/must be UTF-8/);
    expect(received).toEqual([]);
  });

  it('refuses bytes that are not UTF-8 in a key, or as the whole body', async () => {
    const inKey = new Uint8Array([...utf8('{"'), 0xff, ...utf8(`":1,${json(VALID).slice(1)}`)]);
    for (const body of [inKey, new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])]) {
      const sent = await sendBytes(body);
      expect(sent.body.error).toBe('invalid_encoding');
    }
    expect(received).toEqual([]);
  });

  it('refuses a body that starts with a byte order mark: 400 malformed_json saying so', async () => {
    for (const sent of [
      await sendBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(json(VALID))])),
      await sendText(`\uFEFF${json(VALID)}`),
    ]) {
      expect(sent.status).toBe(400);
      expect(sent.body.error).toBe('malformed_json');
      expect(sent.body.message).toMatch(/byte order mark/);
    }
    expect(received).toEqual([]);
  });
});

describe('the charset', () => {
  it.each([
    'application/json; charset=iso-8859-1',
    'application/json;charset="ISO-8859-1"',
    'application/json; charset=windows-1252',
    'application/json; charset=utf-16',
    'application/json; charset=us-ascii',
    'application/json; charset=',
    'application/json; charset=utf-8; charset=latin1',
    'application/problem+json; charset=latin1',
  ])('refuses %j with 415, saying the body must be UTF-8', async (contentType) => {
    // Act: even bytes that happen to decode.
    const sent = await sendBytes(utf8(json(VALID)), contentType);

    // Assess
    expect(sent.status).toBe(415);
    expect(sent.body.error).toBe('unsupported_media_type');
    expect(sent.body.message).toMatch(/UTF-8/);
    expect(received).toEqual([]);
  });

  it('refuses a Latin-1 body declared as such, rather than storing it corrupted', async () => {
    const latin1 = Buffer.from(json({ ...VALID, message: 'Colis arrivé à Ségou' }), 'latin1');

    const sent = await sendBytes(latin1, 'application/json; charset=ISO-8859-1');

    expect(sent.status).toBe(415);
    expect(received).toEqual([]);
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'application/json; charset="utf-8"',
    'Application/JSON; Charset=UTF8',
    'application/vnd.api+json; charset=utf-8',
  ])('accepts %j', async (contentType) => {
    expect((await sendBytes(utf8(json(VALID)), contentType)).status).toBe(202);
  });
});

// "What was tried and held" (issue 15): kept so, here without engines.
describe('what held', () => {
  it('refuses a body over 16 KB with 413, counted in bytes whichever way it comes', async () => {
    const big = json({ ...VALID, message: 'é'.repeat(8 * 1024 + 1) });
    expect((await sendBytes(utf8(big))).status).toBe(413);
    expect((await sendText(big)).status).toBe(413);
    expect(received).toEqual([]);
  });

  it.each([
    // 2 bytes a level: the deepest JSON that fits in 16 KB.
    ['as the body', `${'['.repeat(7_000)}${']'.repeat(7_000)}`],
    ['in a field', json(VALID).replace('"Awa Traoré"', `${'['.repeat(7_000)}${']'.repeat(7_000)}`)],
  ])('refuses 7,000-deep arrays %s with a 400, without a crash', async (_what, body) => {
    const sent = await sendBytes(utf8(body));

    expect(sent.status).toBe(400);
    expect(sent.body.error).toBe('validation_error');
    expect(received).toEqual([]);
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"hello"'],
    ['a number', '42'],
    ['true', 'true'],
  ])('refuses %s as the root with 400 validation_error', async (_what, body) => {
    const sent = await sendBytes(utf8(body));

    expect(sent.status).toBe(400);
    expect(sent.body.error).toBe('validation_error');
    expect(sent.body.details?.map((d) => d.path)).toEqual(['']);
  });

  it('refuses an empty body with 400 malformed_json', async () => {
    for (const event of [
      apiEvent({ body: null }),
      apiEvent({ body: '' }),
      apiEvent({ body: '', isBase64Encoded: true }),
    ]) {
      const sent = answer(await handler(event, lambdaContext('ingest')));
      expect(sent.status).toBe(400);
      expect(sent.body.error).toBe('malformed_json');
    }
  });

  it.each([
    ['at the top', `{"__proto__":{"polluted":true},${json(VALID).slice(1)}`, '__proto__'],
    [
      'in recipient',
      json(VALID).replace('"recipient":{', '"recipient":{"__proto__":{"polluted":true},'),
      'recipient.__proto__',
    ],
  ])('refuses __proto__ %s with 400 naming it, polluting nothing', async (_where, body, path) => {
    const sent = await sendBytes(utf8(body));

    expect(sent.status).toBe(400);
    expect(sent.body.details?.map((d) => d.path)).toEqual([path]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['text/json'], ['application/jsonp'], [null]])(
    'refuses content type %j with 415',
    async (contentType) => {
      expect((await sendBytes(utf8(json(VALID)), contentType)).status).toBe(415);
    },
  );
});

describe('a phone number as a field name', () => {
  /** 70123456 with anything but digits between its digits, in ASCII or full-width digits. */
  const WRITTEN_ANYHOW = new RegExp(
    [...'70123456'].map((d) => `[${d}${String.fromCodePoint(0xff10 + Number(d))}]`).join('\\P{Nd}{0,4}'),
    'u',
  );

  it.each([
    ['dots', '+223.70.12.34.56'],
    ['spaces', '+223 70 12 34 56'],
    ['no-break spaces', '+223\u00A070\u00A012\u00A034\u00A056'],
    ['slashes and brackets', '(+223) 70/12/34/56'],
    ['full-width digits', '+２２３７０１２３４５６'],
  ])('written with %s: masked in the answer and in the log line', async (_what, key) => {
    // Prepare
    const body = json({ ...VALID, recipient: { ...VALID.recipient, [key]: 'Awa' } });

    // Act
    const sent = await sendBytes(utf8(body));

    // Assess: the field is named (masked), and no line holds more than its last 4 digits.
    expect(sent.status).toBe(400);
    expect(sent.body.details).toEqual([
      { path: expect.stringMatching(/^recipient\.\(?\*+(3456|３４５６)$/u), message: 'is not an accepted field' },
    ]);
    const line = output
      .text()
      .split('\n')
      .find((l) => l.includes('request refused'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).error).toMatch(/^recipient\.\(?\*+(3456|３４５６): is not an accepted field$/u);
    for (const text of [line!, JSON.stringify(sent.body)]) expect(text).not.toMatch(WRITTEN_ANYHOW);
  });
});

describe('httpHandler for the operator routes', () => {
  const logger = new Logger({ serviceName: 'http-handler-test', logLevel: 'SILENT' });
  const seen: unknown[] = [];
  const operatorRoute = httpHandler(
    {
      logger,
      body: operatorActionBody,
      bodyOptional: true,
      path: notificationIdPath,
      query: listQuerySchema('ML'),
    },
    async ({ body, pathParameters, query, callerArn }) => {
      seen.push({ body, pathParameters, query, callerArn });
      return jsonResponse(200, { ok: true });
    },
  );
  const ID = '01kb8z4n6qaaaaaaaaaaaaaaaa';
  const event = (overrides: Parameters<typeof apiEvent>[0] = {}) =>
    apiEvent({
      method: 'POST',
      path: `/notifications/${ID}/cancel`,
      resource: '/notifications/{id}/cancel',
      pathParameters: { id: ID },
      headers: {},
      ...overrides,
    });
  beforeEach(() => {
    seen.length = 0;
  });

  it('reads no body as {}, checks path and query, and hands over who signed', async () => {
    const caller = {
      accessKey: 'local',
      accountId: '000000000000',
      userArn: 'arn:aws:iam::000000000000:user/local',
      caller: 'AIDALOCAL',
      user: 'AIDALOCAL',
    };
    const result = await operatorRoute(
      event({ query: { status: 'failed,permanent_failure', phone: '70 12 34 56', limit: '20' }, caller }),
      lambdaContext('operator-actions'),
    );
    expect(result.statusCode).toBe(200);
    expect(seen).toEqual([
      {
        body: {},
        pathParameters: { id: ID.toUpperCase() },
        query: { statuses: ['failed', 'permanent_failure'], phone: '+22370123456', limit: 20 },
        callerArn: 'arn:aws:iam::000000000000:user/local',
      },
    ]);
  });

  it.each([
    [{ query: { limit: '101' } }, 'limit', 'must be from 1 to 100'],
    [{ query: { limit: 'ten' } }, 'limit', 'must be a whole number from 1 to 100'],
    [{ query: { status: 'failed,lost' } }, 'status.1', 'must list statuses among pending, sent, failed'],
    [{ query: { phone: '12' } }, 'phone', 'is not a valid phone number'],
    [{ query: { from: 'yesterday' } }, 'from', 'must be an ISO 8601 date-time'],
    [{ query: { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' } }, 'from', 'must not be after to'],
    [{ query: { statuses: 'failed' } }, 'statuses', 'is not an accepted field'],
    [{ pathParameters: { id: 'counter#2026-03-02T10' } }, 'id', 'must be a notification id'],
    [{ body: '{"reason":"\\u202Eevil"}', headers: { 'content-type': 'application/json' } }, 'reason', 'bidirectional'],
  ])('refuses %j with a 400 naming %s', async (overrides, path, message) => {
    const result = await operatorRoute(event(overrides), lambdaContext('operator-actions'));
    expect(result.statusCode).toBe(400);
    const body = JSON.parse(result.body);
    expect(body.error).toBe('validation_error');
    expect(body.details).toContainEqual({ path, message: expect.stringContaining(message) });
    expect(seen).toEqual([]);
  });

  it('routes by method and resource, and answers 404 for a route the function does not serve', async () => {
    const handler = routedHandler({ 'POST /notifications/{id}/cancel': operatorRoute });
    expect((await handler(event(), lambdaContext('operator-actions'))).statusCode).toBe(200);
    const other = await handler(event({ method: 'GET', resource: '/notifications/{id}' }), lambdaContext('x'));
    expect(other.statusCode).toBe(404);
    expect(other.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(other.body)).toMatchObject({
      status: 404,
      code: 'not_found',
      detail: 'no route GET /notifications/{id}',
    });
  });
});
