// What `npm run notifications` prints for a person: one notification, a list as a table, the outcome of an action.
// Every text read back from the API goes through table.ts's `cell`, which keeps it on one line without controls.

import type { NotificationView } from '../../shared/application/operator.js';
import { type Column, cell, labelled, renderTable, tableStream } from './table.js';

/** `2025-11-27T10:30:00.000Z` as `2025-11-27 10:30:00Z`: a table's column, still UTC and still sortable. */
export const shortInstant = (iso: string | undefined): string | undefined =>
  iso?.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

const statusText = (view: Pick<NotificationView, 'status' | 'reason' | 'inFlight'>): string =>
  `${view.status}${view.reason ? ` (${view.reason})` : ''}${view.inFlight ? ', being sent now' : ''}`;

const errorText = (error: NotificationView['lastError']): string | undefined =>
  error
    ? `${error.type}${error.httpStatus !== undefined ? ` HTTP ${error.httpStatus}` : ''}: ${error.message}`
    : undefined;

const recipientText = (recipient: NotificationView['recipient']) =>
  recipient.name ? `${recipient.phone} (${recipient.name})` : recipient.phone;

// The widths: the longest instant, id, status (`permanent_failure*`), reason (`cancelled_by_operator`), E.164 number.
const LIST_COLUMNS: readonly Column<NotificationView>[] = [
  { header: 'CREATED', value: (n) => shortInstant(n.createdAt), width: 20 },
  { header: 'ID', value: (n) => n.id, width: 26 },
  { header: 'STATUS', value: (n) => `${n.status}${n.inFlight ? '*' : ''}`, width: 18 },
  { header: 'REASON', value: (n) => n.reason, width: 21 },
  { header: 'TRIES', value: (n) => `${n.attempts}/${n.maxAttempts}`, align: 'right', width: 5 },
  { header: 'CATEGORY', value: (n) => n.category, width: 12 },
  { header: 'PHONE', value: (n) => n.recipient.phone, width: 16 },
  { header: 'LAST ERROR', value: (n) => errorText(n.lastError) },
];

const IN_FLIGHT_NOTE = '* being sent now: cancel waits until the attempt is recorded';

/** The list as a table, newest first as the API gives it; `width` is the terminal's, when there is one. */
export function formatList(items: readonly NotificationView[], width?: number): string[] {
  if (items.length === 0) return ['No notification matches.'];
  const lines = renderTable(LIST_COLUMNS, items, width);
  if (items.some((n) => n.inFlight)) lines.push('', IN_FLIGHT_NOTE);
  return lines;
}

/** The list's table printed page by page: the header over the first rows, then rows only. */
export interface ListTable {
  rows(items: readonly NotificationView[]): string[];
  /** What the printed rows need explained (`*`), for the end of the list. */
  footnotes(): string[];
}

/**
 * The table of a list printed as its pages come; `paged`: more pages follow the first, which then sets widths
 * that fit any status, reason, instant or number, so that every page lines up under the one header.
 */
export function listTable(width: number | undefined, paged: boolean): ListTable {
  const next = tableStream(LIST_COLUMNS, width, { paged });
  let inFlight = false;
  return {
    rows(items) {
      inFlight ||= items.some((n) => n.inFlight);
      return next(items);
    },
    footnotes: () => (inFlight ? ['', IN_FLIGHT_NOTE] : []),
  };
}

