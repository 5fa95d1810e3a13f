// A Log that keeps what it is told, for tests that assert what a use case logged (and what it must not have).
import type { Log } from '../../shared/observability/logger.js';

export interface CollectingLog extends Log {
  /** Every line with its extras, as JSON: what a log search would find. */
  text(): string;
  /** The messages logged at `level`, in order. */
  messages(level: 'debug' | 'info' | 'warn' | 'error'): string[];
}

export function collectingLog(): CollectingLog {
  const lines: { level: string; message: string; extra: unknown[] }[] = [];
  const record =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      lines.push({ level, message, extra });
  return {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    text: () => JSON.stringify(lines),
    messages: (level) => lines.filter((line) => line.level === level).map((line) => line.message),
  };
}
