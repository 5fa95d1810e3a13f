import { ulid } from 'ulid';
import type { Notification } from '../../shared/domain/notification.js';

export const FIXTURE_TIME = '2025-01-15T10:00:00.000Z';

/** A valid pending notification, due at FIXTURE_TIME, with a fresh ULID; override what the test is about. */
export function makeNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: ulid(),
    recipient: { phone: '+22370123456', name: 'Awa Traoré' },
    category: 'colis_arrive',
    channel: 'whatsapp',
    title: 'Votre colis est arrivé',
    message: 'Bonjour Awa, votre colis 42 vous attend au point relais.',
    priority: 'normal',
    status: 'pending',
    attempts: 0,
    maxAttempts: 5,
    nextAttemptAt: FIXTURE_TIME,
    createdAt: FIXTURE_TIME,
    updatedAt: FIXTURE_TIME,
    history: [],
    version: 1,
    ...overrides,
  };
}
