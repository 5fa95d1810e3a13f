// Bad input at the front door, generated: whatever a caller sends to POST /notifications, the answer
// is a 4xx whose JSON names the problem, never a 5xx, and nothing is written or sent. And whatever
// valid request the contract allows gets a 202 and exactly one record.
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhonesInText } from '../../shared/domain/phone.js';
import {
  acceptedText,
  anyJsonText,
  awkwardString,
  malianMobile,
  validNotificationRequest,
} from '../support/arbitraries.js';
import { type E2eStack, notificationRequest, startE2eStack, waitForOutcome } from '../support/local-stack.js';

let e2e: E2eStack;

beforeAll(async () => {
  // Hundreds of accepted requests go to one number (valid() below) and every run counts the table's items: the
  // per-recipient limits, and their counter items, are off here (test/integration/ingest-recipient-limits.test.ts).
  e2e = await startE2eStack({ env: { RECIPIENT_LIMITS: '{"default":"unlimited","otp":"unlimited"}' } });
});
afterAll(async () => {
  await e2e?.stop();
});

interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  json:
    | {
        type?: unknown;
        code?: unknown;
        detail?: unknown;
        errors?: unknown;
        error?: unknown;
        message?: unknown;
        id?: unknown;
        status?: unknown;
      }
    | undefined;
}

interface RawRequest {
  body?: string | Uint8Array;
  /** The stack's key by default; null leaves the header out. */
  apiKey?: string | null;
  /** application/json by default; null leaves the header out. */
  contentType?: string | null;
  headers?: Record<string, string>;
  path?: string;
  method?: string;
}

