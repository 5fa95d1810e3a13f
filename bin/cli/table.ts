// Tables and labelled lines for a person at a terminal. Every cell is text from outside (a WaChap error, an
// operator's reason, a message): it is put on one line with its control characters removed, so that nothing read
// back from the store can move the cursor, recolour the terminal or add a row of its own.
import { bounded, oneLine } from '../../shared/presentation/plain-text.js';

/** No cell is longer than this, whatever the terminal. */
const CELL_MAX_LENGTH = 200;

/** A cell as printed: one line, no control characters, bounded. */
export const cell = (value: string | number | undefined | null): string =>
  value === undefined || value === null || value === '' ? '-' : oneLine(String(value), CELL_MAX_LENGTH);

const widthOf = (text: string) => Array.from(text).length;

export interface Column<R> {
  header: string;
  value: (row: R) => string | number | undefined | null;
  /** Right-aligned (numbers). */
  align?: 'right';
  /** The widest value the column usually holds: a table printed page by page starts at least this wide. */
  width?: number;
}

/**
 * The rows under their headers, columns two spaces apart. With `maxWidth` (a terminal's columns) the last column is
 * cut to fit rather than wrapped, so one notification stays one line.
 */
export function renderTable<R>(columns: readonly Column<R>[], rows: readonly R[], maxWidth?: number): string[] {
  return tableStream(columns, maxWidth)(rows);
}

/** What a table printed page by page leaves its last column (an error text) at least, or it drops the floors. */
const LAST_COLUMN_MIN_ROOM = 24;

/**
 * A table printed as its rows come, a page at a time: the first call prints the header with its rows and sets the
 * widths (its cells', or with `paged` the columns' own `width` when wider); later calls print rows only, under the
 * same widths, so that the pages line up (a longer cell shifts its own line, and the last column is cut to
 * `maxWidth` as ever).
 */
export function tableStream<R>(
  columns: readonly Column<R>[],
  maxWidth?: number,
  options: { paged?: boolean } = {},
): (rows: readonly R[]) => string[] {
  const last = columns.length - 1;
  let widths: number[] | undefined;
  return (rows) => {
    const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
    const lines: string[] = [];
    if (widths === undefined) {
      const widthsOf = (floors: boolean) =>
        columns.map((column, i) =>
          Math.max(widthOf(column.header), floors ? (column.width ?? 0) : 0, ...cells.map((r) => widthOf(r[i]!))),
        );
      const roomLeft = (w: number[]) => (maxWidth ?? Infinity) - w.slice(0, last).reduce((sum, x) => sum + x + 2, 0);
      widths = widthsOf(options.paged === true);
      // On a narrow terminal the columns' own widths would leave the last one no room: the cells' then.
      if (options.paged && roomLeft(widths) < LAST_COLUMN_MIN_ROOM) widths = widthsOf(false);
      if (maxWidth !== undefined && last > 0) {
        // Paged, the last column takes what the terminal leaves: later pages may hold longer values.
        const room = roomLeft(widths);
        widths[last] = Math.max(widthOf(columns[last]!.header), options.paged ? room : Math.min(widths[last]!, room));
      }
      lines.push(
        lineOf(
          columns,
          widths,
          columns.map((c) => c.header),
          maxWidth !== undefined,
        ),
      );
    }
    const fixed = widths;
    lines.push(...cells.map((values) => lineOf(columns, fixed, values, maxWidth !== undefined)));
    return lines;
  };
}

/** One line of the table; `cut`: the last column is cut to its width (the terminal's room). */
function lineOf<R>(
  columns: readonly Column<R>[],
  widths: readonly number[],
  values: readonly string[],
  cut: boolean,
): string {
  const last = columns.length - 1;
  return values
    .map((value, i) => {
      const fitted = i === last && cut ? bounded(value, widths[i]!) : value;
      const pad = ' '.repeat(Math.max(0, widths[i]! - widthOf(fitted)));
      if (i === last) return columns[i]!.align === 'right' ? pad + fitted : fitted;
      return columns[i]!.align === 'right' ? pad + fitted : fitted + pad;
    })
    .join('  ');
}

/** "Label      : value" lines, the labels aligned; absent values are left out. */
export function labelled(entries: readonly (readonly [string, string | number | undefined | null])[]): string[] {
  const shown = entries.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...shown.map(([label]) => widthOf(label)));
  return shown.map(([label, value]) => `${label.padEnd(width)} : ${cell(value)}`);
}
