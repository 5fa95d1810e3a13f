// The operator commands' exit codes and their one kind of mistake.

export const EXIT = { ok: 0, functionFailed: 1, usage: 2, unreachable: 3 } as const;

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
