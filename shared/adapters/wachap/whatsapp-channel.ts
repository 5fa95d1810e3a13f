// WhatsApp through WaChap as a delivery channel: the text a recipient reads, the send, and the verdict on a
// failure from the WaChap classifier.
import type { DeliveryChannel } from '../../application/ports.js';
import { classifyWaChapError } from '../../domain/error-classifier.js';
import type { Notification } from '../../domain/notification.js';
import type { WaChapClient } from './client.js';

/** What the recipient reads on WhatsApp: the title in bold, then the message. */
export const renderWhatsAppText = (n: Pick<Notification, 'title' | 'message'>): string =>
  n.title ? `*${n.title}*\n${n.message}` : n.message;

/**
 * `wachap`: the one client, or each instance's client by name (several instances: the sender says which one; a
 * send without one goes through the default instance's).
 */
export function whatsAppChannel(
  wachap: Pick<WaChapClient, 'send'> | ((instance: string | undefined) => Pick<WaChapClient, 'send'>),
): DeliveryChannel {
  const clientFor = typeof wachap === 'function' ? wachap : () => wachap;
  return {
    async deliver(notification, via) {
      const outcome = await clientFor(via?.instance).send({
        phone: notification.recipient.phone,
        message: renderWhatsAppText(notification),
      });
      if (outcome.ok) {
        return {
          ok: true,
          ...(outcome.messageId ? { messageId: outcome.messageId } : {}),
          durationMs: outcome.durationMs,
        };
      }
      const { type, message, httpStatus, retryAfterSeconds } = outcome.error;
      return {
        ok: false,
        error: { type, message, ...(httpStatus !== undefined ? { httpStatus } : {}) },
        verdict: classifyWaChapError({
          type,
          message,
          ...(httpStatus !== undefined ? { httpStatus } : {}),
          ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
        }),
        durationMs: outcome.durationMs,
      };
    },
  };
}
