// Which lane a record comes from, and each lane's pace per execution environment and WaChap instance.
import type { Context, SQSRecord } from 'aws-lambda';
import { queueNameOf } from '../../shared/adapters/sqs/send-queue.js';
import { createPacer } from '../../shared/application/concurrency.js';
import type { RateSchedule } from '../../shared/application/ports.js';
import { createSharedPacer } from '../../shared/application/rate-pacing.js';
import type { Lane } from '../../shared/domain/notification.js';
import type { Log } from '../../shared/observability/logger.js';
import type { SenderLanes } from './create-handler.js';

/** The rate at WaChap shared by every sender, each lane its part (the priority lane's is kept for it). */
export interface SharedRates {
  schedule: RateSchedule;
  perSecond: Readonly<Record<Lane, number>>;
  log: Log;
}

/**
 * The lanes as deployed: a record whose queue (the last part of its eventSourceARN) is the priority queue is on the
 * priority lane, anything else on the standard lane. Each lane of each WaChap instance has one schedule shared by
 * every sender (`shared`); an execution environment paces at its fixed share (`intervalMs`) without one, or when the
 * schedule cannot be reached.
 */
export function senderLanes(options: {
  priorityQueueUrl: string;
  intervalMs: Readonly<Record<Lane, number>>;
  shared?: SharedRates;
  now?: () => number;
}): SenderLanes {
  const priorityQueue = queueNameOf(options.priorityQueueUrl);
  const pacers = new Map<string, Record<Lane, () => Promise<void>>>();
  const pacersOf = (environment: string, wachapInstance: string) => {
    const key = `${environment}#${wachapInstance}`;
    let found = pacers.get(key);
    if (!found) {
      found = options.shared
        ? sharedPacers(options.shared, wachapInstance, options.intervalMs, options.now)
        : {
            priority: createPacer(options.intervalMs.priority, options.now),
            standard: createPacer(options.intervalMs.standard, options.now),
          };
      pacers.set(key, found);
    }
    return found;
  };
  return {
    laneOf: (record: SQSRecord) =>
      record.eventSourceARN.split(':').at(-1) === priorityQueue ? 'priority' : 'standard',
    // A WaChap instance is one WhatsApp number with its own limits: each is paced apart, at the whole rate.
    pace: (lane: Lane, context: Context, wachapInstance?: string) =>
      pacersOf(context.logStreamName, wachapInstance ?? '')[lane](),
  };
}

/** Both lanes of one WaChap instance on their shared schedules; the standard lane may take the priority lane's idle share. */
function sharedPacers(
  shared: SharedRates,
  wachapInstance: string,
  fallbackIntervalMs: Readonly<Record<Lane, number>>,
  now?: () => number,
): Record<Lane, () => Promise<void>> {
  const rate = (lane: Lane) => `${wachapInstance || 'default'}#${lane}`;
  const common = { schedule: shared.schedule, log: shared.log, ...(now ? { now } : {}) };
  const priority = { rate: rate('priority'), perSecond: shared.perSecond.priority };
  return {
    priority: createSharedPacer({ ...common, ...priority, fallbackIntervalMs: fallbackIntervalMs.priority }),
    standard: createSharedPacer({
      ...common,
      rate: rate('standard'),
      perSecond: shared.perSecond.standard,
      borrow: priority,
      fallbackIntervalMs: fallbackIntervalMs.standard,
    }),
  };
}
