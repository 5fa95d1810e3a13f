// The operators' export: each notification as one row of fixed columns (the CSV's), read from the store's list a
// page at a time, newest created first, as far as the caller's budget of reads allows.
import type { Notification } from '../domain/notification.js';
import { MAX_LIST_CALLS, type OperatorDependencies } from './operator.js';
import type { ListQuery } from './ports.js';

/** Notifications read per list call in an export. */
const EXPORT_PAGE_SIZE = 1_000;

export const EXPORT_COLUMNS = [
  'id',
  'createdAt',
  'status',
  'reason',
  'attempts',
  'category',
  'priority',
  'phone',
  'name',
  'lastErrorType',
  'lastErrorMessage',
  'lastErrorHttpStatus',
  'nextAttemptAt',
  'sentAt',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
/** One row of the export; a column the notification has nothing for is undefined (an empty CSV field). */
export type ExportRow = Record<ExportColumn, string | number | undefined>;

/**
 * Up to `query.limit` rows of the export, newest created first, read a page at a time (memory stays one page). The
 * generator's return value is the cursor of the rest, if any. `keepReading`, asked before each list call after the
 * first, stops it there (the caller's budget of items read).
 */
export async function* exportRows(
  query: ListQuery,
  deps: Pick<OperatorDependencies, 'store'>,
  options: { keepReading?: () => boolean } = {},
): AsyncGenerator<ExportRow, string | undefined> {
  let cursor = query.cursor;
  let left = query.limit;
  for (let call = 0; call < MAX_LIST_CALLS && left > 0 && (call === 0 || options.keepReading?.() !== false); call++) {
    const page = await deps.store.listNotifications({
      ...query,
      limit: Math.min(EXPORT_PAGE_SIZE, left),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const n of page.notifications) yield rowOf(n);
    left -= page.notifications.length;
    cursor = page.cursor;
    if (cursor === undefined) return undefined;
  }
  return cursor;
}

const rowOf = (n: Notification): ExportRow => ({
  id: n.id,
  createdAt: n.createdAt,
  status: n.status,
  reason: n.reason,
  attempts: n.attempts,
  category: n.category,
  priority: n.priority,
  phone: n.recipient.phone,
  name: n.recipient.name,
  lastErrorType: n.lastError?.type,
  lastErrorMessage: n.lastError?.message,
  lastErrorHttpStatus: n.lastError?.httpStatus,
  nextAttemptAt: n.nextAttemptAt,
  sentAt: n.sentAt,
});
