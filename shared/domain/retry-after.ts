// Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date. The one parser: the WaChap adapter reads the
// header with it, and nothing else in the system parses one.

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Seconds to wait from `now`, or undefined for anything that is not a valid Retry-After value. */
export function parseRetryAfter(
  header: string | null | undefined,
  now: Date | number = Date.now(),
): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds) ? seconds : undefined;
  }
  if (!IMF_FIXDATE.test(value)) return undefined;
  const at = Date.parse(value);
  const from = typeof now === 'number' ? now : now.getTime();
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - from) / 1000));
}
