// The operators' reads, built from their dependencies (handler.ts wires them from the environment): one
// notification, a page of a list by status, a page of the CSV export.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CountryCode } from 'libphonenumber-js';
import {
  EXPORT_COLUMNS,
  type ExportRow,
  exportRows,
  getNotification,
  listNotifications,
  type OperatorDependencies,
} from '../../shared/application/operator.js';
import { csvResponse, csvText } from '../../shared/http/csv.js';
import { jsonResponse } from '../../shared/http/errors.js';
import { httpHandler, routedHandler } from '../../shared/http/http-handler.js';
import { exportQuerySchema, listQuerySchema, notificationIdPath } from '../../shared/http/operator-requests.js';
import type { RouteKeyOf } from '../catalog.js';

/** Reads only: the store and the clock (whether an attempt is in flight). */
export type OperatorReadDependencies = Pick<OperatorDependencies, 'store' | 'clock'>;

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

export const createOperatorReadHandler = (
  logger: Logger,
  deps: OperatorReadDependencies,
  options: { defaultCountry: CountryCode },
) =>
  routedHandler<RouteKeyOf<'operator-read'>>({
    'GET /notifications/{id}': httpHandler(
      { logger, body: undefined, path: notificationIdPath },
      async ({ pathParameters }) => jsonResponse(200, await getNotification(pathParameters.id, deps)),
    ),
    'GET /notifications': httpHandler(
      { logger, body: undefined, query: listQuerySchema(options.defaultCountry) },
      async ({ query }) => {
        const page = await listNotifications(query, deps);
        return jsonResponse(200, { items: page.items, nextCursor: page.nextCursor ?? null });
      },
    ),
    // One page of at most `limit` rows (5,000 by default); the header row only on the first (no cursor given).
    'GET /notifications/export.csv': httpHandler(
      { logger, body: undefined, query: exportQuerySchema(options.defaultCountry) },
      async ({ query, event }) => {
        const rows: ExportRow[] = [];
        // The generator's return value is the cursor of the rest, if any.
        const pages = exportRows(query, deps);
        let next = await pages.next();
        for (; !next.done; next = await pages.next()) rows.push(next.value);
        const cursor = next.value;
        const body = csvText(EXPORT_COLUMNS, rows, query.cursor === undefined);
        return csvResponse(
          body,
          'notifications.csv',
          cursor ? { link: nextPageLink(event.queryStringParameters, cursor), 'x-next-cursor': cursor } : {},
        );
      },
    ),
  });
