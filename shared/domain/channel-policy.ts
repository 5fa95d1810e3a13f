// Which channel a notification's next attempt uses: WhatsApp first, email as the fallback when WhatsApp cannot take
// it. Plain data in, a channel out; the sender and the sweep act on the answer, so that a third channel (SMS) is one
// more adapter and one more entry in FALLBACKS, never a new step in either of them.
import type { FailureVerdict } from './error-classifier.js';
import { type AttemptRecord, type ChannelName, isTerminal, type Notification, type Recipient } from './notification.js';
import { hasAbandonedClaim } from './transitions.js';

export interface ChannelPolicy {
  /** Channels with an adapter configured (email: an SES identity); a fallback to another one never happens. */
  enabled: readonly ChannelName[];
  /** Categories whose notifications may leave WhatsApp for email (an OTP may; a general information may not). */
  emailFallbackCategories: readonly string[];
  /** How close to its expiresAt a notification that WhatsApp cannot take now (provider down) moves to email. */
  fallbackBeforeExpiryMs: number;
}

/** Everything but information_generale, the marketing-style category: an upstream system must not spam inboxes. */
export const DEFAULT_EMAIL_FALLBACK_CATEGORIES: readonly string[] = ['otp', 'colis_arrive', 'colis_livre', 'lot_ferme'];
export const DEFAULT_FALLBACK_BEFORE_EXPIRY_SECONDS = 120;

/**
 * What the channel in use just met:
 * - failed: an attempt on it failed with this verdict (a recipient WhatsApp does not know, a provider down…);
 * - held: it was not tried, its provider being known down (the circuit is open).
 */
export type ChannelSituation = { kind: 'failed'; verdict: FailureVerdict } | { kind: 'held' };

interface Fallback {
  to: ChannelName;
  /** The recipient's address on that channel, if the caller gave one. */
  reachable: (recipient: Recipient) => boolean;
  /** The categories allowed to take it. */
  allows: (category: string, policy: ChannelPolicy) => boolean;
}

/** Where each channel falls back to. Email has none: once on email, a notification stays there. */
const FALLBACKS: Partial<Record<ChannelName, Fallback>> = {
  whatsapp: {
    to: 'email',
    reachable: (recipient) => recipient.email !== undefined,
    allows: (category, policy) => policy.emailFallbackCategories.includes(category),
  },
};

/**
 * Error types after which WaChap may have delivered although we saw a failure (it timed out while sending, or
 * answered something unreadable). A notification with such an attempt never leaves for email near its expiry: the
 * recipient may already have it on WhatsApp, and no double delivery beats a late one.
 */
const MAYBE_DELIVERED_ERROR_TYPES = ['timeout', 'invalid_response', 'network_error'];

const mayHaveBeenDelivered = (record: AttemptRecord, channel: ChannelName): boolean =>
  (record.channel ?? 'whatsapp') === channel &&
  (record.outcome === 'unknown' ||
    (record.errorType !== undefined && MAYBE_DELIVERED_ERROR_TYPES.includes(record.errorType)));

/** Its validity ends within the margin (and has not ended: expiring is not a fallback's business). */
const nearExpiry = (n: Notification, now: Date, policy: ChannelPolicy): boolean => {
  if (n.expiresAt === undefined) return false;
  const left = Date.parse(n.expiresAt) - now.getTime();
  return left > 0 && left <= policy.fallbackBeforeExpiryMs;
};

/**
 * The channel for the notification's next attempt, given what its current channel just met: its own, or the
 * fallback. A switch happens only
 * - when the channel can never take it (a permanent failure whose scope is the recipient: an invalid number, not on
 *   WhatsApp), or
 * - when its provider is down (held, or an attempt held by the provider's verdict) and the validity ends within the
 *   margin, provided no earlier attempt on the channel may have delivered it;
 * and only to an enabled channel the recipient has an address on, for a category allowed to fall back. A final
 * notification (sent: WhatsApp accepted it) never changes channel.
 */
export function nextChannel(
  n: Notification,
  situation: ChannelSituation,
  now: Date,
  policy: ChannelPolicy,
): ChannelName {
  const stay = n.channel;
  if (isTerminal(n.status)) return stay;
  const fallback = FALLBACKS[n.channel];
  if (!fallback || !policy.enabled.includes(fallback.to)) return stay;
  if (!fallback.reachable(n.recipient) || !fallback.allows(n.category, policy)) return stay;
  return switchesOn(n, situation, now, policy) ? fallback.to : stay;
}

function switchesOn(n: Notification, situation: ChannelSituation, now: Date, policy: ChannelPolicy): boolean {
  const providerDownNearExpiry = () =>
    nearExpiry(n, now, policy) &&
    !hasAbandonedClaim(n, now) &&
    !n.history.some((record) => mayHaveBeenDelivered(record, n.channel));
  if (situation.kind === 'held') return providerDownNearExpiry();
  const { verdict } = situation;
  switch (verdict.action) {
    case 'give_up':
      return verdict.scope === 'recipient';
    case 'hold':
      return providerDownNearExpiry();
    case 'retry':
      return false;
    default: {
      const unhandled: never = verdict;
      throw new Error(`unhandled verdict ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * When a notification its provider cannot take now (held) would leave for its fallback channel: the start of the
 * margin before its expiry, if the policy would switch it then; none if it never would. A hold ends there at the
 * latest, so that the notification is looked at again in time.
 */
export function fallbackInstant(n: Notification, now: Date, policy: ChannelPolicy): Date | undefined {
  if (n.expiresAt === undefined) return undefined;
  const at = new Date(Math.max(now.getTime(), Date.parse(n.expiresAt) - policy.fallbackBeforeExpiryMs));
  // As the hold leaves it: the claim of the attempt being recorded is settled by it, not abandoned by then.
  const { inFlight: _inFlight, ...held } = n;
  return nextChannel(held, { kind: 'held' }, at, policy) === n.channel ? undefined : at;
}

/** The channel the provider circuit guards: only its sends wait while the circuit is open. */
export const CIRCUIT_CHANNEL: ChannelName = 'whatsapp';

/** Parses EMAIL_FALLBACK_CATEGORIES: a comma list of category slugs, blanks dropped. */
export const parseCategoryList = (text: string): string[] =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
