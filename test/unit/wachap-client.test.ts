import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWaChapClient,
  networkErrorType,
  type SendOutcome,
  type WaChapClientOptions,
  type WaChapCredentials,
  type WaChapCredentialsLoader,
} from '../../shared/adapters/wachap/client.js';
import { classifyWaChapError } from '../../shared/domain/error-classifier.js';
import type { Log } from '../../shared/observability/logger.js';

const TOKEN = 'tok3nS3cr3tAbcdef123456';
const INSTANCE_ID = '609ACF283ABCD';
const CREDENTIALS: WaChapCredentials = { instanceId: INSTANCE_ID, accessToken: TOKEN };
const PHONE = '+22370123456';

interface RecordedRequest {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

interface Reply {
  status: number;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Never answer (timeout), or drop the connection (reset). */
  behaviour?: 'hang' | 'reset';
}

/** A local stand-in for WaChap: records each request and answers with whatever the test sets. */
class WaChapStandIn {
  readonly requests: RecordedRequest[] = [];
  reply: (request: RecordedRequest) => Reply = () => ({ status: 200, body: '{"status":"success","id":"ID-1"}' });
  private readonly server: Server = createServer((req, res) => {
    void this.handle(req).then((reply) => {
      if (reply.behaviour === 'hang') return;
      if (reply.behaviour === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  });

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.reply = () => ({ status: 200, body: '{"status":"success","id":"ID-1"}' });
  }

  answer(status: number, body?: string | Uint8Array, headers?: Record<string, string>): void {
    this.reply = () => ({ status, body, headers });
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? '',
      url: req.url ?? '',
      contentType: req.headers['content-type'],
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);
    return this.reply(request);
  }
}

interface SpyLog extends Log {
  lines: { level: string; message: string; extra: unknown[] }[];
  text(): string;
}

function spyLog(): SpyLog {
  const lines: SpyLog['lines'] = [];
  const record =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      lines.push({ level, message, extra });
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    text: () => JSON.stringify(lines),
  };
}

const standIn = new WaChapStandIn();

beforeAll(() => standIn.start());
afterAll(() => standIn.stop());
beforeEach(() => standIn.reset());

function client(overrides: Partial<WaChapClientOptions> = {}) {
  return createWaChapClient({ baseUrl: standIn.baseUrl, timeoutMs: 2_000, credentials: CREDENTIALS, ...overrides });
}

function failure(outcome: SendOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

describe('WaChap client: send', () => {
  it('posts the message as JSON with the number without + and the credentials in the body', async () => {
    // Prepare
    const wachap = client();

    // Act
    await wachap.send({ phone: PHONE, message: 'Votre colis est arrivé' });

    // Assess
    expect(standIn.requests).toHaveLength(1);
    const [request] = standIn.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/api/send');
    expect(request?.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      number: '22370123456',
      type: 'text',
      message: 'Votre colis est arrivé',
      instance_id: INSTANCE_ID,
      access_token: TOKEN,
    });
  });

  it('tolerates a trailing slash on the base URL', async () => {
    await client({ baseUrl: `${standIn.baseUrl}/` }).send({ phone: PHONE, message: 'hi' });

    expect(standIn.requests[0]?.url).toBe('/api/send');
  });

  it.each([
    ['flat', { status: 'success', id: '3EB0FLAT' }, '3EB0FLAT'],
    ['nested under message', { message: { status: 'success', key: { id: '3EB0NESTED' } } }, '3EB0NESTED'],
    ['v1 with a numeric status', { status: 200, message_id: 'MSG-112233', message: 'Message envoyé' }, 'MSG-112233'],
    ['v1 with a string status', { status: '200', message_id: 'MSG-445566', message: 'Message envoyé' }, 'MSG-445566'],
    ['id under key', { status: 'success', key: { id: 'KEY-1' } }, 'KEY-1'],
    ['id under data', { status: 'success', data: { id: 'DATA-1' } }, 'DATA-1'],
    ['numeric id', { status: 'success', id: 42 }, '42'],
  ])('treats the %s success shape as sent and extracts the message id', async (_shape, body, messageId) => {
    standIn.answer(200, JSON.stringify(body));

    const outcome = await client().send({ phone: PHONE, message: 'hi' });

    expect(outcome).toEqual({ ok: true, messageId, httpStatus: 200, durationMs: expect.any(Number) });
  });

  it('records a success without a message id and logs a warning', async () => {
    standIn.answer(200, '{"status":"success","message":"Message sent"}');
    const log = spyLog();

    const outcome = await client({ log }).send({ phone: PHONE, message: 'hi' });

    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.messageId).toBeUndefined();
    expect(log.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });

  it.each([
    ['Instance disconnected', { status: 'error', message: 'Instance disconnected' }],
    ['Invalid number', { status: 'failed', message: 'Invalid number' }],
    ['Subscription expired', { status: false, error: 'Subscription expired' }],
    ['Subscription expired', { error: { message: 'Subscription expired' } }],
    ['Instance disconnected', { message: { status: 'error', message: 'Instance disconnected' } }],
    ['Invalid number', { status: 400, message: 'Invalid number' }],
  ])('maps a 200 carrying a failure to application_error "%s"', async (reason, body) => {
    standIn.answer(200, JSON.stringify(body));

    const outcome = await client().send({ phone: PHONE, message: 'hi' });

    expect(failure(outcome)).toEqual({ type: 'application_error', message: reason, httpStatus: 200 });
  });

  it.each([
    ['an HTML page', '<html><body><h1>Bienvenue</h1></body></html>'],
    ['an empty body', ''],
    ['a JSON array', '[{"status":"success"}]'],
    ['a JSON string', '"success"'],
    ['JSON null', 'null'],
    ['JSON without a status', '{"result":"queued"}'],
    ['an unknown status word', '{"status":"pending"}'],
  ])('maps a 200 with %s to invalid_response, not to success', async (_label, body) => {
    standIn.answer(200, body);

    const outcome = await client().send({ phone: PHONE, message: 'hi' });

    expect(failure(outcome)).toMatchObject({ type: 'invalid_response', httpStatus: 200 });
  });

  it.each([400, 401, 403, 404, 429, 500, 502, 503, 504])(
    'maps HTTP %i to http_error with the status',
    async (status) => {
      standIn.answer(status, '{"status":"error","message":"Provider says no"}');

      const outcome = await client().send({ phone: PHONE, message: 'hi' });

      expect(failure(outcome)).toEqual({ type: 'http_error', httpStatus: status, message: 'Provider says no' });
    },
  );

  it('keeps a short text of a non-JSON error page', async () => {
    const page = `<html><head><title>502 Bad Gateway</title></head><body>${'x'.repeat(1_000)}</body></html>`;
    standIn.answer(502, page, { 'content-type': 'text/html' });

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error.message).toMatch(/^502 Bad Gateway x+/);
    expect(error.message.length).toBeLessThanOrEqual(200);
  });

  it('does not follow redirects (the credentials would travel with them)', async () => {
    standIn.answer(307, '', { location: 'http://127.0.0.1:9/elsewhere' });

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error).toMatchObject({ type: 'http_error', httpStatus: 307 });
    expect(standIn.requests).toHaveLength(1);
  });

