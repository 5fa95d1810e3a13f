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
}

/**
 * The rows under their headers, columns two spaces apart. With `maxWidth` (a terminal's columns) the last column is
 * cut to fit rather than wrapped, so one notification stays one line.
 */
export function renderTable<R>(columns: readonly Column<R>[], rows: readonly R[], maxWidth?: number): string[] {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, i) => Math.max(widthOf(column.header), ...cells.map((r) => widthOf(r[i]!))));
  const last = columns.length - 1;
  if (maxWidth !== undefined && last > 0) {
    const before = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0);
    widths[last] = Math.max(widthOf(columns[last]!.header), Math.min(widths[last]!, maxWidth - before));
  }
  const line = (values: string[]) =>
    values
      .map((value, i) => {
        const fitted = i === last ? bounded(value, widths[i]!) : value;
        const pad = ' '.repeat(Math.max(0, widths[i]! - widthOf(fitted)));
        if (i === last) return columns[i]!.align === 'right' ? pad + fitted : fitted;
        return columns[i]!.align === 'right' ? pad + fitted : fitted + pad;
      })
      .join('  ');
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

/** "Label      : value" lines, the labels aligned; absent values are left out. */
export function labelled(entries: readonly (readonly [string, string | number | undefined | null])[]): string[] {
  const shown = entries.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...shown.map(([label]) => widthOf(label)));
  return shown.map(([label, value]) => `${label.padEnd(width)} : ${cell(value)}`);
}
