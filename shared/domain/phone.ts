// Validity from the default ('min') metadata: a number of the right length and prefix for its country is valid,
// as in the original, so a range a country allocates tomorrow is not refused until the package catches up (the
// 'max' metadata's exact ranges refuse about 40 % of the Malian numbers the original accepted). The type (toll-free,
// premium rate…) from the ranges of the unreachable types alone, taken from the 'max' metadata. Both generated from
// the package (bin/phone-metadata.ts): the default metadata without the formats nothing here prints with (33 of its
// 83 KB), the ranges (23 KB) rather than the whole 'max' metadata (156 KB), in every bundle (config reads ADMIN_PHONE).
import {
  type CountryCode,
  isSupportedCountry,
  type PhoneNumber,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/core';
import { PHONE_METADATA } from './phone-metadata.js';
import { UNREACHABLE_RANGES } from './unreachable-number-ranges.js';

/**
 * The number types WhatsApp cannot reach, as callers read them: service numbers that are not a subscriber's line
 * (toll-free, premium rate, shared cost, UAN), a voicemail access number, a pager. Mobile, fixed line (WhatsApp
 * Business runs on landlines), VoIP, personal numbers and numbers whose type is unknown are accepted.
 */
export const UNREACHABLE_NUMBER_TYPES = {
  TOLL_FREE: 'a toll-free number',
  PREMIUM_RATE: 'a premium-rate number',
  SHARED_COST: 'a shared-cost number',
  PAGER: 'a pager number',
  VOICEMAIL: 'a voicemail access number',
  UAN: 'a universal access number (UAN)',
} as const;

export type UnreachableNumberType = keyof typeof UNREACHABLE_NUMBER_TYPES;

/** In the order libphonenumber-js's getNumberType tries them, so that a number in two ranges gets the same type. */
const UNREACHABLE_ORDER: readonly UnreachableNumberType[] = [
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'PAGER',
  'UAN',
  'VOICEMAIL',
];

/** The unreachable type whose range holds this valid number, if any (a number of any other type has none). */
function unreachableTypeOf(parsed: PhoneNumber): UnreachableNumberType | undefined {
  const ranges = UNREACHABLE_RANGES[parsed.country ?? `+${parsed.countryCallingCode}`];
  if (!ranges) return undefined;
  const national = String(parsed.nationalNumber);
  return UNREACHABLE_ORDER.find((type) => {
    const range = ranges[type];
    if (!range) return false;
    const [pattern, lengths] = range;
    return (!lengths || lengths.includes(national.length)) && new RegExp(`^(?:${pattern})$`).test(national);
  });
}

/** A number refused: not a phone number at all, or (`numberType`) a valid one of a type WhatsApp cannot reach. */
export class InvalidPhoneNumberError extends Error {
  override readonly name = 'InvalidPhoneNumberError';
  /** What is wrong, for the caller and without the number, to follow the field's name. */
  readonly reason: string;
  constructor(
    readonly input: string,
    readonly numberType?: UnreachableNumberType,
  ) {
    const kind = numberType && UNREACHABLE_NUMBER_TYPES[numberType];
    super(`${kind ? `${kind}, which WhatsApp cannot reach` : 'not a valid phone number'}: ${maskPhone(input)}`);
    this.reason = kind
      ? `is ${kind}, which WhatsApp cannot reach`
      : 'is not a valid phone number (E.164 such as +22370123456)';
  }
}

export const DEFAULT_COUNTRY = 'ML';

export function isCountryCode(value: string): value is CountryCode {
  // The core build types its argument as a known code already: asking is the point.
  return isSupportedCountry(value as CountryCode, PHONE_METADATA);
}

/**
 * Normalises as the original does, then validates as E.164: spaces, dashes, dots and brackets go;
 * `00` becomes `+`; a Malian local number 0XXXXXXXX becomes +223XXXXXXXX; other national numbers are
 * read in the default country; digits that already start with a country code are accepted without `+`.
 * A valid number of a type WhatsApp cannot reach (toll-free…) is refused too: the error says which type.
 */
export function normalisePhone(input: string, defaultCountry: CountryCode = DEFAULT_COUNTRY): string {
  let compact = input.trim().replace(/[\s\-.()[\]]/g, '');
  if (compact.startsWith('00')) compact = `+${compact.slice(2)}`;
  if (!/^\+?\d{4,17}$/.test(compact)) throw new InvalidPhoneNumberError(input);
  // The original's rule, for Mali: a local number written with its trunk 0.
  if (defaultCountry === 'ML' && /^0\d{8}$/.test(compact)) compact = `+223${compact.slice(1)}`;

  const candidates = compact.startsWith('+') ? [compact] : [compact, `+${compact}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, defaultCountry, PHONE_METADATA);
    if (!parsed?.isValid()) continue;
    const type = unreachableTypeOf(parsed);
    if (type) throw new InvalidPhoneNumberError(input, type);
    return parsed.number;
  }
  throw new InvalidPhoneNumberError(input);
}

/** E.164 without the leading `+`, as WaChap wants it in the request body. */
export const toWaChapNumber = (e164: string): string => e164.replace(/^\+/, '');

/**
 * Everything but the last 4 digits hidden: +22370123456 → *******3456. Safe on any input; digits of any script
 * count (full-width ２２３… too), everything else is dropped.
 */
export function maskPhone(phone: string): string {
  const digits = String(phone).match(/\p{Nd}/gu) ?? [];
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4).join('')}`;
}

/** A run of digits this long, once its separators are dropped, may be a phone number (Mali's have 8). */
const MASKED_RUN_DIGITS = 7;
/**
 * What people and programs put between the digits of a number: spaces of any width (NBSP, U+202F, U+3000…),
 * dots, dashes and hyphens of any kind, slashes, brackets, the middle dot, their full-width forms, and the
 * invisible format characters and combining marks that would otherwise split a number unseen (U+200B, U+2066…).
 */
const SEPARATOR = '[\\s.\\-/()[\\]\\u00B7\\u2010-\\u2015\\u2212\\uFF08\\uFF09\\uFF0D\\uFF0E\\uFF0F\\p{Cf}\\p{M}]';
/** Up to 4 separators between two digits; `+` (or its full-width form) may lead. */
const DIGIT_RUN = `[+\\uFF0B]?\\p{Nd}(?:${SEPARATOR}{0,4}\\p{Nd})*`;
/**
 * Runs of digits that are not phone numbers, kept as they are when a run starts with them: an ISO 8601 date or
 * date-time (2026-11-24T18:00:00.000Z), a ULID (26 characters, at least one a letter), a UUID.
 */
const KEPT = [
  '(?<!\\p{Nd})(?:19|20)\\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d{1,9})?)?(?:Z|[+-]\\d{2}(?::?\\d{2})?)?)?(?!\\p{Nd})',
  '\\b(?=[0-9A-Z]*[A-Z])[0-7][0-9A-HJKMNP-TV-Z]{25}\\b',
  '\\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\b',
];
const PHONE_LIKE = new RegExp(`(${KEPT.join('|')})|${DIGIT_RUN}`, 'giu');

/**
 * Masks every phone-like run of digits inside free text (provider error messages may echo the number; a
 * validation message may name a field after one), whatever separates its digits: `+223.70.12.34.56`,
 * `(+223) 70-12-34-56`, `７０１２３４５６` all come out as `…3456`. Runs of fewer than 7 digits (HTTP 503, 15000 ms,
 * 127.0.0.1) are kept, and so are ISO dates and timestamps, ULIDs and UUIDs; masking more is the safe side
 * (two short numbers separated by a space count as one run).
 */
export const maskPhonesInText = (text: string): string =>
  String(text).replace(PHONE_LIKE, (match, kept: string | undefined) => {
    if (kept !== undefined) return match;
    return (match.match(/\p{Nd}/gu)?.length ?? 0) >= MASKED_RUN_DIGITS ? maskPhone(match) : match;
  });