  it('reads Retry-After given in seconds', async () => {
    standIn.answer(429, '{"message":"Too many requests"}', { 'retry-after': '120' });

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error).toEqual({
      type: 'http_error',
      httpStatus: 429,
      message: 'Too many requests',
      retryAfterSeconds: 120,
    });
  });

  it('reads Retry-After given as an HTTP-date', async () => {
    standIn.answer(429, '', { 'retry-after': new Date(Date.now() + 90_000).toUTCString() });

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(88);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(91);
    expect(error.message).toBe('HTTP 429');
  });

  it('ignores a garbage Retry-After', async () => {
    standIn.answer(503, '', { 'retry-after': 'soon, 12' });

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error).toEqual({ type: 'http_error', httpStatus: 503, message: 'HTTP 503' });
  });

  it('gives up with timeout when WaChap never answers', async () => {
    standIn.reply = () => ({ status: 200, behaviour: 'hang' });
    const started = performance.now();

    const outcome = await client({ timeoutMs: 200 }).send({ phone: PHONE, message: 'hi' });

    expect(failure(outcome).type).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(150);
  });

  it('maps a refused connection to connection_error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const error = failure(
      await client({ baseUrl: `http://127.0.0.1:${port}/api` }).send({ phone: PHONE, message: 'hi' }),
    );

    expect(error.type).toBe('connection_error');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('maps a connection dropped by the server to connection_error', async () => {
    standIn.reply = () => ({ status: 200, behaviour: 'reset' });

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error.type).toBe('connection_error');
  });

  it('maps a TLS failure to ssl_error', async () => {
    const httpsToPlainHttp = standIn.baseUrl.replace('http:', 'https:');

    const error = failure(await client({ baseUrl: httpsToPlainHttp }).send({ phone: PHONE, message: 'hi' }));

    expect(error.type).toBe('ssl_error');
  });

  it('maps a 407 from a proxy, which fetch turns into a network error, to http_error 407 classified temporary', async () => {
    standIn.answer(407, 'Proxy Authentication Required', { 'proxy-authenticate': 'Basic realm="corporate proxy"' });

    const sent = failure(await client().send({ phone: PHONE, message: 'hi' }));
    const checked = failure(await client().checkConnection());

    const expected = {
      type: 'http_error',
      httpStatus: 407,
      message: 'HTTP 407 proxy authentication required: a proxy between us and WaChap refused the request',
    };
    expect(sent).toEqual(expected);
    expect(checked).toEqual(expected);
    // Infrastructure between us and WaChap, not our account nor the recipient: retried with backoff.
    expect(classifyWaChapError(sent)).toMatchObject({
      action: 'retry',
      classification: 'temporary',
      scope: 'transient',
    });
  });

  it('keeps a bare fetch failure that names another cause a network_error, not a 407', async () => {
    const failingFetch = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    }) as typeof fetch;

    const error = failure(await client({ fetch: failingFetch }).send({ phone: PHONE, message: 'hi' }));

    expect(error).toEqual({ type: 'network_error', message: 'other side closed' });
  });

  it.each([
    ['ENOTFOUND', 'connection_error'],
    ['EAI_AGAIN', 'connection_error'],
    ['ECONNRESET', 'connection_error'],
    ['EHOSTUNREACH', 'network_error'],
    ['CERT_HAS_EXPIRED', 'ssl_error'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ssl_error'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ssl_error'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'ssl_error'],
  ])('maps a fetch failure caused by %s to %s', async (code, type) => {
    const cause = Object.assign(new Error(`getaddrinfo ${code} wachap.app`), { code });
    const failingFetch = (async () => {
      throw new TypeError('fetch failed', { cause });
    }) as typeof fetch;

    const error = failure(await client({ fetch: failingFetch }).send({ phone: PHONE, message: 'hi' }));

    expect(error.type).toBe(type);
    expect(networkErrorType(code)).toBe(type);
  });

  it.each([
    ['an empty access token', { instanceId: INSTANCE_ID, accessToken: '' }],
    ['a blank instance id', { instanceId: '   ', accessToken: TOKEN }],
    ['no credentials at all', undefined as unknown as WaChapCredentials],
  ])('returns config_error without calling WaChap for %s', async (_label, credentials) => {
    const log = spyLog();

    const outcome = await client({ credentials, log }).send({ phone: PHONE, message: 'hi' });

    expect(failure(outcome).type).toBe('config_error');
    expect(standIn.requests).toHaveLength(0);
    expect(log.text()).not.toContain(INSTANCE_ID);
  });

  it('returns config_error without quoting the loader error when the credentials cannot be loaded', async () => {
    const loader = async (): Promise<WaChapCredentials> => {
      JSON.parse(`{"accessToken": ${TOKEN}}`);
      return CREDENTIALS;
    };
    const log = spyLog();

    const outcome = await client({ credentials: loader, log }).send({ phone: PHONE, message: 'hi' });

    expect(failure(outcome)).toEqual({ type: 'config_error', message: expect.stringContaining('SyntaxError') });
    expect(JSON.stringify(outcome) + log.text()).not.toContain(TOKEN.slice(0, 8));
    expect(standIn.requests).toHaveLength(0);
  });

  it('loads the credentials lazily, at send time', async () => {
    let loads = 0;
    const wachap = client({
      credentials: async () => {
        loads += 1;
        return CREDENTIALS;
      },
    });
    expect(loads).toBe(0);

    const outcome = await wachap.send({ phone: PHONE, message: 'hi' });

    expect(loads).toBe(1);
    expect(outcome.ok).toBe(true);
    expect(JSON.parse(standIn.requests[0]?.body ?? '')).toMatchObject({ access_token: TOKEN });
  });

  it('never logs the token, the full instance id or the phone number, and masks the phone', async () => {
    const log = spyLog();
    const wachap = client({ log });
    const replies: Reply[] = [
      { status: 200, body: '{"status":"success","id":"A"}' },
      { status: 200, body: '{"status":"success"}' },
      { status: 401, body: '{"status":"error","message":"Invalid access token"}' },
      { status: 200, body: '<html>oops</html>' },
    ];

    for (const reply of replies) {
      standIn.reply = () => reply;
      await wachap.send({ phone: PHONE, message: 'hi' });
    }

    const logged = log.text();
    expect(log.lines.length).toBeGreaterThanOrEqual(replies.length);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(INSTANCE_ID);
    expect(logged).not.toContain('22370123456');
    expect(logged).toContain('*******3456');
    expect(logged).toContain('609ACF');
  });

  it.each([
    [
      'a JSON error echoing the request',
      (request: RecordedRequest) => ({ status: 400, body: `{"message":"bad ${request.body}"}` }),
    ],
    [
      'an HTML page echoing the request',
      (request: RecordedRequest) => ({ status: 500, body: `<pre>${request.body}</pre>` }),
    ],
    [
      'an application error echoing the token',
      () => ({ status: 200, body: `{"status":"error","message":"token ${TOKEN} expired"}` }),
    ],
  ])('scrubs the token and the phone out of %s', async (_label, reply) => {
    standIn.reply = reply;
    const log = spyLog();

    const outcome = await client({ log }).send({ phone: PHONE, message: 'hi' });

    const everything = JSON.stringify(outcome) + log.text();
    expect(failure(outcome).message).not.toBe('');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(INSTANCE_ID);
    expect(everything).not.toContain('22370123456');
  });
});

