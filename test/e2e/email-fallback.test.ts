// Email as the fallback channel, end to end: a notification posted over HTTP for a number WhatsApp does not know
// (the sandbox's invalid numbers answer "not registered on WhatsApp"), with an email address, reaches the local SES
// as the French email; the record says it went by email. A general-information notification in the same situation
// is not allowed to fall back: it fails permanently and nobody gets an email.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../../shared/domain/notification.js';
import { NOTIFICATION_EMAIL_FOOTER } from '../../shared/presentation/notification-email.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitForOutcome,
} from '../support/local-stack.js';

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack();
});
afterAll(async () => {
  await e2e?.stop();
});

async function postFor(phone: string, email: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const request = notificationRequest(phone, overrides);
  const accepted = await e2e.post({ ...request, recipient: { ...request.recipient, email } });
  expect(accepted.status).toBe(202);
  return accepted.body.id!;
}

describe('email fallback', () => {
  it('sends a notification for a number not on WhatsApp by email, once, and records the channel', async () => {
    const phone = malianPhone(60);
    await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [phone.slice(1)] });

    const id = await postFor(phone, 'awa.traore@example.com');
    const stored = await waitForOutcome(e2e, id, (n) => isTerminal(n.status));

    expect(stored).toMatchObject({ status: 'sent', channel: 'email', attempts: 2 });
    expect(stored.externalMessageId).toBeDefined();
    // The WhatsApp attempt and the email one, each under its channel.
    expect(stored.history.map((h) => [h.channel, h.outcome])).toEqual([
      ['whatsapp', 'permanent_failure'],
      ['email', 'sent'],
    ]);
    const emails = (await e2e.emails()).filter((email) => email.destination.to.includes('awa.traore@example.com'));
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: 'notifications@ts-aircargo.local', subject: 'Votre colis est arrivé' });
    expect(emails[0]?.body.text).toContain('votre colis 42 vous attend au point relais de Bamako.');
    expect(emails[0]?.body.text).toContain(NOTIFICATION_EMAIL_FOOTER);
    expect((await e2e.inbox()).messages.filter((m) => m.to === phone.slice(1))).toEqual([]);
  });

  it('never falls back for a general information: permanent failure, no email', async () => {
    const phone = malianPhone(61);
    await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [phone.slice(1)] });

    const id = await postFor(phone, 'info.only@example.com', {
      category: 'information_generale',
      title: 'Information',
    });
    const stored = await waitForOutcome(e2e, id, (n) => isTerminal(n.status));

    expect(stored).toMatchObject({ status: 'permanent_failure', channel: 'whatsapp', reason: 'permanent_error' });
    expect((await e2e.emails()).filter((email) => email.destination.to.includes('info.only@example.com'))).toEqual([]);
  });

  it('refuses a malformed email address at the door', async () => {
    const request = notificationRequest(malianPhone(62));
    const answer = await e2e.post({ ...request, recipient: { ...request.recipient, email: 'not an address' } });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('recipient.email');
  });
});
