// `npm run notifications`: the operator routes of the API (read, list, cancel, re-drive, export), called with a
// SigV4 signature. Parsing turns the command line into one request plan; running it calls the API and prints.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { NotificationView } from '../../shared/application/operator.js';
import { CATEGORY_SLUG, NOTIFICATION_STATUSES } from '../../shared/domain/notification.js';
import { LOCAL_STAGE } from '../../shared/domain/operator-command.js';
import {
  EXPORT_MAX_ROWS,
  FAILURE_REASONS,
  LIST_MAX_LIMIT,
  REDRIVABLE_STATUSES,
  REDRIVE_MAX_LIMIT,
} from '../../shared/http/operator-requests.js';
import {
  ApiError,
  type ApiTarget,
  ApiUnreachableError,
  localApiTarget,
  OperatorApiClient,
  type Query,
  stageApiTarget,
} from './api-client.js';
import { EXIT, UsageError } from './errors.js';
import { instantFlag, positiveInteger, sinceInstant } from './flags.js';
import {
  formatCancelled,
  formatList,
  formatNotification,
  formatRedriven,
  formatRedriveTotals,
  type RedriveTotals,
} from './notification-report.js';
import { startProgress } from './progress.js';
import { StageLookupError, stageName } from './stage.js';

export const NOTIFICATIONS_USAGE = `Usage: npm run notifications -- <command> [options]

Reads and acts on notifications through the operator API (IAM-authorised routes, every request signed
with SigV4). The local stack (npm start) by default; a deployed stage with --stage.

Commands:
  show <id>              one notification: status, attempts, recipient, last error, history, operator actions
  list                   notifications, newest first (by last change)
  cancel <id>            cancel a pending or failed notification: it will never be sent
  retry <id>             re-drive one notification now (a failed one becomes due at once; a
                         permanent_failure or expired one gets a fresh attempt budget)
  retry --status=STATUS  re-drive every notification matching the filters (failed, permanent_failure
                         or expired); try --dry-run first: it counts them and changes nothing
  export                 CSV (RFC 4180, UTF-8, one header row) on stdout, page after page

Filters (list, export, and the bulk retry):
  --status=S[,S…]        pending, sent, failed, permanent_failure, cancelled, expired (list and export:
                         every status when absent; the bulk retry: exactly one, required)
  --since=DURATION       changed within the last 30m, 24h, 7d… (s, m, h, d, w)
  --from=DATE --to=DATE  changed between two ISO 8601 dates or date-times (2025-11-27, 2025-11-27T18:00:00Z)
  --category=SLUG        one category, e.g. otp
  --phone=NUMBER         one recipient, in any form ingest accepts (list and export)
  --failure-reason=R     why they failed: temporary_error, permanent_error, provider_unavailable,
                         max_retries_exceeded, validity_expired, cancelled_by_operator

list:
  --limit=N              at most N notifications (default 50)
  --all                  every match, page after page (for large sets, export is lighter)
  --cursor=CURSOR        go on from where a previous list stopped (it prints the command)

export:
  --page-size=N          rows per request (default and most: 5000); the CSV is the same

cancel, retry:
  --reason="TEXT"        why you act: kept with each notification, with who you are (your IAM ARN)
  --dry-run              with retry --status: count the matches, change nothing

Target (the local stack by default, http://127.0.0.1:\${API_PORT:-3000} signed as local/local):
  --stage NAME           a deployed stage (dev, prod): the API is found in the outputs of the CloudFormation
                         stack WaChapNotifications-NAME, and requests are signed with your AWS credentials
                         (AWS_PROFILE / environment / ~/.aws); IAM needs cloudformation:DescribeStacks on
                         the stack and the NotificationOperatorPolicy output attached to you
  --profile=PROFILE      AWS shared-config profile (with --stage)
  --region=REGION        the stack's region (with --stage; default AWS_REGION or the profile's)

Output:
  --json                 the API's JSON instead of the tables (not for export, which is CSV)
  -h, --help             this help

Examples:
  npm run notifications -- list --status=failed --since=24h
  npm run notifications -- list --status=failed,permanent_failure --category=otp --limit=200
  npm run notifications -- show 01KB8Z4N6QXW3E2R7T9Y5V1K0P
  npm run notifications -- cancel 01KB8Z4N6QXW3E2R7T9Y5V1K0P --reason="sent by mistake"
  npm run notifications -- retry 01KB8Z4N6QXW3E2R7T9Y5V1K0P --reason="number fixed upstream"
  npm run notifications -- retry --status=permanent_failure --failure-reason=permanent_error --since=7d --dry-run
  npm run notifications -- export --status=permanent_failure --since=7d > failures.csv
  npm run notifications -- --stage prod list --status=failed --since=24h
  AWS_PROFILE=prod npm run notifications -- --stage prod export --status=permanent_failure --since=7d > failures.csv

Exit codes: 0 done; 1 the API refused or failed (not found, conflict, forbidden, server error);
            2 usage error (a bad flag or value, or no stack for --stage); 3 the API could not be reached.`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  stage: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  category: { type: 'string' },
  phone: { type: 'string' },
  'failure-reason': { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean', default: false },
  cursor: { type: 'string' },
  reason: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'page-size': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];
