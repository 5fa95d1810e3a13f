// AWS Signature Version 4, checked as API Gateway checks it on a route with IAM authorization: the canonical
// request rebuilt from what arrived (method, path, query string, the headers the Authorization header says were
// signed, the payload's hash), signed again with the secret of the access key it names, and the two signatures
// compared in constant time. The refusals carry API Gateway's own messages.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { getCanonicalHeaders, getPayloadHash, prepareRequest, SignatureV4 } from '@smithy/signature-v4';
import type { GatewayResponseType } from '../../shared/http/gateway-problems.js';

/** A principal the local door knows: its secret key, and who it is in the events (API Gateway's identity). */
export interface LocalPrincipal {
  secretAccessKey: string;
  userArn: string;
  /** The caller's unique id (AIDA… for an IAM user), `requestContext.identity.caller`. */
  caller: string;
}

export interface SignedRequest {
  method: string;
  /** The path as it arrived, still percent-encoded (it is encoded once more for the canonical request). */
  rawPath: string;
  /** The query string as it arrived, without the `?`. */
  rawQuery: string;
  /** Header names in lower case; repeated headers joined with commas, as HTTP allows. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface SigV4Options {
  principals: Readonly<Record<string, LocalPrincipal>>;
  region: string;
  service: string;
  now?: () => Date;
}

/** The caller API Gateway puts in `requestContext.identity` once the signature holds. */
export interface VerifiedCaller {
  accessKey: string;
  accountId: string;
  userArn: string;
  caller: string;
  user: string;
}

/** API Gateway's `x-amzn-ErrorType` for each kind of refusal. */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

/** The gateway response API Gateway answers each refusal with (its problem document: shared/http/gateway-problems.ts). */
export const GATEWAY_RESPONSE_OF_SIGV4: Readonly<Record<SigV4ErrorType, GatewayResponseType>> = {
  MissingAuthenticationTokenException: 'MISSING_AUTHENTICATION_TOKEN',
  IncompleteSignatureException: 'INVALID_SIGNATURE',
  UnrecognizedClientException: 'INVALID_SIGNATURE',
  InvalidSignatureException: 'INVALID_SIGNATURE',
};

export type SigV4Verdict =
  | { ok: true; caller: VerifiedCaller }
  | { ok: false; errorType: SigV4ErrorType; message: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far the request's time may be from the server's, either way (API Gateway: 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const refuse = (errorType: SigV4ErrorType, message: string): SigV4Verdict => ({ ok: false, errorType, message });
const amzDate = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The query string as SigV4 reads it: each name and value percent-decoded (a `+` stays a `+`), repeats as lists. */
export function queryOf(rawQuery: string): Record<string, string | string[]> {
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? '' : decode(pair.slice(equals + 1));
    const previous = query[name];
    query[name] = previous === undefined ? value : [previous, value].flat();
  }
  return query;
}

/** The `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` parameters, or what is missing. */
function parseAuthorization(header: string): { credential: string; signedHeaders: string; signature: string } | string {
  const scheme = header.trim().split(/\s+/, 1)[0]!;
  if (scheme !== ALGORITHM) {
    // API Gateway reads anything else as a malformed list of key=value pairs, and names it by its hash.
    const hash = createHash('sha256').update(header).digest('base64');
    return `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${hash}'.`;
  }
  const parameters = new Map<string, string>();
  for (const part of header.trim().slice(ALGORITHM.length).split(',')) {
    const equals = part.indexOf('=');
    if (equals > 0) parameters.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !parameters.get(name));
  if (missing.length > 0) {
    return `${missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ')} Authorization=${header}`;
  }
  return {
    credential: parameters.get('Credential')!,
    signedHeaders: parameters.get('SignedHeaders')!,
    signature: parameters.get('Signature')!,
  };
}

type SignableRequest = Parameters<typeof prepareRequest>[0];

/** The signer, with what API Gateway shows a caller whose signature does not match: what it should have signed. */
class Verifier extends SignatureV4 {
  async explain(request: SignableRequest, signedAt: string, scope: string, signed: ReadonlySet<string>) {
    const prepared = prepareRequest(request);
    prepared.headers['x-amz-date'] = signedAt;
    const canonical = this.createCanonicalRequest(
      prepared,
      getCanonicalHeaders(prepared, undefined, new Set(signed)),
      await getPayloadHash(prepared, Sha256),
    );
    const stringToSign = await this.createStringToSign(signedAt, scope, canonical, ALGORITHM);
    return { canonical, stringToSign };
  }
}

/** Checks the request's SigV4 signature (Authorization header) as API Gateway does for IAM authorization. */
export async function verifySigV4(request: SignedRequest, options: SigV4Options): Promise<SigV4Verdict> {
  const header = request.headers.authorization;
  // No signature at all: API Gateway answers as for an unknown route.
  if (!header) return refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const authorization = parseAuthorization(header);
  if (typeof authorization === 'string') return refuse('IncompleteSignatureException', authorization);
  const incomplete = (message: string) => refuse('IncompleteSignatureException', message);
  const invalid = (message: string) => refuse('InvalidSignatureException', message);

  const dateHeader = request.headers['x-amz-date'];
  const signedAt = dateHeader === undefined ? undefined : parseAmzDate(dateHeader);
  if (!signedAt) {
    return incomplete(
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${header}`,
    );
  }
  const [accessKey = '', scopeDate, scopeRegion, scopeService, terminator, ...extra] =
    authorization.credential.split('/');
  if (extra.length > 0 || terminator !== 'aws4_request') {
    return incomplete(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator ?? ''}'. `,
    );
  }
  if (scopeService !== options.service) {
    return incomplete(`Credential should be scoped to correct service: '${options.service}'. `);
  }
  if (scopeRegion !== options.region) {
    return incomplete(`Credential should be scoped to a valid region, not '${scopeRegion ?? ''}'. `);
  }
  if (scopeDate !== dateHeader!.slice(0, 8)) {
    return incomplete(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader!.slice(0, 8)}', from '${dateHeader}'.`,
    );
  }
  const principal = Object.hasOwn(options.principals, accessKey) ? options.principals[accessKey] : undefined;
  if (!principal)
    return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');

  const now = (options.now ?? (() => new Date()))();
  if (signedAt.getTime() < now.getTime() - MAX_CLOCK_SKEW_MS) {
    const earliest = amzDate(new Date(now.getTime() - MAX_CLOCK_SKEW_MS));
    return invalid(`Signature expired: ${dateHeader} is now earlier than ${earliest} (${amzDate(now)} - 5 min.)`);
  }
  if (signedAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    const latest = amzDate(new Date(now.getTime() + MAX_CLOCK_SKEW_MS));
    return invalid(`Signature not yet current: ${dateHeader} is still later than ${latest} (${amzDate(now)} + 5 min.)`);
  }

  const signedNames = authorization.signedHeaders.split(';').map((name) => name.trim().toLowerCase());
  if (!signedNames.includes('host')) {
    return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // Exactly the signed headers, as they arrived (a signed header that did not arrive is signed empty, so it fails):
  // the signer adds x-amz-date itself, from the same instant.
  const signable = new Set(signedNames);
  const headers: Record<string, string> = {};
  for (const name of signable) if (name !== 'x-amz-date') headers[name] = request.headers[name] ?? '';
  const toSign: SignableRequest = {
    method: request.method,
    protocol: 'https:',
    hostname: headers.host ?? '',
    path: request.rawPath,
    query: queryOf(request.rawQuery),
    headers,
    body: request.body,
  };
  const signer = new Verifier({
    credentials: { accessKeyId: accessKey, secretAccessKey: principal.secretAccessKey },
    region: options.region,
    service: options.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(toSign, { signingDate: signedAt, signableHeaders: signable });
  const expectedHeader = String(expected.headers.authorization ?? '');
  const expectedSignature = Buffer.from(/Signature=([0-9a-f]+)/.exec(expectedHeader)?.[1] ?? '');
  const expectedSigned = /SignedHeaders=([^,\s]+)/.exec(expectedHeader)?.[1] ?? '';
  const given = Buffer.from(authorization.signature);
  const same =
    given.length === expectedSignature.length &&
    timingSafeEqual(given, expectedSignature) &&
    expectedSigned === signedNames.join(';') &&
    // The hash a client may send in x-amz-content-sha256 (and sign) must be the body's, or the body could be swapped.
    (request.headers['x-amz-content-sha256'] ?? sha256Hex(request.body)) === sha256Hex(request.body);
  if (!same) {
    const scope = authorization.credential.split('/').slice(1).join('/');
    const { canonical, stringToSign } = await signer.explain(toSign, dateHeader!, scope, signable);
    return invalid(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access ' +
        'Key and signing method. Consult the service documentation for details.\n\n' +
        `The Canonical String for this request should have been\n'${canonical}'\n\n` +
        `The String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return {
    ok: true,
    caller: {
      accessKey,
      accountId: principal.userArn.split(':')[4] ?? '',
      userArn: principal.userArn,
      caller: principal.caller,
      user: principal.caller,
    },
  };
}
