import { describe, expect, it } from 'vitest';
import {
  createNotification,
  DEFAULT_VALIDITY_SECONDS,
  defaultPriority,
  type NotificationPolicy,
  type NotificationRequest,
  validityEnd,
} from '../../shared/domain/new-notification.js';
import { IllegalTransitionError, transition } from '../../shared/domain/transitions.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = new Date('2025-11-27T12:00:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

const POLICY: NotificationPolicy = { maxAttempts: 10, validitySeconds: DEFAULT_VALIDITY_SECONDS };

const request = (overrides: Partial<NotificationRequest> = {}): NotificationRequest => ({
  recipient: { phone: '+22370123456', name: 'Mamadou Traoré' },
  category: 'colis_arrive',
  message: 'Votre colis est arrivé',
  ...overrides,
});

const create = (overrides: Partial<NotificationRequest> = {}, policy: NotificationPolicy = POLICY) =>
  createNotification(request(overrides), { id: 'notif-1', now: NOW, policy });

describe('createNotification', () => {
  it('creates a pending notification due now, with no attempt and version 1', () => {
    // Act
    const n = create();

    // Assess
    expect(n).toEqual({
      id: 'notif-1',
      recipient: { phone: '+22370123456', name: 'Mamadou Traoré' },
      category: 'colis_arrive',
      channel: 'whatsapp',
      title: 'Colis arrivé',
      message: 'Votre colis est arrivé',
      priority: 'normal',
      status: 'pending',
      attempts: 0,
      maxAttempts: 10,
      nextAttemptAt: NOW.toISOString(),
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      history: [],
      version: 1,
    });
  });

  it('gives an otp 10 minutes of validity by default', () => {
    const n = create({ category: 'otp', message: 'Code: 123456' });

    expect(n.expiresAt).toBe(at(10 * MINUTE).toISOString());
  });

  it('reads the otp validity from the policy', () => {
    const n = create({ category: 'otp' }, { maxAttempts: 10, validitySeconds: { otp: 300 } });

    expect(n.expiresAt).toBe(at(5 * MINUTE).toISOString());
  });

  it('never expires a category without a validity window', () => {
    const n = create({ category: 'colis_livre' });

    expect(n).not.toHaveProperty('expiresAt');
  });

  it('lets an absolute expiresAt win over ttlSeconds and the category window', () => {
    const n = create({ category: 'otp', ttlSeconds: 60, expiresAt: at(HOUR) });

    expect(n.expiresAt).toBe(at(HOUR).toISOString());
  });

  it('lets ttlSeconds win over the category window', () => {
    const n = create({ category: 'otp', ttlSeconds: 120 });

    expect(n.expiresAt).toBe(at(2 * MINUTE).toISOString());
  });

  it('waits until sendAt and counts the validity from there', () => {
    const n = create({ category: 'otp', sendAt: at(HOUR) });

    expect(n.nextAttemptAt).toBe(at(HOUR).toISOString());
    expect(n.expiresAt).toBe(at(HOUR + 10 * MINUTE).toISOString());
  });

  it('is due now when sendAt is already past', () => {
    const n = create({ sendAt: at(-HOUR) });

    expect(n.nextAttemptAt).toBe(NOW.toISOString());
  });

  it('takes maxAttempts from the policy', () => {
    const n = create({}, { maxAttempts: 15, validitySeconds: {} });

    expect(n.maxAttempts).toBe(15);
  });

  it('keeps the idempotency key when one is given', () => {
    expect(create({ idempotencyKey: 'lot-42-closed' }).idempotencyKey).toBe('lot-42-closed');
  });

  it.each([
    ['colis_arrive', 'Colis arrivé'],
    ['colis_livre', 'Colis livré'],
    ['lot_ferme', 'Lot fermé'],
    ['otp', 'Code de vérification'],
    ['information_generale', 'Information'],
    ['promo_noel', 'promo_noel'],
  ])('titles a %s notification "%s" by default', (category, title) => {
    expect(create({ category }).title).toBe(title);
  });

  it('keeps the title the caller gave', () => {
    expect(create({ title: 'Bonjour' }).title).toBe('Bonjour');
  });

  it('puts an otp first and lets the caller say otherwise', () => {
    expect(create({ category: 'otp' }).priority).toBe('high');
    expect(create({ category: 'otp', priority: 'normal' }).priority).toBe('normal');
    expect(create({ category: 'lot_ferme', priority: 'high' }).priority).toBe('high');
  });
});

describe('defaultPriority', () => {
  it.each([
    ['otp', 'high'],
    ['colis_arrive', 'normal'],
    ['anything_else', 'normal'],
  ])('gives %s the priority %s', (category, priority) => {
    expect(defaultPriority(category)).toBe(priority);
  });
});

describe('validityEnd', () => {
  it('is undefined for a category that never expires', () => {
    expect(validityEnd(request({ category: 'lot_ferme' }), NOW, POLICY)).toBeUndefined();
  });

  it('is ten minutes after now for an otp', () => {
    expect(validityEnd(request({ category: 'otp' }), NOW, POLICY)).toEqual(at(10 * MINUTE));
  });
});

describe('an otp past its validity', () => {
  it('is never handed to a sender, and expire moves it to expired', () => {
    // Prepare
    const otp = create({ category: 'otp', message: 'Code: 123456' });
    const late = at(10 * MINUTE);

    // Act
    const claim = () => transition(otp, { type: 'claim', at: late, token: 'tok-1', leaseMs: MINUTE });
    const expired = transition(otp, { type: 'expire', at: late });

    // Assess
    expect(claim).toThrow(IllegalTransitionError);
    expect(expired).toMatchObject({ status: 'expired', reason: 'validity_expired' });
  });
});
