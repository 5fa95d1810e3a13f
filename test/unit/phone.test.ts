import { describe, expect, it } from 'vitest';
import {
  DEFAULT_COUNTRY,
  InvalidPhoneNumberError,
  isCountryCode,
  maskPhone,
  maskPhonesInText,
  normalisePhone,
  toWaChapNumber,
} from '../../shared/domain/phone.js';

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
