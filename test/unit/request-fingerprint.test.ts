import { describe, expect, it } from 'vitest';
import { canonicalJson, requestFingerprint } from '../../shared/domain/request-fingerprint.js';

describe('requestFingerprint', () => {
  const request = {
    recipient: { phone: '+22370123456', name: 'Awa' },
    category: 'otp',
    message: 'Code 123456',
    sendAt: new Date('2030-01-01T10:00:00.000Z'),
  };

  it('does not count key order, or where the idempotency key was given, as a difference', () => {
    const reordered = {
      sendAt: new Date('2030-01-01T10:00:00.000Z'),
      message: 'Code 123456',
      category: 'otp',
      recipient: { name: 'Awa', phone: '+22370123456' },
      idempotencyKey: 'k-1',
    };
    expect(requestFingerprint(reordered)).toBe(requestFingerprint(request));
    expect(canonicalJson(reordered.recipient)).toBe('{"name":"Awa","phone":"+22370123456"}');
  });

  it('tells any other value apart', () => {
    expect(requestFingerprint({ ...request, message: 'Code 123457' })).not.toBe(requestFingerprint(request));
    expect(requestFingerprint({ ...request, recipient: { phone: '+22370123456' } })).not.toBe(
      requestFingerprint(request),
    );
    expect(requestFingerprint(request)).toMatch(/^[0-9a-f]{64}$/);
  });
});
