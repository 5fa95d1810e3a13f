// Whatever WaChap (or a proxy in front of it) answers, the client and the classifier together turn
// it into something the sender can act on: send() and checkConnection() always resolve to a typed
// outcome, ok only for a 2xx whose body says success; and every failure classifies into a scope, a
// classification and a recommendation. (test/unit/wachap-client.test.ts covers the client's own
// reading of bodies; this is the pipeline: status × body × headers × transport → outcome → class.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWaChapClient,
  type SendOutcome,
  type WaChapClient,
  type WaChapErrorType,
} from '../../shared/adapters/wachap/client.js';
import {
  classifyWaChapError,
  type FailureVerdict,
  TEMPORARY_ERROR_TYPES,
} from '../../shared/domain/error-classifier.js';

const TOKEN = 'fuzzTok3n-9f8e7d6c5b4a';
const INSTANCE_ID = 'FUZZ00INSTANCE42';
const PHONE = '+22370129876';
/** Long enough for any whole answer even on a loaded machine; the hang test uses a client of its own. */
const TIMEOUT_MS = 3_000;
const SHORT_TIMEOUT_MS = 500;
const ERROR_TYPES: WaChapErrorType[] = [
  'http_error',
  'application_error',
  'invalid_response',
  'timeout',
  'connection_error',
  'network_error',
  'ssl_error',
  'config_error',
];

type Transport = 'normal' | 'truncated' | 'reset_after_headers' | 'bad_gzip' | 'gzip';

interface Answer {
  status: number;
  headers: [string, string | string[]][];
  body: Uint8Array;
  transport: Transport;
}

let answer: Answer = { status: 200, headers: [], body: new Uint8Array(), transport: 'normal' };
const requests: { url: string; body: string }[] = [];

async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  requests.push({ url: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
  const { status, headers, body, transport } = answer;
  // One connection per answer: a socket this server breaks on purpose must not be reused for the next one.
  response.setHeader('connection', 'close');
  for (const [name, value] of headers) response.setHeader(name, value);
  if (transport === 'gzip' || transport === 'bad_gzip') {
    response.setHeader('content-encoding', 'gzip');
    response.writeHead(status);
    response.end(transport === 'gzip' ? gzipSync(body) : body);
    return;
  }
  if (transport === 'truncated') {
    response.setHeader('content-length', String(body.length + 100));
    response.writeHead(status);
    response.write(body);
    response.socket?.destroy();
    return;
  }
  if (transport === 'reset_after_headers') {
    response.writeHead(status);
    response.flushHeaders();
    setTimeout(() => response.socket?.destroy(), 5);
    return;
  }
  response.writeHead(status);
  response.end(body);
}

let server: Server;
let client: WaChapClient;
let impatientClient: WaChapClient;

beforeAll(async () => {
  server = createServer((request, response) => {
    respond(request, response).catch(() => response.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const options = {
    baseUrl: `http://127.0.0.1:${port}/api`,
    credentials: { instanceId: INSTANCE_ID, accessToken: TOKEN },
  };
  client = createWaChapClient({ ...options, timeoutMs: TIMEOUT_MS });
  impatientClient = createWaChapClient({ ...options, timeoutMs: SHORT_TIMEOUT_MS });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// ── Arbitraries ───────────────────────────────────────────────────────────────────────────────────

const text = (value: string) => new TextEncoder().encode(value);

const SUCCESS_BODIES = [
  (id: string) => ({ status: 'success', id, message: 'Message sent' }),
  (id: string) => ({ message: { status: 'success', key: { id } } }),
  (id: string) => ({ status: 200, message_id: id, message: 'Message envoyé' }),
  (id: string) => ({ status: 'SUCCESS', data: { id } }),
];

/** Bodies a provider, a proxy or a broken server could answer. */
const body = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map(text) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map(text) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...SUCCESS_BODIES), fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.integer()))
      .map(([shape, id]) => text(JSON.stringify(shape(String(id))))),
  },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          status: fc.constantFrom('success', 'error', 'failed', 'false', 200, '200', 401, 500, false, true, null, ''),
          message: fc.oneof(
            fc.constantFrom(
              'Invalid access token',
              'Unauthorized: token expired',
              'Subscription expired',
              'Instance disconnected. Please scan the QR code',
              'Invalid number: not registered on WhatsApp',
              'Too many requests',
              `rejected ${TOKEN} for ${PHONE}`,
            ),
            fc.string(),
            fc.record({ status: fc.constantFrom('success', 'error', 'pending'), message: fc.string() }),
          ),
          error: fc.oneof(fc.string(), fc.boolean(), fc.record({ message: fc.string() })),
          id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        },
        { requiredKeys: [] },
      )
      .map((value) => text(JSON.stringify(value))),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 60 })
      .map((inner) => text(`<html><head><title>502</title></head><body><h1>${inner}</h1></body></html>`)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 20_000, max: 300_000 }).map((n) => text('x'.repeat(n))) },
);

