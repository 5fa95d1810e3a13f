// CSV answers (RFC 4180) written by csv-stringify: CRLF between records, a field quoted when it holds a comma, a
// quote (doubled) or a line break, UTF-8 without byte order mark.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { stringify } from 'csv-stringify/sync';

/** The rows as CSV, in `columns` order, with the header row when `header` is set; empty values as empty fields. */
export function csvText(
  columns: readonly string[],
  rows: readonly Readonly<Record<string, unknown>>[],
  header: boolean,
): string {
  return stringify(rows as Record<string, unknown>[], {
    columns: [...columns],
    header,
    record_delimiter: 'windows',
    cast: { date: (value) => value.toISOString() },
  });
}

/** A 200 with a CSV body, downloaded as `filename` by a browser. */
export function csvResponse(
  body: string,
  filename: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      ...headers,
    },
    body,
  };
}
