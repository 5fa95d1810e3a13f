// `npm run notifications`'s command line: the usage text, the flags each command takes, and their checks, read into
// one request plan (an Invocation); and the follow-up commands printed from it (`More:`, resume, re-drive).
import { parseArgs } from 'node:util';
import { CATEGORY_SLUG, FAILURE_REASONS, NOTIFICATION_STATUSES } from '../../shared/domain/notification.js';
import { LOCAL_STAGE } from '../../shared/domain/operator-command.js';
import { EXPORT_MAX_ROWS, REDRIVABLE_STATUSES } from '../../shared/http/operator-requests.js';
import type { Query } from './api-client.js';
import { UsageError } from './errors.js';
import { instantFlag, positiveInteger, sinceInstant } from './flags.js';
import { stageName } from './stage.js';

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

function listQuery(flags: Flags, now: Date): Query {
  const phone = textFlag('phone', flags.phone, 32);
  return {
    ...(flags.status !== undefined ? { status: statusesOf(flags.status) } : {}),
    ...commonFilters(flags, now),
    ...(phone ? { phone } : {}),
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

/** A word safe for a POSIX shell as printed: the follow-up commands must work when pasted. */
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
export const commandLine = (argv: readonly string[], extra: string[] = []) =>
  ['npm run notifications --', ...[...argv, ...extra].map(shellWord)].join(' ');