const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const retryAfter = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }).map(String),
  fc.constantFrom('-1', '1.5', ' 120 ', '99999999999999999999', '0x10', '1e3', 'soon', '', 'NaN', '\u00e9t\u00e9'),
  fc
    .date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((d) => d.toUTCString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  printable,
);
const header = fc.oneof(
  fc.tuple(fc.constant('retry-after'), fc.oneof(retryAfter, fc.array(retryAfter, { minLength: 2, maxLength: 3 }))),
  fc.tuple(
    fc.constant('content-type'),
    fc.oneof(
      fc.constantFrom('application/json', 'text/html', 'text/plain; charset=latin1', 'application/octet-stream'),
      printable,
    ),
  ),
  fc.tuple(fc.constant('location'), fc.constantFrom('https://evil.example/steal', '/api/send', '//x')),
  fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), printable),
);

const transport = fc.constantFrom<Transport>(
  'normal',
  'normal',
  'normal',
  'normal',
  'gzip',
  'bad_gzip',
  'truncated',
  'reset_after_headers',
);

const anyAnswer = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fc.uniqueArray(header, { maxLength: 4, selector: ([name]) => name }),
  body,
  transport,
});

// ── Oracles, independent of the client ────────────────────────────────────────────────────────────

const asText = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A deliberately loose reading of "the body says success". */
function looksLikeSuccess(bytes: Uint8Array): boolean {
  try {
    const json = JSON.parse(asText(bytes));
    const marker = (value: unknown) => /^\s*(success|2\d\d)\s*$/i.test(String(value));
    return typeof json === 'object' && json !== null && (marker(json.status) || marker(json.message?.status));
  } catch {
    return false;
  }
}

/** One of our success shapes, with nothing that says failure. */
function cleanSuccess(bytes: Uint8Array): boolean {
  const body = asText(bytes);
  return SUCCESS_BODIES.some((shape) => {
    try {
      const json = JSON.parse(body);
      const id = json.id ?? json.message?.key?.id ?? json.message_id ?? json.data?.id;
      return JSON.stringify(shape(String(id))) === body;
    } catch {
      return false;
    }
  });
}

const CLASSIFICATIONS = ['temporary', 'permanent'];
const SCOPES = ['provider', 'recipient', 'transient'];

function classify(outcome: Extract<SendOutcome, { ok: false }>): FailureVerdict {
  const { error } = outcome;
  // As the WhatsApp channel does it (adapters/wachap/whatsapp-channel.ts).
  return classifyWaChapError({
    type: error.type,
    message: error.message,
    ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
  });
}

function expectTypedOutcome(outcome: SendOutcome, given: Answer): void {
  const seen = JSON.stringify(outcome);
  expect(Number.isFinite(outcome.durationMs) && outcome.durationMs >= 0, seen).toBe(true);
  expect(seen).not.toContain(TOKEN);
  expect(seen).not.toContain(PHONE.slice(1));
  if (outcome.ok) {
    expect(outcome.httpStatus, seen).toBe(given.status);
    expect(given.status, seen).toBeGreaterThanOrEqual(200);
    expect(given.status, seen).toBeLessThan(300);
    if (outcome.messageId !== undefined) expect(outcome.messageId.trim(), seen).not.toBe('');
    return;
  }
  const { error } = outcome;
  expect(ERROR_TYPES, seen).toContain(error.type);
  expect(error.message, seen).toEqual(expect.any(String));
  expect(error.message.length, seen).toBeLessThanOrEqual(200);
  if (error.retryAfterSeconds !== undefined) {
    expect(Number.isSafeInteger(error.retryAfterSeconds) && error.retryAfterSeconds >= 0, seen).toBe(true);
    expect(
      given.headers.some(([name]) => name === 'retry-after'),
      seen,
    ).toBe(true);
  }

  const classified = classify(outcome);
  const shown = `${seen} → ${JSON.stringify(classified)}`;
  expect(CLASSIFICATIONS, shown).toContain(classified.classification);
  expect(SCOPES, shown).toContain(classified.scope);
  expect(classified.recommendation, shown).toEqual(expect.any(String));
  expect(classified.recommendation.length, shown).toBeGreaterThan(10);
  // One verdict, consistent with its own classification and scope.
  const action =
    classified.scope === 'provider' ? 'hold' : classified.classification === 'permanent' ? 'give_up' : 'retry';
  expect(classified.action, shown).toBe(action);
  if (classified.action === 'retry') expect(classified.retryAfterSeconds, shown).toBe(error.retryAfterSeconds);
  // Trouble on the wire is always worth another try.
  if ((TEMPORARY_ERROR_TYPES as readonly string[]).includes(error.type)) {
    expect(classified.classification, shown).toBe('temporary');
  }
  if (error.type === 'http_error') {
    expect(error.httpStatus, shown).toBe(given.status);
    if ([408, 429, 500, 502, 503, 504].includes(given.status)) {
      expect(classified.classification, shown).toBe('temporary');
    }
    if ([401, 403, 405, 410].includes(given.status)) expect(classified.scope, shown).toBe('provider');
  }
}

