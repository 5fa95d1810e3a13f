// Provider text in the admin's alerts: a WaChap error text is carried into the e-mail subject and the WhatsApp
// alert, so its control characters must not survive there (a "\r\nBcc: x@evil" would start a header line of its
// own), whatever the text. The mailer applies the same rule to whatever subject it is given, as the last line of
// defence, and refuses a recipient that is not one plain address.
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { type HealthAlert, providerUnavailableAlert } from '../../shared/domain/health.js';
import type { ProviderState } from '../../shared/domain/provider-circuit.js';
import { alertEmail, alertWhatsApp } from '../../shared/presentation/alert-messages.js';
import { AWKWARD_PIECES } from '../support/arbitraries.js';

const NOW = new Date('2026-03-01T08:00:00Z');
const ADMIN = 'admin@ts-aircargo.com';
const INJECTED = 'Unauthorized: token expired\r\nBcc: x@evil.example\r\nSubject: pwned';

/** Written out here rather than imported: C0, DEL, C1, U+2028/2029 and the bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const openedBy = (
  reason: string,
  recommendation = 'Renew the WaChap access token in the dashboard.',
): ProviderState => ({
  status: 'unavailable',
  since: '2026-03-01T07:30:00.000Z',
  reason,
  errorType: 'http_error',
  recommendation,
  version: 1,
});

const otherAlert = (summary: string): HealthAlert => ({
  kind: 'failure_burst',
  severity: 'warning',
  summary,
  figures: { failures: 3 },
  recommendation: summary,
});

/** Any text, with the pieces bad input is made of (controls, bidi overrides, lone surrogates, CR/LF). */
const outsideText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .array(fc.oneof(fc.constantFrom(...AWKWARD_PIECES, '\r\n', '\r', '\n', '\u0085', '\t'), fc.string()), {
      maxLength: 40,
    })
    .map((pieces) => pieces.join('')),
);

const codePoints = (text: string) => Array.from(text).length;

describe('the alert e-mail built from a provider text with CR/LF', () => {
  it('has a one-line subject: the injected "Bcc:" stays plain text of the same line', () => {
    const email = alertEmail([providerUnavailableAlert(openedBy(`HTTP 401: ${INJECTED}`), NOW)], ADMIN, NOW);

    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).not.toMatch(CONTROL);
    expect(email.subject).toContain('Unauthorized: token expired Bcc: x@evil.example Subject: pwned');
    expect(email.to).toBe(ADMIN);
  });

  it('keeps each alert of the body on its own lines, the provider text on one of them', () => {
    const email = alertEmail([providerUnavailableAlert(openedBy(`HTTP 401: ${INJECTED}`), NOW)], ADMIN, NOW);

    expect(email.text.split('\n').filter((line) => /^\s*(Bcc|Subject):/i.test(line))).toEqual([]);
    expect(email.text).not.toMatch(/\r/);
    expect(email.html).not.toMatch(/[\r]|\nBcc:/);
  });

  it('never has a control character in the subject, and at most 200 characters, whatever the texts', () => {
    fc.assert(
      fc.property(outsideText, outsideText, outsideText, (reason, recommendation, other) => {
        const alerts = [providerUnavailableAlert(openedBy(reason, recommendation), NOW), otherAlert(other)];
        const { subject } = alertEmail(alerts, ADMIN, NOW);
        expect(subject).not.toMatch(CONTROL);
        expect(codePoints(subject)).toBeLessThanOrEqual(200);
        expect(subject).toMatch(/^\[CRITICAL\] WhatsApp notifications: /);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the WhatsApp alert built from a provider text with CR/LF', () => {
  it('keeps the provider text on one line: no line of its own starts with "Bcc:"', () => {
    const text = alertWhatsApp([providerUnavailableAlert(openedBy(`HTTP 401: ${INJECTED}`), NOW)]);

    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('*ALERTE CRITICAL*');
    expect(lines[1]).toContain('Unauthorized: token expired Bcc: x@evil.example Subject: pwned');
    expect(text).not.toMatch(/\r/);
  });

  it('has only its own line breaks and no other control character, and stays bounded, whatever the texts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(outsideText, outsideText), { minLength: 1, maxLength: 6 }), (texts) => {
        const alerts = texts.map(([reason, recommendation]) =>
          providerUnavailableAlert(openedBy(reason, recommendation), NOW),
        );
        const text = alertWhatsApp(alerts);
        // Three lines per alert (title, summary, what to do), a blank line between two alerts.
        expect(text.split('\n')).toHaveLength(alerts.length * 4 - 1);
        expect(text.replaceAll('\n', ' ')).not.toMatch(CONTROL);
        expect(codePoints(text)).toBeLessThanOrEqual(4096);
      }),
      { numRuns: 300 },
    );
  });
});

describe('SesMailer, the last line of defence', () => {
  const client = new SESClient({ region: 'us-east-1' });
  const ses = mockClient(client);
  afterEach(() => ses.reset());
  afterAll(() => ses.restore());

  const sent = () => ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input);

  it('sends a subject with CR/LF on one line, to the one recipient, with no other destination', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const mailer = new SesMailer(client, 'alerts@ts-aircargo.com');

    await mailer.send({ to: ADMIN, subject: `[CRITICAL] ${INJECTED}`, text: 'body', html: '<p>body</p>' });

    const [input] = sent();
    expect(input?.Message?.Subject?.Data).toBe(
      '[CRITICAL] Unauthorized: token expired Bcc: x@evil.example Subject: pwned',
    );
    expect(input?.Destination).toEqual({ ToAddresses: [ADMIN] });
    expect(input?.Source).toBe('alerts@ts-aircargo.com');
  });

  it('never passes a control character on in the subject, whatever it is given', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const mailer = new SesMailer(client, 'alerts@ts-aircargo.com');
    await fc.assert(
      fc.asyncProperty(outsideText, async (subject) => {
        ses.resetHistory();
        await mailer.send({ to: ADMIN, subject, text: '', html: '' });
        const data = sent()[0]?.Message?.Subject?.Data ?? '';
        expect(data).not.toMatch(CONTROL);
        expect(codePoints(data)).toBeLessThanOrEqual(200);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    `${ADMIN}\r\nBcc: x@evil.example`,
    `${ADMIN}, x@evil.example`,
    'Admin <admin@ts-aircargo.com>',
    `${ADMIN}\u0000`,
    '',
  ])('refuses to send to %j, and calls SES not at all', async (to) => {
    const mailer = new SesMailer(client, 'alerts@ts-aircargo.com');
    await expect(mailer.send({ to, subject: 'alert', text: '', html: '' })).rejects.toThrow(
      /recipient is not one plain e-mail address/,
    );
    expect(sent()).toEqual([]);
  });
});
