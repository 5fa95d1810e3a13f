// `npm run notifications`: the operator routes of the API (read, list, cancel, re-drive, export), called with a
// SigV4 signature. Parsing turns the command line into one request plan; running it calls the API and prints.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { NotificationView } from '../../shared/application/operator.js';
import { CATEGORY_SLUG, FAILURE_REASONS, NOTIFICATION_STATUSES } from '../../shared/domain/notification.js';
import { LOCAL_STAGE } from '../../shared/domain/operator-command.js';
import {
  EXPORT_MAX_ROWS,
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
  formatNotification,
  formatRedriven,
  formatRedriveTotals,
  type ListTable,
  listTable,
  type RedriveTotals,
} from './notification-report.js';
import { startProgress } from './progress.js';
import { StageLookupError, stageName } from './stage.js';

export const NOTIFICATIONS_USAGE = `Usage: npm run notifications -- <command> [options]

Reads and acts on notifications through the operator API (IAM-authorised routes, every request signed
with SigV4). The local stack (npm start) by default; a deployed stage with --stage.

Commands:
  show <id>              one notification: status, attempts, recipient, last error, history, operator actions
  list                   notifications, newest first (by creation)
  cancel <id>            cancel a pending or failed notification: it will never be sent
  retry <id>             re-drive one notification now (a failed one becomes due at once; a
                         permanent_failure or expired one gets a fresh attempt budget)
  retry --status=STATUS  re-drive every notification matching the filters (failed, permanent_failure
                         or expired); try --dry-run first: it counts them and changes nothing
  export                 CSV (RFC 4180, UTF-8, one header row) on stdout, page after page

Filters (list, export, and the bulk retry: the forms that select notifications):
  --status=S[,S…]        pending, sent, failed, permanent_failure, cancelled, expired (list and export:
                         every status when absent; the bulk retry: exactly one, required)
  --since=DURATION       created within the last 30m, 24h, 7d… (s, m, h, d, w)
  --from=DATE --to=DATE  created between two ISO 8601 dates or date-times (2025-11-27, 2025-11-27T18:00:00Z)
  --category=SLUG        one category, e.g. otp
  --phone=NUMBER         one recipient, in any form ingest accepts (list and export)
  --reason=R             why they failed: temporary_error, permanent_error, provider_unavailable,
                         max_retries_exceeded, validity_expired, cancelled_by_operator

list:
  --limit=N              at most N notifications (default 50)
  --all                  every match, printed page after page as it comes (for large sets, export is lighter)
  --cursor=CURSOR        go on from where a previous list stopped (it prints the command)

export:
  --page-size=N          rows per request (default and most: 5000); the CSV is the same
  --cursor=CURSOR        go on from where an interrupted export stopped, without the header row (it prints
                         the command: append its output to the same file with >>)

cancel <id>, retry <id>:
  --reason="TEXT"        why you act: kept with the notification, with who you are (your IAM ARN)

retry --status:
  --note="TEXT"          why you re-drive them: kept with each notification, with your IAM ARN
  --dry-run              count the matches, change nothing (then prints the command that re-drives them)

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
  npm run notifications -- retry --status=permanent_failure --reason=permanent_error --dry-run
  npm run notifications -- retry --status=failed --category=otp --since=24h --note="provider outage over"
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
  limit: { type: 'string' },
  all: { type: 'boolean', default: false },
  cursor: { type: 'string' },
  reason: { type: 'string' },
  note: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'page-size': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];
type FlagName = keyof typeof OPTIONS;

const COMMANDS = ['show', 'list', 'cancel', 'retry', 'export'] as const;
type CommandName = (typeof COMMANDS)[number];
/**
 * The selection flags. As in the API, `--reason` is the failure-reason filter wherever notifications are selected
 * (list, export, retry --status), and why the operator acts where one is named (cancel <id>, retry <id>); the
 * bulk re-drive's why is `--note`.
 */
const FILTERS = ['status', 'since', 'from', 'to', 'category', 'reason'] as const satisfies FlagName[];

/** The flags each command takes besides the target and output ones. */
const COMMAND_FLAGS: Record<CommandName | 'retry-matching', readonly FlagName[]> = {
  show: [],
  list: [...FILTERS, 'phone', 'limit', 'all', 'cursor'],
  cancel: ['reason'],
  retry: ['reason'],
  'retry-matching': [...FILTERS, 'note', 'dry-run'],
  export: [...FILTERS, 'phone', 'page-size', 'cursor'],
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
  /** The command line without --cursor and --dry-run: what the printed re-run (`To re-drive them:`) starts from. */
  argv: readonly string[];
  /**
   * The command line without --cursor and --dry-run, --since pinned as the --from it stood for: what a printed
   * `--cursor=…` command starts from (a cursor resumes only the same window, and `--since` moves with the clock).
   */
  resumeArgv: readonly string[];
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

/** --reason where notifications are selected: one failure reason. */
function failureReasonOf(raw: string, bulk: boolean): string {
  if (!(FAILURE_REASONS as readonly string[]).includes(raw.trim())) {
    // `retry --status=… --reason="numbers fixed"`: the why of the single form, given to the bulk one.
    const hint = bulk ? '; to say why you re-drive them, use --note="…"' : '';
    throw new UsageError(`--reason selects by failure reason: ${FAILURE_REASONS.join(', ')}, got '${raw}'${hint}`);
  }
  return raw.trim();
}

/** --since, or --from / --to: the window of creation, in ISO 8601 as the API reads it. */
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

function commonFilters(flags: Flags, now: Date, bulk = false) {
  const category = flags.category?.trim();
  if (category !== undefined && !CATEGORY_SLUG.test(category)) {
    throw new UsageError(`--category must be a category slug such as otp or colis_arrive, got '${flags.category}'`);
  }
  return {
    ...windowOf(flags, now),
    ...(category ? { category } : {}),
    ...(flags.reason !== undefined ? { reason: failureReasonOf(flags.reason, bulk) } : {}),
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
    const named = shape === 'cancel' || shape === 'retry';
    const hint = misplaced.includes('note') && named ? ' (there --reason says why you act)' : '';
    throw new UsageError(`${misplaced.map((f) => `--${f}`).join(', ')} does not apply to ${what}${hint}`);
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

  let plan: Plan;
  switch (shape) {
    case 'show':
      plan = { command: 'show', id: idOf(rest, 'show') };
      break;
    case 'cancel': {
      const reason = textFlag('reason', flags.reason, 500);
      plan = { command: 'cancel', id: idOf(rest, 'cancel'), ...(reason ? { reason } : {}) };
      break;
    }
    case 'retry': {
      const reason = textFlag('reason', flags.reason, 500);
      plan = { command: 'retry', id: idOf(rest, 'retry'), ...(reason ? { reason } : {}) };
      break;
    }
    case 'retry-matching': {
      const status = flags.status!.trim();
      if (!(REDRIVABLE_STATUSES as readonly string[]).includes(status)) {
        throw new UsageError(`retry --status takes one of ${REDRIVABLE_STATUSES.join(', ')}, got '${flags.status}'`);
      }
      const note = textFlag('note', flags.note, 500);
      plan = {
        command: 'retry-matching',
        filter: { status: status as RedriveFilter['status'], ...commonFilters(flags, now, true) },
        dryRun: flags['dry-run'] === true,
        ...(note ? { note } : {}),
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
      if (flags.cursor !== undefined) plan.query.cursor = textFlag('cursor', flags.cursor, 2048);
      break;
    }
  }
  const from = 'query' in plan ? plan.query.from : 'filter' in plan ? plan.filter.from : undefined;
  return {
    plan,
    json: flags.json === true,
    stage: deployed ? stage : undefined,
    region: flags.region,
    profile: flags.profile,
    argv: followUpArgs(argv),
    resumeArgv: followUpArgs(argv, from),
  };
}

/**
 * The command line as typed, for a printed follow-up: without --cursor and --dry-run (either spelling, `--cursor X`
 * included), and with `sinceAs`, --since replaced by the `--from=` instant it stood for.
 */
function followUpArgs(argv: readonly string[], sinceAs?: string): string[] {
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  return tokens.flatMap((token): string[] => {
    if (token.kind === 'positional') return [token.value];
    if (token.kind === 'option-terminator') return ['--'];
    if (token.name === 'cursor' || token.name === 'dry-run') return [];
    if (token.name === 'since' && sinceAs !== undefined) return [`--from=${sinceAs}`];
    if (token.value === undefined) return [token.rawName];
    return token.inlineValue ? [`${token.rawName}=${token.value}`] : [token.rawName, token.value];
  });
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
    if (!(error instanceof StoppedMidway)) return reportFailure(error, target, io);
    const code = reportFailure(error.cause, target, io);
    // Not after `| head` (EPIPE): the reader stopped on purpose.
    if (code !== EXIT.ok) io.err(error.resume.join('\n'));
    return code;
  }
}

/** A list or an export that failed after some pages were printed: the failure, and how to go on from there. */
class StoppedMidway extends Error {
  override name = 'StoppedMidway';
  constructor(
    override readonly cause: unknown,
    readonly resume: readonly string[],
  ) {
    super('stopped midway', { cause });
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
      return exportCsv(plan, invocation, client, io);
  }
}

interface ListPage {
  items: NotificationView[];
  nextCursor?: string | null;
}

/**
 * Page after page, each printed as it arrives: memory holds one page, however many `--all` finds. The table's
 * header comes once, over the first rows; --json prints the same document as the API's (`{ "items": […],
 * "nextCursor": … }`), written item by item. A failure after some pages says how to go on from there.
 */
async function list(
  plan: Extract<Plan, { command: 'list' }>,
  invocation: Invocation,
  client: OperatorApiClient,
  io: NotificationsIo,
): Promise<number> {
  const printer = invocation.json ? jsonListPrinter(io.out) : tableListPrinter(io.out, io.columns);
  let cursor = plan.query.cursor;
  let count = 0;
  const wanted = () => plan.limit === 'all' || count < plan.limit;
  try {
    do {
      const room = plan.limit === 'all' ? LIST_MAX_LIMIT : Math.min(LIST_MAX_LIMIT, plan.limit - count);
      const stopProgress = startProgress('listing');
      let page: ListPage;
      try {
        page = await client.json<ListPage>('GET', '/notifications', {
          query: { ...plan.query, limit: String(room), cursor },
        });
      } finally {
        stopProgress();
      }
      if (page.nextCursor && page.nextCursor === cursor) throw new Error('the API returned the same cursor twice');
      count += page.items.length;
      cursor = page.nextCursor ?? undefined;
      printer.page(page.items, Boolean(cursor) && wanted());
    } while (cursor && wanted());
  } catch (error) {
    // Nothing printed yet: the same command starts it again.
    if (count === 0 && cursor === plan.query.cursor) throw error;
    printer.interrupted();
    throw new StoppedMidway(error, [
      `list stopped after ${count} notification(s). To go on from there:`,
      `  ${commandLine(invocation.resumeArgv, cursor ? [`--cursor=${cursor}`] : [])}`,
    ]);
  }
  printer.end(count, cursor, cursor ? commandLine(invocation.resumeArgv, [`--cursor=${cursor}`]) : undefined);
  return EXIT.ok;
}

interface ListPrinter {
  /** One page of the list; `more`: another page will follow. */
  page(items: readonly NotificationView[], more: boolean): void;
  /** The list is complete; `next` is the command for the rest when --limit stopped it. */
  end(count: number, cursor: string | undefined, next: string | undefined): void;
  /** The list failed after some pages: what was read is printed, the end is not. */
  interrupted(): void;
}

function tableListPrinter(out: (text: string) => void, columns: number | undefined): ListPrinter {
  let table: ListTable | undefined;
  return {
    page(items, more) {
      if (items.length === 0) return;
      // One page alone is as wide as its cells; pages that follow one another line up under the first.
      table ??= listTable(columns, more);
      out(table.rows(items).join('\n'));
    },
    end(count, _cursor, next) {
      const lines = count === 0 ? ['No notification matches.'] : (table?.footnotes() ?? []);
      lines.push('', `${count} notification(s), newest first.`);
      if (next) lines.push(`More: ${next}`);
      out(lines.join('\n'));
    },
    interrupted() {},
  };
}

/** `JSON.stringify({ items, nextCursor }, null, 2)`, written an item at a time (the last held back for its comma). */
function jsonListPrinter(out: (text: string) => void): ListPrinter {
  let held: string | undefined;
  return {
    page(items) {
      for (const item of items) {
        out(held === undefined ? '{\n  "items": [' : `${held},`);
        held = JSON.stringify(item, null, 2).replace(/^/gm, '    ');
      }
    },
    end(_count, cursor) {
      if (held === undefined) {
        out(JSON.stringify({ items: [], nextCursor: cursor ?? null }, null, 2));
        return;
      }
      out(`${held}\n  ],\n  "nextCursor": ${JSON.stringify(cursor ?? null)}\n}`);
    },
    interrupted() {
      // Every item read is printed; the document stays unclosed, so that no parser takes it for the whole list.
      if (held !== undefined) out(held);
      held = undefined;
    },
  };
}

interface RedrivePage {
  dryRun: boolean;
  matched: number;
  redriven: number;
  skipped: number;
  /** Expired OTPs among the skipped (absent when none). */
  stale?: number;
  nextCursor?: string | null;
}

/** The selection in the flags' words: `--status=failed --reason=… --category=…, created since …`. */
const filterText = (filter: RedriveFilter): string => {
  const flags = [
    `--status=${filter.status}`,
    ...(filter.reason ? [`--reason=${filter.reason}`] : []),
    ...(filter.category ? [`--category=${filter.category}`] : []),
  ].join(' ');
  const window = [...(filter.from ? [`since ${filter.from}`] : []), ...(filter.to ? [`until ${filter.to}`] : [])].join(
    ' ',
  );
  return window ? `${flags}, created ${window}` : flags;
};

async function redriveMatching(
  plan: Extract<Plan, { command: 'retry-matching' }>,
  invocation: Invocation,
  client: OperatorApiClient,
  io: NotificationsIo,
): Promise<number> {
  const totals: RedriveTotals = { dryRun: plan.dryRun, matched: 0, redriven: 0, skipped: 0, stale: 0, pages: 0 };
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
      totals.stale += page.stale ?? 0;
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
 * Page after page of CSV to stdout, each page written once it has all arrived: memory holds one page (at most
 * 5,000 rows, under 6 MB) whatever the export's size, and what stdout holds ends on a whole page. The API sends the
 * header row on the first page only. A failure after the first page prints the command that goes on from there
 * (`--cursor=…`: no header row), whose output is to be appended to the same file.
 */
async function exportCsv(
  plan: Extract<Plan, { command: 'export' }>,
  invocation: Invocation,
  client: OperatorApiClient,
  io: NotificationsIo,
): Promise<number> {
  let cursor = plan.query.cursor;
  let pages = 0;
  let endsWithNewline = true;
  const seen = new Set<string>();
  try {
    do {
      const response = await client.stream('/notifications/export.csv', {
        query: { ...plan.query, cursor },
        timeoutMs: 120_000,
      });
      const next = nextCursorOf(response.headers);
      const chunks: Uint8Array[] = [];
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) if (chunk.length > 0) chunks.push(chunk);
      if (next && seen.has(next)) throw new Error('the API returned the same export cursor twice');
      const page = Buffer.concat(chunks);
      if (page.length > 0) {
        // A page that did not end its last row: the next page's first row must not be glued to it.
        if (!endsWithNewline) await write(io.stdout, '\n');
        await write(io.stdout, page);
        endsWithNewline = page[page.length - 1] === 0x0a;
      }
      pages += 1;
      if (next) seen.add(next);
      cursor = next;
    } while (cursor);
  } catch (error) {
    // The first page of a fresh export: nothing was written, and the same command starts it again.
    if (cursor === undefined) throw error;
    throw new StoppedMidway(error, [
      `export stopped after ${pages} page(s); the CSV written so far ends on a whole page.`,
      'To go on from there (no header row: append its output to the same file, with >>):',
      `  ${commandLine(invocation.resumeArgv, [`--cursor=${cursor}`])}`,
    ]);
  }
  return EXIT.ok;
}

async function write(stream: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain');
}

/** Flag names for the API's parameter names, so that a refusal names what the operator typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  status: '--status',
  reason: '--reason',
  note: '--note',
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
