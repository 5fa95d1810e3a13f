// A notification as the recipient reads it by email (the fallback when WhatsApp cannot take it): French, plain and
// readable. The subject is the title on one line, bounded; the body is the message and a short footer, as text and
// as HTML in which everything from the caller is escaped (a message is free text: "<script>" must stay text).
import type { Notification } from '../domain/notification.js';
import { EMAIL_SUBJECT_MAX_LENGTH, oneLine } from './plain-text.js';

export interface NotificationEmail {
  subject: string;
  text: string;
  html: string;
}

export const NOTIFICATION_EMAIL_FOOTER =
  'Message envoyé par TS Air Cargo. Vous le recevez par e-mail car il n’a pas pu vous être remis sur WhatsApp. ' +
  'Merci de ne pas répondre à cet e-mail.';

const escapeHtml = (text: string): string =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** Paragraphs split on blank lines, line breaks kept: the message reads as the caller wrote it. */
const htmlParagraphs = (text: string): string =>
  text
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>')}</p>`)
    .join('\n');

export function notificationEmail(n: Pick<Notification, 'title' | 'message' | 'recipient'>): NotificationEmail {
  const subject = oneLine(n.title, EMAIL_SUBJECT_MAX_LENGTH) || 'Notification TS Air Cargo';
  const greeting = n.recipient.name ? `Bonjour ${oneLine(n.recipient.name, 120)},` : 'Bonjour,';
  const text = [greeting, '', n.message, '', '--', NOTIFICATION_EMAIL_FOOTER].join('\n');
  const html = `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222;max-width:600px">
<h1 style="font-size:18px">${escapeHtml(subject)}</h1>
<p>${escapeHtml(greeting)}</p>
${htmlParagraphs(n.message)}
<hr style="border:none;border-top:1px solid #ddd">
<p style="color:#666;font-size:12px">${escapeHtml(NOTIFICATION_EMAIL_FOOTER)}</p>
</body>
</html>`;
  return { subject, text, html };
}
