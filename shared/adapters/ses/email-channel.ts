// Email through SES as a delivery channel (the fallback when WhatsApp cannot take a notification): the French
// template, the send, and the verdict on a failure from the SES classifier.
import type { DeliveryChannel } from '../../application/ports.js';
import { classifySesError } from '../../domain/email-error-classifier.js';
import { notificationEmail } from '../../presentation/notification-email.js';
import { MailerError, type SesMailer } from './mailer.js';

/** The SDK's error, as far as the classifier needs it. */
const sdkErrorOf = (error: unknown): { type: string; message: string; httpStatus?: number } => {
  if (error instanceof MailerError) return { type: 'invalid_address', message: error.message };
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const httpStatus = e.$metadata?.httpStatusCode;
  return {
    type: e.name && e.name !== 'Error' ? e.name : 'network_error',
    message: e.message ?? String(error),
    ...(httpStatus !== undefined ? { httpStatus } : {}),
  };
};

export function emailChannel(mailer: Pick<SesMailer, 'send'>): DeliveryChannel {
  return {
    async deliver(notification) {
      const started = performance.now();
      const duration = () => performance.now() - started;
      const to = notification.recipient.email;
      if (to === undefined) {
        const error = { type: 'invalid_address', message: 'the notification has no email address' };
        return { ok: false, error, verdict: classifySesError(error), durationMs: 0 };
      }
      try {
        const { messageId } = await mailer.send({ to, ...notificationEmail(notification) });
        return { ok: true, ...(messageId ? { messageId } : {}), durationMs: duration() };
      } catch (caught) {
        const error = sdkErrorOf(caught);
        return { ok: false, error, verdict: classifySesError(error), durationMs: duration() };
      }
    },
  };
}
