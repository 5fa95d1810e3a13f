// AWS Signature Version 4 in the browser, with WebCrypto only (crypto.subtle: SHA-256 and HMAC-SHA256): the
// operator API's IAM authorization checks these signatures. The canonical request, the string to sign and the
// signing key follow AWS's specification as the AWS SDK's signer (@smithy/signature-v4) builds them for API
// Gateway: the path encoded once more, the query string sorted and percent-encoded (RFC 3986), the headers this
// page sets (never the ones the browser adds on its own, which it may change), the payload's hash.
// test/unit/ops-sigv4.test.ts holds it to the SDK's signer and to the local door's verifier.

const ALGORITHM = 'AWS4-HMAC-SHA256';
const encoder = new TextEncoder();

const toHex = (buffer) => Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
const bytesOf = (data) => (typeof data === 'string' ? encoder.encode(data) : data);

/** The SHA-256 of a string (as UTF-8) or bytes, in hexadecimal. */
export async function sha256Hex(data) {
  return toHex(await crypto.subtle.digest('SHA-256', bytesOf(data)));
}

async function hmac(key, data) {
  const cryptoKey = await crypto.subtle.importKey('raw', bytesOf(key), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return crypto.subtle.sign('HMAC', cryptoKey, bytesOf(data));
}

/** Percent-encoding as RFC 3986 (and SigV4) wants it: encodeURIComponent leaves !'()* as they are. */
export const uriEscape = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** 20260115T093000Z */
export const amzDate = (date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * The query string, sorted by name then value and percent-encoded: the canonical form, which is also what the page
 * sends, so that what is signed and what arrives are the same bytes. `query`: [name, value] pairs, or an object.
 */
export function canonicalQuery(query) {
  const pairs = Array.isArray(query) ? query : Object.entries(query);
  return pairs
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) => [uriEscape(String(name)), `${uriEscape(String(name))}=${uriEscape(String(value))}`])
    .sort(([a, pairA], [b, pairB]) => (a < b ? -1 : a > b ? 1 : pairA < pairB ? -1 : pairA > pairB ? 1 : 0))
    .map(([, pair]) => pair)
    .join('&');
}

/** The path as signed for API Gateway: dot segments resolved, empty ones dropped, then percent-encoded once more. */
export function canonicalPath(path) {
  const segments = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEscape(normalised).replace(/%2F/g, '/');
}

const headerValue = (value) =>
  String(value)
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();

/**
 * Signs a request. `request`: { method, host, path (already percent-encoded, as in a URL), query, headers, body };
 * `credentials`: { accessKeyId, secretAccessKey, sessionToken? }; `scope`: { region, service, date }.
 * Returns the headers to send (Authorization, X-Amz-Date, X-Amz-Security-Token and the request's own; not Host,
 * which the browser sets) and the query string to send, plus the canonical request and string to sign.
 */
export async function signRequest(request, credentials, scope) {
  const date = scope.date ?? new Date();
  const service = scope.service ?? 'execute-api';
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const body = request.body ?? '';
  const headers = { ...(request.headers ?? {}), 'x-amz-date': stamp };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const signed = { host: request.host };
  for (const [name, value] of Object.entries(headers)) signed[name.toLowerCase()] = headerValue(value);
  const names = Object.keys(signed).sort();
  const query = canonicalQuery(request.query ?? []);
  const canonical = [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    query,
    ...names.map((name) => `${name}:${signed[name]}`),
    '',
    names.join(';'),
    await sha256Hex(body),
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, credentialScope, await sha256Hex(canonical)].join('\n');
  let key = await hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [scope.region, service, 'aws4_request']) key = await hmac(key, part);
  const signature = toHex(await hmac(key, stringToSign));
  return {
    headers: {
      ...headers,
      authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
    },
    query,
    canonical,
    stringToSign,
  };
}
