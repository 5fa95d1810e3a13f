// Input a use case refuses, field by field. The edges (HTTP, Lambda invoke) turn it into their own answer.
import type * as z from 'zod';
import type { NotificationStatus } from '../domain/notification.js';
import { maskPhonesInText } from '../domain/phone.js';
import { describeLimit, type RecipientLimit } from '../domain/recipient-limits.js';

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

/**
 * A zod error as field problems; an unknown field is named by its own path, so the caller sees what to remove.
 * That name is the caller's and may be a phone number ({ "+223 70 12 34 56": "Awa" }): it is masked as numbers
 * in logs are, and zod's own message (which lists the keys) is never used.
 */
export function problemsOf(error: z.ZodError, prefix: readonly string[] = []): FieldProblem[] {
  const at = (path: readonly PropertyKey[]) => [...prefix, ...path.map(String)].join('.');
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: at([...issue.path, maskPhonesInText(key)]),
          message: 'is not an accepted field',
        }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}

/** Which limit refused a notification, and when the caller may try again. */
export interface RecipientLimitRefusal extends RecipientLimit {
  category: string;
  /** The recipient, masked (never the full number). */
  recipient: string;
  windowEndsAt: string;
  retryAfterSeconds: number;
}

/** The recipient has had every notification of this category its limit allows in this window; nothing was written. */
export class RecipientRateLimitedError extends Error {
  override readonly name = 'RecipientRateLimitedError';
  readonly problems: FieldProblem[];
  constructor(readonly refusal: RecipientLimitRefusal) {
    const limit = describeLimit(refusal, refusal.category);
    const retry = `retry after ${refusal.retryAfterSeconds} s`;
    super(`recipient.phone: ${limit} to one number; ${retry}`);
    this.problems = [
      { path: 'recipient.phone', message: `${refusal.recipient} has reached the limit (${limit}); ${retry}` },
    ];
  }
}

/**
 * An operator's action does not apply to the notification as it now is: it is final (sent, cancelled…), or a sender
 * holds a live claim on it (`inFlight`: its attempt's outcome decides, try again once it is recorded).
 */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    message: string,
    readonly status: NotificationStatus,
    readonly inFlight: boolean,
  ) {
    super(message);
  }
}

/**
 * An idempotency key already stands for another request (another body): answering with the first notification would
 * tell the caller its second request was accepted. Nothing is written. `field` names where the key came from.
 */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly problems: FieldProblem[];
  constructor(readonly field: 'idempotencyKey' | 'headers.Idempotency-Key') {
    super(`${field}: this key was used with another request; use a new key for a new notification`);
    this.problems = [{ path: field, message: 'was used with another request (another body) within the last 48 h' }];
  }
}