describe('WaChap client: credentials refused by WaChap', () => {
  const RENEWED: WaChapCredentials = { instanceId: INSTANCE_ID, accessToken: 'r3n3w3dT0k3nXyz987654' };

  /** A loader standing in for the secret: `held` until a forced read, which returns `renewed`. */
  function secretLoader(renewed: WaChapCredentials | Error) {
    const calls: ({ forceFetch?: boolean } | undefined)[] = [];
    const loader: WaChapCredentialsLoader = async (options) => {
      calls.push(options);
      if (!options?.forceFetch) return CREDENTIALS;
      if (renewed instanceof Error) throw renewed;
      return renewed;
    };
    return { loader, calls };
  }

  /** WaChap accepting only `accepted`'s token, refusing any other with `status`. */
  function acceptOnly(accepted: WaChapCredentials, status = 401): void {
    standIn.reply = (request) => {
      const token = request.body
        ? JSON.parse(request.body).access_token
        : new URL(request.url, 'http://x').searchParams.get('access_token');
      return token === accepted.accessToken
        ? { status: 200, body: '{"status":"success","id":"ID-2"}' }
        : { status, body: '{"status":"error","message":"Invalid access token"}' };
    };
  }

  const sentTokens = () =>
    standIn.requests.map((request) =>
      request.body
        ? JSON.parse(request.body).access_token
        : new URL(request.url, 'http://x').searchParams.get('access_token'),
    );

  it.each([401, 403])(
    'on HTTP %i re-reads the credentials skipping the cache and repeats the send once with the renewed ones',
    async (status) => {
      const { loader, calls } = secretLoader(RENEWED);
      acceptOnly(RENEWED, status);

      const outcome = await client({ credentials: loader }).send({ phone: PHONE, message: 'hi' });

      expect(outcome).toMatchObject({ ok: true, messageId: 'ID-2' });
      expect(calls).toEqual([undefined, { forceFetch: true }]);
      expect(sentTokens()).toEqual([TOKEN, RENEWED.accessToken]);
    },
  );

  it('repeats the connection check once with the renewed credentials', async () => {
    const { loader, calls } = secretLoader(RENEWED);
    acceptOnly(RENEWED);

    const outcome = await client({ credentials: loader }).checkConnection();

    expect(outcome).toEqual({ ok: true, httpStatus: 200, durationMs: expect.any(Number) });
    expect(calls).toEqual([undefined, { forceFetch: true }]);
    expect(sentTokens()).toEqual([TOKEN, RENEWED.accessToken]);
  });

  it('returns the refusal without repeating the call when the re-read gives the same credentials', async () => {
    const { loader, calls } = secretLoader(CREDENTIALS);
    acceptOnly(RENEWED);

    const error = failure(await client({ credentials: loader }).send({ phone: PHONE, message: 'hi' }));

    expect(error).toEqual({ type: 'http_error', httpStatus: 401, message: 'Invalid access token' });
    expect(calls).toEqual([undefined, { forceFetch: true }]);
    expect(standIn.requests).toHaveLength(1);
  });

  it('repeats at most once: a renewed token refused too ends in that refusal, with both tokens redacted', async () => {
    const { loader, calls } = secretLoader(RENEWED);
    // Refuses everything and echoes the request, which carries one token or the other.
    standIn.reply = (request) => ({ status: 401, body: JSON.stringify({ message: `refused ${request.body}` }) });
    const log = spyLog();

    const outcome = await client({ credentials: loader, log }).send({ phone: PHONE, message: 'hi' });

    expect(failure(outcome)).toMatchObject({ type: 'http_error', httpStatus: 401 });
    expect(calls).toHaveLength(2);
    expect(standIn.requests).toHaveLength(2);
    const everything = JSON.stringify(outcome) + log.text();
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(RENEWED.accessToken);
  });

  it('returns the refusal, not a config_error, when the re-read fails', async () => {
    const { loader } = secretLoader(new Error('secret store unreachable'));
    acceptOnly(RENEWED);
    const log = spyLog();

    const error = failure(await client({ credentials: loader, log }).send({ phone: PHONE, message: 'hi' }));

    expect(error).toMatchObject({ type: 'http_error', httpStatus: 401 });
    expect(standIn.requests).toHaveLength(1);
    expect(log.lines.map((line) => line.message)).toContain(
      'WaChap refused the credentials and they could not be re-read',
    );
  });

  it.each([
    ['HTTP 400', 400, '{"status":"error","message":"Invalid number"}'],
    ['HTTP 404', 404, '{"status":"error","message":"Not found"}'],
    ['HTTP 429', 429, '{"status":"error","message":"Too many requests"}'],
    ['HTTP 500', 500, ''],
    ['a 200 saying the token is invalid', 200, '{"status":"error","message":"Invalid access token"}'],
  ])('does not re-read the credentials after %s', async (_label, status, body) => {
    const { loader, calls } = secretLoader(RENEWED);
    standIn.answer(status, body);

    const outcome = await client({ credentials: loader }).send({ phone: PHONE, message: 'hi' });

    expect(outcome.ok).toBe(false);
    expect(calls).toEqual([undefined]);
    expect(standIn.requests).toHaveLength(1);
  });

  it('does not retry fixed credentials (an object, not a loader) after a 401', async () => {
    acceptOnly(RENEWED);

    const error = failure(await client().send({ phone: PHONE, message: 'hi' }));

    expect(error).toMatchObject({ type: 'http_error', httpStatus: 401 });
    expect(standIn.requests).toHaveLength(1);
  });
});

