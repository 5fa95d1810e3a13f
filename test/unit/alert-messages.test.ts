// Provider text in the admin's alerts: a WaChap error text is carried into the e-mail subject and the WhatsApp
// alert, so its control characters must not survive there (a "\r\nBcc: x@evil" would start a header line of its
// own), whatever the text. The mailer applies the same rule to whatever subject it is given, as the last line of
// defence, and refuses a recipient that is not one plain address.
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CIRCUIT_OPTIONS, circuitPayloadOf } from '../../bin/cli/circuit-args.js';
import { parseFlags } from '../../bin/cli/flags.js';
import { parseNotificationsArgs } from '../../bin/cli/notifications-args.js';
import { RETRY_OPTIONS, retryPayloadOf } from '../../bin/cli/retry-args.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import {
  type AffectedNotification,
  type AlertKind,
  affectedNotification,
  evaluateHealth,
  type HealthAlert,
  providerUnavailableAlert,
} from '../../shared/domain/health.js';
import type { ProviderState } from '../../shared/domain/provider-circuit.js';
import { type AlertToSend, alertEmail, alertWhatsApp } from '../../shared/presentation/alert-messages.js';
import { formatDuration, formatInstant, formatRatio } from '../../shared/presentation/figures.js';
import { AWKWARD_PIECES } from '../support/arbitraries.js';
import { makeNotification } from '../support/fixtures.js';

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

/** Another alert whose affected notification carries outside text (its last error). */
const otherAlert = (lastError: string): AlertToSend => ({
  kind: 'failure_burst',
  severity: 'warning',
  figures: { failures: 3, attempts: 3, threshold: 3 },
  affected: [
    {
      id: '01KB8Z4N6QXW3E2R7T9Y5V1K0P',
      phone: '*******3456',
      category: 'otp',
      status: 'failed',
      lastError: { type: 'http_error', message: lastError },
    },
  ],
});

const LOCAL = { stage: 'local' };

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
    const email = alertEmail([providerUnavailableAlert(openedBy(`HTTP 401: ${INJECTED}`), NOW)], ADMIN, NOW, LOCAL);

    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).not.toMatch(CONTROL);
    expect(email.subject).toContain('Unauthorized: token expired Bcc: x@evil.example Subject: pwned');
    expect(email.to).toBe(ADMIN);
  });

  it('keeps each alert of the body on its own lines, the provider text on one of them', () => {
    const email = alertEmail([providerUnavailableAlert(openedBy(`HTTP 401: ${INJECTED}`), NOW)], ADMIN, NOW, LOCAL);

    expect(email.text.split('\n').filter((line) => /^\s*(Bcc|Subject):/i.test(line))).toEqual([]);
    expect(email.text).not.toMatch(/\r/);
    expect(email.html).not.toMatch(/[\r]|\nBcc:/);
  });

  it('never has a control character in the subject, and at most 200 characters, whatever the texts', () => {
    fc.assert(
      fc.property(outsideText, outsideText, outsideText, (reason, recommendation, other) => {
        const alerts = [providerUnavailableAlert(openedBy(reason, recommendation), NOW), otherAlert(other)];
        const { subject, text, html } = alertEmail(alerts, ADMIN, NOW, LOCAL);
        expect(subject).not.toMatch(CONTROL);
        expect(codePoints(subject)).toBeLessThanOrEqual(200);
        expect(subject).toMatch(/^\[local\] \[CRITIQUE\] Notifications WhatsApp : .* \(\+1 autre\)$/);
        // Every line of the body is one of ours: the outside texts add none.
        expect(text.replaceAll('\n', ' ')).not.toMatch(CONTROL);
        expect(html.replaceAll('\n', ' ')).not.toMatch(CONTROL);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the WhatsApp alert built from a provider text with CR/LF', () => {
  it('keeps the provider text on one line: no line of its own starts with "Bcc:"', () => {
    const text = alertWhatsApp([providerUnavailableAlert(openedBy(`HTTP 401: ${INJECTED}`), NOW)], LOCAL);

    const lines = text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^🔴 \[local\] WaChap est indisponible/);
    expect(lines[0]).toContain('Unauthorized: token expired Bcc: x@evil.example Subject: pwned');
    expect(lines[1]).toMatch(/^À faire : /);
    expect(text).not.toMatch(/\r/);
  });

  it('has only its own line breaks and no other control character, and stays bounded, whatever the texts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(outsideText, outsideText), { minLength: 1, maxLength: 6 }), (texts) => {
        const alerts = texts.map(([reason, recommendation]) =>
          providerUnavailableAlert(openedBy(reason, recommendation), NOW),
        );
        const text = alertWhatsApp(alerts, LOCAL);
        // One line per alert, then the one thing to do.
        expect(text.split('\n')).toHaveLength(alerts.length + 1);
        expect(text.replaceAll('\n', ' ')).not.toMatch(CONTROL);
        expect(codePoints(text)).toBeLessThanOrEqual(4096);
      }),
      { numRuns: 300 },
    );
  });
});

