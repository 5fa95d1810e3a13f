// The status callbacks a caller receives at its notification's `callbackUrl`: one event per state change that
// matters to it, in the Standard Webhooks payload shape ({type, timestamp, data}), signed with the caller's secret
// (webhook-id, webhook-timestamp, webhook-signature). The OpenAPI document describes them as `webhooks`.
import * as z from 'zod';
import { FAILURE_REASONS, NOTIFICATION_STATUSES } from '../domain/notification.js';

/** Each event's type, one per status a caller hears about. */
export const CALLBACK_EVENT_TYPES = {
  sent: 'notification.sent',
  failed: 'notification.failed',
  permanent_failure: 'notification.permanent_failure',
  expired: 'notification.expired',
  cancelled: 'notification.cancelled',
} as const;

export type CallbackStatus = keyof typeof CALLBACK_EVENT_TYPES;
export type CallbackEventType = (typeof CALLBACK_EVENT_TYPES)[CallbackStatus];

const instant = z.iso.datetime({ offset: true });

export const callbackEventSchema = z
  .object({
    type: z.enum(Object.values(CALLBACK_EVENT_TYPES) as [CallbackEventType, ...CallbackEventType[]]),
    /** When the notification reached this state. */
    timestamp: instant,
    data: z.object({
      /** The notification's id, as in `Location` and `GET /v1/notifications/{id}`. */
      id: z.string(),
      status: z.enum(NOTIFICATION_STATUSES),
      category: z.string(),
      /** Attempts made so far. */
      attempts: z.int().min(0),
      /** The caller's Idempotency-Key, when the request had one. */
      idempotencyKey: z.string().optional(),
      /** Why it is where it is, when the status alone does not say (as `reason` in `GET /v1/notifications/{id}`). */
      reason: z.enum(FAILURE_REASONS).optional(),
      /** `notification.failed`: when the next attempt is due. */
      nextAttemptAt: instant.optional(),
      /** `notification.sent`: when WaChap accepted it. */
      sentAt: instant.optional(),
      /** Failures: the last error, classified. */
      error: z
        .object({
          type: z.string(),
          message: z.string(),
          classification: z.enum(['temporary', 'permanent']),
          scope: z.enum(['recipient', 'provider', 'transient']),
          reason: z.enum(FAILURE_REASONS),
        })
        .optional(),
    }),
  })
  .meta({ id: 'NotificationEvent', description: 'A change of a notification’s status, POSTed to its callbackUrl.' });

export type CallbackEvent = z.infer<typeof callbackEventSchema>;
