// SES as the soak plays it, behind the real email channel (adapters/ses/email-channel.ts): every email it accepts is
// kept per address, so that the audit can tell a notification delivered on both channels, or emailed twice. Some
// sends are throttled, as SES does under a burst (the channel classifies them, the sender retries them by email).
import type { Email, Mailer } from '../../shared/application/ports.js';

export const emailOf = (index: number): string => `client-${index}@example.com`;

export class FakeMailbox implements Mailer {
  /** Emails accepted, per address. */
  readonly ledger = new Map<string, number>();
  sends = 0;
  throttled = 0;

  constructor(private readonly options: { random: () => number; throttleRate: number }) {}

  async send(email: Email): Promise<{ messageId: string }> {
    if (this.options.random() < this.options.throttleRate) {
      this.throttled++;
      throw Object.assign(new Error('Maximum sending rate exceeded.'), {
        name: 'Throttling',
        $metadata: { httpStatusCode: 400 },
      });
    }
    this.sends++;
    this.ledger.set(email.to, (this.ledger.get(email.to) ?? 0) + 1);
    return { messageId: `ses-${this.sends}` };
  }
}
