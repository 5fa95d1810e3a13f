// The body of POST /notifications: its shape, checked at the edge before any use case runs. What only the
// moment can tell (is the number real, is expiresAt in the future) is ingest's to check. Free text (name, title,
// message) must show something and hide nothing: see visible-text.ts.
import * as z from 'zod';
import { type IngestRequest, idempotencyKey } from '../application/ingest.js';
import { CATEGORY_SLUG, PRIORITIES } from '../domain/notification.js';
import { visibleText } from './visible-text.js';

export const MAX_MESSAGE_LENGTH = 4096;
const timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-24T18:00:00Z' });
export const notificationRequestSchema = z
  .strictObject({
    recipient: z.strictObject({
      phone: z
        .string()
        .min(1)
        .max(32)
        .meta({
          description:
            'Any usual writing (spaces, dashes and brackets are dropped); a national number is read in the ' +
            "stage's DEFAULT_COUNTRY (a Malian 0XXXXXXXX becomes +223XXXXXXXX). It must be a valid number WhatsApp " +
            'can reach: toll-free, premium-rate and other service numbers are refused.',
          examples: ['+22370123456'],
        }),
      name: visibleText(120).optional().meta({ description: "The recipient's name, for the record." }),
      email: z
        .email({ message: 'must be an e-mail address, e.g. awa@example.com' })
        .max(254)
        .optional()
        .meta({
          description:
            "Where the notification goes by email (SES) when WhatsApp cannot take it: the number is invalid or not on WhatsApp, or WhatsApp's provider is down as its validity runs out. Only for the categories the stage lets fall back (by default all but information_generale); never on both channels.",
          examples: ['awa@example.com'],
        }),
    }),
    category: z
      .string()
      .regex(CATEGORY_SLUG, 'must be a lowercase slug such as colis_arrive, lot_ferme or otp')
      .meta({
        description:
          'An open set of lowercase slugs: colis_arrive, colis_livre, lot_ferme, otp, information_generale… ' +
          '`otp` defaults to priority high and a 10-minute validity.',
        examples: ['colis_arrive'],
      }),
    title: visibleText(200).optional().meta({ description: 'Shown in bold above the message.' }),
    message: visibleText(MAX_MESSAGE_LENGTH).meta({
      description:
        'The text sent. Free text must show something and hide nothing: control characters (but tab and newline), ' +
        'bidirectional overrides and text without a visible character are refused; CRLF becomes LF, the ends are trimmed.',
    }),
    priority: z.enum(PRIORITIES).optional().meta({
      description:
        "high travels the priority lane; by default high for otp and the stage's critical categories, else normal.",
    }),
    expiresAt: timestamp.optional().meta({ description: 'Not sent after this instant (it expires instead).' }),
    ttlSeconds: z
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional()
      .meta({ description: 'Not sent after this many seconds from acceptance (or from sendAt).' }),
    sendAt: timestamp.optional().meta({ description: 'Not sent before this instant.' }),
    idempotencyKey: idempotencyKey.optional().meta({
      description:
        'The same key with the same request answers 200 with the first notification; with another request 422. ' +
        'Or send it as the Idempotency-Key header (both: they must be equal). Kept 48 h.',
    }),
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
  })
  // The contract's name and description (shared/http/openapi.ts); metadata only, it accepts the same.
  .meta({
    id: 'NotificationRequest',
    description:
      'A WhatsApp notification to send. Unknown fields are refused; give expiresAt or ttlSeconds, not both; ' +
      'expiresAt must be after sendAt.',
  });

export type NotificationRequestBody = z.infer<typeof notificationRequestSchema>;
// The edge hands ingest exactly what it accepts.
const matchesIngest: NotificationRequestBody extends IngestRequest ? true : false = true;
void matchesIngest;
