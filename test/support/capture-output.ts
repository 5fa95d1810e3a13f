// Everything the process writes while a test runs: process.stdout/stderr (Powertools' Logger writes
// its JSON lines there through its own Console) and the global console (which a test runner may
// route elsewhere). The original writers still run, so a failing test shows what it saw.
import { format } from 'node:util';

export interface CapturedOutput {
  /** Everything captured so far, in order. */
  text(): string;
  /** Puts the original writers back; safe to call twice. */
  restore(): void;
}

type Write = typeof process.stdout.write;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function captureOutput(options: { echo?: boolean } = {}): CapturedOutput {
  const echo = options.echo ?? false;
  const chunks: string[] = [];
  const record = (chunk: unknown, encoding?: unknown) => {
    if (typeof chunk === 'string') chunks.push(chunk);
    else if (chunk instanceof Uint8Array)
      chunks.push(Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    else chunks.push(String(chunk));
  };

  const patchStream = (stream: NodeJS.WriteStream): (() => void) => {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      record(chunk, rest[0]);
      if (echo) return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      // Still honour the callback, as a real write would.
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      if (callback) queueMicrotask(callback);
      return true;
    } as Write;
    return () => {
      stream.write = original;
    };
  };

  const restorers = [patchStream(process.stdout), patchStream(process.stderr)];
  for (const method of CONSOLE_METHODS) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      chunks.push(`${format(...args)}\n`);
      if (echo) original.apply(console, args);
    };
    restorers.push(() => {
      console[method] = original;
    });
  }

  let restored = false;
  return {
    text: () => chunks.join(''),
    restore() {
      if (restored) return;
      restored = true;
      for (const undo of restorers.reverse()) undo();
    },
  };
}
