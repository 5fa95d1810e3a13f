import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ZodError, z } from 'zod';
import { maskPhone } from '../shared/domain/phone.js';
import { readTextBody } from './doors/http.js';

export const SANDBOX_MODES = [
  'healthy',
  'disconnected',
  'token_expired',
  'rate_limited',
  'unavailable',
  'slow',
  'error_body',
  'subscription_expired',
] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

const SUCCESS_SHAPES = ['status', 'nested', 'v1', 'rotate'] as const;
const ROTATION = ['status', 'nested', 'v1'] as const;
type SuccessShape = (typeof ROTATION)[number];

export interface SandboxMessage {
  id: string;
  /** Digits as received. */
  to: string;
  message: string;
  type: string;
  /** First 6 characters only. */
  instanceId: string;
  at: string;
}

export interface SandboxState {
  /** Every instance's mode, unless it has its own below. */
  mode: SandboxMode;
  /** Several instances: an instance's own mode (by instance id), so that one breaks while the others send. */
  instanceModes?: Record<string, SandboxMode>;
  retryAfterSeconds: number;
  slowMs: number;
  invalidNumbers: string[];
  successShape: 'status' | 'nested' | 'v1' | 'rotate';
}

export type SandboxPatch = Partial<SandboxState> & { instanceId?: string };

export interface WaChapSandbox {
  /** The API base, e.g. http://127.0.0.1:3100/api: clients send to `${url}/send`. */
  url: string;
  origin: string;
  /** Accepted messages, oldest first. */
  inbox(): SandboxMessage[];
  /** Every /send call received, accepted or not. */
  requests(): number;
  /** With `instanceId`, `mode` is that instance's only. */
  configure(patch: SandboxPatch): SandboxState;
  /**
   * What WaChap does when an admin renews the token (or moves to another instance): from now on only these
   * credentials are accepted, the old ones get 401. reset() brings back the ones the sandbox started with.
   */
  replaceCredentials(next: { instanceId?: string; accessToken: string }): void;
  reset(): void;
  close(): Promise<void>;
}

/** One WaChap instance the sandbox plays: a WhatsApp number with its credentials. */
export interface SandboxInstance {
  instanceId: string;
  accessToken: string;
}

export interface WaChapSandboxOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  instanceId?: string;
  accessToken?: string;
  /** Several instances (WACHAP_INSTANCES): each accepts only its own credentials, and breaks on its own. */
  instances?: readonly SandboxInstance[];
  log?: (line: string) => void;
}

const DEFAULT_STATE: SandboxState = {
  mode: 'healthy',
  retryAfterSeconds: 60,
  slowMs: 20_000,
  invalidNumbers: [],
  successShape: 'rotate',
};

const MAX_BODY_BYTES = 1024 * 1024;
const WACHAP_NUMBER = /^\d{8,15}$/;
const ONE_PIXEL_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const StatePatchSchema = z.strictObject({
  mode: z.enum(SANDBOX_MODES).optional(),
  /** With `mode`: that instance's mode only (the page's per-instance switches). */
  instanceId: z.string().trim().min(1).optional(),
  // Any whole number: a provider may well send days (or nonsense), and the system must cope.
  retryAfterSeconds: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  slowMs: z.number().int().min(0).max(600_000).optional(),
  invalidNumbers: z
    .array(
      z
        .string()
        .trim()
        .regex(/^\+?\d{8,15}$/, 'expected 8 to 15 digits')
        .transform((phone) => phone.replace(/^\+/, '')),
    )
    .optional(),
  successShape: z.enum(SUCCESS_SHAPES).optional(),
});

const ReplacedCredentialsSchema = z.strictObject({
  instanceId: z.string().trim().min(1).optional(),
  accessToken: z.string().trim().min(1),
});

// Lenient like the real API: a field of the wrong type is treated as missing, and reported as such.
const optionalText = z.string().optional().catch(undefined);
const SendRequestSchema = z.looseObject({
  number: optionalText,
  type: optionalText,
  message: optionalText,
  instance_id: optionalText,
  access_token: optionalText,
});

