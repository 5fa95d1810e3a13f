import { decodeTime, isValid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { newNotificationId } from '../../shared/application/ingest.js';

describe('newNotificationId', () => {
  it('gives distinct ULIDs stamped with the time of their creation, across many refills of its random pool', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, () => newNotificationId());
    const after = Date.now();

    expect(ids.every((id) => isValid(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [ids[0]!, ids.at(-1)!]) {
      expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
      expect(decodeTime(id)).toBeLessThanOrEqual(after);
    }
  });

  it('draws every character of the random part from the whole alphabet, at every position', () => {
    const randomParts = Array.from({ length: 2000 }, () => newNotificationId().slice(10));
    for (let position = 0; position < 16; position++) {
      // 2,000 draws of 32 symbols: one missing by chance has a probability below 10^-26.
      expect(new Set(randomParts.map((part) => part[position])).size).toBe(32);
    }
  });
});
