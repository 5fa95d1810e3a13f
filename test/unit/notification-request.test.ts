// The free text of a notification (recipient.name, title, message): something visible, nothing that steers the
// display. Refusals name the field and the offending code point; every script and emoji stay accepted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemsOf } from '../../shared/application/errors.js';
import { notificationRequestSchema } from '../../shared/http/notification-request.js';

const FIELDS = ['message', 'title', 'recipient.name'] as const;
type Field = (typeof FIELDS)[number];

function bodyWith(field: Field, value: unknown): Record<string, unknown> {
  const body = {
    recipient: { phone: '+22370123456', name: 'Awa Traoré' },
    category: 'colis_arrive',
    title: 'Colis arrivé',
    message: 'Votre colis est arrivé.',
  };
  if (field === 'recipient.name') return { ...body, recipient: { ...body.recipient, name: value } };
  return { ...body, [field]: value };
}

/** The problems of a body whose `field` is `value` ([] when accepted), and what was kept in the field. */
function parse(field: Field, value: unknown) {
  const result = notificationRequestSchema.safeParse(bodyWith(field, value));
  if (!result.success) return { problems: problemsOf(result.error), kept: undefined };
  const kept = field === 'recipient.name' ? result.data.recipient.name : result.data[field];
  return { problems: [], kept };
}

/** Characters that show nothing: spaces, zero-width and format characters, selectors, blank letters. */
const INVISIBLE = [
  ' ',
  '\t',
  '\n',
  '\u00A0',
  '\u3000',
  '\u200B',
  '\u200C',
  '\u200D',
  '\u200E',
  '\u200F',
  '\u2060',
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\uFEFF',
  '\u00AD',
  '\u180E',
  '\u034F',
  '\uFE00',
  '\uFE0F',
  '\u{E0100}',
  '\u{E0061}',
  '\u0301',
  '\u3164',
  '\u115F',
  '\u1160',
  '\uFFA0',
  '\u2800',
  '\u{1D159}',
  '\uE000',
];

describe.each(FIELDS)('%s', (field) => {
  it.each([
    ['NUL', '\u0000', /control characters \(U\+0000\)/],
    ['NUL inside text', 'Colis\u0000 arrivé', /control characters \(U\+0000\)/],
    ['a bell', 'Ding\u0007', /control characters \(U\+0007\)/],
    ['an ANSI escape', '\u001b[31mrouge', /control characters \(U\+001B\)/],
    ['a lone carriage return', 'ligne 1\rligne 2', /control characters \(U\+000D\)/],
    ['a vertical tab', 'a\u000Bb', /control characters \(U\+000B\)/],
    ['DEL', 'abc\u007F', /control characters \(U\+007F\)/],
    ['a C1 control (NEL)', 'abc\u0085def', /control characters \(U\+0085\)/],
    ['a right-to-left override', 'Colis \u202Eévirra', /bidirectional .* \(U\+202E\)/],
    ['a left-to-right embedding', '\u202Aabc', /bidirectional .* \(U\+202A\)/],
    ['a first-strong isolate', 'x\u2068y\u2069', /bidirectional .* \(U\+2068\)/],
    ['only bidi overrides', '\u202E\u202D\u2066', /bidirectional .* \(U\+202E\)/],
    ['an unpaired surrogate', 'abc\uD800', /well-formed Unicode/],
    ['only zero-width characters', '\u200B\u200C\u200D\u2060\uFEFF', /at least one visible character/],
    ['only spaces and newlines', ' \n\t \u00A0', /at least one visible character/],
    ['nothing', '', /at least one visible character/],
    ['a soft hyphen', '\u00AD', /at least one visible character/],
    ['a variation selector', '\uFE0F', /at least one visible character/],
    ['a combining mark on nothing', '\u0301\u0308', /at least one visible character/],
    ['the Hangul filler', '\u3164', /at least one visible character/],
    ['the blank Braille pattern', '\u2800\u2800', /at least one visible character/],
  ])('refuses %s, naming the field', (_what, value, message) => {
    // Act
    const { problems } = parse(field, value);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe(field);
    expect(problems[0]!.message).toMatch(message);
  });

  it.each([
    ['an emoji on its own', '📦'],
    ['an emoji with a variation selector', '❤️'],
    ['a flag', '🇲🇱'],
    ['a ZWJ family', '👩‍👩‍👧‍👦'],
    ['a keycap', '1️⃣'],
    ['Bambara', 'I ni ce! I ka kɛnɛ wa? Ɲɔgɔn ye ŋɔni.'],
    ["N'Ko", 'ߌ ߣߌ ߛߐ߲߬ߜߐ߬ߡߊ'],
    ['Chinese', '您的包裹已到达巴马科。'],
    ['Arabic, with its marks', 'وَصَلَ طَرْدُكَ إِلَى بَامَاكُو'],
    ['Hebrew after a right-to-left mark', '\u200Fשלום'],
    ['Devanagari', 'आपका पार्सल आ गया है'],
    ['a combining accent', 'Traore\u0301'],
    ['tabs and newlines', 'Ligne 1\n\tLigne 2'],
    ['a digit', '7'],
    ['punctuation', '…'],
  ])('accepts %s as it is', (_what, value) => {
    expect(parse(field, value)).toEqual({ problems: [], kept: value });
  });

  it('turns CRLF (what Windows sends) into LF, and trims', () => {
    expect(parse(field, '  Ligne 1\r\nLigne 2\r\n')).toEqual({ problems: [], kept: 'Ligne 1\nLigne 2' });
  });

  it('refuses any mix of invisible characters, naming the field', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...INVISIBLE), { minLength: 1, maxLength: 12 }), (pieces) => {
        const { problems } = parse(field, pieces.join(''));
        expect(problems.map((p) => p.path)).toEqual([field]);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts any text with a visible character among invisible ones, as sent (trimmed)', () => {
    const visible = fc.oneof(
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 10 })
        .filter((s) => /(?![\u115F\u1160\u3164\uFFA0])[\p{L}\p{N}]/u.test(s)),
      fc.constantFrom('📦', '🇲🇱', 'ߊ', '包', 'ع', 'ɛ', '!', '7'),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...INVISIBLE.filter((c) => c !== '\u0301')), { maxLength: 4 }),
        visible,
        fc.array(fc.constantFrom(...INVISIBLE), { maxLength: 4 }),
        (before, text, after) => {
          // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
          fc.pre(!/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\p{Cs}]/u.test(text));
          const value = `${before.join('')}${text}${after.join('')}`;
          expect(parse(field, value)).toEqual({ problems: [], kept: value.trim() });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the body field idempotencyKey', () => {
  it.each([
    ['a newline', 'order-42\n'],
    ['a space', 'order 42'],
    ['non-ASCII', 'commande-é'],
    ['an emoji', 'order-📦'],
    ['129 characters', 'k'.repeat(129)],
  ])('refuses %s, naming the field', (_what, key) => {
    const result = notificationRequestSchema.safeParse({ ...bodyWith('message', 'Bonjour'), idempotencyKey: key });
    expect(result.success).toBe(false);
    expect(problemsOf(result.error!).map((p) => p.path)).toEqual(['idempotencyKey']);
  });
});
