// `npm run notifications` as an operator runs it: a child process calling the operator routes of a local stack
// started in this process, every request SigV4-signed with the local credentials and checked by the local door.
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../shared/adapters/dynamodb/store.js';
import type { NotificationView } from '../../shared/application/operator.js';
import { EXPORT_COLUMNS } from '../../shared/application/operator-export.js';
import type { Notification } from '../../shared/domain/notification.js';
import { makeNotification } from '../support/fixtures.js';
import { type E2eStack, startE2eStack } from '../support/local-stack.js';
import { closedPort, runCli } from '../support/operator-cli.js';

let e2e: E2eStack;
let store: Store;
let apiPort: string;
const notifications = (args: string[], env: Record<string, string> = {}) =>
  runCli('notifications', args, { API_PORT: apiPort, ...env });

/** The words of a command the CLI printed (`npm run notifications -- …`), quotes taken off as a shell would. */
const printedArgs = (line: string): string[] =>
  (line.split(' -- ')[1]!.match(/(?:[^\s']+|'[^']*')+/g) ?? []).map((word) => word.replace(/'/g, ''));

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const LOCAL_OPERATOR = 'arn:aws:iam::000000000000:user/local';

/** A notification that has left the due index: no next attempt. */
function settled(overrides: Partial<Notification>): Notification {
  const { nextAttemptAt: _none, ...rest } = makeNotification(overrides);
  return rest;
}
const lastError = (message: string, at: string): Notification['lastError'] => ({
  type: 'http_error',
  message,
  httpStatus: 400,
  classification: 'permanent',
  scope: 'recipient',
  reason: 'permanent_error',
  at,
});

// Two failed today (one an OTP), one failed days ago; three permanent failures (one to another number, with a
// name and an error text that need CSV quoting); one expired; one sent.
const failedOtp = makeNotification({
  status: 'failed',
  reason: 'temporary_error',
  attempts: 2,
  maxAttempts: 10,
  category: 'otp',
  priority: 'high',
  createdAt: minutesAgo(60),
  updatedAt: minutesAgo(30),
  nextAttemptAt: inMinutes(120),
});
const failedParcel = makeNotification({
  status: 'failed',
  reason: 'temporary_error',
  attempts: 1,
  maxAttempts: 10,
  createdAt: minutesAgo(50),
  updatedAt: minutesAgo(20),
  nextAttemptAt: inMinutes(120),
});
const failedLongAgo = makeNotification({
  status: 'failed',
  reason: 'temporary_error',
  attempts: 1,
  maxAttempts: 10,
  createdAt: minutesAgo(3 * 24 * 60),
  updatedAt: minutesAgo(3 * 24 * 60),
  nextAttemptAt: inMinutes(120),
});
const permanent = [40, 15, 10].map((age, i) =>
  settled({
    status: 'permanent_failure',
    reason: 'permanent_error',
    attempts: 1,
    maxAttempts: 10,
    createdAt: minutesAgo(age + 5),
    updatedAt: minutesAgo(age),
    ...(i === 2
      ? {
          recipient: { phone: '+22376543210', name: 'Traoré, "Awa"' },
          lastError: lastError('Invalid number, "not on WhatsApp"\nsecond line', minutesAgo(age)),
        }
      : { lastError: lastError('Invalid number', minutesAgo(age)) }),
  }),
);
// Not an OTP: an expired OTP's code is stale, and its re-drive is refused (the upstream sends a new one).
const expired = settled({
  status: 'expired',
  reason: 'validity_expired',
  attempts: 3,
  maxAttempts: 3,
  category: 'information_generale',
  createdAt: minutesAgo(25),
  updatedAt: minutesAgo(12),
});
const sent = settled({ status: 'sent', attempts: 1, sentAt: minutesAgo(8), updatedAt: minutesAgo(8) });

beforeAll(async () => {
  e2e = await startE2eStack();
  store = e2e.store;
  apiPort = new URL(e2e.stack.urls.api).port;
  for (const n of [failedOtp, failedParcel, failedLongAgo, ...permanent, expired, sent]) await store.create(n);
});
afterAll(async () => {
  await e2e?.stop();
});

describe('npm run notifications -- show', () => {
  it('prints one notification for a person', async () => {
    const run = await notifications(['show', failedOtp.id]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Notification ${failedOtp.id}`);
    expect(run.stdout).toMatch(/Status\s+: failed \(temporary_error\)\n/);
    expect(run.stdout).toMatch(/Attempts\s+: 2 of 10\n/);
    expect(run.stdout).toMatch(/Category\s+: otp, priority high\n/);
    expect(run.stdout).toMatch(/Recipient\s+: \+22370123456 \(Awa Traoré\)\n/);
  });

  it('--json prints the API view: no claim token, no internal keys', async () => {
    const run = await notifications(['show', failedOtp.id.toLowerCase(), '--json']);

    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as NotificationView & Record<string, unknown>;
    expect(view).toMatchObject({ id: failedOtp.id, status: 'failed', attempts: 2, inFlight: false });
    for (const internal of ['version', 'dueShard', 'queuedAt', 'statusShard', 'pk'])
      expect(view).not.toHaveProperty(internal);
  });

  it('an unknown id exits 1 with the API message', async () => {
    const run = await notifications(['show', '01KB8Z4N6QXW3E2R7T9Y5V1K0P']);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*01KB8Z4N6QXW3E2R7T9Y5V1K0P/);
  });
});

describe('npm run notifications -- list', () => {
  it('--status=failed --since=24h: the failed of the day, newest first', async () => {
    const run = await notifications(['list', '--status=failed', '--since=24h']);

    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^CREATED\s+ID\s+STATUS/);
    const rows = lines.filter((line) => /^\d{4}-/.test(line));
    expect(rows.map((row) => row.split(/\s{2,}/)[1])).toEqual([failedParcel.id, failedOtp.id]);
    expect(run.stdout).toContain('2 notification(s), newest first.');
    expect(run.stdout).not.toContain('More:');
  });

  it('--category=otp narrows it', async () => {
    const run = await notifications(['list', '--status=failed', '--since=24h', '--category=otp', '--json']);

    expect(run.code, run.stderr).toBe(0);
    const page = JSON.parse(run.stdout) as { items: NotificationView[]; nextCursor: string | null };
    expect(page.items.map((n) => n.id)).toEqual([failedOtp.id]);
    expect(page.nextCursor).toBeNull();
  });

  it('--phone in national form finds the number as ingest stored it', async () => {
    const run = await notifications(['list', '--status=permanent_failure', '--phone=76 54 32 10', '--json']);

    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { items: NotificationView[] }).items.map((n) => n.id)).toEqual([
      permanent[2]!.id,
    ]);
  });

  it('--limit stops early and prints the command for the rest, which works as printed', async () => {
    const first = await notifications(['list', '--status=permanent_failure', '--since=7d', '--limit=2']);

    expect(first.code, first.stderr).toBe(0);
    const more = first.stdout.split('\n').find((line) => line.startsWith('More: '));
    // --since pinned as the instant it stood for: the cursor resumes that window only, and the clock moves on.
    expect(more).toMatch(
      /^More: npm run notifications -- list --status=permanent_failure --from=\S+Z --limit=2 --cursor=\S+$/,
    );
    const rest = await notifications(printedArgs(more!));
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).not.toContain('More:');

    const ids = (text: string) => [...text.matchAll(/^\S+ \S+\s+(\w{26})\s/gm)].map((m) => m[1]);
    expect([...ids(first.stdout), ...ids(rest.stdout)]).toEqual([permanent[2]!.id, permanent[1]!.id, permanent[0]!.id]);
  });

  it('a phone the API refuses exits 2 naming the flag', async () => {
    const run = await notifications(['list', '--phone=12']);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: the API refused the request:\n {2}- --phone: /);
  });
});

describe('npm run notifications -- export', () => {
  it('writes RFC 4180 CSV page after page, one header row, that a CSV parser reads back', async () => {
    const run = await notifications(['export', '--status=permanent_failure', '--since=7d', '--page-size=2']);

    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = parseCsv(run.stdout, { relaxColumnCount: false }) as string[][];
    expect(header).toEqual([...EXPORT_COLUMNS]);
    expect(rows).toHaveLength(3);
    const records = rows.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i]])));
    expect(records.map((r) => r.id)).toEqual([permanent[2]!.id, permanent[1]!.id, permanent[0]!.id]);
    expect(records[0]).toMatchObject({
      status: 'permanent_failure',
      reason: 'permanent_error',
      phone: '+22376543210',
      name: 'Traoré, "Awa"',
      lastErrorMessage: 'Invalid number, "not on WhatsApp"\nsecond line',
    });
  });
});

describe('npm run notifications -- cancel', () => {
  it('cancels a failed notification, recording who and why; a second cancel is a conflict', async () => {
    const run = await notifications(['cancel', failedParcel.id, '--reason=sent twice upstream']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Cancelled ${failedParcel.id} (was failed): it will not be sent.`);
    const stored = await store.get(failedParcel.id);
    expect(stored).toMatchObject({ status: 'cancelled', reason: 'cancelled_by_operator' });
    expect(stored?.operatorActions).toEqual([
      expect.objectContaining({ action: 'cancel', from: 'failed', by: LOCAL_OPERATOR, reason: 'sent twice upstream' }),
    ]);

    const again = await notifications(['cancel', failedParcel.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*\(status cancelled\)\n$/);
  });
});

describe('npm run notifications -- retry', () => {
  it('re-drives one expired notification with a fresh attempt budget, recording who and why', async () => {
    const run = await notifications(['retry', expired.id, '--reason=client asked again']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Re-driven ${expired.id} (was expired)`);
    const stored = await store.get(expired.id);
    expect(stored?.status).not.toBe('expired');
    expect(stored?.operatorActions).toEqual([
      expect.objectContaining({ action: 'redrive', from: 'expired', by: LOCAL_OPERATOR, reason: 'client asked again' }),
    ]);
  });

  it('a sent notification cannot be re-driven: exit 1', async () => {
    const run = await notifications(['retry', sent.id]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(status sent)');
  });

  it('--status --dry-run counts and changes nothing; the command it prints then re-drives them all', async () => {
    const before = await Promise.all(permanent.map((n) => store.get(n.id)));

    // The issue's own example first, as it is written there.
    const example = await notifications([
      'retry',
      '--status=permanent_failure',
      '--reason=permanent_error',
      '--dry-run',
    ]);
    expect(example.code, example.stderr).toBe(0);
    expect(example.stdout).toMatch(
      /^DRY RUN: 3 notification\(s\) match --status=permanent_failure --reason=permanent_error; nothing was changed\.\n/,
    );

    const dry = await notifications([
      'retry',
      '--status=permanent_failure',
      '--reason=permanent_error',
      '--since=7d',
      '--note=numbers fixed upstream',
      '--dry-run',
    ]);

    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /^DRY RUN: 3 notification\(s\) match --status=permanent_failure --reason=permanent_error, created since \S+Z; nothing was changed\.\n/,
    );
    expect(await Promise.all(permanent.map((n) => store.get(n.id)))).toEqual(before);

    const rerun = dry.stdout.split('\n').find((line) => line.startsWith('To re-drive them: '));
    expect(rerun).toBe(
      "To re-drive them: npm run notifications -- retry --status=permanent_failure --reason=permanent_error --since=7d '--note=numbers fixed upstream'",
    );
    const real = await notifications(printedArgs(rerun!));

    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain(
      'Re-driven 3 of 3 notification(s) matching --status=permanent_failure --reason=permanent_error',
    );
    for (const n of permanent) {
      const stored = await store.get(n.id);
      expect(stored?.status).not.toBe('permanent_failure');
      expect(stored?.operatorActions?.at(-1)).toMatchObject({
        action: 'redrive',
        from: 'permanent_failure',
        by: LOCAL_OPERATOR,
        reason: 'numbers fixed upstream',
      });
    }
  });
});

describe('npm run notifications: mistakes', () => {
  it('a usage error exits 2 with the usage', async () => {
    const run = await notifications(['list', '--status=broken']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--status takes pending, sent, failed');
    expect(run.stderr).toContain('Usage: npm run notifications -- <command> [options]');
    expect(run.stdout).toBe('');
  });

  it('an unreachable local stack exits 3 with a hint', async () => {
    const run = await notifications(['list'], { API_PORT: String(await closedPort()) });

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('is `npm start` running?');
  });

  it('--help prints the usage with its examples, --stage included', async () => {
    const run = await notifications(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('npm run notifications -- --stage prod list --status=failed --since=24h');
  });
});