async function send(request: RawRequest): Promise<RawAnswer> {
  const apiKey = request.apiKey === undefined ? e2e.stack.apiKey : request.apiKey;
  const contentType = request.contentType === undefined ? 'application/json' : request.contentType;
  const headers: Record<string, string> = {
    ...(apiKey === null ? {} : { 'x-api-key': apiKey }),
    ...(contentType === null ? {} : { 'content-type': contentType }),
    ...request.headers,
  };
  // A Uint8Array body gets no default content type from fetch, a string one would get text/plain.
  const body = typeof request.body === 'string' ? new TextEncoder().encode(request.body) : request.body;
  const response = await fetch(`${e2e.stack.urls.api}${request.path ?? '/v1/notifications'}`, {
    method: request.method ?? 'POST',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let json: RawAnswer['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

/** Every item in the table: notifications, idempotency keys, counters, cooldowns. */
async function countItems(): Promise<number> {
  let count = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await e2e.dynamodb.send(
      new ScanCommand({
        TableName: e2e.stack.tableName,
        Select: 'COUNT',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

const sandboxRequests = async () => (await e2e.inbox()).requests;

/**
 * A refusal by the ingest function: a 4xx problem document (RFC 9457) with its code (`error`: the code expected),
 * a detail, and for validation errors the fields.
 */
function expectRefusal(answer: RawAnswer, expected: { status?: number; error?: string } = {}): void {
  const seen = `${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, seen).toBeGreaterThanOrEqual(400);
  expect(answer.status, seen).toBeLessThan(500);
  if (expected.status !== undefined) expect(answer.status, seen).toBe(expected.status);
  expect(answer.contentType, seen).toMatch(/^application\/problem\+json/);
  expect(answer.json, seen).toBeTypeOf('object');
  expect(answer.json?.status, seen).toBe(answer.status);
  expect(answer.json?.type, seen).toBeTypeOf('string');
  expect(answer.json?.code, seen).toBeTypeOf('string');
  expect(answer.json?.detail, seen).toBeTypeOf('string');
  expect(String(answer.json?.detail).length, seen).toBeGreaterThan(0);
  if (expected.error !== undefined) expect(answer.json?.code, seen).toBe(expected.error);
  if (answer.json?.code === 'validation_error') {
    const details = answer.json.errors as { path: unknown; message: unknown }[];
    expect(Array.isArray(details), seen).toBe(true);
    expect(details.length, seen).toBeGreaterThan(0);
    for (const detail of details) {
      expect(detail.path, seen).toBeTypeOf('string');
      expect(detail.message, seen).toBeTypeOf('string');
    }
  }
}

/** The paths a validation error names. */
const pathsOf = (answer: RawAnswer): string[] =>
  ((answer.json?.errors as { path: string }[] | undefined) ?? []).map((d) => d.path);

/** Refused at the door (API Gateway's own answers): 4xx problem with API Gateway's message as its `detail`. */
function expectDoorRefusal(answer: RawAnswer, status: number, message: string): void {
  expect(answer.status, answer.text).toBe(status);
  // API Gateway's own refusal, as a problem document (its gateway responses; the local door answers the same).
  expect(answer.json, answer.text).toMatchObject({ status, detail: message, instance: expect.any(String) });
}

/**
 * Runs a property of refused requests, checking after every run that nothing was written, and at
 * the end that the sandbox received nothing.
 */
async function assertNothingWritten<Ts extends [unknown, ...unknown[]]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  check: (...args: Ts) => Promise<void>,
  numRuns: number,
): Promise<void> {
  const requestsBefore = await sandboxRequests();
  await fc.assert(
    fc.asyncProperty(...arbitraries, async (...args: Ts) => {
      const before = await countItems();
      await check(...args);
      expect(await countItems(), 'items in the table').toBe(before);
    }),
    { numRuns },
  );
  expect(await sandboxRequests(), 'calls to WaChap').toBe(requestsBefore);
}

/** A valid request, scheduled a day ahead so that nothing is queued: the refusal properties check WaChap heard nothing. */
// One instant a day ahead for the whole file: two requests built alike are the same request, so a key drawn twice is
// an idempotent repeat (200), never a key reused with another body (422) because the clock moved between them.
const SEND_AT = new Date(Date.now() + 86_400_000).toISOString();
const valid = () => notificationRequest('+22370123499', { sendAt: SEND_AT });
const json = (value: unknown) => JSON.stringify(value);

// The fields of the contract, with a value of a type each one does not accept.
const notString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
);
const notInteger = fc.oneof(
  fc.string(),
  fc.double({ noInteger: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({}),
);
const notObject = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.anything()));
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  recipient: notObject,
  'recipient.phone': notString,
  'recipient.name': notString,
  category: notString,
  title: notString,
  message: notString,
  priority: fc.oneof(
    notString,
    fc.string().filter((s) => s !== 'high' && s !== 'normal'),
  ),
  expiresAt: fc.oneof(notString, fc.string({ maxLength: 30 })),
  ttlSeconds: notInteger,
  sendAt: fc.oneof(notString, fc.string({ maxLength: 30 })),
  idempotencyKey: notString,
};

function withField(path: string, value: unknown): Record<string, unknown> {
  const body = structuredClone(valid()) as Record<string, unknown> & { recipient: Record<string, unknown> };
  const [target, key] = path.startsWith('recipient.')
    ? [body.recipient, path.slice('recipient.'.length)]
    : [body, path];
  // An own property, whatever the key: `target[key] = value` would set the prototype for "__proto__" (a key
  // fast-check draws), which JSON.stringify then leaves out.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return body;
}

describe('POST /notifications with bad input', () => {
  it('any JSON value as the body: 400 validation_error naming fields, nothing written', async () => {
    await assertNothingWritten(
      [anyJsonText],
      async (body) => {
        const answer = await send({ body });
        expectRefusal(answer, { status: 400, error: 'validation_error' });
      },
      120,
    );
  });

  it('a value of the wrong type in any field: 400 naming that field', async () => {
    const field = fc.constantFrom(...Object.keys(FIELDS)).chain((path) => fc.tuple(fc.constant(path), FIELDS[path]!));
    await assertNothingWritten(
      [field],
      async ([path, value]) => {
        const answer = await send({ body: json(withField(path, value)) });
        expectRefusal(answer, { status: 400, error: 'validation_error' });
        expect(pathsOf(answer), answer.text).toContain(path);
      },
      120,
    );
  });

  it('a missing required field: 400 naming it', async () => {
    const required = fc.subarray(['recipient', 'recipient.phone', 'category', 'message'], { minLength: 1 });
    await assertNothingWritten(
      [required],
      async (missing) => {
        const body = structuredClone(valid()) as Record<string, unknown> & { recipient: Record<string, unknown> };
        for (const path of missing) {
          if (path !== 'recipient.phone') delete body[path];
          else if (body.recipient) body.recipient = { name: body.recipient.name };
        }
        const answer = await send({ body: json(body) });
        expectRefusal(answer, { status: 400, error: 'validation_error' });
        // A missing recipient hides its own phone; every other missing field is named.
        const named = missing.filter((p) => !(p === 'recipient.phone' && missing.includes('recipient')));
        for (const path of named) expect(pathsOf(answer), answer.text).toContain(path);
      },
      40,
    );
  });

  it('an extra field, at the top or in recipient: 400 naming it (a name that looks like a phone number masked)', async () => {
    const known = new Set([
      'recipient',
      'category',
      'title',
      'message',
      'priority',
      'expiresAt',
      'ttlSeconds',
      'sendAt',
      'idempotencyKey',
      'phone',
      'name',
    ]);
    const key = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), awkwardString(3)).filter((k) => !known.has(k));
    await assertNothingWritten(
      [fc.boolean(), key, fc.jsonValue({ maxDepth: 2 })],
      async (nested, extra, value) => {
        const body = withField(nested ? `recipient.${extra}` : extra, value);
        const answer = await send({ body: json(body) });
        expectRefusal(answer, { status: 400, error: 'validation_error' });
        const named = maskPhonesInText(extra);
        expect(pathsOf(answer), answer.text).toContain(nested ? `recipient.${named}` : named);
      },
      80,
    );
  });

  it('__proto__, constructor and prototype as keys (raw JSON): 400 naming them, no pollution', async () => {
    const poison = fc.constantFrom('__proto__', 'constructor', 'prototype');
    const payload = fc.constantFrom('{"x":1}', '{"polluted":true}', '{"isAdmin":true,"toString":1}', 'null', '[]', '1');
    const where = fc.constantFrom('top', 'recipient', 'only');
    await assertNothingWritten(
      [poison, payload, where],
      async (key, value, place) => {
        const base = json(valid());
        const body =
          place === 'only'
            ? `{"${key}":${value}}`
            : place === 'top'
              ? `{"${key}":${value},${base.slice(1)}`
              : base.replace('"recipient":{', `"recipient":{"${key}":${value},`);
        const answer = await send({ body });
        expectRefusal(answer, { status: 400, error: 'validation_error' });
        expect(pathsOf(answer), answer.text).toContain(place === 'recipient' ? `recipient.${key}` : key);
        expect(({} as Record<string, unknown>).x).toBeUndefined();
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      },
      30,
    );
  });

  it('huge and strange strings in every field: never a 5xx; accepted only in free text, refused ones write nothing', async () => {
    const huge = fc.oneof(
      fc.integer({ min: 4097, max: 6000 }).map((n) => 'x'.repeat(n)),
      fc.integer({ min: 121, max: 400 }).map((n) => 'é'.repeat(n)),
      fc.integer({ min: 33, max: 200 }).map((n) => '7'.repeat(n)),
      fc.integer({ min: 200, max: 3000 }).map((n) => '😀'.repeat(n)),
    );
    const strange = fc.oneof(
      huge,
      awkwardString(12),
      fc.constantFrom('', ' ', '\t\n', '\u0000', '\uD800', '\u200B\u202E', 'a\r\nb', '📦', '\u3164'),
    );
    const freeText = ['recipient.name', 'title', 'message'];
    // What the contract (README) allows in each field; strange phone numbers and dates are never valid.
    // Lengths are counted in code points (zod 4), not UTF-16 units.
    const maxima: Record<string, number> = { 'recipient.name': 120, title: 200, message: 4096 };
    const acceptable = (path: string, value: string): boolean =>
      ({
        'recipient.name': acceptedText(value, 120) !== undefined,
        title: acceptedText(value, 200) !== undefined,
        message: acceptedText(value, 4096) !== undefined,
        category: /^[a-z][a-z0-9_]{0,63}$/.test(value),
        idempotencyKey: /^[\x21-\x7e]{1,128}$/.test(value),
        priority: value === 'high' || value === 'normal',
      })[path] ?? false;
    const field = fc.constantFrom(
      'recipient.phone',
      'category',
      'expiresAt',
      'sendAt',
      'idempotencyKey',
      'priority',
      ...freeText,
    );
    const requestsBefore = await sandboxRequests();
    await fc.assert(
      fc.asyncProperty(field, strange, async (path, value) => {
        const before = await countItems();
        const answer = await send({ body: json(withField(path, value)) });
        const ok = acceptable(path, value);
        if (answer.status === 202) {
          // Strange text the contract allows in that field: one record, holding it as sent.
          expect(ok, `${path} accepted: ${answer.text}`).toBe(true);
          const stored = await e2e.getNotification(String(answer.json?.id));
          const kept = path === 'recipient.name' ? stored?.recipient.name : stored?.[path as keyof typeof stored];
          expect(kept).toBe(
            path === 'idempotencyKey' || path === 'category' ? value : acceptedText(value, maxima[path]!),
          );
          // An idempotency key is an item of its own.
          expect(await countItems()).toBe(before + (path === 'idempotencyKey' ? 2 : 1));
          return;
        }
        if (answer.status === 200) {
          // The same key generated twice: an idempotent repeat, nothing written.
          expect(path, answer.text).toBe('idempotencyKey');
          expect(await countItems()).toBe(before);
          return;
        }
        if (answer.status === 400) expect(ok, `${path} refused: ${answer.text}`).toBe(false);
        expectRefusal(answer);
        if (answer.status === 400) expect(pathsOf(answer), answer.text).toContain(path);
        else expectRefusal(answer, { status: 413, error: 'payload_too_large' });
        expect(await countItems(), 'items in the table').toBe(before);
      }),
      { numRuns: 150 },
    );
    // Accepted ones are scheduled a day ahead: nothing reaches WaChap.
    expect(await sandboxRequests()).toBe(requestsBefore);
  });

  it('invalid phone numbers: 400 naming recipient.phone', async () => {
    const invalidPhone = fc.oneof(
      // Too short or too long once the separators are gone.
      fc.stringMatching(/^\+?[0-9]{1,3}$/),
      fc.stringMatching(/^\+?[0-9]{18,30}$/),
      // Letters, words, symbols.
      fc.stringMatching(/^\+?[0-9]{2,8}[A-Za-z#*;,/][0-9]{2,8}$/),
      fc.constantFrom('not a phone', '+', '++22370123456', '+223 7O 12 34 56', 'tel:+22370123456', '☎ 70 12 34 56'),
      // Digits that are not ASCII digits: Arabic-Indic, full-width, Devanagari.
      fc.constantFrom('+٢٢٣٧٠١٢٣٤٥٦', '+２２３７０１２３４５６', '+२२३७०१२३४५६'),
      // Bidi overrides and isolates, zero-width characters, anywhere in a good number.
      fc
        .tuple(fc.integer({ min: 0, max: 12 }), fc.constantFrom('\u202E', '\u202D', '\u2066', '\u2069', '\u200B'))
        .map(([at, mark]) => `+22370123499`.slice(0, at) + mark + `+22370123499`.slice(at))
        .filter((phone) => phone.trim() !== '+22370123499'),
      // Valid numbers of a type WhatsApp cannot reach: toll-free, premium rate, shared cost, pager, voicemail, UAN.
      fc.constantFrom(
        '+1 800 555 0199',
        '+1 888 555 0123',
        '+44 800 123 4567',
        '+33 8 00 12 34 56',
        '+223 80 12 34 56',
        '+1 900 555 0199',
        '+33 8 99 12 34 56',
        '+33 8 10 12 34 56',
        '+44 7640 123456',
        '+47 81 21 84 32',
        '+92 21 111 111 111',
      ),
      // Malian numbers of the wrong length, and a country code that does not exist.
      fc.integer({ min: 0, max: 999_999 }).map((n) => `+2237${String(n).padStart(6, '0')}`),
      fc.integer({ min: 0, max: 99_999_999 }).map((n) => `+2237${String(n).padStart(8, '0')}`),
      fc.integer({ min: 0, max: 99_999_999 }).map((n) => `+999${String(n).padStart(8, '0')}`),
      // The Malian trunk 0 with the wrong length.
      fc.integer({ min: 0, max: 999_999 }).map((n) => `07${String(n).padStart(6, '0')}`),
      fc.integer({ min: 0, max: 99_999_999 }).map((n) => `07${String(n).padStart(8, '0')}`),
    );
    await assertNothingWritten(
      [invalidPhone],
      async (phone) => {
        const answer = await send({ body: json({ ...valid(), recipient: { phone } }) });
        expectRefusal(answer, { status: 400, error: 'validation_error' });
        expect(pathsOf(answer), answer.text).toEqual(['recipient.phone']);
        // The refusal does not echo the number (beyond the example it gives, +22370123456).
        const digits = phone.replace(/\D/g, '');
        const echoed = answer.text.replaceAll('22370123456', '');
        if (digits.length >= 6 && digits !== '22370123456') expect(echoed).not.toContain(digits);
      },
      120,
    );
  });

  it('malformed JSON: 400 malformed_json', async () => {
    const validText = json(valid());
    const malformed = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.integer({ min: 0, max: validText.length - 1 }).map((n) => validText.slice(0, n)),
      fc.constantFrom(
        "{'recipient': 1}",
        '{"a":1,}',
        '[1,2',
        'NaN',
        'undefined',
        '{"a":01}',
        '\uFEFF{}',
        '{"a":"\\x41"}',
      ),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    await assertNothingWritten(
      [malformed.filter((text) => !parses(text))],
      async (body) => {
        const answer = await send({ body });
        expectRefusal(answer, { status: 400, error: 'malformed_json' });
      },
      100,
    );
  });

  it('invalid UTF-8 bytes anywhere in the body: 400 invalid_encoding, nothing stored corrupted', async () => {
    const raw = new TextEncoder().encode(json(valid()));
    await assertNothingWritten(
      [fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: raw.length })],
      async (bytes, at) => {
        // 0xFF is never UTF-8, whatever surrounds it.
        const body = new Uint8Array([...raw.slice(0, at), 0xff, ...bytes, 0xc0, ...raw.slice(at)]);
        const answer = await send({ body });
        expectRefusal(answer, { status: 400, error: 'invalid_encoding' });
      },
      60,
    );
  });

  it('a charset other than UTF-8: 415, even when the bytes would decode', async () => {
    const charset = fc.oneof(
      fc.constantFrom(
        'iso-8859-1',
        'ISO-8859-1',
        '"latin1"',
        'windows-1252',
        'utf-16',
        'utf-16le',
        'us-ascii',
        'utf-7',
        '',
      ),
      fc.stringMatching(/^[a-z0-9-]{1,12}$/).filter((c) => c !== 'utf-8' && c !== 'utf8'),
    );
    await assertNothingWritten(
      [fc.constantFrom('application/json', 'application/vnd.api+json'), charset],
      async (type, name) => {
        const answer = await send({ body: json(valid()), contentType: `${type}; charset=${name}` });
        expectRefusal(answer, { status: 415, error: 'unsupported_media_type' });
      },
      30,
    );
  });

  it('wrong or missing content type: 415, whatever the body', async () => {
    const wrongType = fc.oneof(
      fc.constantFrom(
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/jsonp',
        'application/json-seq',
        'json',
        'application/',
        '*/*',
        'application/ json',
      ),
      fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,20}$/).filter((t) => !/json/.test(t)),
    );
    await assertNothingWritten(
      [fc.option(wrongType, { nil: null }), fc.oneof(fc.constant(json(valid())), anyJsonText)],
      async (contentType, body) => {
        const answer = await send({ body, contentType });
        expectRefusal(answer, { status: 415, error: 'unsupported_media_type' });
      },
      60,
    );
  });

  it('a body over 16 KB: 413 payload_too_large, even when it is otherwise valid JSON', async () => {
    await assertNothingWritten(
      [fc.integer({ min: 16 * 1024 + 1, max: 200 * 1024 }), fc.constantFrom('message', 'padding', 'raw')],
      async (size, how) => {
        const base = valid();
        const body =
          how === 'raw'
            ? 'x'.repeat(size)
            : how === 'message'
              ? json({ ...base, message: 'm'.repeat(size) })
              : json({ ...base, padding: 'p'.repeat(size) });
        const answer = await send({ body });
        expectRefusal(answer, { status: 413, error: 'payload_too_large' });
      },
      15,
    );
  });

  it("a body over API Gateway's 10 MB: 413 at the door, the function never runs", async () => {
    const before = await countItems();
    const body = json({ ...valid(), message: 'm'.repeat(10 * 1024 * 1024) });
    const answer = await send({ body });
    expectDoorRefusal(answer, 413, 'Request Too Long');
    expect(await countItems()).toBe(before);
  });

  it('a wrong or missing API key: 403 Forbidden, even for a valid request', async () => {
    const key = e2e.stack.apiKey;
    const wrongKey = fc.oneof(
      fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
      fc.constantFrom('', key.toUpperCase(), `${key}x`, key.slice(0, -1), `${key},${key}`, `Bearer ${key}`),
      // Any value a client can put in a header: no control characters (fetch refuses them).
      fc
        .string({ unit: 'binary-ascii', maxLength: 40 })
        .filter((s) => [...s].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)),
    );
    await assertNothingWritten(
      [
        fc.option(
          wrongKey.filter((k) => k.trim() !== key),
          { nil: null },
        ),
      ],
      async (apiKey) => {
        const answer = await send({ body: json(valid()), apiKey });
        expectDoorRefusal(answer, 403, 'Forbidden');
      },
      80,
    );
  });

  it('the key anywhere but the x-api-key header: 403', async () => {
    const key = e2e.stack.apiKey;
    const placements: RawRequest[] = [
      { apiKey: null, path: `/notifications?x-api-key=${key}` },
      { apiKey: null, path: `/notifications?api_key=${key}` },
      { apiKey: null, headers: { authorization: `Bearer ${key}` } },
      { apiKey: null, headers: { 'x-api-key-': key } },
      { apiKey: null, headers: { cookie: `x-api-key=${key}` } },
    ];
    const before = await countItems();
    for (const placement of placements) {
      expectDoorRefusal(await send({ body: json(valid()), ...placement }), 403, 'Forbidden');
    }
    expect(await countItems()).toBe(before);
  });

  it('unknown paths and methods: 403 Missing Authentication Token, with or without the key', async () => {
    const path = fc.oneof(
      fc.constantFrom('/', '/notification', '/notifications/x', '/NOTIFICATIONS', '/notifications/../admin'),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    );
    const method = fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST');
    const isTheRoute = (p: string, m: string) =>
      m === 'POST' &&
      ['/notifications', '/v1/notifications'].includes(
        new URL(`${e2e.stack.urls.api}${p}`).pathname.replace(/\/$/, ''),
      );
    await assertNothingWritten(
      [fc.tuple(path, method).filter(([p, m]) => !isTheRoute(p, m)), fc.boolean()],
      async ([p, m], withKey) => {
        const answer = await send({
          path: p,
          method: m,
          apiKey: withKey ? undefined : null,
          ...(m === 'GET' ? {} : { body: json(valid()) }),
        });
        expectDoorRefusal(answer, 403, 'Missing Authentication Token');
      },
      40,
    );
  });
});

describe('POST /notifications with valid input', () => {
  it('any request the contract allows: 202, and exactly one record, as asked', async () => {
    await fc.assert(
      fc.asyncProperty(validNotificationRequest(), fc.boolean(), async ({ body, e164 }, asHeader) => {
        const before = await e2e.countNotifications();
        // The idempotency key may travel in the header instead of the body.
        const { idempotencyKey, ...rest } = body;
        const useHeader = asHeader && typeof idempotencyKey === 'string';
        const answer = await send({
          body: json(useHeader ? rest : body),
          headers: useHeader ? { 'idempotency-key': idempotencyKey } : {},
        });

        expect(answer.status, answer.text).toBe(202);
        expect(answer.json).toEqual({
          id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
          status: 'pending',
          links: { self: `/v1/notifications/${answer.json?.id}` },
        });
        expect(await e2e.countNotifications()).toBe(before + 1);
        const stored = await e2e.getNotification(String(answer.json?.id));
        expect(stored?.recipient.phone).toBe(e164);
        expect(stored?.message).toBe((body.message as string).trim());
        expect(stored?.category).toBe(body.category);
        if (typeof idempotencyKey === 'string') expect(stored?.idempotencyKey).toBe(idempotencyKey);
      }),
      { numRuns: 60 },
    );
  });

  it('any request the contract allows, due now: delivered to WaChap exactly once, text intact', async () => {
    await fc.assert(
      fc.asyncProperty(validNotificationRequest({ sendNow: true }), async ({ body, e164 }) => {
        const answer = await send({ body: json(body) });
        expect(answer.status, answer.text).toBe(202);
        const id = String(answer.json?.id);
        const stored = await waitForOutcome(e2e, id);
        if (stored.status === 'expired') {
          // A short ttlSeconds, or an OTP whose 10 minutes ran out since sendAt: rightly never sent.
          expect(Date.parse(stored.expiresAt!)).toBeLessThanOrEqual(Date.parse(stored.updatedAt));
          expect(stored.externalMessageId).toBeUndefined();
          expect(stored.attempts).toBe(0);
          return;
        }
        expect(stored.status).toBe('sent');
        const delivered = (await e2e.inbox()).messages.filter((m) => m.id === stored.externalMessageId);
        expect(delivered).toHaveLength(1);
        expect(delivered[0]!.to).toBe(e164.slice(1));
        expect(delivered[0]!.message).toContain((body.message as string).trim());
      }),
      { numRuns: 8 },
    );
  });

  it('any valid phone format is stored as E.164', async () => {
    await fc.assert(
      fc.asyncProperty(malianMobile, async ({ written, e164 }) => {
        const answer = await send({
          body: json({ ...notificationRequest(written), sendAt: new Date(Date.now() + 86_400_000).toISOString() }),
        });
        expect(answer.status, answer.text).toBe(202);
        expect((await e2e.getNotification(String(answer.json?.id)))?.recipient.phone).toBe(e164);
      }),
      { numRuns: 20 },
    );
  });
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
