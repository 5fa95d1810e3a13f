import { z } from 'zod';
import { maskPhone, maskPhonesInText, toWaChapNumber } from '../../domain/phone.js';
import { parseRetryAfter } from '../../domain/retry-after.js';
import { type Log, silentLog } from '../../observability/logger.js';

export interface WaChapCredentials {
  instanceId: string;
  accessToken: string;
}

/** `forceFetch`: skip any cache, WaChap has just refused the credentials held (the secret may have been renewed). */
export type WaChapCredentialsLoader = (options?: { forceFetch?: boolean }) => Promise<WaChapCredentials>;

export interface WaChapClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** A function lets callers load the credentials lazily (and cache them) from a secret store; it is called per request. */
  credentials: WaChapCredentials | WaChapCredentialsLoader;
  log?: Log;
  fetch?: typeof fetch;
}

export type WaChapErrorType =
  | 'http_error'
  | 'application_error'
  | 'invalid_response'
  | 'timeout'
  | 'connection_error'
  | 'network_error'
  | 'ssl_error'
  | 'config_error';

export interface WaChapError {
  type: WaChapErrorType;
  message: string;
  httpStatus?: number;
  retryAfterSeconds?: number;
}

export type SendOutcome =
  | { ok: true; messageId?: string; httpStatus: number; durationMs: number }
  | { ok: false; error: WaChapError; durationMs: number };

export interface WaChapClient {
  send(input: { phone: string; message: string }): Promise<SendOutcome>;
  checkConnection(): Promise<SendOutcome>;
}

const MAX_MESSAGE_LENGTH = 200;

const CredentialsSchema = z.object({
  instanceId: z.string().trim().min(1),
  accessToken: z.string().trim().min(1),
});

// WaChap's answers vary between versions, so every field is optional and a field of an unexpected type is dropped
// rather than failing the whole body.
const text = z.string().optional().catch(undefined);
const providerId = z.union([z.string(), z.number()]).transform(String).optional().catch(undefined);
const applicationStatus = z.union([z.string(), z.number(), z.boolean()]).optional().catch(undefined);
const withId = z.looseObject({ id: providerId }).optional().catch(undefined);

const NestedMessageSchema = z.looseObject({ status: applicationStatus, message: text, key: withId });

const WaChapResponseSchema = z.looseObject({
  status: applicationStatus,
  message: z.union([z.string(), NestedMessageSchema]).optional().catch(undefined),
  error: z
    .union([z.string(), z.boolean(), z.looseObject({ message: text })])
    .optional()
    .catch(undefined),
  id: providerId,
  message_id: providerId,
  key: withId,
  data: withId,
});

type WaChapResponse = z.infer<typeof WaChapResponseSchema>;

interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
}

