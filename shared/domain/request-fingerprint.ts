// What makes two requests "the same" for an idempotency key: the request as validated (phone normalised, dates read),
// in canonical JSON (keys sorted, no whitespace), hashed. Key order, spacing or the writing of a phone number do not
// count as a difference; the idempotency key itself is left out (header or body: the same request).
import { createHash } from 'node:crypto';

/** JSON with every object's keys sorted, so that the same data always gives the same text. */
export function canonicalJson(value: unknown): string {
  const plain: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((key) => [key, sorted((v as Record<string, unknown>)[key])]),
      );
    }
    return v;
  };
  return JSON.stringify(sorted(plain));
}

/** SHA-256 (hex) of the canonical JSON of a validated request, without its idempotency key. */
export function requestFingerprint(request: Readonly<Record<string, unknown>>): string {
  const { idempotencyKey: _key, ...rest } = request;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