type FlagName = keyof typeof OPTIONS;

const COMMANDS = ['show', 'list', 'cancel', 'retry', 'export'] as const;
type CommandName = (typeof COMMANDS)[number];
const FILTERS = ['status', 'since', 'from', 'to', 'category', 'failure-reason'] as const satisfies FlagName[];

/** The flags each command takes besides the target and output ones. */
const COMMAND_FLAGS: Record<CommandName | 'retry-matching', readonly FlagName[]> = {
  show: [],
  list: [...FILTERS, 'phone', 'limit', 'all', 'cursor'],
  cancel: ['reason'],
  retry: ['reason'],
  'retry-matching': [...FILTERS, 'reason', 'dry-run'],
  export: [...FILTERS, 'phone', 'page-size'],
};
const COMMON_FLAGS: readonly FlagName[] = ['json', 'help', 'stage', 'region', 'profile'];

/** The bulk re-drive's selection, as POST /notifications/retry reads it. */
export interface RedriveFilter {
  status: (typeof REDRIVABLE_STATUSES)[number];
  reason?: string;
  category?: string;
  from?: string;
  to?: string;
}

export type Plan =
  | { command: 'show'; id: string }
  | { command: 'list'; query: Query; limit: number | 'all' }
  | { command: 'cancel'; id: string; reason?: string }
  | { command: 'retry'; id: string; reason?: string }
  | { command: 'retry-matching'; filter: RedriveFilter; dryRun: boolean; note?: string }
  | { command: 'export'; query: Query };

export interface Invocation {
  plan: Plan;
  json: boolean;
  /** A deployed stage, or undefined for the local stack. */
  stage: string | undefined;
  region: string | undefined;
  profile: string | undefined;
  /** The command line without --cursor and --dry-run: what the printed follow-up commands start from. */
  argv: readonly string[];
}

/** Notification ids are ULIDs: checked here so that a typo is not sent (nor signed into a path). */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

function idOf(positionals: string[], command: string): string {
  if (positionals.length === 0) throw new UsageError(`${command} needs a notification id: ${command} <id>`);
  if (positionals.length > 1) throw new UsageError(`${command} takes one notification id, got ${positionals.length}`);
  const id = positionals[0]!.trim();
  if (!ULID.test(id)) {
    throw new UsageError(`'${positionals[0]}' is not a notification id (26 letters and digits, e.g. 01KB8Z4N6Q…)`);
  }
  return id.toUpperCase();
}

function textFlag(flag: string, raw: string | undefined, max: number): string | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') throw new UsageError(`--${flag} must not be empty`);
  if (text.length > max) throw new UsageError(`--${flag} must be at most ${max} characters, got ${text.length}`);
  return text;
}

function statusesOf(raw: string): string {
  const statuses = [...new Set(raw.split(',').map((s) => s.trim()))];
  const unknown = statuses.filter((s) => !(NOTIFICATION_STATUSES as readonly string[]).includes(s));
  if (unknown.length > 0 || statuses.length === 0) {
    throw new UsageError(`--status takes ${NOTIFICATION_STATUSES.join(', ')} (comma-separated), got '${raw}'`);
  }
  return statuses.join(',');
}

function failureReasonOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!(FAILURE_REASONS as readonly string[]).includes(raw.trim())) {
    throw new UsageError(`--failure-reason takes ${FAILURE_REASONS.join(', ')}, got '${raw}'`);
  }
  return raw.trim();
}