export function createWaChapClient(options: WaChapClientOptions): WaChapClient {
  const log = options.log ?? silentLog;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const optionsProblem = checkOptions(baseUrl, options.timeoutMs);

  async function send(input: { phone: string; message: string }): Promise<SendOutcome> {
    const startedAt = performance.now();
    const phone = maskPhone(input.phone);
    const loaded = await loadCredentials(options.credentials);
    if ('type' in loaded) return configFailure(loaded, startedAt, { phone });
    if (optionsProblem) return configFailure(optionsProblem, startedAt, { phone });

    const context = { phone, instance: instancePrefix(loaded) };
    log.debug('Sending WaChap message', context);

    const post = (credentials: WaChapCredentials) =>
      exchange(fetchImpl, `${baseUrl}/send`, options.timeoutMs, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          number: toWaChapNumber(input.phone),
          type: 'text',
          message: input.message,
          instance_id: credentials.instanceId,
          access_token: credentials.accessToken,
        }),
      });
    const { result, used } = await withRenewedCredentials(loaded, post, context);
    const durationMs = elapsedSince(startedAt);
    const read = 'body' in result ? readSendResponse(result) : result;

    if ('ok' in read) {
      const outcome: SendOutcome = { ok: true, messageId: read.messageId, httpStatus: read.httpStatus, durationMs };
      if (read.messageId === undefined) {
        log.warn('WaChap reported success without a message id', {
          ...context,
          httpStatus: read.httpStatus,
          durationMs,
        });
      } else {
        log.info('WaChap message sent', {
          ...context,
          messageId: read.messageId,
          httpStatus: read.httpStatus,
          durationMs,
        });
      }
      return outcome;
    }
    const error = redactError(read, used);
    log.warn('WaChap send failed', { ...context, ...describeError(error), durationMs });
    return { ok: false, error, durationMs };
  }

  async function checkConnection(): Promise<SendOutcome> {
    const startedAt = performance.now();
    const loaded = await loadCredentials(options.credentials);
    if ('type' in loaded) return configFailure(loaded, startedAt, {});
    if (optionsProblem) return configFailure(optionsProblem, startedAt, {});

    const context = { instance: instancePrefix(loaded) };
    const askQrCode = (credentials: WaChapCredentials) => {
      const query = new URLSearchParams({ instance_id: credentials.instanceId, access_token: credentials.accessToken });
      return exchange(fetchImpl, `${baseUrl}/get_qrcode?${query}`, options.timeoutMs, {
        method: 'GET',
        headers: { accept: 'application/json' },
      });
    };
    const { result, used } = await withRenewedCredentials(loaded, askQrCode, context);
    const durationMs = elapsedSince(startedAt);

    // get_qrcode answers 200 for valid credentials, which is why operators use it as a connection test;
    // a 200 whose JSON body says error (e.g. "Instance disconnected") is not healthy, though.
    const refusal = 'body' in result && result.status === 200 ? connectionRefusal(result) : undefined;
    if ('body' in result && result.status === 200 && !refusal) {
      log.info('WaChap connection healthy', { ...context, durationMs });
      return { ok: true, httpStatus: 200, durationMs };
    }
    const error = redactError(refusal ?? ('body' in result ? httpError(result) : result), used);
    log.warn('WaChap connection check failed', { ...context, ...describeError(error), durationMs });
    return { ok: false, error, durationMs };
  }

  /**
   * Makes the call; when WaChap refuses the credentials (401/403), re-reads them once, skipping the cache, and
   * repeats the call once if they changed. Safe to repeat: a refused call delivered nothing. Never more than one
   * re-read and one repeat per call, so a token that is simply bad costs one extra secret read, not a loop.
   */
  async function withRenewedCredentials(
    credentials: WaChapCredentials,
    call: (credentials: WaChapCredentials) => Promise<HttpAnswer | WaChapError>,
    context: Record<string, unknown>,
  ): Promise<{ result: HttpAnswer | WaChapError; used: WaChapCredentials[] }> {
    const first = await call(credentials);
    if (!('body' in first) || !CREDENTIALS_REFUSED.has(first.status) || typeof options.credentials !== 'function') {
      return { result: first, used: [credentials] };
    }
    const renewed = await loadCredentials(options.credentials, { forceFetch: true });
    if ('type' in renewed) {
      // The refusal is the failure to report; the secret store's trouble is only logged.
      log.warn('WaChap refused the credentials and they could not be re-read', { ...context, error: renewed.message });
      return { result: first, used: [credentials] };
    }
    if (renewed.instanceId === credentials.instanceId && renewed.accessToken === credentials.accessToken) {
      return { result: first, used: [credentials] };
    }
    log.info('WaChap refused the credentials; retrying once with the renewed ones', {
      ...context,
      httpStatus: first.status,
      renewedInstance: instancePrefix(renewed),
    });
    return { result: await call(renewed), used: [renewed, credentials] };
  }

  function configFailure(error: WaChapError, startedAt: number, context: Record<string, unknown>): SendOutcome {
    const durationMs = elapsedSince(startedAt);
    log.error('WaChap client misconfigured', { ...context, errorType: error.type, error: error.message });
    return { ok: false, error, durationMs };
  }

  return { send, checkConnection };
}

function checkOptions(baseUrl: string, timeoutMs: number): WaChapError | undefined {
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    return { type: 'config_error', message: 'WaChap base URL is not an http(s) URL' };
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return { type: 'config_error', message: 'WaChap timeout must be a positive number of milliseconds' };
  }
  return undefined;
}

// What WaChap answers to a token that is invalid, expired or revoked (see the API reference).
const CREDENTIALS_REFUSED = new Set([401, 403]);

async function loadCredentials(
  source: WaChapClientOptions['credentials'],
  options?: { forceFetch: true },
): Promise<WaChapCredentials | WaChapError> {
  let raw: unknown;
  try {
    raw = typeof source === 'function' ? await (options ? source(options) : source()) : source;
  } catch (error) {
    // Only the error's name: a loader's message may quote the secret (JSON.parse errors echo their input).
    const name = error instanceof Error ? error.name : typeof error;
    return { type: 'config_error', message: `WaChap credentials could not be loaded (${name})` };
  }
  const parsed = CredentialsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'credentials'))];
  return { type: 'config_error', message: `WaChap credentials missing or empty: ${fields.join(', ')}` };
}

