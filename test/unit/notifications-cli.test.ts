// `npm run notifications`: the command line read into one API request plan, the time flags, the tables, and the
// signed client against a small HTTP server that checks SigV4 signatures as the local door does.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiTarget,
  LOCAL_API_CREDENTIALS,
  LOCAL_API_REGION,
  localApiTarget,
  OperatorApiClient,
} from '../../bin/cli/api-client.js';
import { UsageError } from '../../bin/cli/errors.js';
import { instantFlag, sinceInstant } from '../../bin/cli/flags.js';
import { formatList, formatNotification, formatRedriveTotals, listTable } from '../../bin/cli/notification-report.js';
import { type Invocation, NOTIFICATIONS_USAGE, parseNotificationsArgs } from '../../bin/cli/notifications-args.js';
import { type NotificationsIo, nextCursorOf, runNotificationsCommand } from '../../bin/cli/notifications-command.js';
import { renderTable } from '../../bin/cli/table.js';
import { verifySigV4 } from '../../local/doors/sigv4.js';
import type { NotificationView } from '../../shared/application/operator.js';

const NOW = new Date('2025-11-27T12:00:00.000Z');
const ID = '01KB8Z4N6QXW3E2R7T9Y5V1K0P';

const parse = (args: string[]) => {
  const parsed = parseNotificationsArgs(args, NOW);
  if (parsed === 'help') throw new Error('unexpected help');
  return parsed;
};
const refusal = (args: string[]) => {
  try {
    parseNotificationsArgs(args, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
};

const view = (overrides: Partial<NotificationView> = {}): NotificationView => ({
  id: ID,
  status: 'failed',
  reason: 'temporary_error',
  attempts: 3,
  maxAttempts: 10,
  nextAttemptAt: '2025-11-27T13:00:00.000Z',
  createdAt: '2025-11-27T10:00:00.000Z',
  updatedAt: '2025-11-27T11:30:00.000Z',
  category: 'otp',
  priority: 'high',
  channel: 'whatsapp',
  title: 'Code',
  message: 'Votre code est 123456.\nIl expire dans 10 minutes.',
  recipient: { phone: '+22370123456', name: 'Awa Traoré' },
  lastError: {
    type: 'http_error',
    message: 'Service Unavailable',
    httpStatus: 503,
    classification: 'temporary',
    scope: 'transient',
    reason: 'temporary_error',
    at: '2025-11-27T11:30:00.000Z',
  },
  history: [{ at: '2025-11-27T11:30:00.000Z', outcome: 'failed', errorType: 'http_error', durationMs: 812 }],
  inFlight: false,
  ...overrides,
});

describe('parseNotificationsArgs', () => {
  it('list --status=failed --since=24h --category=otp: a status query from 24 hours ago, 50 at most', () => {
    const { plan, stage, json } = parse(['list', '--status=failed', '--since=24h', '--category=otp']);

    expect(plan).toEqual({
      command: 'list',
      query: { status: 'failed', from: '2025-11-26T12:00:00.000Z', category: 'otp' },
      limit: 50,
    });
    expect(stage).toBeUndefined();
    expect(json).toBe(false);
  });

  it('list takes several statuses, a phone, a failure reason, a window and a cursor', () => {
    const { plan } = parse([
      'list',
      '--status=failed, permanent_failure',
      '--phone=70 12 34 56',
      '--reason=permanent_error',
      '--from=2025-11-20',
      '--to=2025-11-21T18:00:00+01:00',
      '--cursor=abc',
      '--limit=250',
    ]);

    expect(plan).toEqual({
      command: 'list',
      query: {
        status: 'failed,permanent_failure',
        phone: '70 12 34 56',
        reason: 'permanent_error',
        from: '2025-11-20T00:00:00.000Z',
        to: '2025-11-21T17:00:00.000Z',
        cursor: 'abc',
      },
      limit: 250,
    });
  });

  it('list --all pages through every match', () => {
    expect(parse(['list', '--all']).plan).toMatchObject({ command: 'list', limit: 'all' });
  });

  it('show, cancel and retry take one notification id, read in capitals', () => {
    expect(parse(['show', ID.toLowerCase()]).plan).toEqual({ command: 'show', id: ID });
    expect(parse(['cancel', ID, '--reason=sent by mistake']).plan).toEqual({
      command: 'cancel',
      id: ID,
      reason: 'sent by mistake',
    });
    expect(parse(['retry', ID]).plan).toEqual({ command: 'retry', id: ID });
  });

  it('retry --status is the bulk re-drive: --reason filters by failure reason, --note says why', () => {
    const { plan } = parse([
      'retry',
      '--status=permanent_failure',
      '--reason=permanent_error',
      '--since=7d',
      '--note=numbers fixed upstream',
      '--dry-run',
    ]);

    expect(plan).toEqual({
      command: 'retry-matching',
      filter: { status: 'permanent_failure', reason: 'permanent_error', from: '2025-11-20T12:00:00.000Z' },
      dryRun: true,
      note: 'numbers fixed upstream',
    });
  });

  it("the issue's own bulk example: retry --status=permanent_failure --reason=permanent_error --dry-run", () => {
    expect(parse(['retry', '--status=permanent_failure', '--reason=permanent_error', '--dry-run']).plan).toEqual({
      command: 'retry-matching',
      filter: { status: 'permanent_failure', reason: 'permanent_error' },
      dryRun: true,
    });
  });

  it('retry <id> and cancel <id>: --reason is why the operator acts, any text', () => {
    expect(parse(['retry', ID, '--reason=permanent_error']).plan).toEqual({
      command: 'retry',
      id: ID,
      reason: 'permanent_error',
    });
    expect(parse(['cancel', ID, '--reason=sent twice']).plan).toEqual({
      command: 'cancel',
      id: ID,
      reason: 'sent twice',
    });
  });

  it('export --cursor goes on from where an interrupted export stopped', () => {
    expect(parse(['export', '--status=failed', '--cursor', 'abc']).plan).toEqual({
      command: 'export',
      query: { status: 'failed', cursor: 'abc' },
    });
  });

  it('export takes the filters and a page size', () => {
    expect(parse(['export', '--status=permanent_failure', '--since=7d', '--page-size=2']).plan).toEqual({
      command: 'export',
      query: { status: 'permanent_failure', from: '2025-11-20T12:00:00.000Z', limit: '2' },
    });
  });

  it('options may come before the command: npm run notifications -- --stage prod list', () => {
    const invocation = parse(['--stage', 'prod', 'list', '--status=failed']);

    expect(invocation.stage).toBe('prod');
    expect(invocation.plan.command).toBe('list');
  });

  it('--stage local is the local stack', () => {
    expect(parse(['--stage', 'local', 'list']).stage).toBeUndefined();
  });

  it('keeps the command line without --cursor and --dry-run, for the commands it prints', () => {
    const { argv } = parse(['retry', '--status=failed', '--dry-run', '--since=1h']);

    expect(argv).toEqual(['retry', '--status=failed', '--since=1h']);
  });

  it('a command printed with a cursor pins --since as the --from it stood for (a cursor resumes one window)', () => {
    const { argv, resumeArgv } = parse(['list', '--status=failed', '--since', '24h', '--cursor', 'abc', '--all']);

    expect(argv).toEqual(['list', '--status=failed', '--since', '24h', '--all']);
    expect(resumeArgv).toEqual(['list', '--status=failed', '--from=2025-11-26T12:00:00.000Z', '--all']);
  });

  it.each([
    [['list', '--status=broken'], '--status takes pending, sent, failed, permanent_failure, cancelled, expired'],
    [
      ['list', '--since=yesterday'],
      "--since must be a duration such as 30m, 24h or 7d (s, m, h, d, w), got 'yesterday'",
    ],
    [['list', '--since=0h'], '--since must be a duration'],
    [['list', '--from=2025-02-30'], '--from must be an ISO 8601 date or date-time with its zone'],
    [['list', '--from=27/11/2025'], '--from must be an ISO 8601 date'],
    [['list', '--to=2025-11-27T10:00:00'], '--to must be an ISO 8601 date or date-time with its zone'],
    [['list', '--since=1h', '--from=2025-11-27'], 'give --since or --from, not both'],
    [['list', '--from=2025-11-27', '--to=2025-11-26'], 'the window ends'],
    [['list', '--limit=0'], "--limit must be a positive whole number, got '0'"],
    [['list', '--limit=5', '--all'], 'give --limit or --all, not both'],
    [['list', '--reason=oops'], '--reason selects by failure reason: temporary_error, permanent_error'],
    [['list', '--failure-reason=permanent_error'], "Unknown option '--failure-reason'"],
    [['list', '--category=OTP!'], '--category must be a category slug'],
    [['list', '--dry-run'], '--dry-run does not apply to list'],
    [['list', 'extra'], "list takes no argument, got 'extra'"],
    [['show'], 'show needs a notification id'],
    [['show', 'abc'], "'abc' is not a notification id"],
    [['show', ID, ID], 'show takes one notification id, got 2'],
    [['show', ID, '--status=failed'], '--status does not apply to show'],
    [['cancel', ID, '--reason=  '], '--reason must not be empty'],
    [['cancel', ID, `--reason=${'x'.repeat(501)}`], '--reason must be at most 500 characters'],
    [['retry'], 'retry needs a notification id (retry <id>) or a filter'],
    [['retry', ID, '--dry-run'], '--dry-run does not apply to retry <id>'],
    [['retry', '--status=sent'], 'retry --status takes one of failed, permanent_failure, expired'],
    [['retry', '--status=failed', '--phone=+22370123456'], '--phone does not apply to retry --status'],
    [
      ['retry', '--status=permanent_failure', '--reason=numbers fixed upstream'],
      `--reason selects by failure reason: temporary_error, permanent_error, provider_unavailable, max_retries_exceeded, validity_expired, cancelled_by_operator, got 'numbers fixed upstream'; to say why you re-drive them, use --note="…"`,
    ],
    [['retry', '--status=failed', '--note= '], '--note must not be empty'],
    [['retry', ID, '--note=fixed'], '--note does not apply to retry <id> (there --reason says why you act)'],
    [['cancel', ID, '--note=fixed'], '--note does not apply to cancel (there --reason says why you act)'],
    [['list', '--note=fixed'], '--note does not apply to list'],
    [['export', '--json'], 'export writes CSV: --json does not apply'],
    [['export', '--limit=5'], '--limit does not apply to export'],
    [['export', '--page-size=5001'], '--page-size must be at most 5000, got 5001'],
    [['list', '--page-size=5'], '--page-size does not apply to list'],
    [['list', '--profile=prod'], '--profile goes with --stage'],
    [['list', '--stage', 'Prod!'], '--stage must be a stage name'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [[], 'give a command'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
  ])('%j is refused: %s', (args, message) => {
    expect(refusal(args)).toContain(message);
  });

  it('every example of the usage parses as printed', () => {
    const examples = NOTIFICATIONS_USAGE.split('Examples:\n')[1]!.split('\n\n')[0]!.split('\n');
    // The words after `npm run notifications --`, quotes taken off as a shell would, the redirection left out.
    const argsOf = (line: string) =>
      (
        line
          .split(' -- ')[1]!
          .replace(/ > \S+$/, '')
          .match(/(?:[^\s"]+|"[^"]*")+/g) ?? []
      ).map((word) => word.replace(/"/g, ''));

    expect(examples.length).toBeGreaterThan(5);
    for (const line of examples) expect(() => parse(argsOf(line)), line).not.toThrow();
  });

  it('--help anywhere asks for the usage', () => {
    expect(parseNotificationsArgs(['list', '--help'], NOW)).toBe('help');
  });
});

describe('time flags', () => {
  it.each([
    ['30m', '2025-11-27T11:30:00.000Z'],
    ['24h', '2025-11-26T12:00:00.000Z'],
    ['7d', '2025-11-20T12:00:00.000Z'],
    ['2w', '2025-11-13T12:00:00.000Z'],
    ['90s', '2025-11-27T11:58:30.000Z'],
  ])('--since=%s is %s', (since, from) => {
    expect(sinceInstant('since', since, NOW)).toBe(from);
  });

  it.each([
    ['2025-11-27', '2025-11-27T00:00:00.000Z'],
    ['2025-11-27T18:00:00Z', '2025-11-27T18:00:00.000Z'],
    ['2025-11-27T18:00Z', '2025-11-27T18:00:00.000Z'],
    ['2025-11-27T18:00:00.5+01:00', '2025-11-27T17:00:00.500Z'],
  ])('--from=%s is %s', (raw, iso) => {
    expect(instantFlag('from', raw)).toBe(iso);
  });
});

describe('tables', () => {
  it('aligns the columns, numbers to the right', () => {
    const lines = renderTable(
      [
        { header: 'NAME', value: (r: { name: string; n: number }) => r.name },
        { header: 'N', value: (r) => r.n, align: 'right' },
      ],
      [
        { name: 'a', n: 100 },
        { name: 'longer', n: 2 },
      ],
    );

    expect(lines).toEqual(['NAME      N', 'a       100', 'longer    2']);
  });

  it('keeps every cell on one line, without the control characters a stored text may carry', () => {
    const lines = formatList([
      view({ lastError: { ...view().lastError!, message: 'bad\r\n\u001b[31mred\u001b[0m \u202eevil' } }),
    ]);

    expect(lines).toHaveLength(2);
    for (const control of ['\u001b', '\r', '\u202e']) expect(lines.join('\n')).not.toContain(control);
    expect(lines[1]).toContain('http_error HTTP 503: bad [31mred [0m evil');
  });

  it('cuts the last column to the terminal width', () => {
    const long = view({ lastError: { ...view().lastError!, message: 'x'.repeat(300) } });

    const lines = formatList([long], 120);

    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(120);
    expect(lines[1]).toMatch(/…$/);
  });

  it('lists the columns an operator scans: when, id, status, reason, tries, category, phone, last error', () => {
    const [header, row] = formatList([view()]);

    expect(header).toMatch(/^CREATED\s+ID\s+STATUS\s+REASON\s+TRIES\s+CATEGORY\s+PHONE\s+LAST ERROR$/);
    expect(row).toMatch(
      /^2025-11-27 10:00:00Z\s+01KB8Z4N6QXW3E2R7T9Y5V1K0P\s+failed\s+temporary_error\s+3\/10\s+otp\s+\+22370123456\s+http_error HTTP 503: Service Unavailable$/,
    );
  });

  it('a list printed page by page: one header, widths that fit what later pages hold, cut to the terminal', () => {
    const table = listTable(200, true);
    const first = table.rows([view()]);
    const second = table.rows([
      view({
        status: 'permanent_failure',
        reason: 'cancelled_by_operator',
        inFlight: true,
        lastError: { ...view().lastError!, message: 'x'.repeat(300) },
      }),
    ]);

    expect(first).toHaveLength(2);
    expect(second).toHaveLength(1);
    expect(second[0]!.indexOf('permanent_failure*')).toBe(first[0]!.indexOf('STATUS'));
    expect(second[0]!.indexOf('cancelled_by_operator')).toBe(first[0]!.indexOf('REASON'));
    expect(second[0]!.indexOf('http_error')).toBe(first[0]!.indexOf('LAST ERROR'));
    for (const line of [...first, ...second]) expect(Array.from(line).length).toBeLessThanOrEqual(200);
    expect(second[0]).toMatch(/…$/);
    expect(table.footnotes()).toEqual(['', '* being sent now: cancel waits until the attempt is recorded']);
  });

  it('on a narrow terminal a list printed page by page keeps to the first page widths, not wider', () => {
    const lines = listTable(130, true).rows([view()]);

    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(130);
    expect(lines[1]).toContain('http_error');
  });

  it('marks one being sent, and says what that means', () => {
    const lines = formatList([view({ inFlight: true })]);

    expect(lines[1]).toContain('failed*');
    expect(lines.at(-1)).toContain('* being sent now');
  });

  it('shows an email fallback: the address, the channel, and the channel of each attempt', () => {
    const text = formatNotification(
      view({
        status: 'sent',
        channel: 'email',
        recipient: { phone: '+22370123456', name: 'Awa Traoré', email: 'awa@example.com' },
        history: [
          { at: '2025-11-27T11:30:00.000Z', outcome: 'permanent_failure', channel: 'whatsapp', durationMs: 40 },
          { at: '2025-11-27T11:30:01.000Z', outcome: 'sent', channel: 'email', durationMs: 90 },
        ],
      }),
    ).join('\n');

    expect(text).toMatch(/Email\s+: awa@example.com\n/);
    expect(text).toMatch(/Channel\s+: email \(fallback from WhatsApp\)\n/);
    expect(text).toMatch(/sent \(email\)/);
    expect(formatNotification(view()).join('\n')).not.toContain('Channel');
  });

  it('shows one notification with its message lines, its attempts and the operator actions', () => {
    const text = formatNotification(
      view({
        operatorActions: [
          {
            at: '2025-11-27T11:40:00.000Z',
            action: 'redrive',
            from: 'permanent_failure',
            by: 'arn:aws:iam::000000000000:user/local',
            reason: 'fixed',
          },
        ],
      }),
    ).join('\n');

    expect(text).toMatch(/^Notification 01KB8Z4N6QXW3E2R7T9Y5V1K0P\n/);
    expect(text).toMatch(/Status\s+: failed \(temporary_error\)\n/);
    expect(text).toMatch(/Attempts\s+: 3 of 10\n/);
    expect(text).toMatch(/Recipient\s+: \+22370123456 \(Awa Traoré\)\n/);
    expect(text).toMatch(/Last error\s+: http_error HTTP 503: Service Unavailable\n/);
    expect(text).toContain('Message:\n  Votre code est 123456.\n  Il expire dans 10 minutes.');
    expect(text).toMatch(/2025-11-27 11:30:00Z\s+failed\s+http_error\s+812 ms/);
    expect(text).toMatch(/redrive\s+permanent_failure\s+arn:aws:iam::000000000000:user\/local\s+fixed/);
    expect(text).not.toContain('Sent ');
  });
});

describe('nextCursorOf', () => {
  it('reads X-Next-Cursor first, else the Link rel="next" URL', () => {
    expect(nextCursorOf(new Headers({ 'x-next-cursor': 'abc', link: '<x?cursor=zzz>; rel="next"' }))).toBe('abc');
    expect(
      nextCursorOf(new Headers({ link: '</prod/notifications/export.csv?status=failed&cursor=a%2Bb>; rel="next"' })),
    ).toBe('a+b');
    expect(nextCursorOf(new Headers({ link: '<x?cursor=zzz>; rel="prev"' }))).toBeUndefined();
    expect(nextCursorOf(new Headers())).toBeUndefined();
  });
});

// ── Against a small HTTP server that checks signatures ─────────────────────────────────────────────────────

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  caller?: string;
}
type Route = (seen: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let routes: Record<string, Route>;
let seen: Seen[];

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    const [rawPath = '', rawQuery = ''] = (req.url ?? '').split('?');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(',') : (value ?? ''),
      ]),
    );
    const verdict = await verifySigV4(
      { method: req.method ?? 'GET', rawPath, rawQuery, headers, body },
      {
        principals: {
          local: { secretAccessKey: 'local', userArn: 'arn:aws:iam::000000000000:user/local', caller: 'AIDALOCAL' },
        },
        region: LOCAL_API_REGION,
        service: 'execute-api',
      },
    );
    if (!verdict.ok) return json(res, 403, { message: verdict.message.split('\n')[0] });
    const entry: Seen = {
      method: req.method ?? '',
      path: rawPath,
      query: new URLSearchParams(rawQuery),
      body: body.toString('utf8'),
      caller: verdict.caller.userArn,
    };
    seen.push(entry);
    const route = routes[`${entry.method} ${rawPath}`];
    if (!route) return json(res, 404, { error: 'not_found', message: `no route ${entry.method} ${rawPath}` });
    route(entry, res);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});
beforeEach(() => {
  routes = {};
  seen = [];
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], target: Partial<ApiTarget> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const csv = new PassThrough();
  csv.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const io: NotificationsIo = {
    out: (text) => {
      stdout += `${text}\n`;
    },
    err: (text) => {
      stderr += `${text}\n`;
    },
    stdout: csv,
    env: {},
    now: () => NOW,
    columns: undefined,
    target: async (_invocation: Invocation) => ({ ...localApiTarget({}), baseUrl, ...target }),
  };
  const code = await runNotificationsCommand(args, io);
  return { code, stdout, stderr };
}

describe('the signed client against the API', () => {
  it('show: a signed GET of the notification, printed for a person', async () => {
    routes[`GET /v1/notifications/${ID}`] = (_seen, res) => json(res, 200, view());

    const result = await run(['show', ID]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Notification ${ID}`);
    expect(seen[0]?.caller).toBe('arn:aws:iam::000000000000:user/local');
  });

  it('signs the query string as it sends it: commas, plus signs and spaces included', async () => {
    routes['GET /v1/notifications'] = (_seen, res) => json(res, 200, { items: [], nextCursor: null });

    const result = await run(['list', '--status=failed,expired', '--phone=+223 70 12 34 56', '--cursor=a+b/c=']);

    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]?.query.get('status')).toBe('failed,expired');
    expect(seen[0]?.query.get('phone')).toBe('+223 70 12 34 56');
    expect(seen[0]?.query.get('cursor')).toBe('a+b/c=');
    expect(result.stdout).toContain('No notification matches.');
  });

  it('a base URL with a stage path (…/prod) keeps it in every request', async () => {
    routes[`GET /prod/v1/notifications/${ID}`] = (_seen, res) => json(res, 200, view());

    const result = await run(['show', ID], { baseUrl: `${baseUrl}/prod` });

    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]?.path).toBe(`/prod/v1/notifications/${ID}`);
  });

  it('list follows nextCursor up to --limit, asking each page for what is left', async () => {
    const pages: Record<string, { items: NotificationView[]; nextCursor: string | null }> = {
      first: { items: [view({ id: '01KB8Z4N6QXW3E2R7T9Y5V1K01' })], nextCursor: 'c1' },
      c1: { items: [view({ id: '01KB8Z4N6QXW3E2R7T9Y5V1K02' })], nextCursor: 'c2' },
      c2: { items: [view({ id: '01KB8Z4N6QXW3E2R7T9Y5V1K03' })], nextCursor: null },
    };
    routes['GET /v1/notifications'] = (s, res) => json(res, 200, pages[s.query.get('cursor') ?? 'first']);

    const result = await run(['list', '--status=failed', '--limit=2']);

    expect(result.code, result.stderr).toBe(0);
    expect(seen.map((s) => [s.query.get('limit'), s.query.get('cursor')])).toEqual([
      ['2', null],
      ['1', 'c1'],
    ]);
    expect(result.stdout).toContain('2 notification(s), newest first.');
    expect(result.stdout).toContain('More: npm run notifications -- list --status=failed --limit=2 --cursor=c2');
  });

  it('list --all --json reads every page, 100 at a time, and prints one JSON list', async () => {
    routes['GET /v1/notifications'] = (s, res) =>
      s.query.get('cursor')
        ? json(res, 200, { items: [view({ id: '01KB8Z4N6QXW3E2R7T9Y5V1K02' })], nextCursor: null })
        : json(res, 200, { items: [view()], nextCursor: 'next' });

    const result = await run(['list', '--all', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(seen.map((s) => s.query.get('limit'))).toEqual(['100', '100']);
    const printed = JSON.parse(result.stdout) as { items: NotificationView[]; nextCursor: null };
    expect(printed.items.map((n) => n.id)).toEqual([ID, '01KB8Z4N6QXW3E2R7T9Y5V1K02']);
    expect(printed.nextCursor).toBeNull();
    // Written item by item, it is still the document the API's shape gives, as JSON.stringify writes it.
    expect(result.stdout).toBe(`${JSON.stringify(printed, null, 2)}\n`);
  });

  it('list --json with nothing to list, and with a --limit that stops early, prints the same document', async () => {
    routes['GET /v1/notifications'] = (s, res) =>
      s.query.get('status') === 'sent'
        ? json(res, 200, { items: [], nextCursor: null })
        : json(res, 200, { items: [view()], nextCursor: 'more' });

    const none = await run(['list', '--status=sent', '--json']);
    const one = await run(['list', '--status=failed', '--limit=1', '--json']);

    expect(none.stdout).toBe(`${JSON.stringify({ items: [], nextCursor: null }, null, 2)}\n`);
    expect(one.stdout).toBe(`${JSON.stringify({ items: [view()], nextCursor: 'more' }, null, 2)}\n`);
  });

  /** Three pages of one notification each, the third failing with a 500 when `failThird`. */
  const threePages = (failThird: boolean) => (s: Seen, res: ServerResponse) => {
    const cursor = s.query.get('cursor');
    if (cursor === 'c2' && failThird) return json(res, 500, { message: 'Internal server error' });
    const page = { first: ['01KB8Z4N6QXW3E2R7T9Y5V1K01', 'c1'], c1: ['01KB8Z4N6QXW3E2R7T9Y5V1K02', 'c2'] }[
      cursor ?? 'first'
    ] ?? ['01KB8Z4N6QXW3E2R7T9Y5V1K03', null];
    const inFlight = page[0]!.endsWith('2');
    json(res, 200, {
      items: [view({ id: page[0]!, inFlight, ...(inFlight ? { status: 'permanent_failure' } : {}) })],
      nextCursor: page[1],
    });
  };

  it('list --all prints each page as it comes: one header, the pages lined up under it', async () => {
    routes['GET /v1/notifications'] = threePages(false);

    const result = await run(['list', '--status=failed,permanent_failure', '--all']);

    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('CREATED'))).toHaveLength(1);
    const rows = lines.filter((line) => /^\d{4}-/.test(line));
    expect(rows).toHaveLength(3);
    // Every left-aligned column starts where its header does, whatever each page held (the second page's status,
    // permanent_failure*, is longer than anything on the first).
    const starts = (line: string) =>
      [...line.matchAll(/(?<= {2})\S/g)].map((m) => m.index).filter((_, i) => i !== 3 /* TRIES, right-aligned */);
    for (const row of rows) expect(starts(row).slice(0, 5)).toEqual(starts(lines[0]!).slice(0, 5));
    expect(result.stdout).toContain('* being sent now');
    expect(result.stdout).toMatch(/\n3 notification\(s\), newest first\.\n$/);
  });

  it('a list that fails midway keeps what it printed and says how to go on (exit 1)', async () => {
    routes['GET /v1/notifications'] = threePages(true);

    const result = await run(['list', '--status=failed', '--since=24h', '--all']);

    expect(result.code).toBe(1);
    // The pages read before the failure are on stdout: the list no longer waits for the last page to print.
    expect(result.stdout).toContain('01KB8Z4N6QXW3E2R7T9Y5V1K01');
    expect(result.stdout).toContain('01KB8Z4N6QXW3E2R7T9Y5V1K02');
    expect(result.stdout).not.toContain('notification(s), newest first');
    expect(result.stderr).toBe(
      [
        'error: the API answered 500: Internal server error',
        'list stopped after 2 notification(s). To go on from there:',
        '  npm run notifications -- list --status=failed --from=2025-11-26T12:00:00.000Z --all --cursor=c2',
        '',
      ].join('\n'),
    );
  });

  it('list --json that fails midway prints every item read, and no closed document', async () => {
    routes['GET /v1/notifications'] = threePages(true);

    const result = await run(['list', '--all', '--json']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('"id": "01KB8Z4N6QXW3E2R7T9Y5V1K02"');
    expect(() => JSON.parse(result.stdout)).toThrow();
    expect(result.stderr).toContain('npm run notifications -- list --all --json --cursor=c2');
  });

  it('cancel and retry POST the reason as JSON, signed with the body', async () => {
    routes[`POST /v1/notifications/${ID}/cancel`] = (_s, res) =>
      json(
        res,
        200,
        view({
          status: 'cancelled',
          reason: 'cancelled_by_operator',
          operatorActions: [{ at: NOW.toISOString(), action: 'cancel', from: 'failed' }],
        }),
      );
    routes[`POST /v1/notifications/${ID}/retry`] = (_s, res) => json(res, 200, view());

    const cancel = await run(['cancel', ID, '--reason=doublon']);
    const retry = await run(['retry', ID]);

    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`Cancelled ${ID} (was failed): it will not be sent.`);
    expect(retry.code, retry.stderr).toBe(0);
    expect(seen.map((s) => s.body)).toEqual(['{"reason":"doublon"}', '{}']);
  });

  it('the bulk re-drive goes on while the API gives a cursor, and adds the counts up', async () => {
    routes['POST /v1/notifications/retry'] = (s, res) => {
      const body = JSON.parse(s.body) as { cursor?: string };
      json(
        res,
        200,
        body.cursor
          ? { dryRun: true, matched: 3, redriven: 0, skipped: 0, nextCursor: null }
          : { dryRun: true, matched: 500, redriven: 0, skipped: 0, nextCursor: 'p2' },
      );
    };

    const result = await run([
      'retry',
      '--status=permanent_failure',
      '--reason=permanent_error',
      '--note=fixed upstream',
      '--dry-run',
    ]);

    expect(result.code, result.stderr).toBe(0);
    expect(seen.map((s) => JSON.parse(s.body))).toEqual([
      { status: 'permanent_failure', reason: 'permanent_error', dryRun: true, limit: 500, note: 'fixed upstream' },
      {
        status: 'permanent_failure',
        reason: 'permanent_error',
        dryRun: true,
        limit: 500,
        note: 'fixed upstream',
        cursor: 'p2',
      },
    ]);
    expect(result.stdout).toContain(
      'DRY RUN: 503 notification(s) match --status=permanent_failure --reason=permanent_error; nothing was changed.',
    );
    expect(result.stdout).toContain(
      "To re-drive them: npm run notifications -- retry --status=permanent_failure --reason=permanent_error '--note=fixed upstream'",
    );
  });

  it('export writes the pages one after the other, following X-Next-Cursor and Link', async () => {
    routes['GET /v1/notifications/export.csv'] = (s, res) => {
      const cursor = s.query.get('cursor');
      if (!cursor) {
        res.writeHead(200, { 'content-type': 'text/csv', 'x-next-cursor': 'p2' });
        res.end('id,status\n1,failed\n');
      } else if (cursor === 'p2') {
        res.writeHead(200, { 'content-type': 'text/csv', link: '</notifications/export.csv?cursor=p3>; rel="next"' });
        // A page that does not end its last row: the next must not be glued to it.
        res.end('2,"a ""quoted"", multi\nline"');
      } else {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end('3,expired\n');
      }
    };

    const result = await run(['export', '--status=failed', '--since=7d']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('id,status\n1,failed\n2,"a ""quoted"", multi\nline"\n3,expired\n');
    expect(seen.map((s) => [s.query.get('status'), s.query.get('from'), s.query.get('cursor')])).toEqual([
      ['failed', '2025-11-20T12:00:00.000Z', null],
      ['failed', '2025-11-20T12:00:00.000Z', 'p2'],
      ['failed', '2025-11-20T12:00:00.000Z', 'p3'],
    ]);
  });

  /** A CSV export in three pages; `fail` decides how the request for page `p2` fails, if it does. */
  const csvPages =
    (fail?: 'status' | 'cut') =>
    (s: Seen, res: ServerResponse): void => {
      const cursor = s.query.get('cursor');
      if (!cursor) {
        res.writeHead(200, { 'content-type': 'text/csv', 'x-next-cursor': 'p2' });
        res.end('id,status\r\n1,failed\r\n');
      } else if (cursor === 'p2' && fail === 'status') {
        json(res, 502, { message: 'Internal server error' });
      } else if (cursor === 'p2' && fail === 'cut') {
        // Half a page, then the connection drops.
        res.writeHead(200, { 'content-type': 'text/csv', 'x-next-cursor': 'p3' });
        res.write('2,failed\r\n2b,fa');
        setTimeout(() => res.destroy(), 20);
      } else if (cursor === 'p2') {
        res.writeHead(200, { 'content-type': 'text/csv', 'x-next-cursor': 'p3' });
        res.end('2,failed\r\n2b,failed\r\n');
      } else {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end('3,expired\r\n');
      }
    };
  const WHOLE_CSV = 'id,status\r\n1,failed\r\n2,failed\r\n2b,failed\r\n3,expired\r\n';

  it.each([
    ['an error answer', 'status' as const, 'error: the API answered 502: Internal server error'],
    ['a connection cut halfway through a page', 'cut' as const, 'error: '],
  ])(
    'an export stopped by %s: stdout ends on a whole page, stderr says how to resume, exit 1',
    async (_what, fail, said) => {
      routes['GET /v1/notifications/export.csv'] = csvPages(fail);

      const broken = await run(['export', '--status=failed', '--since=7d']);

      expect(broken.code).toBe(1);
      expect(broken.stdout).toBe('id,status\r\n1,failed\r\n');
      const lines = broken.stderr.split('\n');
      expect(lines[0]).toContain(said);
      expect(lines.slice(1)).toEqual([
        'export stopped after 1 page(s); the CSV written so far ends on a whole page.',
        'To go on from there (no header row: append its output to the same file, with >>):',
        '  npm run notifications -- export --status=failed --from=2025-11-20T12:00:00.000Z --cursor=p2',
        '',
      ]);

      // The command as printed, once the API answers again, writes the rest: appended, the whole export.
      routes['GET /v1/notifications/export.csv'] = csvPages();
      const resumed = await run(lines.at(-2)!.trim().split(' -- ')[1]!.split(' '));

      expect(resumed.code, resumed.stderr).toBe(0);
      expect(broken.stdout + resumed.stdout).toBe(WHOLE_CSV);
    },
  );

  it('an export whose first page fails wrote nothing: the error alone, the same command starts it again', async () => {
    routes['GET /v1/notifications/export.csv'] = (_s, res) => json(res, 502, { message: 'Internal server error' });

    const result = await run(['export', '--status=failed']);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: the API answered 502: Internal server error\n');
  });

  it('a 404 exits 1 with what the API said', async () => {
    const result = await run(['show', ID]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: no route GET /v1/notifications/${ID}\n`);
  });

  it('a 409 exits 1 naming the status that stopped it', async () => {
    routes[`POST /v1/notifications/${ID}/cancel`] = (_s, res) =>
      json(res, 409, {
        status: 409,
        code: 'conflict',
        detail: 'the notification is sent',
        notificationStatus: 'sent',
        inFlight: false,
      });

    const result = await run(['cancel', ID]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: the notification is sent (status sent)\n');
  });

  it('a 400 exits 2 naming the flag behind each refused field', async () => {
    routes['GET /v1/notifications'] = (_s, res) =>
      json(res, 400, {
        error: 'validation_error',
        message: 'phone: not a number',
        details: [
          { path: 'phone', message: 'not a number' },
          { path: 'reason', message: 'invalid' },
        ],
      });

    const result = await run(['list', '--phone=12']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('  - --phone: not a number\n  - --reason: invalid');
  });

  it('wrong credentials get the 403 with what to do', async () => {
    const result = await run(['show', ID], { credentials: { accessKeyId: 'local', secretAccessKey: 'nope' } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: the API refused the request (403: The request signature we calculated does not match',
    );
    expect(result.stderr).toContain('the local door takes the local credentials (local/local)');
    expect(seen).toEqual([]);
  });

  it('on a stage, the 403 names the policy to attach', async () => {
    const result = await run(['show', ID], {
      credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' },
      stage: 'prod',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NotificationOperatorPolicy output of the stage prod');
  });

  it('an API that does not answer exits 3 with a hint', async () => {
    const closed = createServer();
    await new Promise<void>((ready) => closed.listen(0, '127.0.0.1', ready));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));

    const result = await run(['show', ID], { baseUrl: `http://127.0.0.1:${port}` });

    expect(result.code).toBe(3);
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toContain('is `npm start` running?');
  });
});

describe('localApiTarget', () => {
  it('is the door npm start opens, signed as local/local', () => {
    expect(localApiTarget({ API_PORT: '4000' })).toEqual({
      baseUrl: 'http://127.0.0.1:4000',
      region: 'us-east-1',
      credentials: LOCAL_API_CREDENTIALS,
      isLocalDefault: true,
    });
    expect(() => localApiTarget({ API_PORT: 'x' })).toThrow(UsageError);
  });

  it('OperatorApiClient joins the base path, the API version and the route', async () => {
    routes['GET /prod/v1/notifications'] = (_s, res) => json(res, 200, { items: [], nextCursor: null });
    const client = new OperatorApiClient({ ...localApiTarget({}), baseUrl: `${baseUrl}/prod/` });

    await expect(client.json('GET', '/notifications')).resolves.toEqual({ items: [], nextCursor: null });
  });
});

describe('formatRedriveTotals', () => {
  const filter = '--status=expired';
  const rerun = 'npm run notifications -- retry --status=expired';

  it('says which matches are stale OTPs, apart from those that changed meanwhile', () => {
    const lines = formatRedriveTotals(
      { dryRun: false, matched: 5, redriven: 1, skipped: 4, stale: 3, pages: 1 },
      filter,
      rerun,
    );

    expect(lines).toEqual([
      'Re-driven 1 of 5 notification(s) matching --status=expired.',
      '3 will not be re-sent: expired OTPs, whose code is stale (the upstream must send new ones).',
      '1 skipped: they changed meanwhile (sent, cancelled or being sent); run it again to see.',
    ]);
  });

  it('offers no re-drive command on a dry run whose every match is a stale OTP', () => {
    const lines = formatRedriveTotals(
      { dryRun: true, matched: 2, redriven: 0, skipped: 2, stale: 2, pages: 1 },
      filter,
      rerun,
    );

    expect(lines.some((line) => line.startsWith('To re-drive them'))).toBe(false);
    expect(lines[1]).toMatch(/^2 will not be re-sent/);
  });
});
