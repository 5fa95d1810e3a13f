/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Wraps async work so that at most `limit` calls run at once; the others wait their turn. */
export function createLimiter(limit: number): <R>(work: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * Spaces calls at least `intervalMs` apart (a shared schedule, so concurrent callers queue up):
 * `await pace()` before each call keeps this instance under its share of a rate limit.
 */
export function createPacer(intervalMs: number, now: () => number = Date.now): () => Promise<void> {
  let nextSlot = 0;
  return async () => {
    const at = now();
    const slot = Math.max(at, nextSlot);
    nextSlot = slot + intervalMs;
    if (slot > at) await new Promise((resolve) => setTimeout(resolve, slot - at));
  };
}

/** Waits; the real one sleeps, a simulation on a virtual clock passes one that does not. */
export type Pause = (ms: number) => Promise<void>;
export const realPause: Pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `work`, tried again after each pause when it fails with an error `retryable` accepts (a throttle, a timeout
 * that outlived the SDK's own retries). For the few calls whose failure would cost a whole scheduled tick.
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  options: { pausesMs?: readonly number[]; retryable?: (error: unknown) => boolean; pause?: Pause } = {},
): Promise<T> {
  const pauses = options.pausesMs ?? [200, 1000];
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= pauses.length || !(options.retryable?.(error) ?? true)) throw error;
      await (options.pause ?? realPause)(pauses[attempt]!);
    }
  }
}
