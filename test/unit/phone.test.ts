import { createRequire } from 'node:module';
import fc from 'fast-check';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { parsePhoneNumberFromString as parseWithTypes } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { derivePhoneMetadata, deriveUnreachableRanges } from '../../bin/cli/phone-metadata.js';
import {
  DEFAULT_COUNTRY,
  InvalidPhoneNumberError,
  isCountryCode,
  maskPhone,
  maskPhonesInText,
  normalisePhone,
  toWaChapNumber,
  UNREACHABLE_NUMBER_TYPES,
} from '../../shared/domain/phone.js';
import { PHONE_METADATA } from '../../shared/domain/phone-metadata.js';
import { UNREACHABLE_RANGES } from '../../shared/domain/unreachable-number-ranges.js';

describe('normalisePhone', () => {
  it('reads national numbers as Malian by default', () => {
    expect(DEFAULT_COUNTRY).toBe('ML');
  });

  it.each([
    ['70 12 34 56', '+22370123456'],
    ['70-12-34-56', '+22370123456'],
    ['76.12.34.56', '+22376123456'],
    ['070123456', '+22370123456'],
    ['+223 70-12-34-56', '+22370123456'],
    ['+22370123456', '+22370123456'],
    ['  +223 (70) 12 34 56 ', '+22370123456'],
    ['0022370123456', '+22370123456'],
    ['22370123456', '+22370123456'],
    ['(+86) 138 0013 8000', '+8613800138000'],
    ['0086 13800138000', '+8613800138000'],
    ['8613800138000', '+8613800138000'],
    ['+33 6 12 34 56 78', '+33612345678'],
  ])('normalises %j to %s', (input, expected) => {
    // Act
    const e164 = normalisePhone(input);

    // Assess
    expect(e164).toBe(expected);
  });

  it.each([['abc'], ['123'], ['+22312'], [''], ['+223 70 12 34 56 7'], ['70123456abc'], ['+0012345678']])(
    'refuses %j with an InvalidPhoneNumberError',
    (input) => {
      expect(() => normalisePhone(input)).toThrow(InvalidPhoneNumberError);
    },
  );

  it.each([
    ['full-width digits', '+２２３７０１２３４５６'],
    ['Arabic-Indic digits', '+٢٢٣٧٠١٢٣٤٥٦'],
    ['a right-to-left override', '+223\u202E70123456'],
    ['a left-to-right override in front', '\u202D+22370123456'],
    ['an isolate around it', '\u2066+22370123456\u2069'],
    ['a zero-width space', '+223\u200B70123456'],
  ])('refuses a number written with %s', (_what, input) => {
    expect(() => normalisePhone(input)).toThrow(InvalidPhoneNumberError);
  });

  it('reads a national number in the configured default country', () => {
    expect(normalisePhone('13800138000', 'CN')).toBe('+8613800138000');
  });

  it('refuses the same Chinese national number when the default country is Mali', () => {
    expect(() => normalisePhone('13800138000')).toThrow(InvalidPhoneNumberError);
  });

  it('reads a French national number with FR as the default country', () => {
    expect(normalisePhone('06 12 34 56 78', 'FR')).toBe('+33612345678');
  });

  it('keeps the number out of the error message but on the error', () => {
    // Act
    let caught: unknown;
    try {
      normalisePhone('+22312345');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(InvalidPhoneNumberError);
    const error = caught as InvalidPhoneNumberError;
    expect(error.name).toBe('InvalidPhoneNumberError');
    expect(error.input).toBe('+22312345');
    expect(error.message).not.toContain('22312345');
    expect(error.message).toContain('2345');
  });
});

describe('normalisePhone and the numbers WhatsApp cannot reach', () => {
  it.each([
    ['+1 800 555 0199', 'TOLL_FREE', 'is a toll-free number, which WhatsApp cannot reach'],
    ['+1 888 555 0199', 'TOLL_FREE', 'is a toll-free number, which WhatsApp cannot reach'],
    ['+44 800 123 4567', 'TOLL_FREE', 'is a toll-free number, which WhatsApp cannot reach'],
    ['+33 8 00 12 34 56', 'TOLL_FREE', 'is a toll-free number, which WhatsApp cannot reach'],
    ['+223 80 12 34 56', 'TOLL_FREE', 'is a toll-free number, which WhatsApp cannot reach'],
    ['0022380123456', 'TOLL_FREE', 'is a toll-free number, which WhatsApp cannot reach'],
    ['+1 900 555 0199', 'PREMIUM_RATE', 'is a premium-rate number, which WhatsApp cannot reach'],
    ['+33 8 99 12 34 56', 'PREMIUM_RATE', 'is a premium-rate number, which WhatsApp cannot reach'],
    ['+33 8 10 12 34 56', 'SHARED_COST', 'is a shared-cost number, which WhatsApp cannot reach'],
    ['+61 1300 123 456', 'SHARED_COST', 'is a shared-cost number, which WhatsApp cannot reach'],
    ['+44 7640 123456', 'PAGER', 'is a pager number, which WhatsApp cannot reach'],
    ['+47 81 21 84 32', 'VOICEMAIL', 'is a voicemail access number, which WhatsApp cannot reach'],
    ['+92 21 111 111 111', 'UAN', 'is a universal access number (UAN), which WhatsApp cannot reach'],
  ])('refuses %s: %s', (input, type, reason) => {
    // Act
    let caught: unknown;
    try {
      normalisePhone(input);
    } catch (error) {
      caught = error;
    }

    // Assess: the type, said for the caller without the number; the log message masks it.
    expect(caught).toBeInstanceOf(InvalidPhoneNumberError);
    const error = caught as InvalidPhoneNumberError;
    expect(error.numberType).toBe(type);
    expect(error.reason).toBe(reason);
    expect(error.message).toContain(reason.replace(/^is /, ''));
    expect(error.message.match(/\d/g)).toHaveLength(4);
  });

  it.each([
    ['a Malian mobile', '+223 70 12 34 56', '+22370123456'],
    ['a Malian fixed line (WhatsApp Business runs on landlines)', '+223 20 21 23 45', '+22320212345'],
    ['a French fixed line', '+33 1 70 12 34 56', '+33170123456'],
    ['a US number that may be fixed or mobile', '+1 201 555 0123', '+12015550123'],
    ['a VoIP number', '+44 56 1234 5678', '+445612345678'],
    ['a personal number', '+44 70 1234 5678', '+447012345678'],
    ['a non-geographic mobile (satellite)', '+881 6 1234 5678', '+881612345678'],
  ])('accepts %s', (_what, input, e164) => {
    expect(normalisePhone(input)).toBe(e164);
  });

  it.each([
    ['+223 43 12 34 56', '+22343123456'],
    ['+223 57 12 34 56', '+22357123456'],
    ['+86 170 1234 5678', '+8617012345678'],
  ])(
    'keeps accepting %s, of the right length for its country although outside the ranges the metadata lists',
    (input, e164) => {
      // The exact ranges lag behind what countries allocate; the original accepted these, and so do we.
      expect(normalisePhone(input)).toBe(e164);
    },
  );

  it('says a number is invalid, with no type, when it is not a number at all', () => {
    const error = (() => {
      try {
        normalisePhone('+22312345');
      } catch (caught) {
        return caught as InvalidPhoneNumberError;
      }
    })();
    expect(error?.numberType).toBeUndefined();
    expect(error?.reason).toBe('is not a valid phone number (E.164 such as +22370123456)');
  });
});

describe('the metadata normalisePhone reads numbers with', () => {
  it("is the installed libphonenumber-js's (else: node --import tsx bin/phone-metadata.ts)", () => {
    expect(PHONE_METADATA).toEqual(derivePhoneMetadata());
    expect(UNREACHABLE_RANGES).toEqual(deriveUnreachableRanges());
  });

  it("knows the countries the package's default metadata knows", () => {
    const letters = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
    const codes = letters.flatMap((first) => letters.map((second) => `${first}${second}`));
    expect(codes.filter(isCountryCode)).toEqual(codes.filter((code) => isSupportedCountry(code)));
  });

  /**
   * What normalisePhone decided with the package's whole metadata in the bundle: valid by the default one, its type
   * by the 'max' one, the number re-parsed.
   */
  const withWholeMetadata = (e164: string): string => {
    const parsed = parsePhoneNumberFromString(e164);
    if (!parsed?.isValid()) return 'invalid';
    const type = parseWithTypes(parsed.number)?.getType();
    return type && Object.hasOwn(UNREACHABLE_NUMBER_TYPES, type) ? type : parsed.number;
  };
  const decided = (e164: string): string => {
    try {
      return normalisePhone(e164);
    } catch (error) {
      if (!(error instanceof InvalidPhoneNumberError)) throw error;
      return error.numberType ?? 'invalid';
    }
  };

  it("decides as the package's whole metadata did, for numbers of every calling code, length and leading digits", () => {
    // Prepare: per numbering plan and length, 100 leading-digit prefixes (000…099) and pseudo-random digits after.
    const metadata = createRequire(import.meta.url)('libphonenumber-js/metadata.max.json') as {
      countries: Record<string, [string, string, string, number[]]>;
      nonGeographic: Record<string, [string, string, string, number[]]>;
    };
    let seed = 13;
    const digit = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return String(Math.floor((seed / 2_147_483_648) * 10));
    };
    const numbers: string[] = [];
    for (const [code, , , lengths] of [
      ...Object.values(metadata.countries),
      ...Object.values(metadata.nonGeographic),
    ]) {
      for (const length of lengths) {
        for (let prefix = 0; prefix < 100; prefix++) {
          let national = String(prefix).padStart(3, '0').slice(0, length);
          while (national.length < length) national += digit();
          // Longer than E.164's 15 digits: refused before either could look (the first check of normalisePhone).
          if (code.length + length <= 15) numbers.push(`+${code}${national}`);
        }
      }
    }

    // Act
    const differences = numbers
      .map((e164) => ({ e164, before: withWholeMetadata(e164), now: decided(e164) }))
      .filter(({ before, now }) => before !== now);

    // Assess: the same decision and type, but for one writing of a Belarusian premium-rate number with a trunk 0
    // after the country code (+375 0 810…): the default metadata's parse drops the 0 and gives +375 810…, which the
    // re-parse with the 'max' metadata read with its 8 as a trunk prefix too, and so found no type.
    expect(numbers.length).toBeGreaterThan(50_000);
    const outcomes = numbers.map(decided);
    expect(outcomes.filter((outcome) => outcome.startsWith('+')).length).toBeGreaterThan(10_000);
    expect(outcomes.filter((outcome) => Object.hasOwn(UNREACHABLE_NUMBER_TYPES, outcome)).length).toBeGreaterThan(500);
    expect(differences).toEqual(
      differences.filter(
        ({ e164, before, now }) => e164.startsWith('+3750810') && before.startsWith('+375') && now === 'PREMIUM_RATE',
      ),
    );
    expect(decided('+375 0 810 536 7712')).toBe('PREMIUM_RATE');
  });
});

