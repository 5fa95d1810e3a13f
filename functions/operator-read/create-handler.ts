// The operators' reads, built from their dependencies (handler.ts wires them from the environment): one
// notification, a page of a list by status, counts by status, a page of the CSV export.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CountryCode } from 'libphonenumber-js';
import {
  countNotifications,
  getNotification,
  listNotifications,
  type OperatorDependencies,
} from '../../shared/application/operator.js';
import { EXPORT_COLUMNS, type ExportRow, exportRows } from '../../shared/application/operator-export.js';
import type { ListQuery, NotificationRepository } from '../../shared/application/ports.js';
import { csvResponse, csvText } from '../../shared/http/csv.js';
import { jsonResponse } from '../../shared/http/errors.js';
import { httpHandler, routedHandler } from '../../shared/http/http-handler.js';
import {
  countQuerySchema,
  exportQuerySchema,
  listQuerySchema,
  notificationIdPath,
} from '../../shared/http/operator-requests.js';
import type { RouteKeyOf } from '../catalog.js';
import type { ReadMeter } from './read-meter.js';

/**
 * Reads only: the store and the clock (whether an attempt is in flight), and the meter on the store's DynamoDB
 * client that counts what a request reads (the export's budget).
 */
export type OperatorReadDependencies = Pick<OperatorDependencies, 'clock'> & {
  store: OperatorDependencies['store'] & Pick<NotificationRepository, 'countNotifications'>;
  reads: ReadMeter;
};

/**
 * The next page's address, relative to this one (`export.csv?…`), so that it holds behind any stage or custom
 * domain: the same query string with the cursor replaced.
 */
function nextPageLink(query: Record<string, string | undefined> | null, cursor: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (name !== 'cursor' && value !== undefined) params.set(name, value);
  }
  params.set('cursor', cursor);
  return `<export.csv?${params.toString()}>; rel="next"`;
}

/** Rows read from the store at a time, so that a page can stop on a row with a cursor of its own. */
const EXPORT_CHUNK_ROWS = 500;
/**
 * Where a page stops even before `limit` rows: Lambda answers at most 6 MB (the CSV travels JSON-escaped, where a
 * quote takes 2 bytes), and a chunk of 500 rows of 120-character names and 200-character errors can add 1.5 MB.
 */
export const EXPORT_PAGE_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Items one export request reads before it answers: past it, no list call starts (the one under way finishes,
 * bounded by the store at about ten times its 500 rows), and the page ends with the cursor of the rest, short or
 * even without a row when the filters match little of what was read. Without it, a sparse filter could read
 * 20 list calls × 10 × (500 + 48 partitions), about 110,000 items, in one request.
 */
export const EXPORT_MAX_READS = 20_000;

/**
 * One page of the export as CSV text, and the cursor of the rest (undefined: the export is complete); `read` is
 * what this request has read so far, stopped at `maxReads`.
 */
async function exportPage(
  query: ListQuery,
  deps: OperatorReadDependencies,
  read: () => number,
  maxReads: number,
): Promise<{ text: string; cursor: string | undefined }> {
  const keepReading = () => read() < maxReads;
  let text = '';
  let rowCount = 0;
  let cursor = query.cursor;
  let full: boolean;
  do {
    const rows: ExportRow[] = [];
    const requested = Math.min(EXPORT_CHUNK_ROWS, query.limit - rowCount);
    // The generator's return value is the cursor of the rest, if any.
    const chunk = exportRows({ ...query, limit: requested, ...(cursor ? { cursor } : {}) }, deps, { keepReading });
    let next = await chunk.next();
    for (; !next.done; next = await chunk.next()) rows.push(next.value);
    cursor = next.value;
    text += csvText(EXPORT_COLUMNS, rows, query.cursor === undefined && rowCount === 0);
    rowCount += rows.length;
    // A chunk short of its rows with a cursor left spent its reads on a sparse filter: the page ends there.
    full = rows.length === requested;
  } while (
    cursor &&
    full &&
    rowCount < query.limit &&
    keepReading() &&
    Buffer.byteLength(JSON.stringify(text)) < EXPORT_PAGE_MAX_BYTES
  );
  return { text, cursor };
}

export const createOperatorReadHandler = (
  logger: Logger,
  deps: OperatorReadDependencies,
  options: {
    defaultCountry: CountryCode /** EXPORT_MAX_READS unless a test says otherwise. */;
    exportMaxReads?: number;
  },
) =>
  routedHandler<RouteKeyOf<'operator-read'>>({
    'GET /v1/notifications/{id}': httpHandler(
      { logger, body: undefined, path: notificationIdPath },
      async ({ pathParameters }) => jsonResponse(200, await getNotification(pathParameters.id, deps)),
    ),
    'GET /v1/notifications': httpHandler(
      { logger, body: undefined, query: listQuerySchema(options.defaultCountry) },
      async ({ query }) => {
        const page = await listNotifications(query, deps);
        return jsonResponse(200, { items: page.items, nextCursor: page.nextCursor ?? null });
      },
    ),
    // Counts by status for the operations page: a COUNT query per status partition, each status up to COUNT_CAP.
    'GET /v1/notifications/counts': httpHandler(
      { logger, body: undefined, query: countQuerySchema },
      async ({ query }) => jsonResponse(200, await countNotifications(query, deps)),
    ),
    // One page of at most `limit` rows (5,000 by default) and EXPORT_MAX_READS items read; the header row only on
    // the first (no cursor given).
    'GET /v1/notifications/export.csv': httpHandler(
      { logger, body: undefined, query: exportQuerySchema(options.defaultCountry) },
      async ({ query, event }) => {
        const maxReads = options.exportMaxReads ?? EXPORT_MAX_READS;
        const { text, cursor } = await deps.reads.measure((read) => exportPage(query, deps, read, maxReads));
        return csvResponse(
          text,
          'notifications.csv',
          cursor ? { link: nextPageLink(event.queryStringParameters, cursor), 'x-next-cursor': cursor } : {},
        );
      },
    ),
  });