async function exchange(
  fetchImpl: typeof fetch,
  url: string,
  timeoutMs: number,
  init: RequestInit,
): Promise<HttpAnswer | WaChapError> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Redirects are not followed: the credentials travel in the body and the query, not to be replayed elsewhere.
    const response = await fetchImpl(url, { ...init, redirect: 'manual', signal });
    // The timeout bounds the body too: undici's text() can hang for good, deaf to the signal (a large body
    // whose Content-Encoding does not inflate), which would hold the sender until the Lambda timeout.
    const body = await untilAborted(response.text(), signal);
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    return fetchFailure(error, timeoutMs);
  }
}

/** `work`, or the signal's reason once it aborts, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function readSendResponse(answer: HttpAnswer): { ok: true; messageId?: string; httpStatus: number } | WaChapError {
  if (answer.status < 200 || answer.status > 299) return httpError(answer);

  // A 200 is not a send: only the application status in the body says whether WaChap accepted the message.
  const json = parseJson(answer.body);
  if (json === undefined) {
    const summary = summariseBody(answer.body);
    return invalidResponse(
      answer.status,
      summary ? `WaChap answered a non-JSON body: ${summary}` : 'WaChap answered an empty body',
    );
  }
  const parsed = WaChapResponseSchema.safeParse(json);
  if (!parsed.success) return invalidResponse(answer.status, 'WaChap answered JSON that is not an object');

  const response = parsed.data;
  const verdict = applicationVerdict(response);
  if (verdict === 'success') return { ok: true, messageId: messageIdOf(response), httpStatus: answer.status };
  if (verdict === 'failure') {
    return {
      type: 'application_error',
      message: providerReason(response) ?? 'WaChap reported a failure without a reason',
      httpStatus: answer.status,
    };
  }
  return invalidResponse(answer.status, 'WaChap answered JSON without a recognisable status');
}

/** An explicit status wins (top level or nested under `message`); otherwise a bare `error` field means failure. */
function applicationVerdict(response: WaChapResponse): 'success' | 'failure' | undefined {
  const nested = typeof response.message === 'object' ? response.message.status : undefined;
  const verdicts = [statusVerdict(response.status), statusVerdict(nested)];
  if (verdicts.includes('failure')) return 'failure';
  if (verdicts.includes('success')) return 'success';
  return hasErrorField(response) ? 'failure' : undefined;
}

/** An explicit application error in a 200 answer of get_qrcode; any other body counts as connected. */
function connectionRefusal(answer: HttpAnswer): WaChapError | undefined {
  const json = parseJson(answer.body);
  const parsed = json === undefined ? undefined : WaChapResponseSchema.safeParse(json);
  if (!parsed?.success || applicationVerdict(parsed.data) !== 'failure') return undefined;
  return {
    type: 'application_error',
    httpStatus: 200,
    message: truncate(providerReason(parsed.data) ?? 'connection check refused'),
  };
}

function hasErrorField({ error }: WaChapResponse): boolean {
  return error === true || typeof error === 'object' || (typeof error === 'string' && error.trim() !== '');
}

function statusVerdict(status: string | number | boolean | undefined): 'success' | 'failure' | undefined {
  if (status === undefined || status === true) return undefined;
  if (status === false) return 'failure';
  const value = String(status).trim().toLowerCase();
  if (value === 'success') return 'success';
  if (['error', 'failed', 'failure', 'fail', 'false'].includes(value)) return 'failure';
  // The v1 API puts an HTTP-like code in the body: {"status": 200, "message_id": ...}, sometimes as a string.
  if (/^\d{3}$/.test(value)) return value.startsWith('2') ? 'success' : 'failure';
  return undefined;
}

function messageIdOf(response: WaChapResponse): string | undefined {
  const nestedKey = typeof response.message === 'object' ? response.message.key?.id : undefined;
  const candidates = [response.message_id, response.id, nestedKey, response.key?.id, response.data?.id];
  return candidates.find((id) => id !== undefined && id.trim() !== '');
}

function providerReason(response: WaChapResponse): string | undefined {
  const { message, error } = response;
  const candidates = [
    typeof message === 'string' ? message : message?.message,
    typeof error === 'string' ? error : typeof error === 'object' ? error.message : undefined,
  ];
  return candidates.find((reason) => reason !== undefined && reason.trim() !== '')?.trim();
}

function httpError(answer: HttpAnswer): WaChapError {
  const json = parseJson(answer.body);
  const parsed = json === undefined ? undefined : WaChapResponseSchema.safeParse(json);
  const reason = parsed?.success ? providerReason(parsed.data) : undefined;
  const error: WaChapError = {
    type: 'http_error',
    message: reason ?? (summariseBody(answer.body) || `HTTP ${answer.status}`),
    httpStatus: answer.status,
  };
  const retryAfterSeconds = parseRetryAfter(answer.headers.get('retry-after'));
  if (retryAfterSeconds !== undefined) error.retryAfterSeconds = retryAfterSeconds;
  return error;
}

