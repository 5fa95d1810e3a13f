// `npm run notifications`: the operator routes of the API (read, list, cancel, re-drive, export), called with a
// SigV4 signature. The command line is read into one request plan (notifications-args.ts); running it calls the API
// and prints: the lists and exports page by page, the bulk re-drive to its end, and how to resume a stopped one.
import { once } from 'node:events';
import type { NotificationView } from '../../shared/application/operator.js';
import { LIST_MAX_LIMIT, REDRIVE_MAX_LIMIT } from '../../shared/http/operator-requests.js';
import {
  ApiError,
  type ApiTarget,
  ApiUnreachableError,
  localApiTarget,
  OperatorApiClient,
  stageApiTarget,
} from './api-client.js';
import { EXIT, UsageError } from './errors.js';
import {
  formatCancelled,
  formatNotification,
  formatRedriven,
  formatRedriveTotals,
  type ListTable,
  listTable,
  type RedriveTotals,
} from './notification-report.js';
import {
  commandLine,
  type Invocation,
  NOTIFICATIONS_USAGE,
  type Plan,
  parseNotificationsArgs,
  type RedriveFilter,
} from './notifications-args.js';
import { startProgress } from './progress.js';
import { StageLookupError } from './stage.js';

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
  const said = body.detail ?? body.message ?? body.code ?? body.error ?? '';
  switch (true) {
    case status === 400: {
      const details = body.errors ?? body.details ?? [];
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
        `error: ${said}${body.notificationStatus ? ` (status ${body.notificationStatus}${body.inFlight ? ', being sent now' : ''})` : ''}`,
      );
      return EXIT.functionFailed;
    default:
      io.err(`error: the API answered ${status}${said ? `: ${said}` : ''}`);
      return EXIT.functionFailed;
  }
}
