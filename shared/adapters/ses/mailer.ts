// Admin alert emails through SES (v1 SendEmail: what SES and the local aws-ses-v2-local both speak).
import { type SESClient, SendEmailCommand } from '@aws-sdk/client-ses';

import type { Email, Mailer } from '../../application/ports.js';

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESClient,
    private readonly from: string,
  ) {}

  async send(email: Email): Promise<{ messageId?: string }> {
    const result = await this.client.send(
      new SendEmailCommand({
        Source: this.from,
        Destination: { ToAddresses: [email.to] },
        Message: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
        },
      }),
    );
    return result.MessageId ? { messageId: result.MessageId } : {};
  }
}
