// Per-recipient limits: at most `max` notifications of one category to one number per fixed window, so that a bug
// upstream cannot send one phone hundreds of messages (and get the WhatsApp number banned). Pure rules: which limit
// applies, which window a moment falls in, how to say it; the counting itself is a port (RecipientCounters).

export interface RecipientLimit {
  /** Notifications accepted per window, at least 1. */
  max: number;
  windowSeconds: number;
}

/** The value that turns a category's limit off. */
export const UNLIMITED = 'unlimited';
export type CategoryLimit = RecipientLimit | typeof UNLIMITED;

/** A limit per category; `default` applies to every category not named. Each category is counted on its own. */
export interface RecipientLimits {
  readonly default: CategoryLimit;
  readonly [category: string]: CategoryLimit;
}

/** 20 per hour for ordinary notifications; 5 per 10 minutes for OTPs (two OTPs a validity window, with retries). */
export const DEFAULT_RECIPIENT_LIMITS: RecipientLimits = {
  default: { max: 20, windowSeconds: 3600 },
  otp: { max: 5, windowSeconds: 600 },
};

/** The limit on `category`, or undefined when it has none. */
export function recipientLimitFor(limits: RecipientLimits, category: string): RecipientLimit | undefined {
  const limit = Object.hasOwn(limits, category) ? limits[category] : limits.default;
  return limit === undefined || limit === UNLIMITED ? undefined : limit;
}

/** A fixed window: windows of one length are aligned on the epoch, so every instance agrees on them. */
export interface LimitWindow {
  start: Date;
  end: Date;
  seconds: number;
}

export function limitWindow(limit: RecipientLimit, now: Date): LimitWindow {
  const ms = limit.windowSeconds * 1000;
  const start = Math.floor(now.getTime() / ms) * ms;
  return { start: new Date(start), end: new Date(start + ms), seconds: limit.windowSeconds };
}

/** Whole seconds until the window ends (a Retry-After), at least 1. */
export const secondsUntilEnd = (window: LimitWindow, now: Date): number =>
  Math.max(1, Math.ceil((window.end.getTime() - now.getTime()) / 1000));

const UNITS = [
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
] as const;

/** 3600 → "hour", 600 → "10 minutes", 90 → "90 seconds". */
export function formatWindow(seconds: number): string {
  const [size, unit] = UNITS.find(([size]) => seconds % size === 0) ?? UNITS[3];
  const count = seconds / size;
  return count === 1 ? unit : `${count} ${unit}s`;
}

/** "at most 5 otp notifications per 10 minutes" */
export const describeLimit = (limit: RecipientLimit, category: string): string =>
  `at most ${limit.max} ${category} notification${limit.max === 1 ? '' : 's'} per ${formatWindow(limit.windowSeconds)}`;
