// A spinner on stderr while a function runs (only on a terminal: scripts and tests read clean output).

/** Elapsed seconds on stderr while a long invoke runs, only for a person watching a terminal. */
export function startProgress(label: string, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  const frames = ['|', '/', '-', '\\'];
  const started = Date.now();
  let frame = 0;
  let interval: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    interval = setInterval(() => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      stream.write(`\r${frames[frame++ % frames.length]} ${label}… ${seconds} s`);
    }, 200);
  }, 1_000);
  return () => {
    clearTimeout(delay);
    if (interval) {
      clearInterval(interval);
      interval = undefined;
      stream.write('\r\x1b[K');
    }
  };
}
