// What both soaks share: virtual time units, recipients, a seedable random source, and the capture
// of what the functions log.
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const START = Date.parse('2026-03-02T00:00:00.000Z');

export const phoneOf = (index: number): string => `+2237${String(index).padStart(7, '0')}`;

/**
 * What the functions log (Powertools JSON lines on stdout and stderr) is kept off the terminal while
 * a soak runs: counted, and searched for recipient numbers that should have been masked.
 */
export interface CapturedLogs {
  state: { lines: number; unmasked: number };
  restore(): void;
}

export function captureLogs(
  phones: ReadonlySet<string> = new Set(),
  /** Told of each line that names a notification (its id, level and message). */
  onNotificationLine?: (id: string, line: string) => void,
): CapturedLogs {
  const state = { lines: 0, unmasked: 0 };
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level"')) return originals[i]!(chunk, ...(rest as []));
      const lines = text.split('\n').filter(Boolean);
      state.lines += lines.length;
      if (onNotificationLine) for (const line of lines) noteLine(line, onNotificationLine);
      for (const digits of text.match(/\+?\d{8,}/g) ?? [])
        if (phones.has(digits.replace(/^\+?/, '+'))) state.unmasked++;
      return true;
    }) as typeof stream.write;
  });
  return {
    state,
    restore: () =>
      streams.forEach((stream, i) => {
        stream.write = originals[i] as typeof stream.write;
      }),
  };
}

/** mulberry32: a small, fast, seedable generator. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function noteLine(line: string, onNotificationLine: (id: string, line: string) => void): void {
  try {
    const entry = JSON.parse(line) as { level?: string; message?: string; notificationId?: unknown; error?: unknown };
    if (typeof entry.notificationId !== 'string') return;
    const error = entry.error === undefined ? '' : ` (${String(entry.error)})`;
    onNotificationLine(entry.notificationId, `log ${entry.level ?? '?'}: ${entry.message ?? ''}${error}`);
  } catch {
    // Not one JSON line: nothing to note.
  }
}
