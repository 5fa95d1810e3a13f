// fast-check arbitraries for the fuzz and security tests: valid notification requests built from
// the published contract (not from the schema object), and the awkward strings bad input is made of.
import fc from 'fast-check';

const DAY_MS = 86_400_000;

/** Lone surrogates, RTL and bidi controls, emoji (with ZWJ), NUL and other controls, BOM, combining marks. */
export const AWKWARD_PIECES = [
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u202E',
  '\u202D',
  '\u200F',
  '\u2066',
  'مرحبا بالعالم',
  'שלום',
  '😀',
  '👩‍👩‍👧‍👦',
  '🇲🇱',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\uFEFF',
  'e\u0301',
  '\u00A0',
  '\u2028',
  '\u2029',
  '"',
  '\\',
  '</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder is the point
  '${x}',
  '%s%n',
  '𝕏',
  '\uFFFF',
  '\uFFFE',
] as const;

/** Strings with the awkward pieces mixed into random (full unicode) text. */
export const awkwardString = (maxPieces = 8): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof(fc.constantFrom(...AWKWARD_PIECES), fc.string({ unit: 'binary', maxLength: 12 })), {
      minLength: 1,
      maxLength: maxPieces,
    })
    .map((parts) => parts.join(''));

/**
 * The contract for free text (README, the HTTP API: recipient.name, title, message), written from it: what is
 * stored for `value` in a field of at most `max` characters (code points), or undefined when it is refused.
 * CRLF becomes LF and the ends are trimmed; controls but tab and newline, bidi embeddings, overrides and
 * isolates, and unpaired surrogates are refused; a letter, digit, punctuation or symbol must remain, not
 * counting the blank ones (Hangul fillers, blank Braille, null notehead).
 */
export function acceptedText(value: string, max: number): string | undefined {
  const text = value.replace(/\r\n/g, '\n').trim();
  if ([...text].length > max) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  if (/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|\p{Cs}/u.test(text)) return undefined;
  const withoutBlanks = text.replace(/[\u115F\u1160\u3164\uFFA0\u2800\u{1D159}]/gu, '');
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(withoutBlanks) ? text : undefined;
}

/** A string the contract accepts, as it is once trimmed, for a field of at most `max` characters. */
export const trimmedText = (max: number): fc.Arbitrary<string> =>
  fc
    .oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 60) }) },
      { weight: 2, arbitrary: awkwardString() },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: Math.min(max, 200) }) },
    )
    .filter((s) => acceptedText(s, max) === s.trim());

/** A Malian mobile number (+223 7X XX XX XX) written the ways callers write it; `digits` is the E.164 digits. */
export const malianMobile = fc
  .tuple(fc.integer({ min: 0, max: 9_999_999 }), fc.constantFrom('e164', 'spaced', '00', 'bare', 'national', 'local0'))
  .map(([n, style]) => {
    const national = `7${String(n).padStart(7, '0')}`;
    const digits = `223${national}`;
    const pairs = national.match(/../g)!.join(' ');
    const written = {
      e164: `+${digits}`,
      spaced: `+223 ${pairs}`,
      '00': `00${digits}`,
      bare: digits,
      national,
      local0: `0${national}`,
    }[style];
    return { written, e164: `+${digits}` };
  });

const isoIn = (fromMs: number, toMs: number) =>
  fc.integer({ min: fromMs, max: toMs }).map((offset) => new Date(Date.now() + offset));

/** An ISO 8601 date-time, with Z or a numeric offset, `offsetMs` from now. */
const timestampIn = (fromMs: number, toMs: number) =>
  fc.tuple(isoIn(fromMs, toMs), fc.constantFrom(0, 60, -300, 330, 120)).map(([date, minutes]) => {
    if (minutes === 0) return date.toISOString();
    const local = new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 19);
    const sign = minutes < 0 ? '-' : '+';
    const abs = Math.abs(minutes);
    return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  });

let uniqueKey = 0;

/**
 * A request the published contract accepts (README: data contract). Keys of idempotency are made
 * unique so that every request creates a record; sendAt is kept at least 16 minutes ahead unless
 * `sendNow` is set, so that no message is queued and the sandbox stays quiet.
 */
export function validNotificationRequest(
  options: { sendNow?: boolean } = {},
): fc.Arbitrary<{ body: Record<string, unknown>; e164: string }> {
  const base = fc.record(
    {
      phone: malianMobile,
      name: trimmedText(120),
      category: fc.oneof(
        fc.constantFrom('colis_arrive', 'colis_livre', 'lot_ferme', 'otp', 'information_generale'),
        fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/),
      ),
      title: trimmedText(200),
      message: trimmedText(4096),
      priority: fc.constantFrom('high', 'normal'),
      validity: fc.oneof(
        fc.record({ ttlSeconds: fc.integer({ min: 1, max: 7 * 86_400 }) }),
        fc.record({ expiresAt: timestampIn(31 * DAY_MS, 60 * DAY_MS) }),
      ),
      sendAt: options.sendNow ? timestampIn(-DAY_MS, 0) : timestampIn(16 * 60_000, 29 * DAY_MS),
      idempotencyKey: fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
    },
    { requiredKeys: ['phone', 'category', 'message', ...(options.sendNow ? [] : (['sendAt'] as const))] },
  );
  return base
    .map(({ phone, name, validity, idempotencyKey, ...rest }) => {
      const body: Record<string, unknown> = {
        recipient: { phone: phone.written, ...(name === undefined ? {} : { name }) },
        ...rest,
        ...(validity ?? {}),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey: `${idempotencyKey}-${++uniqueKey}-${Date.now()}` }),
      };
      return { body, e164: phone.e164 };
    })
    .filter(({ body }) => Buffer.byteLength(JSON.stringify(body)) <= 16 * 1024);
}

/** Any JSON value, or anything JSON.stringify turns into JSON text. */
export const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc
    .anything({ maxDepth: 3, withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true })
    .map((value) => JSON.stringify(value) ?? 'null'),
);
