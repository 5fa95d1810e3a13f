import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  SANDBOX_MODES,
  type SandboxMode,
  type SandboxState,
  startWaChapSandbox,
  type WaChapSandbox,
} from '../../local/wachap-sandbox.js';
import { createWaChapClient, type WaChapClient, type WaChapCredentials } from '../../shared/adapters/wachap/client.js';

const CREDENTIALS: WaChapCredentials = { instanceId: 'SANDBOX-INSTANCE-1', accessToken: 'sandbox-secret-token-42' };
const PHONE = '+22370123456';
const DIGITS = '22370123456';

describe('WaChap sandbox', () => {
  let sandbox: WaChapSandbox;
  let client: WaChapClient;
  const lines: string[] = [];

  const clientFor = (overrides: { timeoutMs?: number; credentials?: WaChapCredentials } = {}) =>
    createWaChapClient({
      baseUrl: sandbox.url,
      timeoutMs: overrides.timeoutMs ?? 2_000,
      credentials: overrides.credentials ?? CREDENTIALS,
    });

  const rawSend = (body: unknown) =>
    fetch(`${sandbox.url}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const validBody = (overrides: Record<string, unknown> = {}) => ({
    number: DIGITS,
    type: 'text',
    message: 'Votre colis est arrivé',
    instance_id: CREDENTIALS.instanceId,
    access_token: CREDENTIALS.accessToken,
    ...overrides,
  });

  const control = (path: string, init: RequestInit = {}) => fetch(`${sandbox.origin}/_sandbox/${path}`, init);
  const postMode = (body: unknown) =>
    control('mode', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    sandbox = await startWaChapSandbox({ port: 0, ...CREDENTIALS, log: (line) => lines.push(line) });
    client = clientFor();
  });

  afterEach(() => {
    sandbox.reset();
    lines.length = 0;
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('sending through our client', () => {
    it('accepts a message when healthy and records it with digits only', async () => {
      const outcome = await client.send({ phone: PHONE, message: 'Votre colis est arrivé' });

      expect(outcome).toMatchObject({ ok: true, httpStatus: 200 });
      const [message, ...others] = sandbox.inbox();
      expect(others).toEqual([]);
      expect(message).toMatchObject({
        to: DIGITS,
        message: 'Votre colis est arrivé',
        type: 'text',
        instanceId: 'SANDBO',
      });
      expect(outcome.ok && outcome.messageId).toBe(message?.id);
      expect(Date.parse(message?.at ?? '')).not.toBeNaN();
      expect(sandbox.requests()).toBe(1);
    });

    it.each([
      ['status', /^3EB0[0-9A-F]{16}$/, (id: string) => ({ status: 'success', id, message: 'Message sent' })],
      ['nested', /^3EB0[0-9A-F]{16}$/, (id: string) => ({ message: { status: 'success', key: { id } } })],
      ['v1', /^MSG-\d+$/, (id: string) => ({ status: 200, message_id: id, message: 'Message envoyé' })],
    ] as const)('gives a message id through the client with the %s success shape', async (shape, idFormat, body) => {
      sandbox.configure({ successShape: shape });

      const outcome = await client.send({ phone: PHONE, message: 'hello' });
      const raw = await rawSend(validBody());

      expect(outcome.ok && outcome.messageId).toMatch(idFormat);
      const rawBody = await raw.json();
      expect(raw.status).toBe(200);
      expect(rawBody).toEqual(body(sandbox.inbox()[1]?.id ?? ''));
      expect(sandbox.inbox().map((message) => message.id)).toEqual([
        outcome.ok ? outcome.messageId : '',
        sandbox.inbox()[1]?.id,
      ]);
    });

    it('rotates through the three success shapes by default', async () => {
      const ids: (string | undefined)[] = [];
      for (let i = 0; i < 4; i += 1) {
        const outcome = await client.send({ phone: PHONE, message: `message ${i}` });
        ids.push(outcome.ok ? outcome.messageId : 'failed');
      }

      expect(ids.map((id) => id?.slice(0, 4))).toEqual(['3EB0', '3EB0', 'MSG-', '3EB0']);
      expect(sandbox.inbox().map((message) => message.id)).toEqual(ids);
    });

    it.each([
      [
        'disconnected',
        { type: 'application_error', httpStatus: 200, message: 'Instance disconnected. Please scan the QR code' },
      ],
      ['token_expired', { type: 'http_error', httpStatus: 401, message: 'Unauthorized: token expired' }],
      ['subscription_expired', { type: 'application_error', httpStatus: 200, message: 'Subscription expired' }],
      ['rate_limited', { type: 'http_error', httpStatus: 429, message: 'Too many requests', retryAfterSeconds: 60 }],
      ['unavailable', { type: 'http_error', httpStatus: 503, message: '503 Service Temporarily Unavailable' }],
      [
        'error_body',
        { type: 'invalid_response', httpStatus: 200, message: 'WaChap answered a non-JSON body: Bad gateway' },
      ],
    ] as const)('fails in %s mode and records nothing', async (mode, error) => {
      sandbox.configure({ mode });

      const outcome = await client.send({ phone: PHONE, message: 'hello' });

      expect(outcome).toMatchObject({ ok: false, error });
      expect(sandbox.inbox()).toEqual([]);
      expect(sandbox.requests()).toBe(1);
    });

    it('answers the outage modes as a proxy would: HTML, with Retry-After only when set', async () => {
      sandbox.configure({ mode: 'unavailable' });
      const unavailable = await rawSend(validBody());
      sandbox.configure({ mode: 'error_body' });
      const errorBody = await rawSend(validBody());
      sandbox.configure({ mode: 'rate_limited', retryAfterSeconds: 0 });
      const withoutHeader = await rawSend(validBody());
      const clientWithoutHeader = await client.send({ phone: PHONE, message: 'hello' });
      sandbox.configure({ retryAfterSeconds: 7 });
      const clientWithHeader = await client.send({ phone: PHONE, message: 'hello' });

      expect(unavailable.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await unavailable.text()).toBe('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      expect([errorBody.status, await errorBody.text()]).toEqual([200, '<html>Bad gateway</html>']);
      expect(errorBody.headers.get('content-type')).toMatch(/^text\/html/);
      expect(withoutHeader.status).toBe(429);
      expect(withoutHeader.headers.has('retry-after')).toBe(false);
      expect(await withoutHeader.json()).toEqual({ status: 'error', message: 'Too many requests' });
      expect(clientWithoutHeader.ok || clientWithoutHeader.error.retryAfterSeconds).toBeUndefined();
      expect(clientWithHeader.ok || clientWithHeader.error.retryAfterSeconds).toBe(7);
    });

    it('records a slow send even when the client gave up, and answers it healthy when the client waits', async () => {
      sandbox.configure({ mode: 'slow', slowMs: 300, successShape: 'status' });

      const gaveUp = await clientFor({ timeoutMs: 100 }).send({ phone: PHONE, message: 'too slow' });
      const waited = await clientFor({ timeoutMs: 2_000 }).send({ phone: PHONE, message: 'worth the wait' });

      expect(gaveUp).toMatchObject({ ok: false, error: { type: 'timeout' } });
      expect(waited).toMatchObject({ ok: true, httpStatus: 200 });
      expect(waited.durationMs).toBeGreaterThanOrEqual(250);
      expect(sandbox.inbox().map((message) => message.message)).toEqual(['too slow', 'worth the wait']);
    });

    it('rejects credentials other than its own with 401', async () => {
      const outcome = await clientFor({ credentials: { ...CREDENTIALS, accessToken: 'wrong-token' } }).send({
        phone: PHONE,
        message: 'hello',
      });
      const wrongInstance = await rawSend(validBody({ instance_id: 'OTHER-INSTANCE' }));

      expect(outcome).toMatchObject({
        ok: false,
        error: { type: 'http_error', httpStatus: 401, message: 'Invalid access token' },
      });
      expect(wrongInstance.status).toBe(401);
      expect(sandbox.inbox()).toEqual([]);
    });

    it('refuses the old token once the credentials are replaced, and takes the old ones back on reset', async () => {
      const renewed = { ...CREDENTIALS, accessToken: 'renewed-sandbox-token-43' };

      sandbox.replaceCredentials({ accessToken: renewed.accessToken });
      const withOld = await client.send({ phone: PHONE, message: 'old token' });
      const withNew = await clientFor({ credentials: renewed }).send({ phone: PHONE, message: 'new token' });
      const checkWithOld = await client.checkConnection();
      sandbox.reset();
      const oldAgain = await client.send({ phone: PHONE, message: 'after reset' });

      expect(withOld).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
      expect(withNew).toMatchObject({ ok: true });
      expect(checkWithOld).toMatchObject({ ok: false, error: { type: 'http_error', httpStatus: 401 } });
      expect(oldAgain).toMatchObject({ ok: true });
      expect(() => sandbox.replaceCredentials({ accessToken: '  ' })).toThrow();
    });

    it('answers "not registered" only for the configured invalid numbers', async () => {
      sandbox.configure({ invalidNumbers: ['+22370000001'] });

      const invalid = await client.send({ phone: '+22370000001', message: 'hello' });
      const valid = await client.send({ phone: PHONE, message: 'hello' });

      expect(invalid).toMatchObject({
        ok: false,
        error: { type: 'application_error', httpStatus: 200, message: 'Invalid number: not registered on WhatsApp' },
      });
      expect(valid.ok).toBe(true);
      expect(sandbox.inbox().map((message) => message.to)).toEqual([DIGITS]);
      expect(sandbox.requests()).toBe(2);
    });

    it('logs one line per send with the number masked and never the token', async () => {
      await client.send({ phone: PHONE, message: 'hello' });
      sandbox.configure({ mode: 'disconnected' });
      await client.send({ phone: PHONE, message: 'hello' });

      expect(lines).toEqual([
        'wachap-sandbox: send to *******3456 → 200 success (healthy)',
        'wachap-sandbox: send to *******3456 → 200 error "Instance disconnected. Please scan the QR code" (disconnected)',
      ]);
      expect(lines.join('\n')).not.toContain(CREDENTIALS.accessToken);
    });
  });

  describe('request validation', () => {
    it.each([
      ['a leading +', validBody({ number: PHONE })],
      ['7 digits', validBody({ number: '7012345' })],
      ['16 digits', validBody({ number: '1234567890123456' })],
      ['no number', validBody({ number: undefined })],
      ['no message', validBody({ message: undefined })],
      ['an empty message', validBody({ message: '  ' })],
    ])('answers 400 "Invalid number format" for %s', async (_case, body) => {
      const response = await rawSend(body);

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ status: 'error', message: 'Invalid number format' });
      expect(sandbox.inbox()).toEqual([]);
    });

    it('answers 400 "Bad request" to malformed JSON and 413 to a body over 1 MB, counting both', async () => {
      const malformed = await rawSend('{"number": ');
      const tooLarge = await rawSend(validBody({ message: 'x'.repeat(1024 * 1024 + 10) }));

      expect([malformed.status, await malformed.json()]).toEqual([400, { status: 'error', message: 'Bad request' }]);
      expect(tooLarge.status).toBe(413);
      expect(sandbox.requests()).toBe(2);
      expect(sandbox.inbox()).toEqual([]);
    });

    it('answers 404 JSON to unknown routes', async () => {
      const response = await fetch(`${sandbox.origin}/api/nope`);

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ status: 'error', message: 'Not found' });
    });

    it('accepts any non-empty credentials when started without any', async () => {
      const open = await startWaChapSandbox();
      const send = (credentials: Record<string, string>) =>
        fetch(`${open.url}/send`, {
          method: 'POST',
          body: JSON.stringify({ number: DIGITS, type: 'text', message: 'hi', ...credentials }),
        });

      try {
        const accepted = await send({ instance_id: 'whatever', access_token: 'anything' });
        const empty = await send({ instance_id: 'whatever', access_token: '' });

        expect(accepted.status).toBe(200);
        expect(empty.status).toBe(401);
        expect(open.inbox()).toHaveLength(1);
      } finally {
        await open.close();
      }
    });
  });

  describe('connection check through our client (get_qrcode)', () => {
    it.each([
      ['healthy', { ok: true, httpStatus: 200 }],
      ['slow', { ok: true, httpStatus: 200 }],
      // 200 with an error body: the probe must not mistake a disconnected instance for a healthy one.
      ['disconnected', { ok: false, error: { type: 'application_error', httpStatus: 200 } }],
      ['error_body', { ok: true, httpStatus: 200 }],
      ['token_expired', { ok: false, error: { type: 'http_error', httpStatus: 401 } }],
      ['subscription_expired', { ok: false, error: { type: 'http_error', httpStatus: 403 } }],
      ['rate_limited', { ok: false, error: { type: 'http_error', httpStatus: 429, retryAfterSeconds: 60 } }],
      ['unavailable', { ok: false, error: { type: 'http_error', httpStatus: 503 } }],
    ] as const)('in %s mode', async (mode, expected) => {
      sandbox.configure({ mode, slowMs: 50 });

      const outcome = await client.checkConnection();

      expect(outcome).toMatchObject(expected);
    });

    it('answers a QR code when healthy, an error body when disconnected, and 401 to wrong credentials', async () => {
      const query = (token: string) =>
        `${sandbox.url}/get_qrcode?${new URLSearchParams({ instance_id: CREDENTIALS.instanceId, access_token: token })}`;

      const healthy = await (await fetch(query(CREDENTIALS.accessToken))).json();
      const wrong = await fetch(query('wrong'));
      sandbox.configure({ mode: 'disconnected' });
      const disconnected = await fetch(query(CREDENTIALS.accessToken));

      expect(healthy).toMatchObject({ status: 'success', base64: expect.stringMatching(/^data:image\/png;base64,/) });
      expect(wrong.status).toBe(401);
      expect([disconnected.status, await disconnected.json()]).toEqual([
        200,
        { status: 'error', message: 'Instance disconnected' },
      ]);
    });

    it('accepts set_webhook as a no-op', async () => {
      const query = new URLSearchParams({
        webhook_url: 'http://example.test/hook',
        enable: 'true',
        instance_id: CREDENTIALS.instanceId,
        access_token: CREDENTIALS.accessToken,
      });

      const response = await fetch(`${sandbox.url}/set_webhook?${query}`);

      expect([response.status, await response.json()]).toEqual([200, { status: 'success' }]);
    });
  });

  describe('control API', () => {
    it('reports the default state and switches mode and settings', async () => {
      const initial = await (await control('state')).json();
      const changed = await postMode({
        mode: 'rate_limited',
        retryAfterSeconds: 5,
        invalidNumbers: ['22370000001'],
        successShape: 'v1',
      });
      const after = await (await control('state')).json();

      expect(initial).toEqual({
        mode: 'healthy',
        retryAfterSeconds: 60,
        slowMs: 20_000,
        invalidNumbers: [],
        successShape: 'rotate',
      } satisfies SandboxState);
      expect(changed.status).toBe(200);
      const expected: SandboxState = {
        mode: 'rate_limited',
        retryAfterSeconds: 5,
        slowMs: 20_000,
        invalidNumbers: ['22370000001'],
        successShape: 'v1',
      };
      expect(await changed.json()).toEqual(expected);
      expect(after).toEqual(expected);
    });

    it.each([
      ['mode', { mode: 'nope' }],
      ['retryAfterSeconds', { retryAfterSeconds: -1 }],
      ['slowMs', { slowMs: 'slow' }],
      ['invalidNumbers.0', { invalidNumbers: ['abc'] }],
      ['successShape', { successShape: 'flat' }],
      ['colour', { colour: 'red' }],
    ])('rejects bad input naming the field %s', async (field, body) => {
      const response = await postMode(body);

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ status: 'error', field });
      expect(sandbox.configure({}).mode).toBe('healthy');
    });

    it('rejects a bad patch from code too', () => {
      expect(() => sandbox.configure({ mode: 'nope' as SandboxMode })).toThrow(/mode/);
      expect(() => sandbox.configure({ slowMs: -5 })).toThrow(/slowMs/);
    });

    it('accepts the page form posts and redirects back to the page', async () => {
      const response = await control('mode', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ mode: 'slow', slowMs: '1500', retryAfterSeconds: '', invalidNumbers: '' }),
        redirect: 'manual',
      });

      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/');
      expect(sandbox.configure({})).toMatchObject({ mode: 'slow', slowMs: 1500, retryAfterSeconds: 60 });
    });

    it('lists, clears and resets the inbox', async () => {
      await client.send({ phone: PHONE, message: 'one' });
      await client.send({ phone: PHONE, message: 'two' });
      sandbox.configure({ mode: 'disconnected' });

      const listed = (await (await control('inbox')).json()) as { messages: { message: string }[]; requests: number };
      const cleared = await control('inbox', { method: 'DELETE' });
      const afterClear = { inbox: sandbox.inbox(), requests: sandbox.requests() };
      await client.send({ phone: PHONE, message: 'three' });
      const reset = await control('reset', { method: 'POST' });

      expect(listed.requests).toBe(2);
      expect(listed.messages.map((message) => message.message)).toEqual(['one', 'two']);
      expect(cleared.status).toBe(200);
      expect(afterClear).toEqual({ inbox: [], requests: 2 });
      expect(await reset.json()).toMatchObject({ mode: 'healthy' });
      expect({ inbox: sandbox.inbox(), requests: sandbox.requests() }).toEqual({ inbox: [], requests: 0 });
    });
  });

  describe('page', () => {
    it('shows every mode, the inbox escaped, and never the access token', async () => {
      await client.send({ phone: PHONE, message: '<script>alert("hi")</script>' });

      const response = await fetch(sandbox.origin);
      const page = await response.text();

      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      for (const mode of SANDBOX_MODES) expect(page).toContain(`value="${mode}"`);
      expect(page).toContain('&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;');
      expect(page).not.toContain('<script>alert');
      expect(page).not.toContain(CREDENTIALS.accessToken);
      expect(page).not.toContain(CREDENTIALS.instanceId);
    });
  });

  describe('close', () => {
    it('returns promptly with a slow request pending', async () => {
      const slow = await startWaChapSandbox();
      slow.configure({ mode: 'slow', slowMs: 20_000 });
      const pending = fetch(`${slow.url}/send`, { method: 'POST', body: JSON.stringify(validBody()) }).then(
        (response) => response.status,
        (error: unknown) => error,
      );
      await vi.waitFor(() => expect(slow.inbox()).toHaveLength(1));

      const startedAt = performance.now();
      await slow.close();
      const closedInMs = performance.now() - startedAt;

      expect(closedInMs).toBeLessThan(1_000);
      expect(await pending).toBeInstanceOf(Error);
    });
  });
});
