// The hourly counters the health check reads, derived from each move of a notification: one place says what
// a move counts, so that no use case writes a delta by hand and a new event cannot be forgotten here.
import type { Notification } from './notification.js';
import { isFailedAttempt, type NotificationEvent } from './transitions.js';

export interface HourlyCounts {
  /** Attempts whose outcome WaChap gave (sent or failed; not a hold by the circuit). */
  attempts: number;
  sent: number;
  temporaryFailures: number;
  permanentFailures: number;
  /** Held for the provider, by a failure or by the open circuit. */
  held: number;
  expired: number;
  /**
   * OTP notifications that failed, each once: at its first failed attempt, or when it expires unsent without one.
   * A re-driven OTP that fails or expires again is not counted again: the alert counts customers left without their
   * code, and it is still the same customer and the same code.
   */
  otpFailures: number;
  /**
   * WhatsApp sends failed in a row (a bad number aside: that is the recipient's fault) since the last one delivered
   * within the hour: a delivered send sets it back to 0 (`endsFailureStreak`), so it is a run, not a sum.
   */
  failureStreak: number;
}

export const COUNTER_FIELDS = [
  'attempts',
  'sent',
  'temporaryFailures',
  'permanentFailures',
  'held',
  'expired',
  'otpFailures',
  'failureStreak',
] as const satisfies readonly (keyof HourlyCounts)[];

/** The category whose failures ALERT_FAILED_OTP_THRESHOLD watches. */
export const OTP_CATEGORY = 'otp';

/**
 * An OTP counts once, at the move that first records a failure on it (firstFailureAt, which re-drives keep; the
 * history is capped and could lose that first failure). One stored before the field existed, whose history already
 * shows a failed attempt, was counted then.
 */
function otpFailure(after: Notification, before: Notification): Partial<HourlyCounts> {
  if (after.category !== OTP_CATEGORY) return {};
  const first =
    before.firstFailureAt === undefined && after.firstFailureAt !== undefined && !before.history.some(isFailedAttempt);
  return first ? { otpFailures: 1 } : {};
}

/**
 * A delivered send ends the run of failures the health check watches (ALERT_WHATSAPP_FAILURE_THRESHOLD): a WhatsApp
 * one, so `before` (the record the move started from) tells the channel; an email says nothing of WhatsApp.
 */
export const endsFailureStreak = (event: NotificationEvent, before?: Pick<Notification, 'channel'>): boolean =>
  event.type === 'sent' && (before?.channel ?? 'whatsapp') === 'whatsapp';

/** What the move `event`, which turned `before` into `after`, adds to the hourly counters. */
export function countsOf(event: NotificationEvent, after: Notification, before: Notification): Partial<HourlyCounts> {
  switch (event.type) {
    case 'sent':
      return { attempts: 1, sent: 1 };
    case 'failure': {
      // A bad number is the recipient's fault and says nothing about WaChap: it neither adds to the run nor ends it;
      // nor does an email's failure (SES throttling is no WhatsApp trouble).
      const streak = event.verdict.scope === 'recipient' || before.channel !== 'whatsapp' ? {} : { failureStreak: 1 };
      return { ...failedAttemptCounts(event, after), ...streak, ...otpFailure(after, before) };
    }
    case 'hold':
      return { held: 1 };
    case 'switch_channel': {
      // An attempt that failed on the old channel (counted as WaChap's, as failures are) but did not fail the
      // notification, which goes on by the new channel; a switch without an attempt counts nothing.
      if (!event.attempt) return {};
      const streak = event.attempt.verdict.scope === 'recipient' ? {} : { failureStreak: 1 };
      return { attempts: 1, ...streak, ...otpFailure(after, before) };
    }
    case 'expire':
      return { expired: 1, ...otpFailure(after, before) };
    case 'exhaust':
      return { permanentFailures: 1 };
    case 'enqueue':
    case 'claim':
    case 'release':
    case 'cancel':
    case 'redrive':
      return {};
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled event ${JSON.stringify(unhandled)}`);
    }
  }
}

function failedAttemptCounts(
  event: Extract<NotificationEvent, { type: 'failure' }>,
  after: Notification,
): Partial<HourlyCounts> {
  switch (event.verdict.action) {
    case 'hold':
      return { attempts: 1, temporaryFailures: 1, held: 1 };
    case 'give_up':
      return { attempts: 1, permanentFailures: 1 };
    case 'retry':
      // The last allowed attempt failing ends it: a permanent failure (max_retries_exceeded).
      return after.status === 'permanent_failure'
        ? { attempts: 1, permanentFailures: 1 }
        : { attempts: 1, temporaryFailures: 1 };
    default: {
      const unhandled: never = event.verdict;
      throw new Error(`unhandled verdict ${JSON.stringify(unhandled)}`);
    }
  }
}
