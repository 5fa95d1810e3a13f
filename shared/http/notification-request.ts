// The body of POST /notifications: its shape, checked at the edge before any use case runs. What only the
// moment can tell (is the number real, is expiresAt in the future) is ingest's to check. Free text (name, title,
// message) must show something and hide nothing: see visible-text.ts.
import { z } from 'zod';
import { type IngestRequest, idempotencyKey } from '../application/ingest.js';
import { CATEGORY_SLUG, PRIORITIES } from '../domain/notification.js';
import { visibleText } from './visible-text.js';

export const MAX_MESSAGE_LENGTH = 4096;
const timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-24T18:00:00Z' });
export const notificationRequestSchema = z
  .strictObject({
    recipient: z.strictObject({
      phone: z.string().min(1).max(32),
      name: visibleText(120).optional(),
    }),
    category: z.string().regex(CATEGORY_SLUG, 'must be a lowercase slug such as colis_arrive, lot_ferme or otp'),
    title: visibleText(200).optional(),
    message: visibleText(MAX_MESSAGE_LENGTH),
    priority: z.enum(PRIORITIES).optional(),
    expiresAt: timestamp.optional(),
    ttlSeconds: z
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional(),
    sendAt: timestamp.optional(),
    idempotencyKey: idempotencyKey.optional(),
    // http(s) only; where it may point (https, public addresses) is ingest's to check, by the stage's policy.
    callbackUrl: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. https://tms.example.com/hooks/wachap' })
      .max(2048)
      .optional(),
  })
  .refine((body) => !(body.expiresAt && body.ttlSeconds), {
    message: 'give expiresAt or ttlSeconds, not both',
    path: ['ttlSeconds'],
  })
  .refine((body) => !body.expiresAt || !body.sendAt || Date.parse(body.expiresAt) > Date.parse(body.sendAt), {
    message: 'must be after sendAt',
    path: ['expiresAt'],
  });

export type NotificationRequestBody = z.infer<typeof notificationRequestSchema>;
// The edge hands ingest exactly what it accepts.
const matchesIngest: NotificationRequestBody extends IngestRequest ? true : false = true;
void matchesIngest;