/** --since, or --from / --to: the window of last changes, in ISO 8601 as the API reads it. */
function windowOf(flags: Flags, now: Date): { from?: string; to?: string } {
  if (flags.since !== undefined && flags.from !== undefined) {
    throw new UsageError('give --since or --from, not both');
  }
  const from =
    flags.since !== undefined
      ? sinceInstant('since', flags.since, now)
      : flags.from !== undefined
        ? instantFlag('from', flags.from)
        : undefined;
  const to = flags.to !== undefined ? instantFlag('to', flags.to) : undefined;
  if (from && to && from > to) throw new UsageError(`the window ends (--to ${to}) before it starts (${from})`);
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

function commonFilters(flags: Flags, now: Date) {
  const category = flags.category?.trim();
  if (category !== undefined && !CATEGORY_SLUG.test(category)) {
    throw new UsageError(`--category must be a category slug such as otp or colis_arrive, got '${flags.category}'`);
  }
  return {
    ...windowOf(flags, now),
    ...(category ? { category } : {}),
    ...(flags['failure-reason'] !== undefined ? { reason: failureReasonOf(flags['failure-reason']) } : {}),
  };
}

/** The flags the user gave (not the defaults), as they were spelt. */
function givenFlags(argv: readonly string[]): Set<FlagName> {
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  return new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name as FlagName] : [])));
}

/** The command line as an invocation; throws UsageError naming the flag or value at fault. */
export function parseNotificationsArgs(argv: readonly string[], now: Date): Invocation | 'help' {
  let flags: Flags;
  let positionals: string[];
  let given: Set<FlagName>;
  try {
    ({ values: flags, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
    given = givenFlags(argv);
  } catch (error) {
    // node:util's own messages already name the flag (unknown option, missing value, ...).
    throw new UsageError((error as Error).message);
  }
  if (flags.help) return 'help';
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError(`give a command: ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown command '${name}': use ${COMMANDS.join(', ')}`);
  }
  const command = name as CommandName;
  const shape = command === 'retry' && rest.length === 0 ? 'retry-matching' : command;
  if (shape === 'retry-matching' && !given.has('status')) {
    throw new UsageError('retry needs a notification id (retry <id>) or a filter (retry --status=permanent_failure …)');
  }
  const allowed = new Set([...COMMON_FLAGS, ...COMMAND_FLAGS[shape]]);
  const misplaced = [...given].filter((flag) => !allowed.has(flag));
  if (misplaced.length > 0) {
    const what = shape === 'retry-matching' ? 'retry --status' : shape === 'retry' ? 'retry <id>' : command;
    throw new UsageError(`${misplaced.map((f) => `--${f}`).join(', ')} does not apply to ${what}`);
  }
  if (command !== 'show' && command !== 'cancel' && command !== 'retry' && rest.length > 0) {
    throw new UsageError(`${command} takes no argument, got '${rest[0]}'`);
  }
  if (command === 'export' && flags.json) throw new UsageError('export writes CSV: --json does not apply');

  const stage = flags.stage === undefined ? undefined : stageName(flags.stage);
  const deployed = stage !== undefined && stage !== LOCAL_STAGE;
  for (const flag of ['profile', 'region'] as const) {
    if (flags[flag] !== undefined && !deployed) throw new UsageError(`--${flag} goes with --stage (a deployed stage)`);
  }
  const reason = textFlag('reason', flags.reason, 500);

  let plan: Plan;
  switch (shape) {
    case 'show':
      plan = { command: 'show', id: idOf(rest, 'show') };
      break;
    case 'cancel':
      plan = { command: 'cancel', id: idOf(rest, 'cancel'), ...(reason ? { reason } : {}) };
      break;
    case 'retry':
      plan = { command: 'retry', id: idOf(rest, 'retry'), ...(reason ? { reason } : {}) };
      break;
    case 'retry-matching': {
      const status = flags.status!.trim();
      if (!(REDRIVABLE_STATUSES as readonly string[]).includes(status)) {
        throw new UsageError(`retry --status takes one of ${REDRIVABLE_STATUSES.join(', ')}, got '${flags.status}'`);
      }
      if (reason && (FAILURE_REASONS as readonly string[]).includes(reason)) {
        // `--reason=permanent_error` reads like a filter: it would be recorded as why, and select nothing.
        throw new UsageError(
          `--reason is why you re-drive them (kept with each notification); to select by failure reason, use --failure-reason=${reason}`,
        );
      }
      plan = {
        command: 'retry-matching',
        filter: { status: status as RedriveFilter['status'], ...commonFilters(flags, now) },
        dryRun: flags['dry-run'] === true,
        ...(reason ? { note: reason } : {}),
      };
      break;
    }
    case 'list': {
      if (flags.all && flags.limit !== undefined) throw new UsageError('give --limit or --all, not both');
      plan = {
        command: 'list',
        query: listQuery(flags, now),
        limit: flags.all ? 'all' : (positiveInteger('limit', flags.limit) ?? 50),
      };
      if (flags.cursor !== undefined) plan.query.cursor = textFlag('cursor', flags.cursor, 2048);
      break;
    }
    case 'export': {
      const pageSize = positiveInteger('page-size', flags['page-size']);
      if (pageSize !== undefined && pageSize > EXPORT_MAX_ROWS) {
        throw new UsageError(`--page-size must be at most ${EXPORT_MAX_ROWS}, got ${pageSize}`);
      }
      plan = {
        command: 'export',
        query: { ...listQuery(flags, now), ...(pageSize !== undefined ? { limit: String(pageSize) } : {}) },
      };
      break;
    }
  }
  return {
    plan,
    json: flags.json === true,
    stage: deployed ? stage : undefined,
    region: flags.region,
    profile: flags.profile,
    argv: argv.filter((arg) => !/^--(cursor|dry-run)(=|$)/.test(arg)),
  };
}

function listQuery(flags: Flags, now: Date): Query {
  const phone = textFlag('phone', flags.phone, 32);
  return {
    ...(flags.status !== undefined ? { status: statusesOf(flags.status) } : {}),
    ...commonFilters(flags, now),
    ...(phone ? { phone } : {}),
  };
}

// ── Running ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface NotificationsIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where the CSV goes, with backpressure. */
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** The terminal's width when stdout is one (tables are then cut to fit). */
  columns: number | undefined;
  /** How the API is reached: the default builds the local or the stage's target. */
  target?: (invocation: Invocation) => Promise<ApiTarget>;
  fetch?: typeof fetch;
}