describe('WaChap client: checkConnection', () => {
  it('asks get_qrcode with the credentials in the query and reports 200 as healthy', async () => {
    standIn.answer(200, '{"status":"success","base64":"data:image/png;base64,AAAA"}');

    const outcome = await client().checkConnection();

    expect(outcome).toEqual({ ok: true, httpStatus: 200, durationMs: expect.any(Number) });
    const url = new URL(standIn.requests[0]?.url ?? '', 'http://x');
    expect(standIn.requests[0]?.method).toBe('GET');
    expect(url.pathname).toBe('/api/get_qrcode');
    expect(Object.fromEntries(url.searchParams)).toEqual({ instance_id: INSTANCE_ID, access_token: TOKEN });
  });

  it('reports any other status as http_error without leaking the token in the URL', async () => {
    standIn.reply = (request) => ({ status: 500, body: `Internal error while handling ${request.url}` });
    const log = spyLog();

    const outcome = await client({ log }).checkConnection();

    expect(failure(outcome)).toMatchObject({ type: 'http_error', httpStatus: 500 });
    expect(failure(outcome).message).toContain('access_token=[redacted]');
    expect(JSON.stringify(outcome) + log.text()).not.toContain(TOKEN);
    expect(JSON.stringify(outcome) + log.text()).not.toContain(INSTANCE_ID);
  });

  it('returns config_error without a request when the credentials are missing', async () => {
    const outcome = await client({ credentials: { instanceId: '', accessToken: '' } }).checkConnection();

    expect(failure(outcome).type).toBe('config_error');
    expect(standIn.requests).toHaveLength(0);
  });
});