describe('maskPhone', () => {
  it.each([
    ['+22370123456', '*******3456'],
    ['+8613800138000', '*********8000'],
    ['70 12 34 56', '****3456'],
    ['1234', '****'],
    ['123', '***'],
    ['', ''],
  ])('masks %j as %j', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});

describe('maskPhonesInText', () => {
  it('masks a number echoed in a provider message, keeping the rest', () => {
    const masked = maskPhonesInText('Number +22370123456 is not on WhatsApp');

    expect(masked).toBe('Number *******3456 is not on WhatsApp');
  });

  it('leaves short figures alone', () => {
    expect(maskPhonesInText('HTTP 503 after 15000 ms')).toBe('HTTP 503 after 15000 ms');
  });

  it('masks a number written with dots in the name of an unknown field', () => {
    expect(maskPhonesInText('recipient.+223.70.12.34.56: is not an accepted field')).toBe(
      'recipient.*******3456: is not an accepted field',
    );
  });

  it.each([
    ['dots', '+223.70.12.34.56'],
    ['spaces', '+223 70 12 34 56'],
    ['dashes', '+223-70-12-34-56'],
    ['slashes', '70/12/34/56'],
    ['brackets', '(+223) (70) 12 34 56'],
    ['a space and a dash', '+223 - 70 - 12 - 34 - 56'],
    ['no-break spaces', '+223\u00A070\u00A012\u00A034\u00A056'],
    ['narrow no-break spaces', '+223\u202F70\u202F12\u202F34\u202F56'],
    ['en dashes', '70\u201312\u201334\u201356'],
    ['middle dots', '70\u00B712\u00B734\u00B756'],
    ['zero-width spaces', '+223\u200B70\u200B12\u200B34\u200B56'],
    ['bidi isolates', '\u2066+22370123456\u2069'],
    ['full-width digits', '+２２３ ７０ １２ ３４ ５６'],
    ['full-width dots', '７０．１２．３４．５６'],
    ['00 and no separator', '0022370123456'],
    ['a WhatsApp id', '22370123456@c.us'],
    ['letters around it', 'id22370123456x'],
  ])('masks a number written with %s, keeping only its last 4 digits', (_what, written) => {
    // Act
    const masked = maskPhonesInText(`to ${written}: refused`);

    // Assess
    expect(masked.match(/\p{Nd}/gu)).toHaveLength(4);
    expect(masked).toMatch(/^to .*\*{4}.*: refused$/);
  });

  it.each([
    ['an ISO timestamp', 'expiresAt: must be an ISO 8601 date-time, e.g. 2026-11-24T18:00:00Z'],
    ['a timestamp with milliseconds and an offset', 'at 2026-11-24T18:00:00.123+01:00'],
    ['a date', 'sendAt 2026-11-24 is past'],
    ['a ULID', 'notification 01KBX3Z9Q7Y1234567890ABCDE not found'],
    ['a UUID', 'request c0a80101-1234-5678-9abc-123456789012 failed'],
    ['a local address', 'connect ECONNREFUSED 127.0.0.1:4010'],
    ['small figures', 'HTTP 429: retry after 120 s (limit 20 per 3600 s)'],
    ['a version', 'libphonenumber-js 1.13.16'],
  ])('keeps %s', (_what, text) => {
    expect(maskPhonesInText(text)).toBe(text);
  });
});

describe('maskPhonesInText, generated', () => {
  const SEPARATORS = [
    ' ',
    '.',
    '-',
    '/',
    '(',
    ')',
    '\u00A0',
    '\u202F',
    '\u2009',
    '\u2013',
    '\u200B',
    '\uFF0E',
    '\uFF0D',
  ];
  /** A Malian mobile number's 8 digits, written with any separators and any prefix. */
  const written = fc
    .tuple(
      fc.integer({ min: 0, max: 9_999_999 }),
      fc.constantFrom('', '+223', '00223', '223', '(+223)', '+２２３'),
      fc.array(fc.array(fc.constantFrom(...SEPARATORS), { maxLength: 2 }), { minLength: 8, maxLength: 8 }),
      fc.boolean(),
    )
    .map(([n, prefix, separators, fullWidth]) => {
      const national = `7${String(n).padStart(7, '0')}`;
      const digits = [...national].map((d) => (fullWidth ? String.fromCodePoint(0xff10 + Number(d)) : d));
      return { national, text: `${prefix}${digits.map((d, i) => `${separators[i]!.join('')}${d}`).join('')}` };
    });
  /** Text around it without digits: words, punctuation, JSON and the keys fast-check likes (__proto__…). */
  const around = fc
    .oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('__proto__', 'constructor', 'recipient.', '{"', '": 1}', 'phone=', ' @c.us', '\n'),
    )
    .map((s) => s.replace(/\p{Nd}/gu, ''));

  it('never leaves more than the last 4 digits of a number, whatever separates them', () => {
    fc.assert(
      fc.property(around, written, around, (before, { national, text }, after) => {
        // Act
        const masked = maskPhonesInText(`${before}${text}${after}`);

        // Assess: the digits left, read as ASCII, are the number's last 4 at most.
        const ascii = (digit: string) => (digit >= '０' ? String(digit.codePointAt(0)! - 0xff10) : digit);
        const left = (masked.match(/\p{Nd}/gu) ?? []).map(ascii).join('');
        expect(left).toBe(national.slice(-4));
        expect(masked).not.toContain(national.slice(0, 4));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves text alone when no run of digits is 7 long: words, small numbers, timestamps, ULIDs', () => {
    const token = fc.oneof(
      fc.stringMatching(/^[a-zA-Z:;,!?'"=&_ ]{1,8}$/),
      fc.integer({ min: 0, max: 99_999 }).map((n) => `x${n}y`),
      fc.integer({ min: 0, max: 999 }).map(String),
      fc
        .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
        .map((d) => ` ${d.toISOString()} `),
      fc
        .stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
        .filter((id) => /[A-Z]/.test(id))
        .map((id) => ` ${id} `),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (tokens) => {
        // Letters between the tokens, so that two small numbers never make one long run.
        const text = tokens.join('k');
        expect(maskPhonesInText(text)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('toWaChapNumber', () => {
  it('drops the leading + that WaChap does not want', () => {
    expect(toWaChapNumber('+22370123456')).toBe('22370123456');
  });
});

describe('isCountryCode', () => {
  it.each([
    ['ML', true],
    ['CN', true],
    ['FR', true],
    ['XX', false],
    ['ml', false],
  ])('says %s is a country code: %s', (value, expected) => {
    expect(isCountryCode(value)).toBe(expected);
  });
});
