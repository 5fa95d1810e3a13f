import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';

export class InvalidPhoneNumberError extends Error {
  override readonly name = 'InvalidPhoneNumberError';
  constructor(readonly input: string) {
    super(`not a valid phone number: ${maskPhone(input)}`);
  }
}

export const DEFAULT_COUNTRY = 'ML';

export function isCountryCode(value: string): value is CountryCode {
  return isSupportedCountry(value);
}

/**
 * Normalises as the original does, then validates as E.164: spaces, dashes, dots and brackets go;
 * `00` becomes `+`; a Malian local number 0XXXXXXXX becomes +223XXXXXXXX; other national numbers are
 * read in the default country; digits that already start with a country code are accepted without `+`.
 */
export function normalisePhone(input: string, defaultCountry: CountryCode = DEFAULT_COUNTRY): string {
  let compact = input.trim().replace(/[\s\-.()[\]]/g, '');
  if (compact.startsWith('00')) compact = `+${compact.slice(2)}`;
  if (!/^\+?\d{4,17}$/.test(compact)) throw new InvalidPhoneNumberError(input);
  // The original's rule, for Mali: a local number written with its trunk 0.
  if (defaultCountry === 'ML' && /^0\d{8}$/.test(compact)) compact = `+223${compact.slice(1)}`;

  const candidates = compact.startsWith('+') ? [compact] : [compact, `+${compact}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, defaultCountry);
    if (parsed?.isValid()) return parsed.number;
  }
  throw new InvalidPhoneNumberError(input);
}

/** E.164 without the leading `+`, as WaChap wants it in the request body. */
export const toWaChapNumber = (e164: string): string => e164.replace(/^\+/, '');

/** Everything but the last 4 digits hidden: +22370123456 → *******3456. Safe on any input. */
export function maskPhone(phone: string): string {
  const digits = String(phone).replace(/\D/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** Masks every phone-like run of digits inside free text (provider error messages may echo the number). */
export const maskPhonesInText = (text: string): string =>
  text.replace(/\+?\d[\d\s-]{6,}\d/g, (match) => maskPhone(match));
