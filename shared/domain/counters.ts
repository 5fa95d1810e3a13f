// The hourly counters the health check reads, derived from each move of a notification: one place says what
// a move counts, so that no use case writes a delta by hand and a new event cannot be forgotten here.
import type { Notification } from './notification.js';
import type { NotificationEvent } from './transitions.js';

export interface HourlyCounts {
  /** Attempts whose outcome WaChap gave (sent or failed; not a hold by the circuit). */
  attempts: number;
  sent: number;
  temporaryFailures: number;
  permanentFailures: number;
  /** Held for the provider, by a failure or by the open circuit. */
  held: number;
  expired: number;
}

export const COUNTER_FIELDS = [
  'attempts',
  'sent',
  'temporaryFailures',
  'permanentFailures',
  'held',
  'expired',
] as const satisfies readonly (keyof HourlyCounts)[];

/** What the move `event`, which produced `after`, adds to the hourly counters. */
export function countsOf(event: NotificationEvent, after: Notification): Partial<HourlyCounts> {
  switch (event.type) {
    case 'sent':
      return { attempts: 1, sent: 1 };
    case 'failure':
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
    case 'hold':
      return { held: 1 };
    case 'expire':
      return { expired: 1 };
    case 'exhaust':
      return { permanentFailures: 1 };
    case 'enqueue':
    case 'claim':
    case 'release':
    case 'cancel':
      return {};
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled event ${JSON.stringify(unhandled)}`);
    }
  }
}
