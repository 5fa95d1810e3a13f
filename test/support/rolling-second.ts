// How a provider that counts a rolling second sees a set of sends: the pacing tests' yardstick.

/** The most sends of `instants` in any rolling second (t − 1000, t], as a provider counting a window sees them. */
export function busiestSecond(instants: readonly number[]): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let most = 0;
  for (let end = 0, start = 0; end < sorted.length; end++) {
    while (sorted[start]! <= sorted[end]! - 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}
