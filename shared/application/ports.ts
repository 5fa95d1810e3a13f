// What the use cases need from the outside world, in their own words. Adapters (shared/adapters/*) implement
// these; use cases import nothing else from outside the domain.
import type { FailureVerdict } from '../domain/error-classifier.js';
import type { Notification } from '../domain/notification.js';

/** Why a delivery failed, as the channel saw it; the verdict says what to do about it. */
export interface DeliveryError {
  type: string;
  message: string;
  httpStatus?: number;
}

export type DeliveryOutcome =
  | { ok: true; messageId?: string; durationMs: number }
  | { ok: false; error: DeliveryError; verdict: FailureVerdict; durationMs: number };

/**
 * A way to reach a recipient (WhatsApp through WaChap today). It renders the notification its own way, sends
 * it, and classifies its own failures: the sender only acts on the verdict.
 */
export interface DeliveryChannel {
  deliver(notification: Pick<Notification, 'recipient' | 'title' | 'message'>): Promise<DeliveryOutcome>;
}