interface Answer {
  status: number;
  contentType: 'application/json' | 'text/html';
  body: string;
  headers?: Record<string, string>;
  /** For the log line: "success", an error reason, or "html". */
  summary: string;
  location?: string;
}

type Handler = (request: IncomingMessage, url: URL) => Promise<Answer | Deferred>;

/** An answer held back (slow mode): the timer is tracked so close() can drop it. */
interface Deferred {
  answer: Answer;
  delayMs: number;
}

class SandboxStateError extends Error {
  override readonly name = 'SandboxStateError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`Invalid sandbox state: ${field}: ${problem}`);
  }
}

export async function startWaChapSandbox(options: WaChapSandboxOptions = {}): Promise<WaChapSandbox> {
  const log = options.log ?? (() => {});
  const initial = { instanceId: options.instanceId, accessToken: options.accessToken };
  let expected = { ...initial };
  const initialInstances = (options.instances ?? []).map((instance) => ({ ...instance }));
  let instances = initialInstances.map((instance) => ({ ...instance }));
  const modeOf = (instanceId: string | null | undefined): SandboxMode =>
    (instanceId ? state.instanceModes?.[instanceId] : undefined) ?? state.mode;
  let state = copyState(DEFAULT_STATE);
  let messages: SandboxMessage[] = [];
  let sendCalls = 0;
  let rotation = 0;
  const pendingTimers = new Set<NodeJS.Timeout>();
  let origin = '';

  // --- WaChap API ---------------------------------------------------------------------------------------------

  async function handleSend(request: IncomingMessage): Promise<Answer | Deferred> {
    const raw = await readTextBody(request, MAX_BODY_BYTES);
    let mode = state.mode;
    let to: string | undefined;
    const finish = (answer: Answer, note = mode as string): Answer => {
      const recipient = to === undefined ? '(no number)' : maskPhone(to) || '(no digits)';
      log(`wachap-sandbox: send to ${recipient} → ${answer.status} ${answer.summary} (${note})`);
      return answer;
    };

    if (raw === undefined) return finish(jsonError(413, 'Payload too large'));
    const parsed = SendRequestSchema.safeParse(parseJson(raw));
    // Each instance is its own WhatsApp number behind the same gateway: its mode decides, the others' do not.
    mode = modeOf(parsed.success ? parsed.data.instance_id : undefined);
    const gateway = gatewayAnswer(mode);
    if (gateway) return finish(gateway);

    if (!parsed.success) return finish(jsonError(400, 'Bad request'));
    const body = parsed.data;
    to = body.number;

    const answer = sendAnswer(body, mode);
    if (mode !== 'slow') return finish(answer);
    const delayMs = state.slowMs;
    return { answer: finish(answer, `slow, answering in ${delayMs} ms`), delayMs };
  }

  function sendAnswer(body: z.infer<typeof SendRequestSchema>, mode: SandboxMode): Answer {
    if (!credentialsAccepted(body.instance_id, body.access_token)) return jsonError(401, 'Invalid access token');
    if (mode === 'token_expired') return jsonError(401, 'Unauthorized: token expired');
    const { number, message } = body;
    if (number === undefined || !WACHAP_NUMBER.test(number) || !message?.trim()) {
      return jsonError(400, 'Invalid number format');
    }
    if (mode === 'subscription_expired') return jsonError(200, 'Subscription expired');
    if (mode === 'disconnected') return jsonError(200, 'Instance disconnected. Please scan the QR code');
    if (state.invalidNumbers.includes(number)) return jsonError(200, 'Invalid number: not registered on WhatsApp');

    const shape: SuccessShape =
      state.successShape === 'rotate' ? (ROTATION[rotation++ % ROTATION.length] ?? 'status') : state.successShape;
    const id = shape === 'v1' ? `MSG-${randomInt(1e9, 1e10)}` : `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    // Recorded on receipt, also in slow mode: the real provider may deliver a message whose answer the client never saw.
    messages.push({
      id,
      to: number,
      message,
      type: body.type ?? 'text',
      instanceId: (body.instance_id ?? '').slice(0, 6),
      at: new Date().toISOString(),
    });
    return successAnswer(shape, id);
  }

  async function handleQrCode(_request: IncomingMessage, url: URL): Promise<Answer | Deferred> {
    const answer = qrCodeAnswer(url.searchParams);
    return modeOf(url.searchParams.get('instance_id')) === 'slow' ? { answer, delayMs: state.slowMs } : answer;
  }

  // Production uses get_qrcode as its connection check, so it fails exactly when sending fails for provider reasons.
  function qrCodeAnswer(query: URLSearchParams): Answer {
    const mode = modeOf(query.get('instance_id'));
    const gateway = gatewayAnswer(mode);
    if (gateway) return gateway;
    if (!credentialsAccepted(query.get('instance_id'), query.get('access_token'))) {
      return jsonError(401, 'Invalid access token');
    }
    if (mode === 'token_expired') return jsonError(401, 'Unauthorized: token expired');
    if (mode === 'subscription_expired') return jsonError(403, 'Subscription expired');
    // The real service answers 200 for a disconnected instance: it asks for the QR code to be scanned.
    if (mode === 'disconnected') return jsonError(200, 'Instance disconnected');
    return json(200, { status: 'success', base64: ONE_PIXEL_PNG }, 'success');
  }

  async function handleSetWebhook(_request: IncomingMessage, url: URL): Promise<Answer> {
    const gateway = gatewayAnswer(modeOf(url.searchParams.get('instance_id')));
    if (gateway) return gateway;
    if (!credentialsAccepted(url.searchParams.get('instance_id'), url.searchParams.get('access_token'))) {
      return jsonError(401, 'Invalid access token');
    }
    return json(200, { status: 'success' }, 'success');
  }

  /** Failures produced in front of the application (proxy, rate limiter): they answer whatever the request holds. */
  function gatewayAnswer(mode: SandboxMode): Answer | undefined {
    switch (mode) {
      case 'unavailable':
        return html(503, '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      case 'error_body':
        return html(200, '<html>Bad gateway</html>');
      case 'rate_limited': {
        const answer = jsonError(429, 'Too many requests');
        if (state.retryAfterSeconds > 0) answer.headers = { 'retry-after': String(state.retryAfterSeconds) };
        return answer;
      }
      default:
        return undefined;
    }
  }

  function credentialsAccepted(instanceId: string | null | undefined, accessToken: string | null | undefined): boolean {
    if (!instanceId?.trim() || !accessToken?.trim()) return false;
    if (instances.length > 0) {
      return instances.some((instance) => instance.instanceId === instanceId && instance.accessToken === accessToken);
    }
    if (expected.instanceId !== undefined && instanceId !== expected.instanceId) return false;
    if (expected.accessToken !== undefined && accessToken !== expected.accessToken) return false;
    return true;
  }

  // --- Control API and page ----------------------------------------------------------------------------------

  function configure(patch: SandboxPatch): SandboxState {
    const parsed = StatePatchSchema.safeParse(patch);
    if (!parsed.success) {
      const { field, problem } = firstProblem(parsed.error);
      throw new SandboxStateError(field, problem);
    }
    const { instanceId, ...rest } = parsed.data;
    if (instanceId !== undefined) {
      // One instance's switch: only its mode changes, the others keep theirs.
      if (rest.mode === undefined) throw new SandboxStateError('mode', 'required with instanceId');
      if (!instances.some((instance) => instance.instanceId === instanceId)) {
        throw new SandboxStateError('instanceId', 'not one of the sandbox instances');
      }
      state = copyState({ ...state, instanceModes: { ...state.instanceModes, [instanceId]: rest.mode } });
      return copyState(state);
    }
    const changes = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
    // A mode for every instance ends the instances' own modes.
    state = copyState({ ...state, ...changes, ...(rest.mode !== undefined ? { instanceModes: {} } : {}) });
    return copyState(state);
  }

  function replaceCredentials(next: { instanceId?: string; accessToken: string }): void {
    const parsed = ReplacedCredentialsSchema.parse(next);
    if (instances.length > 0) {
      // Several instances: the named one's token is renewed, the others keep theirs.
      const renewed = instances.find((instance) => instance.instanceId === parsed.instanceId);
      if (!renewed) throw new SandboxStateError('instanceId', 'not one of the sandbox instances');
      renewed.accessToken = parsed.accessToken;
      return;
    }
    expected = { instanceId: parsed.instanceId ?? expected.instanceId, accessToken: parsed.accessToken };
  }

  function reset(): void {
    expected = { ...initial };
    instances = initialInstances.map((instance) => ({ ...instance }));
    state = copyState(DEFAULT_STATE);
    messages = [];
    sendCalls = 0;
    rotation = 0;
  }

  const inboxBody = () => ({ messages: messages.map((message) => ({ ...message })), requests: sendCalls });

  async function handleMode(request: IncomingMessage): Promise<Answer> {
    const raw = await readTextBody(request, MAX_BODY_BYTES);
    if (raw === undefined) return jsonError(413, 'Payload too large');
    const isForm = isFormRequest(request);
    const patch = isForm ? formPatch(raw) : raw.trim() === '' ? {} : parseJson(raw);
    if (patch === undefined) return controlError('body', 'not valid JSON');
    try {
      const next = configure(patch as SandboxPatch);
      return isForm ? redirectHome() : json(200, next, 'state');
    } catch (error) {
      if (error instanceof SandboxStateError) return controlError(error.field, error.problem);
      throw error;
    }
  }

  async function handleReset(request: IncomingMessage): Promise<Answer> {
    await readTextBody(request, MAX_BODY_BYTES);
    reset();
    return isFormRequest(request) ? redirectHome() : json(200, copyState(state), 'state');
  }

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/api/send': { POST: handleSend },
    '/api/get_qrcode': { GET: handleQrCode },
    '/api/set_webhook': { GET: handleSetWebhook },
    '/_sandbox/inbox': {
      GET: async () => json(200, inboxBody(), 'inbox'),
      DELETE: async () => {
        messages = [];
        return json(200, inboxBody(), 'inbox');
      },
    },
    '/_sandbox/state': { GET: async () => json(200, copyState(state), 'state') },
    '/_sandbox/mode': { POST: handleMode },
    '/_sandbox/reset': { POST: handleReset },
    '/': {
      GET: async () => ({
        status: 200,
        contentType: 'text/html',
        body: renderPage(
          state,
          messages,
          sendCalls,
          origin,
          expected.instanceId,
          instances.map((instance) => instance.instanceId),
        ),
        summary: 'page',
      }),
    },
  };

  // --- Server ------------------------------------------------------------------------------------------------

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    if (url.pathname === '/api/send') sendCalls += 1;
    const methods = routes[url.pathname];
    const handler = methods?.[request.method ?? 'GET'];
    if (!methods) return reply(response, jsonError(404, 'Not found'));
    if (!handler) {
      const answer = jsonError(405, 'Method not allowed');
      answer.headers = { allow: Object.keys(methods).join(', ') };
      return reply(response, answer);
    }
    const result = await handler(request, url);
    if ('delayMs' in result) return replyLater(response, result);
    reply(response, result);
  }

  function replyLater(response: ServerResponse, { answer, delayMs }: Deferred): void {
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      reply(response, answer);
    }, delayMs);
    pendingTimers.add(timer);
    response.on('close', () => {
      clearTimeout(timer);
      pendingTimers.delete(timer);
    });
  }

  const server = createServer((request, response) => {
    route(request, response).catch(() => {
      // A client that hangs up mid-body lands here; nothing useful can be answered then.
      if (response.headersSent || response.destroyed) response.destroy();
      else reply(response, jsonError(500, 'Internal sandbox error'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  origin = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      server.close(() => resolve());
      // Held-back slow answers and keep-alive sockets would otherwise keep close() waiting.
      server.closeAllConnections();
    });
    return closing;
  }

  return {
    url: `${origin}/api`,
    origin,
    inbox: () => inboxBody().messages,
    requests: () => sendCalls,
    configure,
    replaceCredentials,
    reset,
    close,
  };
}

// --- Helpers -----------------------------------------------------------------------------------------------------

function reply(response: ServerResponse, answer: Answer): void {
  if (response.destroyed || response.headersSent) return;
  const headers: Record<string, string | number> = {
    'content-type': `${answer.contentType}; charset=utf-8`,
    'content-length': Buffer.byteLength(answer.body),
    'cache-control': 'no-store',
    ...answer.headers,
  };
  if (answer.location) headers.location = answer.location;
  response.writeHead(answer.status, headers).end(answer.body);
}

function json(status: number, body: unknown, summary: string): Answer {
  return { status, contentType: 'application/json', body: JSON.stringify(body), summary };
}

function jsonError(status: number, message: string): Answer {
  return json(status, { status: 'error', message }, `error "${message}"`);
}

function html(status: number, body: string): Answer {
  return { status, contentType: 'text/html', body, summary: 'html' };
}

function controlError(field: string, problem: string): Answer {
  return json(400, { status: 'error', field, message: `${field}: ${problem}` }, 'invalid state');
}

function redirectHome(): Answer {
  return { status: 303, contentType: 'text/html', body: '', summary: 'redirect', location: '/' };
}

function successAnswer(shape: SuccessShape, id: string): Answer {
  switch (shape) {
    case 'status':
      return json(200, { status: 'success', id, message: 'Message sent' }, 'success');
    case 'nested':
      return json(200, { message: { status: 'success', key: { id } } }, 'success');
    case 'v1':
      return json(200, { status: 200, message_id: id, message: 'Message envoyé' }, 'success');
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isFormRequest(request: IncomingMessage): boolean {
  return (request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
}

/** The page's forms send strings: numbers are converted, empty number inputs left out, an empty number list means none. */
function formPatch(body: string): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (key === 'invalidNumbers') patch[key] = value.split(/[\s,;]+/).filter(Boolean);
    else if (key === 'retryAfterSeconds' || key === 'slowMs') {
      if (value.trim() !== '') patch[key] = Number(value);
    } else patch[key] = value;
  }
  return patch;
}

function firstProblem(error: ZodError): { field: string; problem: string } {
  const issue = error.issues[0];
  if (!issue) return { field: 'body', problem: 'invalid' };
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const field = [...issue.path.map(String), ...keys].join('.') || 'body';
  return { field, problem: issue.message };
}

function copyState(state: SandboxState): SandboxState {
  // Only instances given their own mode are listed (none: the key is absent, as before there were several).
  const { instanceModes, ...rest } = state;
  const own = instanceModes && Object.keys(instanceModes).length > 0 ? { instanceModes: { ...instanceModes } } : {};
  return { ...rest, invalidNumbers: [...state.invalidNumbers], ...own };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character,
  );
}

function renderPage(
  state: SandboxState,
  messages: SandboxMessage[],
  requests: number,
  origin: string,
  instanceId: string | undefined,
  instanceIds: readonly string[],
): string {
  const modeButtons = SANDBOX_MODES.map(
    (mode) =>
      `<form method="post" action="/_sandbox/mode"><input type="hidden" name="mode" value="${mode}">` +
      `<button data-mode="${mode}"${mode === state.mode ? ' class="current"' : ''}>${mode}</button></form>`,
  ).join('');
  const shapeOptions = SUCCESS_SHAPES.map(
    (shape) => `<option${shape === state.successShape ? ' selected' : ''}>${shape}</option>`,
  ).join('');
  const rows = [...messages]
    .reverse()
    .map(
      (message) =>
        `<tr><td>${escapeHtml(message.at)}</td><td>${escapeHtml(message.to)}</td><td>${escapeHtml(message.instanceId)}</td>` +
        `<td>${escapeHtml(message.type)}</td><td>${escapeHtml(message.id)}</td><td>${escapeHtml(message.message)}</td></tr>`,
    )
    .join('');
  // Only the instance id's prefix is shown; the access token never reaches the page.
  const instance =
    instanceIds.length > 0
      ? instanceIds.map((id) => escapeHtml(id.slice(0, 6))).join(', ')
      : instanceId
        ? escapeHtml(instanceId.slice(0, 6))
        : 'any';
  // Several instances: each has its own switches, so that one number breaks while the others keep sending.
  const instanceSwitches = instanceIds
    .map((id) => {
      const current = state.instanceModes?.[id] ?? state.mode;
      const buttons = SANDBOX_MODES.map(
        (mode) =>
          `<form method="post" action="/_sandbox/mode"><input type="hidden" name="instanceId" value="${escapeHtml(id)}">` +
          `<input type="hidden" name="mode" value="${mode}"><button data-instance="${escapeHtml(id.slice(0, 6))}" data-instance-mode="${mode}"${mode === current ? ' class="current"' : ''}>${mode}</button></form>`,
      ).join('');
      return `<h3>Instance <code>${escapeHtml(id.slice(0, 6))}</code>: <strong data-instance-current="${escapeHtml(id.slice(0, 6))}">${current}</strong></h3><div>${buttons}</div>`;
    })
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>WaChap sandbox</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #222; }
form { display: inline-block; margin: 0 .3rem .3rem 0; }
button.current { background: #1f7a3f; color: #fff; }
label { margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
td, th { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td:last-child { white-space: pre-wrap; }
code { background: #f3f3f3; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>WaChap sandbox</h1>
<p>API base <code>${escapeHtml(origin)}/api</code> · instance <code>${instance}</code> ·
mode <strong id="mode">${state.mode}</strong> · <span id="requests">${requests}</span> send calls</p>
<h2>Mode</h2>
<div>${modeButtons}</div>
${instanceSwitches ? `<h2>Each instance</h2>${instanceSwitches}` : ''}
<h2>Settings</h2>
<form method="post" action="/_sandbox/mode">
<label>Retry-After (s) <input name="retryAfterSeconds" type="number" min="0" value="${state.retryAfterSeconds}"></label>
<label>Slow delay (ms) <input name="slowMs" type="number" min="0" value="${state.slowMs}"></label>
<label>Invalid numbers <input name="invalidNumbers" size="40" placeholder="22370123456, 8613800000000" value="${escapeHtml(state.invalidNumbers.join(', '))}"></label>
<label>Success shape <select name="successShape">${shapeOptions}</select></label>
<button>Apply</button>
</form>
<form method="post" action="/_sandbox/reset"><button>Reset everything</button></form>
<button id="clear">Clear inbox</button>
<h2>Inbox (newest first)</h2>
<table>
<thead><tr><th>At</th><th>To</th><th>Instance</th><th>Type</th><th>Id</th><th>Message</th></tr></thead>
<tbody id="inbox">${rows}</tbody>
</table>
<script>
const cell = (text) => { const td = document.createElement('td'); td.textContent = text; return td; };
async function refresh() {
  const [inbox, state] = await Promise.all(['/_sandbox/inbox', '/_sandbox/state'].map((path) => fetch(path).then((r) => r.json())));
  document.getElementById('mode').textContent = state.mode;
  document.getElementById('requests').textContent = inbox.requests;
  for (const button of document.querySelectorAll('button[data-mode]')) button.classList.toggle('current', button.dataset.mode === state.mode);
  const rows = inbox.messages.slice().reverse().map((m) => { const tr = document.createElement('tr'); tr.append(...[m.at, m.to, m.instanceId, m.type, m.id, m.message].map(cell)); return tr; });
  document.getElementById('inbox').replaceChildren(...rows);
}
document.getElementById('clear').addEventListener('click', () => fetch('/_sandbox/inbox', { method: 'DELETE' }).then(refresh));
setInterval(() => refresh().catch(() => {}), 2000);
</script>
</body>
</html>
`;
}
