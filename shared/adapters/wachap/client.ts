// The WaChap client: send a text and check the connection (get_qrcode), each call ending in a typed outcome,
// never an exception. Credentials are loaded per call (a renewed token is tried once after a 401/403), and
// the token, the full instance id and phone numbers never reach an outcome's text or the logs.
import * as z from 'zod';
import { maskPhone, maskPhonesInText, toWaChapNumber } from '../../domain/phone.js';
import { type Log, silentLog } from '../../observability/logger.js';
import { connectionRefusal, type HttpAnswer, httpError, readSendResponse, truncate } from './responses.js';
import { exchange } from './transport.js';

export { networkErrorType } from './transport.js';

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

const CredentialsSchema = z.object({
  instanceId: z.string().trim().min(1),
  accessToken: z.string().trim().min(1),
});

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

const instancePrefix = (credentials: WaChapCredentials): string => credentials.instanceId.slice(0, 6);

const elapsedSince = (startedAt: number): number => Math.round(performance.now() - startedAt);
