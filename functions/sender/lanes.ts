// Which lane a record comes from, and each lane's pace per execution environment and WaChap instance.
import type { Context, SQSRecord } from 'aws-lambda';
import { queueNameOf } from '../../shared/adapters/sqs/send-queue.js';
import { createPacer } from '../../shared/application/concurrency.js';
import type { Lane } from '../../shared/domain/notification.js';
import type { SenderLanes } from './create-handler.js';

/**
 * The lanes as deployed: a record whose queue (the last part of its eventSourceARN) is the priority queue is on the
 * priority lane, anything else on the standard lane; each execution environment paces each lane of each WaChap instance at `intervalMs`.
 */
export function senderLanes(options: {
  priorityQueueUrl: string;
  intervalMs: Readonly<Record<Lane, number>>;
  now?: () => number;
}): SenderLanes {
  const priorityQueue = queueNameOf(options.priorityQueueUrl);
  const pacers = new Map<string, Record<Lane, () => Promise<void>>>();
  const pacersOf = (instance: string) => {
    let found = pacers.get(instance);
    if (!found) {
      found = {
        priority: createPacer(options.intervalMs.priority, options.now),
        standard: createPacer(options.intervalMs.standard, options.now),
      };
      pacers.set(instance, found);
    }
    return found;
  };
  return {
    laneOf: (record: SQSRecord) =>
      record.eventSourceARN.split(':').at(-1) === priorityQueue ? 'priority' : 'standard',
    // A WaChap instance is one WhatsApp number with its own limits: each is paced apart, at the whole rate.
    pace: (lane: Lane, context: Context, wachapInstance?: string) =>
      pacersOf(wachapInstance ? `${context.logStreamName}#${wachapInstance}` : context.logStreamName)[lane](),
  };
}