/** Every alert kind at once, from figures that trip each threshold (20 of 30 sends failed: 66.7 %). */
function everyKind(): HealthAlert[] {
  const alerts = evaluateHealth({
    lastHour: { attempts: 30, sent: 10, temporaryFailures: 20, permanentFailures: 0, otpFailures: 12 },
    last24Hours: { attempts: 300, sent: 280, temporaryFailures: 13, permanentFailures: 7 },
    consecutiveFailures: 6,
    dlqDepth: 2,
    backlog: { count: 1234, oldestDueAt: new Date(NOW.getTime() - 125 * 60_000).toISOString() },
    provider: { ...openedBy('HTTP 401: Unauthorized: token expired'), since: '2026-03-01T07:46:00.000Z' },
    now: NOW,
  });
  expect(alerts.map((a) => a.kind).sort()).toEqual(ALL_KINDS);
  return alerts;
}

const ALL_KINDS: AlertKind[] = [
  'consecutive_failures',
  'dead_letters',
  'failure_burst',
  'failure_rate',
  'otp_failures',
  'permanent_failures',
  'provider_unavailable',
  'stale_backlog',
].sort() as AlertKind[];

const FULL_PHONES = ['+22370111001', '+22370111002', '+22370111003', '+22370111004', '+22370111005'];

/** Ten failed notifications, each with a full number and a last error that echoes it, as WaChap's texts do. */
const TEN_AFFECTED: AffectedNotification[] = Array.from({ length: 10 }, (_, i) =>
  affectedNotification(
    makeNotification({
      recipient: { phone: FULL_PHONES[i % FULL_PHONES.length]! },
      category: i % 2 === 0 ? 'otp' : 'colis_arrive',
      status: 'failed',
      lastError: {
        type: 'http_error',
        message: `HTTP 503: number ${FULL_PHONES[i % FULL_PHONES.length]} <b>unreachable</b>`,
        classification: 'temporary',
        scope: 'transient',
        reason: 'temporary_error',
        at: NOW.toISOString(),
      },
    }),
  ),
);

const PROD = {
  stage: 'prod',
  dlqUrl: 'https://sqs.eu-west-3.amazonaws.com/123456789012/WaChapNotifications-prod-SendDlq',
};

const withAffected = (alerts: HealthAlert[]): AlertToSend[] =>
  alerts.map((alert) => (alert.kind === 'dead_letters' ? alert : { ...alert, affected: TEN_AFFECTED }));

