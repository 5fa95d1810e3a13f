// Admin alert emails through SES (v1 SendEmail: what SES and the local aws-ses-v2-local both speak).
// The last line of defence for the headers: whoever built the email, the subject goes out on one line with no
// control character, and the sender and the recipient must each be one plain address, so that no text from
// outside (a provider's error, a malformed secret) can add a header or a recipient.
import { type SESClient, SendEmailCommand } from '@aws-sdk/client-ses';

import type { Email, Mailer } from '../../application/ports.js';
import { CONTROL_CHARACTER, EMAIL_SUBJECT_MAX_LENGTH, oneLine } from '../../presentation/plain-text.js';

export class MailerError extends Error {
  override readonly name = 'MailerError';
}

/** local@domain and nothing else: no display name, no list, no space, no control character. */
const PLAIN_ADDRESS = /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+$/u;

function plainAddress(address: string, role: 'sender' | 'recipient'): string {
  if (!PLAIN_ADDRESS.test(address) || CONTROL_CHARACTER.test(address)) {
    // The address itself is left out of the message: it may be anything.
    throw new MailerError(`refusing to send an alert email: the ${role} is not one plain e-mail address`);
  }
  return address;
}

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESClient,
    private readonly from: string,
  ) {}

  async send(email: Email): Promise<{ messageId?: string }> {
    const source = plainAddress(this.from, 'sender');
    const to = plainAddress(email.to, 'recipient');
    const result = await this.client.send(
      new SendEmailCommand({
        Source: source,
        Destination: { ToAddresses: [to] },
        Message: {
          Subject: { Data: oneLine(email.subject, EMAIL_SUBJECT_MAX_LENGTH), Charset: 'UTF-8' },
          Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
        },
      }),
    );
    return result.MessageId ? { messageId: result.MessageId } : {};
  }
}
