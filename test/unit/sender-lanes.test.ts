// The sender's lanes as deployed: a record's lane comes from its queue's ARN, and each execution environment
// paces each lane on its own (on Lambda a module holds one environment; the local stack runs several in one).
import type { Context, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { senderLanes } from '../../functions/sender/lanes.js';
import type { RateSchedule } from '../../shared/application/ports.js';
import { silentLog } from '../../shared/observability/logger.js';

const PRIORITY_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/WaChapNotifications-prod-PrioritySendQueue1A2B';
const record = (arn: string) => ({ eventSourceARN: arn }) as SQSRecord;
const context = (instance: string) => ({ logStreamName: instance }) as Context;

describe('sender lanes', () => {
  const lanes = senderLanes({ priorityQueueUrl: PRIORITY_URL, intervalMs: { priority: 2000, standard: 500 } });

  it('puts a record from the priority queue on the priority lane, by its ARN', () => {
    expect(
      lanes.laneOf(record('arn:aws:sqs:eu-west-1:123456789012:WaChapNotifications-prod-PrioritySendQueue1A2B')),
    ).toBe('priority');
  });

  it.each([
    'arn:aws:sqs:eu-west-1:123456789012:WaChapNotifications-prod-SendQueue9F8E',
    // A queue whose name merely contains the priority queue's name is not it.
    'arn:aws:sqs:eu-west-1:123456789012:WaChapNotifications-prod-PrioritySendQueue1A2B-dlq',
    'arn:aws:sqs:eu-west-1:123456789012:x-WaChapNotifications-prod-PrioritySendQueue1A2B',
  ])('puts a record from %s on the standard lane', (arn) => {
    expect(lanes.laneOf(record(arn))).toBe('standard');
  });

  it('paces each lane of each environment on its own clock', async () => {
    // Arrange: a virtual clock; pacers reserve slots, so the order of reservations tells the schedule.
    const now = 0;
    const paced = senderLanes({
      priorityQueueUrl: PRIORITY_URL,
      intervalMs: { priority: 2000, standard: 500 },
      now: () => now,
    });
    const slots: string[] = [];
    const reserve = (lane: 'priority' | 'standard', instance: string) => {
      void paced.pace(lane, context(instance)).then(() => slots.push(`${instance}/${lane}@${now}`));
    };

    // Act: at t=0 each (environment, lane) takes its first slot at once; a second one in the same lane waits.
    reserve('standard', 'a');
    reserve('priority', 'a');
    reserve('standard', 'b');
    await new Promise((resolve) => setTimeout(resolve, 5));

    // Assess
    expect(slots.sort()).toEqual(['a/priority@0', 'a/standard@0', 'b/standard@0']);
  });

  it("books each WaChap instance's lanes on their own shared schedules, the standard lane borrowing its priority lane's", async () => {
    // Prepare: a schedule that records what is booked, every rate idle.
    const booked: string[] = [];
    const schedule: RateSchedule = {
      bookSends: async (rate, { at, count, onlyIfIdle }) => {
        booked.push(`${rate}${onlyIfIdle ? ' (borrow)' : ''}`);
        return Array.from({ length: count }, () => ({ at }));
      },
    };
    const lanes = senderLanes({
      priorityQueueUrl: PRIORITY_URL,
      intervalMs: { priority: 2000, standard: 500 },
      shared: { schedule, perSecond: { priority: 2, standard: 18 }, log: silentLog },
      // A clock that stands still: no send is ever found late, however slow the machine.
      now: () => 0,
    });

    // Act: one send per lane on instance "cargo", one on the only instance, from two environments.
    await lanes.pace('priority', context('a'), 'cargo');
    await lanes.pace('standard', context('b'), 'cargo');
    await lanes.pace('standard', context('a'));

    // Assess: an idle priority lane lends its send to the standard lane's first call.
    expect(booked).toEqual(['cargo#priority', 'cargo#priority (borrow)', 'default#priority (borrow)']);
  });
});