/** Every `npm run …` command in a text, as printed (one per line, at the end of it). */
const npmCommands = (text: string) => [...text.matchAll(/npm run ([a-z-]+) --((?: [^\s`]+)*)/g)];

/** Runs the CLI's own parser on a printed command; returns the stage it targets (undefined: the local stack). */
function parsePrinted(script: string, args: string[]): string | undefined {
  switch (script) {
    case 'notifications': {
      const invocation = parseNotificationsArgs(args, NOW);
      if (invocation === 'help') throw new Error('a printed command asks for help');
      return invocation.stage;
    }
    case 'circuit': {
      const flags = parseFlags(args, CIRCUIT_OPTIONS);
      circuitPayloadOf(flags);
      return flags.stage;
    }
    case 'retry': {
      const flags = parseFlags(args, RETRY_OPTIONS);
      retryPayloadOf(flags);
      return flags.stage;
    }
    default:
      throw new Error(`a printed command runs an unknown script: ${script}`);
  }
}

describe('figures as an admin reads them', () => {
  it('formats ratios as percentages with one decimal, in French and in English', () => {
    expect(formatRatio(2 / 3, 'fr')).toBe('66,7 %');
    expect(formatRatio(2 / 3, 'en')).toBe('66.7%');
    expect(formatRatio(0.5, 'fr')).toBe('50,0 %');
  });

  it('formats durations in minutes, hours and days, and instants in UTC to the minute', () => {
    expect(formatDuration(12, 'fr')).toBe('12 min');
    expect(formatDuration(125, 'en')).toBe('2 h 05 min');
    expect(formatDuration(60 * 50, 'fr')).toBe('2 j 2 h');
    expect(formatInstant('2026-03-01T07:46:12.345Z', 'fr')).toBe('01/03/2026 07:46 UTC');
    expect(formatInstant('2026-03-01T07:46:12.345Z', 'en')).toBe('2026-03-01 07:46 UTC');
  });
});

describe('the alert e-mail, for each kind of alert', () => {
  const alerts = everyKind();

  it.each(ALL_KINDS)('%s: the subject names the stage and the severity in French', (kind) => {
    const alert = alerts.find((a) => a.kind === kind)!;

    const { subject } = alertEmail(withAffected([alert]), ADMIN, NOW, PROD);

    const severity = alert.severity === 'critical' ? 'CRITIQUE' : 'AVERTISSEMENT';
    expect(subject.startsWith(`[prod] [${severity}] Notifications WhatsApp : `)).toBe(true);
    expect(codePoints(subject)).toBeLessThanOrEqual(200);
  });

  it.each(ALL_KINDS)('%s: figures are formatted, never a raw fraction like 0.666', (kind) => {
    const alert = alerts.find((a) => a.kind === kind)!;

    const { text, html } = alertEmail(withAffected([alert]), ADMIN, NOW, PROD);

    expect(text).not.toMatch(/\b0\.\d{3,}/);
    expect(html).not.toMatch(/\b0\.\d{3,}/);
    // No epoch milliseconds either: an instant reads as a date.
    expect(text).not.toMatch(/\d{13}/);
  });

  it.each(ALL_KINDS)('%s: French first, then English', (kind) => {
    const alert = alerts.find((a) => a.kind === kind)!;

    const { text, html } = alertEmail(withAffected([alert]), ADMIN, NOW, PROD);

    const severity = alert.severity === 'critical' ? ['[CRITIQUE]', '[CRITICAL]'] : ['[AVERTISSEMENT]', '[WARNING]'];
    for (const body of [text, html]) {
      expect(body.indexOf(severity[0]!)).toBeGreaterThanOrEqual(0);
      expect(body.indexOf(severity[0]!)).toBeLessThan(body.indexOf(severity[1]!));
      expect(body.indexOf('Que faire')).toBeLessThan(body.indexOf('What to do'));
    }
  });

  it.each(ALL_KINDS)('%s: every command printed parses with the CLI and targets the stage', (kind) => {
    const alert = alerts.find((a) => a.kind === kind)!;

    const { text } = alertEmail(withAffected([alert]), ADMIN, NOW, PROD);

    const commands = npmCommands(text);
    if (kind !== 'dead_letters') expect(commands.length).toBeGreaterThan(0);
    for (const [printed, script, rest] of commands) {
      const args = rest!.trim().split(' ');
      expect(parsePrinted(script!, args), printed).toBe('prod');
    }
  });

  it('prints the figures of the failure rate as percentages, and its counts', () => {
    const rate = alerts.find((a) => a.kind === 'failure_rate')!;

    const { text, subject } = alertEmail([rate], ADMIN, NOW, PROD);

    expect(subject).toBe(
      '[prod] [CRITIQUE] Notifications WhatsApp : 66,7 % des envois WhatsApp en échec dans la dernière heure (20 sur 30 ; seuil 50,0 %).',
    );
    expect(text).toContain("Taux d'échec : 66,7 %");
    expect(text).toContain('66.7% of WhatsApp sends failed in the last hour (20 of 30; threshold 50.0%).');
    expect(text).toContain('Failure rate: 66.7%');
  });

  it('prints counts, durations and instants readably', () => {
    const { text } = alertEmail(
      alerts.filter((a) => a.kind === 'stale_backlog' || a.kind === 'provider_unavailable'),
      ADMIN,
      NOW,
      PROD,
    );

    expect(text).toContain('1 234 notification(s) à envoyer, la plus ancienne attend depuis 2 h 05 min.');
    expect(text).toContain('1,234 notification(s) are due, the oldest for 2 h 05 min.');
    expect(text).toContain('WaChap est indisponible depuis le 01/03/2026 07:46 UTC (14 min)');
    expect(text).toContain('Circuit ouvert le : 01/03/2026 07:46 UTC');
  });

  it('lists up to 10 affected notifications: id, masked phone, category, last error; never a full number', () => {
    const burst = alerts.find((a) => a.kind === 'failure_burst')!;

    const { text, html } = alertEmail([{ ...burst, affected: TEN_AFFECTED }], ADMIN, NOW, PROD);

    expect(text).toContain('Notifications concernées (les 10 plus récentes) :');
    expect(text).toContain('Notifications concerned (the 10 newest):');
    for (const n of TEN_AFFECTED) {
      const line = text.split('\n').find((l) => l.includes(n.id))!;
      expect(line).toContain(n.phone);
      expect(line).toContain(` · ${n.category} · failed · http_error: HTTP 503: number `);
    }
    expect(TEN_AFFECTED[0]!.phone).toBe('*******1001');
    for (const phone of FULL_PHONES) {
      for (const body of [text, html]) {
        expect(body).not.toContain(phone);
        expect(body).not.toContain(phone.slice(1));
      }
    }
  });

  it('says when none could be found, and shows no list for an alert that has none (the DLQ is not read)', () => {
    const burst = alerts.find((a) => a.kind === 'failure_burst')!;
    const dead = alerts.find((a) => a.kind === 'dead_letters')!;

    const { text } = alertEmail([{ ...burst, affected: [] }, dead], ADMIN, NOW, PROD);

    expect(text).toContain('Notifications concernées : aucune trouvée');
    expect(text.match(/Notifications concernées/g)).toHaveLength(1);
  });

  it('prints the commands for the stage: the re-drive dry run, the circuit, the DLQ redrive on AWS', () => {
    const { text } = alertEmail(withAffected(alerts), ADMIN, NOW, PROD);

    expect(text).toContain('npm run notifications -- --stage prod list --status=failed,permanent_failure --since=24h');
    expect(text).toContain('npm run notifications -- --stage prod retry --status=failed --since=24h --dry-run');
    expect(text).toContain(
      'npm run notifications -- --stage prod retry --status=permanent_failure --since=24h --dry-run',
    );
    expect(text).toContain(
      'npm run notifications -- --stage prod list --status=failed,permanent_failure,expired --category=otp --since=1h',
    );
    expect(text).toContain('npm run notifications -- --stage prod list --status=failed --reason=provider_unavailable');
    expect(text).toContain('npm run circuit -- --stage prod --status');
    expect(text).toContain('npm run circuit -- --stage prod --probe');
    expect(text).toContain('npm run retry -- --stage prod --dry-run --verbose');
    expect(text).toContain(
      `aws --region eu-west-3 sqs receive-message --queue-url ${PROD.dlqUrl} --max-number-of-messages 10 --visibility-timeout 0`,
    );
    expect(text).toContain(
      'aws --region eu-west-3 sqs start-message-move-task --source-arn arn:aws:sqs:eu-west-3:123456789012:WaChapNotifications-prod-SendDlq',
    );
  });

  it('prints the local stack commands without --stage, and the local DLQ read through its endpoint', () => {
    const local = { stage: 'local', dlqUrl: 'http://127.0.0.1:9324/000000000000/send-dlq' };

    const { text, subject } = alertEmail(withAffected(alerts), ADMIN, NOW, local);

    expect(subject).toMatch(/^\[local\] \[CRITIQUE\] /);
    for (const [printed, script, rest] of npmCommands(text)) {
      expect(printed).not.toContain('--stage');
      expect(parsePrinted(script!, rest!.trim().split(' ')), printed).toBeUndefined();
    }
    expect(text).toContain('aws --endpoint-url http://127.0.0.1:9324 sqs receive-message');
    expect(text).not.toContain('start-message-move-task');
  });

  it('links the operations page when one is configured', () => {
    const { text, html } = alertEmail(withAffected(alerts), ADMIN, NOW, {
      ...PROD,
      operationsPageUrl: 'https://ops.example.com/notifications?stage=prod&view=failed',
    });

    expect(text).toContain('Page des opérations : https://ops.example.com/notifications?stage=prod&view=failed');
    expect(text).toContain('Operations page: https://ops.example.com/notifications?stage=prod&view=failed');
    expect(html).toContain(
      '<a href="https://ops.example.com/notifications?stage=prod&amp;view=failed">https://ops.example.com/notifications?stage=prod&amp;view=failed</a>',
    );
  });

  it('escapes outside text in the HTML: the provider reason, the last errors', () => {
    const provider = providerUnavailableAlert(openedBy('HTTP 401: <script>alert(1)</script> & "quotes"'), NOW);

    const { html } = alertEmail([{ ...provider, affected: TEN_AFFECTED }], ADMIN, NOW, PROD);

    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>unreachable</b>');
    expect(html).toContain('HTTP 401: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('&lt;b&gt;unreachable&lt;/b&gt;');
  });
});

describe('the WhatsApp alert', () => {
  const alerts = everyKind().filter((a) => a.severity === 'critical');

  it('is short and French: one line per alert with the stage, then the one thing to do with its command', () => {
    const provider = alerts.find((a) => a.kind === 'provider_unavailable')!;

    const text = alertWhatsApp([provider], PROD);

    expect(text).toBe(
      [
        "🔴 [prod] WaChap est indisponible depuis le 01/03/2026 07:46 UTC (14 min) : HTTP 401: Unauthorized: token expired. Les notifications sont retenues, aucune n'est perdue.",
        'À faire : rétablir le compte WaChap (abonnement, jeton, instance connectée) puis npm run circuit -- --stage prod --probe',
      ].join('\n'),
    );
  });

  it('names the worst alert’s action once, whatever the number of alerts, and its command parses', () => {
    const text = alertWhatsApp(alerts, PROD);

    const lines = text.split('\n');
    expect(lines).toHaveLength(alerts.length + 1);
    expect(lines.slice(0, -1).every((line) => line.startsWith('🔴 [prod] '))).toBe(true);
    expect(lines.filter((line) => line.startsWith('À faire : '))).toHaveLength(1);
    expect(text).not.toMatch(/What to do|failed in the last hour/);
    expect(text).toContain('66,7 % des envois WhatsApp en échec');
    for (const [printed, script, rest] of npmCommands(text)) {
      expect(parsePrinted(script!, rest!.trim().split(' ')), printed).toBe('prod');
    }
  });

  it.each(alerts.map((a) => a.kind))('%s: its to-do has a command that parses for the stage', (kind) => {
    const text = alertWhatsApp(
      alerts.filter((a) => a.kind === kind),
      PROD,
    );

    const commands = npmCommands(text.split('\n').at(-1)!);
    expect(commands).toHaveLength(1);
    const [printed, script, rest] = commands[0]!;
    expect(parsePrinted(script!, rest!.trim().split(' ')), printed).toBe('prod');
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
