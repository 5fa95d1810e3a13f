import { describe, expect, it } from 'vitest';
import { NOTIFICATION_EMAIL_FOOTER, notificationEmail } from '../../shared/presentation/notification-email.js';
import { EMAIL_SUBJECT_MAX_LENGTH } from '../../shared/presentation/plain-text.js';

const recipient = { phone: '+22370123456', name: 'Awa', email: 'awa@example.com' };

describe('notificationEmail', () => {
  it('says the title and the message in French, with the footer', () => {
    const email = notificationEmail({
      recipient,
      title: 'Votre colis est arrivé',
      message: 'Il vous attend à Bamako.',
    });
    expect(email.subject).toBe('Votre colis est arrivé');
    expect(email.text).toContain('Bonjour Awa,');
    expect(email.text).toContain('Il vous attend à Bamako.');
    expect(email.text).toContain(NOTIFICATION_EMAIL_FOOTER);
    expect(NOTIFICATION_EMAIL_FOOTER).toMatch(/^Message envoyé par TS Air Cargo/);
    expect(email.html).toContain('<html lang="fr">');
    expect(email.html).toContain('Il vous attend à Bamako.');
  });

  it('escapes everything from the caller in the HTML, and keeps it as written in the text', () => {
    const email = notificationEmail({
      recipient: { ...recipient, name: '<b>Awa</b>' },
      title: 'Code <script>',
      message: 'Votre code: <img src=x onerror=alert(1)> & "merci"',
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;merci&quot;');
    expect(email.html).toContain('&lt;b&gt;Awa&lt;/b&gt;');
    expect(email.text).toContain('Votre code: <img src=x onerror=alert(1)> & "merci"');
  });

  it('puts the subject on one line, bounded', () => {
    const email = notificationEmail({
      recipient,
      title: `Ligne 1\r\nBcc: x@evil.example ${'a'.repeat(500)}`,
      message: 'm',
    });
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(Array.from(email.subject).length).toBeLessThanOrEqual(EMAIL_SUBJECT_MAX_LENGTH);
  });
});
