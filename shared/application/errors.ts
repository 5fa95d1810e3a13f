// Input a use case refuses, field by field. The edges (HTTP, Lambda invoke) turn it into their own answer.
import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the field (`recipient.phone`), or '' for the whole input. */
  path: string;
  message: string;
}

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.path || '(body)'}: ${p.message}`).join('; '));
  }
}

/** A zod error as field problems; an unknown field is named by its own path, so the caller sees what to remove. */
export function problemsOf(error: z.ZodError, prefix: readonly string[] = []): FieldProblem[] {
  const at = (path: readonly PropertyKey[]) => [...prefix, ...path.map(String)].join('.');
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'is not an accepted field' }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}