/** One notification, everything an operator may need, its attempts and what operators did to it. */
export function formatNotification(view: NotificationView): string[] {
  const lines = [
    `Notification ${cell(view.id)}`,
    ...labelled([
      ['Status', statusText(view)],
      ['Attempts', `${view.attempts} of ${view.maxAttempts}`],
      ['Next attempt', view.nextAttemptAt],
      ['Category', `${view.category}, priority ${view.priority}`],
      ['Recipient', recipientText(view.recipient)],
      ['Email', view.recipient.email],
      // Only a fallback is worth a line: WhatsApp is every notification's channel until then.
      ['Channel', view.channel !== 'whatsapp' ? `${view.channel} (fallback from WhatsApp)` : undefined],
      ['Title', view.title],
      ['Created', view.createdAt],
      ['Updated', view.updatedAt],
      ['Sent', view.sentAt],
      ['Expires', view.expiresAt],
      ['WaChap message id', view.externalMessageId],
      ['Last error', errorText(view.lastError)],
      ['Last error at', view.lastError?.at],
    ]),
    'Message:',
    // The message keeps its lines, each made safe on its own.
    ...view.message.split('\n').map((line) => `  ${line.trim() === '' ? '' : cell(line)}`),
  ];
  if (view.history.length > 0) {
    lines.push(
      '',
      'Attempts (oldest first):',
      ...renderTable(
        [
          { header: 'AT', value: (h) => shortInstant(h.at) },
          {
            header: 'OUTCOME',
            value: (h) => (h.channel && h.channel !== 'whatsapp' ? `${h.outcome} (${h.channel})` : h.outcome),
          },
          { header: 'ERROR', value: (h) => h.errorType },
          { header: 'DURATION', value: (h) => `${h.durationMs} ms`, align: 'right' },
        ],
        view.history,
      ).map((line) => `  ${line}`),
    );
  }
  if (view.operatorActions?.length) {
    lines.push(
      '',
      'Operator actions (oldest first):',
      ...renderTable(
        [
          { header: 'AT', value: (a) => shortInstant(a.at) },
          { header: 'ACTION', value: (a) => a.action },
          { header: 'FROM', value: (a) => a.from },
          { header: 'BY', value: (a) => a.by },
          { header: 'REASON', value: (a) => a.reason },
        ],
        view.operatorActions,
      ).map((line) => `  ${line}`),
    );
  }
  return lines;
}

/** The status a notification left by the operator's last action, as the record keeps it. */
const leftFrom = (view: NotificationView, action: 'cancel' | 'redrive') =>
  view.operatorActions?.findLast((a) => a.action === action)?.from;

export function formatCancelled(view: NotificationView): string[] {
  const from = leftFrom(view, 'cancel');
  return [
    `Cancelled ${cell(view.id)}${from ? ` (was ${from})` : ''}: it will not be sent.`,
    '',
    ...formatNotification(view),
  ];
}

export function formatRedriven(view: NotificationView): string[] {
  const from = leftFrom(view, 'redrive');
  const when = view.nextAttemptAt ? `next attempt ${view.nextAttemptAt}` : 'queued now';
  return [
    `Re-driven ${cell(view.id)}${from ? ` (was ${from})` : ''}: ${view.status}, ${when}, attempt budget ${view.attempts} of ${view.maxAttempts}.`,
    '',
    ...formatNotification(view),
  ];
}

export interface RedriveTotals {
  dryRun: boolean;
  matched: number;
  redriven: number;
  skipped: number;
  /** Of the skipped, expired OTPs: never re-sent, their code is stale. */
  stale: number;
  /** API calls made (each at most 500 notifications). */
  pages: number;
}

/** The bulk re-drive's outcome; `filter` is the selection in words, `rerun` the command without --dry-run. */
export function formatRedriveTotals(totals: RedriveTotals, filter: string, rerun: string): string[] {
  const stale =
    totals.stale > 0
      ? [`${totals.stale} will not be re-sent: expired OTPs, whose code is stale (the upstream must send new ones).`]
      : [];
  if (totals.dryRun) {
    return [
      `DRY RUN: ${totals.matched} notification(s) match ${filter}; nothing was changed.`,
      ...stale,
      ...(totals.matched > totals.stale ? [`To re-drive them: ${rerun}`] : []),
    ];
  }
  const changed = totals.skipped - totals.stale;
  return [
    `Re-driven ${totals.redriven} of ${totals.matched} notification(s) matching ${filter}.`,
    ...stale,
    ...(changed > 0
      ? [`${changed} skipped: they changed meanwhile (sent, cancelled or being sent); run it again to see.`]
      : []),
  ];
}