describe('WaChap client: properties against the stand-in', () => {
  // Any status, with the ones fetch or the client treat specially drawn often enough to be met in every run:
  // 407 (fetch turns it into a network error), 401/403 (credentials refused), bodiless 204/205/304, 421
  // (undici repeats it once on a new connection).
  const httpStatus = fc.oneof(
    { arbitrary: fc.constantFrom(204, 205, 304, 401, 403, 407, 421, 429), weight: 1 },
    { arbitrary: fc.integer({ min: 200, max: 599 }), weight: 3 },
  );
  const anyBody = fc.oneof(
    fc.string(),
    fc.json(),
    fc.uint8Array({ maxLength: 64 }),
    fc
      .record({
        status: fc.constantFrom('success', 'error', 'failed', 200, '200', 500, false, true, 'SUCCESS', null),
        message: fc.oneof(
          fc.string(),
          fc.record({ status: fc.constantFrom('success', 'error'), key: fc.record({ id: fc.string() }) }),
        ),
        id: fc.option(fc.string()),
        message_id: fc.option(fc.oneof(fc.string(), fc.integer())),
      })
      .map((body) => JSON.stringify(body)),
  );

  /** An independent, deliberately loose reading of "WaChap said success". */
  function looksLikeSuccess(body: string | Uint8Array): boolean {
    if (typeof body !== 'string') return false;
    try {
      const json = JSON.parse(body);
      const marker = (value: unknown) => /^\s*(success|2\d\d)\s*$/i.test(String(value));
      return typeof json === 'object' && json !== null && (marker(json.status) || marker(json.message?.status));
    } catch {
      return false;
    }
  }

  it('always resolves to an outcome, and to ok only for a 2xx with a success body', async () => {
    const wachap = client();
    await fc.assert(
      fc.asyncProperty(httpStatus, anyBody, async (status, body) => {
        standIn.answer(status, body);

        const outcome = await wachap.send({ phone: PHONE, message: 'hi' });

        expect(typeof outcome.durationMs).toBe('number');
        // Exact for every status: beyond 2xx always http_error with that very status (407 included), whatever
        // the body; a 2xx is a success only with a success body, and otherwise says which 2xx it was.
        if (status >= 300) {
          expect(outcome).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: status } });
        } else if (outcome.ok) {
          expect(outcome.httpStatus).toBe(status);
          expect(looksLikeSuccess(body)).toBe(true);
        } else {
          expect(['application_error', 'invalid_response']).toContain(outcome.error.type);
          expect(outcome.error.httpStatus).toBe(status);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never lets an echoed token or phone number into an outcome or a log line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9]{12,40}$/),
        httpStatus,
        fc.constantFrom('json', 'text', 'html', 'url'),
        async (accessToken, status, style) => {
          const log = spyLog();
          const wachap = client({ credentials: { instanceId: INSTANCE_ID, accessToken }, log });
          standIn.reply = (request) => {
            const echo = style === 'url' ? request.url : request.body;
            const body = {
              json: JSON.stringify({ status: 'error', message: `rejected ${echo}` }),
              text: `rejected ${echo}`,
              html: `<html><body><p>${echo}</p></body></html>`,
              url: `see ${echo}`,
            }[style];
            return { status, body };
          };

          const outcomes = [await wachap.send({ phone: PHONE, message: 'hi' }), await wachap.checkConnection()];

          const everything = JSON.stringify(outcomes) + log.text();
          expect(everything).not.toContain(accessToken);
          expect(everything).not.toContain('22370123456');
        },
      ),
      { numRuns: 60 },
    );
  });
});
