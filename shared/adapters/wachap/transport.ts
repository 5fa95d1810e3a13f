// One HTTP exchange with WaChap within its timeout (the body's read included), and what a failed one was: a
// timeout, a refused or reset connection, TLS, or a proxy that fetch reports as a network error.

import type { WaChapError, WaChapErrorType } from './client.js';
import type { HttpAnswer } from './responses.js';

export async function exchange(
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