function fetchFailure(error: unknown, timeoutMs: number): WaChapError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { type: 'timeout', message: `WaChap did not answer within ${timeoutMs} ms` };
  }
  if (isProxyAuthenticationRequired(error)) {
    return {
      type: 'http_error',
      httpStatus: 407,
      message: 'HTTP 407 proxy authentication required: a proxy between us and WaChap refused the request',
    };
  }
  const code = errorCode(error);
  const detail = deepestMessage(error) ?? 'unknown network failure';
  return { type: networkErrorType(code), message: code && !detail.includes(code) ? `${code}: ${detail}` : detail };
}

/**
 * fetch turns a 407 answer into a network error, as the fetch standard says (there is no window to ask for proxy
 * credentials): undici rejects with TypeError('fetch failed') caused by a bare Error without a code, whose message
 * is empty (Node 20 and 22) or "proxy authentication required" (later undici). Socket and TLS failures carry a code,
 * and the other bare network errors of the standard need a followed redirect or a range request, which we never make.
 */
function isProxyAuthenticationRequired(error: unknown): boolean {
  if (!(error instanceof TypeError) || !(error.cause instanceof Error)) return false;
  const { cause } = error;
  return (
    errorCode(cause) === undefined &&
    cause.cause === undefined &&
    (cause.message === '' || /^proxy authentication required$/i.test(cause.message))
  );
}

/** undici wraps the system error: TypeError('fetch failed') with the code on `cause` (or on an AggregateError's members). */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  const nested = [cause, ...(Array.isArray(errors) ? errors : [])];
  for (const inner of nested) {
    const found = errorCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function deepestMessage(error: unknown): string | undefined {
  let current: unknown = error;
  let message: string | undefined;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current.message) message = current.message;
    current = current.cause;
  }
  return message;
}

// A connect timeout is a connection failure: the request never left, unlike a timeout waiting for the answer.
const CONNECTION_CODES = new Set(
  'ECONNREFUSED ECONNRESET ENOTFOUND EAI_AGAIN EAI_NONAME UND_ERR_SOCKET UND_ERR_CONNECT_TIMEOUT ETIMEDOUT'.split(' '),
);
const ANSWER_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function networkErrorType(code: string | undefined): WaChapErrorType {
  if (code === undefined) return 'network_error';
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) return 'ssl_error';
  if (CONNECTION_CODES.has(code)) return 'connection_error';
  if (ANSWER_TIMEOUT_CODES.has(code)) return 'timeout';
  return 'network_error';
}

/**
 * Outcome messages may echo the request or a URL: strip the token and the full instance id, mask phone numbers.
 * Every set of credentials the call used is stripped (the refused one and the renewed one).
 */
function redactError(error: WaChapError, used: WaChapCredentials[]): WaChapError {
  return { ...error, message: truncate(redactText(error.message, used)) };
}

function redactText(message: string, used: WaChapCredentials[]): string {
  let clean = message.replace(/(access_token=)[^&\s"'<>]*/gi, '$1[redacted]');
  // Longest first: one token may contain the other, and a partial replacement would leave the rest behind.
  const longestFirst = (values: string[]) => [...new Set(values)].sort((a, b) => b.length - a.length);
  for (const secret of longestFirst(used.flatMap((c) => [c.accessToken, encodeURIComponent(c.accessToken)]))) {
    clean = clean.replaceAll(secret, '[redacted]');
  }
  for (const credentials of used) {
    for (const instanceId of [credentials.instanceId, encodeURIComponent(credentials.instanceId)]) {
      clean = clean.replaceAll(instanceId, `${instancePrefix(credentials)}…`);
    }
  }
  return maskPhonesInText(clean);
}

function describeError(error: WaChapError): Record<string, unknown> {
  return {
    errorType: error.type,
    error: error.message,
    httpStatus: error.httpStatus,
    retryAfterSeconds: error.retryAfterSeconds,
  };
}

function invalidResponse(httpStatus: number, message: string): WaChapError {
  return { type: 'invalid_response', message, httpStatus };
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Proxies answer HTML pages: keep their text, not their markup. Truncated only after redaction (a cut token would not match). */
function summariseBody(body: string): string {
  return body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

const instancePrefix = (credentials: WaChapCredentials): string => credentials.instanceId.slice(0, 6);

const elapsedSince = (startedAt: number): number => Math.round(performance.now() - startedAt);
