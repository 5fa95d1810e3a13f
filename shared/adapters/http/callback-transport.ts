// The POST of a status callback. node:http(s) rather than fetch, for one reason: the connection must go only to an
// address the URL policy allows, checked when it is made. A `lookup` of our own resolves the host, refuses it if any
// of its addresses is forbidden, and hands the socket the vetted addresses: nothing resolves the name a second time
// between the check and the connect (DNS rebinding). A literal IP host, which Node connects to without a lookup, is
// checked before the request. Redirects are not followed: a 3xx is an answer that is not 2xx.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CallbackPoster, CallbackPostOutcome } from '../../application/ports.js';
import { addressProblem, type CallbackUrlPolicy, isIpLiteral } from '../../domain/callback-url-policy.js';

export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
}

/** A lookup that answers only with addresses `policy` allows, or fails with RefusedAddressError. */
export function vettedLookup(policy: CallbackUrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      // Any forbidden address refuses the host: a name that resolves to a private address among public ones is not
      // one to trust with the next resolution either.
      const refused = addresses.map((entry) => addressProblem(entry.address, policy)).find(Boolean);
      if (refused || addresses.length === 0) {
        return callback(new RefusedAddressError(`${hostname} resolves to a refused address: ${refused}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

export function callbackPoster(options: {
  policy: CallbackUrlPolicy;
  timeoutMs: number;
  userAgent: string;
}): CallbackPoster {
  const lookup = options.policy === 'any' ? undefined : vettedLookup(options.policy);
  return ({ url, headers, body }) =>
    new Promise<CallbackPostOutcome>((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return resolve({ ok: false, type: 'refused_address', message: 'not a URL' });
      }
      const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIpLiteral(host)) {
        const problem = addressProblem(host, options.policy);
        if (problem) return resolve({ ok: false, type: 'refused_address', message: problem });
      }
      const secure = target.protocol === 'https:';
      if (!secure && options.policy !== 'any') {
        return resolve({ ok: false, type: 'refused_address', message: 'only https URLs are allowed' });
      }
      const signal = AbortSignal.timeout(options.timeoutMs);
      const send = secure ? httpsRequest : httpRequest;
      const request = send(
        target,
        {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': options.userAgent,
          },
          signal,
          // A fresh connection per callback: a pooled one could reach an address vetted for another request.
          agent: false,
          ...(lookup ? { lookup } : {}),
        },
        (response) => {
          const status = response.statusCode ?? 0;
          // The body is not read: the status says it all, and a receiver that streams forever must not hold us.
          response.destroy();
          if (status >= 200 && status < 300) resolve({ ok: true, status });
          else resolve({ ok: false, type: 'http_status', message: `HTTP ${status}`, status });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) {
          return resolve({ ok: false, type: 'timeout', message: `no answer within ${options.timeoutMs} ms` });
        }
        if (error instanceof RefusedAddressError) {
          return resolve({ ok: false, type: 'refused_address', message: error.message });
        }
        resolve({ ok: false, type: 'network', message: error.code ?? error.name });
      });
      request.end(body);
    });
}
