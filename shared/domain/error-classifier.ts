// Classifies a WaChap failure the way the original's error_classifier.py did, plus what it lacked:
// an HTTP 200 carrying an error body, an unparseable body, and the scope (whose fault it is).
import type { Classification, ErrorScope } from './notification.js';

export interface WaChapFailure {
  /** timeout, connection_error, http_error, http_401, application_error, invalid_response, config_error, … */
  type: string;
  message: string;
  httpStatus?: number;
  /** The provider's Retry-After, in seconds (read with parseRetryAfter). */
  retryAfterSeconds?: number;
}

/**
 * The one decision about a failed attempt, which everything after it switches on: the transition (what the
 * record becomes), the sender (whether the provider circuit opens) and the counters.
 * - retry: a blip or a refusal for now; the attempt counts and the next one waits for the backoff.
 * - hold: the provider is down for everyone (account, token, instance); no attempt is spent and the
 *   notification waits for the provider circuit to close. The admin hears of it through the circuit's alert.
 * - give_up: sending again cannot help (a number WhatsApp does not know, a request WaChap rejects).
 */
export type FailureVerdict =
  | {
      action: 'retry';
      classification: 'temporary';
      scope: 'recipient' | 'transient';
      retryAfterSeconds?: number;
      recommendation: string;
    }
  | { action: 'hold'; classification: Classification; scope: 'provider'; recommendation: string }
  | { action: 'give_up'; classification: 'permanent'; scope: 'recipient' | 'transient'; recommendation: string };

// The original's lists, verbatim.
export const TEMPORARY_ERROR_TYPES = ['timeout', 'connection_error', 'network_error', 'ssl_error'] as const;
// Plus 407 (ours): a proxy between us and WaChap wants credentials; infrastructure trouble, nothing was sent.
export const TEMPORARY_HTTP_STATUSES = [407, 408, 429, 500, 502, 503, 504] as const;
export const PERMANENT_ERROR_TYPES = ['config_error', 'instance_inactive'] as const;
export const PERMANENT_HTTP_STATUSES = [400, 401, 403, 404, 405, 410] as const;
export const PERMANENT_KEYWORDS = [
  'unauthorized',
  'forbidden',
  'invalid phone',
  'invalid number',
  'token expired',
  'subscription expired',
  'account suspended',
  'not found',
  'bad request',
] as const;

// Ours: texts that mean the provider account or instance is down, not the recipient. They include every one of the
// original's "alert the admin" keywords (subscription, token expired, unauthorized, forbidden, suspended): such a
// failure holds the notification and opens the provider circuit, whose alert tells the admin.
const PROVIDER_KEYWORDS = [
  'token expired',
  'expired token',
  'invalid token',
  'invalid access token',
  'access token',
  'subscription',
  'suspended',
  'unauthorized',
  'forbidden',
  'disconnected',
  'not connected',
  'instance inactive',
  'inactive instance',
  'instance not found',
  'invalid instance',
  'credentials',
  'account expired',
  'logged out',
  'qr code',
];
const RECIPIENT_KEYWORDS = [
  'invalid phone',
  'invalid number',
  'not registered',
  'not on whatsapp',
  'not a whatsapp',
  'number not found',
  'no whatsapp',
  'bad request',
  'not found',
];
const PROVIDER_TYPES = ['config_error', 'instance_inactive'];
const PROVIDER_HTTP_STATUSES = [401, 403, 404, 405, 410];

const includesAny = (text: string, words: readonly string[]): boolean => words.some((word) => text.includes(word));

/** `http_503` (the original's error types) or an http_error with its status. */
function httpStatusOf(failure: WaChapFailure): number | undefined {
  if (failure.httpStatus !== undefined) return failure.httpStatus;
  const match = /^http_(\d{3})$/.exec(failure.type);
  return match ? Number(match[1]) : undefined;
}

function scopeOf(type: string, status: number | undefined, text: string): ErrorScope {
  if (PROVIDER_TYPES.includes(type)) return 'provider';
  // An unreadable answer (a proxy's HTML page) says nothing about whose fault it is.
  if (type === 'invalid_response') return 'transient';
  if (status !== undefined && PROVIDER_HTTP_STATUSES.includes(status)) {
    // A 404 whose text names the number is about the recipient, not a missing endpoint.
    return status === 404 &&
      includesAny(
        text,
        RECIPIENT_KEYWORDS.filter((k) => k !== 'not found'),
      )
      ? 'recipient'
      : 'provider';
  }
  if (includesAny(text, PROVIDER_KEYWORDS) && !includesAny(text, ['invalid number', 'invalid phone']))
    return 'provider';
  if (status === 400 || includesAny(text, RECIPIENT_KEYWORDS)) return 'recipient';
  return 'transient';
}

function classificationOf(type: string, status: number | undefined, text: string): Classification {
  if ((TEMPORARY_ERROR_TYPES as readonly string[]).includes(type)) return 'temporary';
  if ((PERMANENT_ERROR_TYPES as readonly string[]).includes(type)) return 'permanent';
  if (status !== undefined) {
    if ((TEMPORARY_HTTP_STATUSES as readonly number[]).includes(status)) return 'temporary';
    if ((PERMANENT_HTTP_STATUSES as readonly number[]).includes(status)) return 'permanent';
  }
  // An unparseable answer says nothing about the message: try again (precaution).
  if (type === 'invalid_response') return 'temporary';
  // Ours, beyond the original's list: a number WhatsApp does not know will not become valid by waiting.
  if (includesAny(text, PERMANENT_KEYWORDS) || includesAny(text, RECIPIENT_KEYWORDS)) return 'permanent';
  return 'temporary';
}

const RECOMMENDATIONS: Record<ErrorScope, Record<Classification, string>> = {
  provider: {
    permanent:
      'WaChap refuses our account or instance: check the subscription and the access token, re-pair the instance (QR code) if it is disconnected, then close the circuit. Held notifications resume by themselves.',
    temporary:
      'WaChap reports a problem with our instance (disconnected or inactive): reconnect it from the WaChap dashboard. Held notifications resume by themselves.',
  },
  recipient: {
    permanent: "Check the recipient's phone number (international format, registered on WhatsApp) and resend.",
    temporary: "The recipient's number was refused for now; it will be retried.",
  },
  transient: {
    permanent: 'WaChap rejected the request; check the message content and the API version.',
    temporary: 'Transient WaChap or network trouble; retried automatically with backoff.',
  },
};

export function classifyWaChapError(failure: WaChapFailure): FailureVerdict {
  const text = failure.message.toLowerCase();
  const status = httpStatusOf(failure);
  const classification = classificationOf(failure.type, status, text);
  const scope = scopeOf(failure.type, status, text);
  const recommendation = RECOMMENDATIONS[scope][classification];
  if (scope === 'provider') return { action: 'hold', classification, scope, recommendation };
  if (classification === 'permanent') return { action: 'give_up', classification, scope, recommendation };
  const retryAfter = failure.retryAfterSeconds;
  return {
    action: 'retry',
    classification,
    scope,
    ...(retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0
      ? { retryAfterSeconds: retryAfter }
      : {}),
    recommendation,
  };
}
