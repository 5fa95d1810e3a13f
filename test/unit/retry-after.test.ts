import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../shared/domain/retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it.each([
    ['120', 120],
    [' 45 ', 45],
    [' 0 ', 0],
    ['Wed, 01 Jan 2025 00:01:30 GMT', 90],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['tomorrow', undefined],
    ['a 2025', undefined],
    ['', undefined],
    [null, undefined],
  ])('reads %j as %j', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });

  it('gives a non-negative integer or nothing for any header value', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const seconds = parseRetryAfter(header, now);
        return seconds === undefined || (Number.isSafeInteger(seconds) && seconds >= 0);
      }),
    );
  });

  it('reads an HTTP date relative to now, given as a Date', () => {
    const now = new Date('2025-11-27T12:00:00.000Z');
    expect(parseRetryAfter(new Date(now.getTime() + 90_000).toUTCString(), now)).toBe(90);
  });

  it('refuses a number of seconds too large to be exact', () => {
    expect(parseRetryAfter('99999999999999999999', 0)).toBeUndefined();
  });
});