export const defaultNotificationsIo = (): NotificationsIo => ({
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  stdout: process.stdout,
  env: process.env,
  now: () => new Date(),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
});

/** A word safe for a POSIX shell as printed: the follow-up commands must work when pasted. */
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
const commandLine = (argv: readonly string[], extra: string[] = []) =>
  ['npm run notifications --', ...[...argv, ...extra].map(shellWord)].join(' ');

/** Parses, calls the API, prints; resolves to the exit code. */
export async function runNotificationsCommand(argv: readonly string[], io: NotificationsIo): Promise<number> {
  let invocation: Invocation;
  let target: ApiTarget;
  try {
    const parsed = parseNotificationsArgs(argv, io.now());
    if (parsed === 'help') {
      io.out(NOTIFICATIONS_USAGE);
      return EXIT.ok;
    }
    invocation = parsed;
    target = io.target
      ? await io.target(invocation)
      : invocation.stage
        ? await stageApiTarget(invocation.stage, invocation)
        : localApiTarget(io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n\n${NOTIFICATIONS_USAGE}`);
      return EXIT.usage;
    }
    return reportFailure(error, undefined, io);
  }

  const client = new OperatorApiClient(target, io.fetch);
  try {
    return await execute(invocation, client, io);
  } catch (error) {
    return reportFailure(error, target, io);
  }
}

async function execute(invocation: Invocation, client: OperatorApiClient, io: NotificationsIo): Promise<number> {
  const { plan, json } = invocation;
  const print = (value: unknown, lines: () => string[]) =>
    io.out(json ? JSON.stringify(value, null, 2) : lines().join('\n'));
  switch (plan.command) {
    case 'show': {
      const view = await client.json<NotificationView>('GET', `/notifications/${plan.id}`);
      print(view, () => formatNotification(view));
      return EXIT.ok;
    }
    case 'cancel': {
      const body = plan.reason ? { reason: plan.reason } : {};
      const view = await client.json<NotificationView>('POST', `/notifications/${plan.id}/cancel`, { body });
      print(view, () => formatCancelled(view));
      return EXIT.ok;
    }
    case 'retry': {
      const body = plan.reason ? { reason: plan.reason } : {};
      const view = await client.json<NotificationView>('POST', `/notifications/${plan.id}/retry`, { body });
      print(view, () => formatRedriven(view));
      return EXIT.ok;
    }
    case 'list':
      return list(plan, invocation, client, io);
    case 'retry-matching':
      return redriveMatching(plan, invocation, client, io);
    case 'export':
      return exportCsv(plan, client, io);
  }
}

interface ListPage {
  items: NotificationView[];
  nextCursor?: string | null;
}

async function list(
  plan: Extract<Plan, { command: 'list' }>,
  invocation: Invocation,
  client: OperatorApiClient,
  io: NotificationsIo,
): Promise<number> {
  const items: NotificationView[] = [];
  let cursor = plan.query.cursor;
  const stopProgress = startProgress('listing');
  try {
    do {
      const room = plan.limit === 'all' ? LIST_MAX_LIMIT : Math.min(LIST_MAX_LIMIT, plan.limit - items.length);
      const page = await client.json<ListPage>('GET', '/notifications', {
        query: { ...plan.query, limit: String(room), cursor },
      });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && (plan.limit === 'all' || items.length < plan.limit));
  } finally {
    stopProgress();
  }
  if (invocation.json) {
    io.out(JSON.stringify({ items, nextCursor: cursor ?? null }, null, 2));
    return EXIT.ok;
  }
  const lines = formatList(items, io.columns);
  lines.push('', `${items.length} notification(s), newest first.`);
  if (cursor) lines.push(`More: ${commandLine(invocation.argv, [`--cursor=${cursor}`])}`);
  io.out(lines.join('\n'));
  return EXIT.ok;
}

interface RedrivePage {
  dryRun: boolean;
  matched: number;
  redriven: number;
  skipped: number;
  nextCursor?: string | null;
}

/** The selection in the flags' words: `--status=failed --failure-reason=… --category=…, changed since …`. */
const filterText = (filter: RedriveFilter): string => {
  const flags = [
    `--status=${filter.status}`,
    ...(filter.reason ? [`--failure-reason=${filter.reason}`] : []),
    ...(filter.category ? [`--category=${filter.category}`] : []),
  ].join(' ');
  const window = [...(filter.from ? [`since ${filter.from}`] : []), ...(filter.to ? [`until ${filter.to}`] : [])].join(
    ' ',
  );
  return window ? `${flags}, changed ${window}` : flags;
};

async function redriveMatching(
  plan: Extract<Plan, { command: 'retry-matching' }>,
  invocation: Invocation,
  client: OperatorApiClient,
  io: NotificationsIo,
): Promise<number> {
  const totals: RedriveTotals = { dryRun: plan.dryRun, matched: 0, redriven: 0, skipped: 0, pages: 0 };
  let cursor: string | undefined;
  const stopProgress = startProgress(plan.dryRun ? 'counting' : 're-driving');
  try {
    // Each call handles at most 500 and says where it stopped: the CLI goes on until the whole selection is done.
    do {
      const page = await client.json<RedrivePage>('POST', '/notifications/retry', {
        body: {
          ...plan.filter,
          dryRun: plan.dryRun,
          limit: REDRIVE_MAX_LIMIT,
          ...(plan.note ? { note: plan.note } : {}),
          ...(cursor ? { cursor } : {}),
        },
        timeoutMs: 60_000,
      });
      totals.matched += page.matched;
      totals.redriven += page.redriven;
      totals.skipped += page.skipped;
      totals.pages += 1;
      if (page.nextCursor && page.nextCursor === cursor) throw new Error('the API returned the same cursor twice');
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  } finally {
    stopProgress();
  }
  if (invocation.json) {
    io.out(JSON.stringify(totals, null, 2));
    return EXIT.ok;
  }
  io.out(formatRedriveTotals(totals, filterText(plan.filter), commandLine(invocation.argv)).join('\n'));
  return EXIT.ok;
}

/** The next page's cursor: X-Next-Cursor, or the `cursor` of the Link header's rel="next" URL. */
export function nextCursorOf(headers: Headers): string | undefined {
  const direct = headers.get('x-next-cursor')?.trim();
  if (direct) return direct;
  const link = headers.get('link');
  const next = link
    ?.split(',')
    .map((part) => /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part.trim()))
    .find(Boolean);
  if (!next) return undefined;
  try {
    return new URL(next[1]!, 'http://link.invalid').searchParams.get('cursor') ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Page after page of CSV straight to stdout as it arrives: memory holds one network chunk, whatever the export's
 * size. The API sends the header row on the first page only.
 */
async function exportCsv(
  plan: Extract<Plan, { command: 'export' }>,
  client: OperatorApiClient,
  io: NotificationsIo,
): Promise<number> {
  let cursor: string | undefined;
  let endsWithNewline = true;
  const seen = new Set<string>();
  do {
    const response = await client.stream('/notifications/export.csv', {
      query: { ...plan.query, cursor },
      timeoutMs: 120_000,
    });
    const next = nextCursorOf(response.headers);
    let first = true;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      if (chunk.length === 0) continue;
      // A page that did not end its last row: the next page's first row must not be glued to it.
      if (first && !endsWithNewline) await write(io.stdout, '\n');
      first = false;
      await write(io.stdout, chunk);
      endsWithNewline = chunk[chunk.length - 1] === 0x0a;
    }
    if (next && seen.has(next)) throw new Error('the API returned the same export cursor twice');
    if (next) seen.add(next);
    cursor = next;
  } while (cursor);
  return EXIT.ok;
}

async function write(stream: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain');
}

/** Flag names for the API's parameter names, so that a refusal names what the operator typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  status: '--status',
  reason: '--failure-reason',
  note: '--reason',
  category: '--category',
  phone: '--phone',
  from: '--from / --since',
  to: '--to',
  limit: '--limit',
  cursor: '--cursor',
  id: '<id>',
};

function reportFailure(error: unknown, target: ApiTarget | undefined, io: NotificationsIo): number {
  if (error instanceof StageLookupError) {
    io.err(`error: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof ApiUnreachableError) {
    const hint = target?.isLocalDefault
      ? 'is `npm start` running? (or set API_PORT)'
      : 'check the network, and that the stage is deployed';
    io.err(`error: ${error.message}: ${hint}`);
    return EXIT.unreachable;
  }
  if (error instanceof ApiError) return reportApiError(error, target, io);
  const err = error instanceof Error ? error : new Error(String(error));
  if (/region is missing/i.test(err.message)) {
    io.err('error: no AWS region: set AWS_REGION or pass --region');
    return EXIT.usage;
  }
  if ((err as { code?: string }).code === 'EPIPE') return EXIT.ok; // `| head`: the reader had enough
  // SDK errors (missing credentials, AccessDenied on DescribeStacks) name the problem and carry no secrets.
  io.err(`error: ${err.name}: ${err.message}`);
  return EXIT.functionFailed;
}

function reportApiError(error: ApiError, target: ApiTarget | undefined, io: NotificationsIo): number {
  const { status, body } = error;
  const said = body.message ?? body.error ?? '';
  switch (true) {
    case status === 400: {
      const details = body.details ?? [];
      const lines = details.length
        ? details.map((d) => `  - ${FLAG_OF_FIELD[d.path] ?? (d.path || '(request)')}: ${d.message}`)
        : [`  ${said}`];
      io.err(['error: the API refused the request:', ...lines].join('\n'));
      return EXIT.usage;
    }
    case status === 403: {
      const hint = target?.stage
        ? `your AWS identity needs execute-api:Invoke on the operator routes: attach the managed policy named by the NotificationOperatorPolicy output of the stage ${target.stage} to your IAM user or role`
        : 'the local door takes the local credentials (local/local): is this the API of `npm start`?';
      io.err(`error: the API refused the request (403: ${said}): ${hint}`);
      return EXIT.functionFailed;
    }
    case status === 404:
      io.err(`error: ${said || 'not found'}`);
      return EXIT.functionFailed;
    case status === 409:
      io.err(
        `error: ${said}${body.status ? ` (status ${body.status}${body.inFlight ? ', being sent now' : ''})` : ''}`,
      );
      return EXIT.functionFailed;
    default:
      io.err(`error: the API answered ${status}${said ? `: ${said}` : ''}`);
      return EXIT.functionFailed;
  }
}