/** A large body that does not inflate ends in the timeout (see the test for it): wait less for those. */
const clientFor = (given: Answer) => (given.transport === 'bad_gzip' ? impatientClient : client);

// ── Properties ────────────────────────────────────────────────────────────────────────────────────

describe('WaChap client and classifier against any answer', () => {
  it('send(): always a typed outcome; ok only for a 2xx saying success; every failure classified', async () => {
    await fc.assert(
      fc.asyncProperty(anyAnswer, async (given) => {
        answer = given;
        const outcome = await clientFor(given).send({ phone: PHONE, message: 'Votre colis est arrivé' });
        expectTypedOutcome(outcome, given);
        // Whether the answer arrived whole; a status that carries no body (204, 205, 304) may survive a broken one.
        // (A gzip body that does not inflate may be read as empty rather than fail: either is fine. fetch turns a
        // 407 into a network error, as its specification says, and the client maps it back to http_error 407.)
        const broken =
          given.transport === 'truncated' ||
          given.transport === 'reset_after_headers' ||
          (given.transport === 'bad_gzip' && given.body.length > 0);
        const bodiless = [204, 205, 304].includes(given.status);
        const readable = given.status >= 300 ? ['http_error'] : ['application_error', 'invalid_response'];
        const transportFailure = ['network_error', 'connection_error', 'timeout'];
        const allowed = !broken
          ? readable
          : bodiless || given.transport === 'bad_gzip' || given.status === 407
            ? [...readable, ...transportFailure]
            : transportFailure;
        if (outcome.ok) {
          expect(broken && !bodiless, JSON.stringify(outcome)).toBe(false);
          expect(looksLikeSuccess(given.body), JSON.stringify(outcome)).toBe(true);
        } else {
          expect(allowed, JSON.stringify(outcome)).toContain(outcome.error.type);
          if (outcome.error.type === 'http_error') expect(outcome.error.httpStatus).toBe(given.status);
        }
        // A clean success shape on a 2xx is a success (204 and 205 carry no body, so no shape).
        if (!broken && given.status >= 200 && given.status < 300 && !bodiless) {
          if (cleanSuccess(given.body)) expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('checkConnection(): always a typed outcome; ok only for a 200', async () => {
    await fc.assert(
      fc.asyncProperty(anyAnswer, async (given) => {
        answer = given;
        const outcome = await clientFor(given).checkConnection();
        expectTypedOutcome(outcome, given);
        if (outcome.ok) expect(given.status).toBe(200);
      }),
      { numRuns: 120 },
    );
  });

  it('a Retry-After in seconds on a 429 or 503 reaches the classification unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(429, 503),
        fc.integer({ min: 0, max: 86_400 }),
        fc.constantFrom('', ' '),
        body,
        async (status, seconds, pad, bytes) => {
          answer = { status, headers: [['retry-after', `${pad}${seconds}${pad}`]], body: bytes, transport: 'normal' };
          const outcome = await client.send({ phone: PHONE, message: 'x' });
          expect(outcome.ok).toBe(false);
          if (outcome.ok) return;
          expect(outcome.error.retryAfterSeconds).toBe(seconds);
          const classified = classify(outcome);
          expect(classified.classification).toBe('temporary');
          // A body naming the provider's account (an invalid token) holds instead: the probe decides, not the header.
          if (classified.action === 'retry') expect(classified.retryAfterSeconds).toBe(seconds);
          else expect(classified.action).toBe('hold');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a large body whose Content-Encoding does not inflate: a timeout within the timeout, not a hang', async () => {
    // undici's text() never settles on this answer and ignores the abort signal; the client must not wait on it.
    for (const status of [200, 503]) {
      answer = { status, headers: [], body: text('x'.repeat(100_000)), transport: 'bad_gzip' };
      const startedAt = Date.now();
      const outcomes = [
        await impatientClient.send({ phone: PHONE, message: 'x' }),
        await impatientClient.checkConnection(),
      ];
      expect(Date.now() - startedAt).toBeLessThan(2 * SHORT_TIMEOUT_MS + 2_000);
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ ok: false, error: { type: 'timeout' } });
        if (!outcome.ok) expect(classify(outcome)).toMatchObject({ action: 'retry', scope: 'transient' });
      }
    }
  });

  it('never follows a redirect: the credentials stay where they were sent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(301, 302, 303, 307, 308), async (status) => {
        requests.length = 0;
        answer = {
          status,
          headers: [['location', '/api/elsewhere']],
          body: text('{"status":"success","id":"X"}'),
          transport: 'normal',
        };
        const outcome = await client.send({ phone: PHONE, message: 'x' });
        expect(outcome.ok).toBe(false);
        expect(requests.map((r) => r.url)).toEqual(['/api/send']);
      }),
      { numRuns: 10 },
    );
  });
});
