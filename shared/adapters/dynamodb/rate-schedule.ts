// A provider rate's schedule, shared by every sender: one item per rate holding the instant after the last send
// booked (`nextAt`, epoch ms), and the sends left of a burst (`burstLeft` until `burstUntil`). Every booking is one
// conditional update without a read; its condition is the rule, so of two senders booking at once each gets sends
// of its own:
// - extend: sends are booked from now on; ours follow them, `intervalMs` apart (`ADD`, so racing senders get
//   consecutive sends);
// - restart: the schedule lies in the past; ours start now (of two senders restarting, one wins, the other extends);
// - burst: few enough sends in the last second (quietSince) that up to `burst.size` may go at once; the schedule
//   after them starts only once the burst's window and `size` intervals have passed, which keeps any rolling second
//   of the burst and the sends after it at the rate; a booking within the window takes the burst's sends left.
// The item expires (TTL) minutes after its last booking.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type BookedSend,
  type RateBooking,
  type RateSchedule,
  RateScheduleContendedError,
} from '../../application/ports.js';
import { isConditionalCheckFailed, type TableOptions } from './items.js';
import { KEY_PREFIX, PARTITION_KEY, TTL_ATTRIBUTE } from './table.js';

/** Kept this long after its last booking: a rate idle for longer restarts from now anyway. */
const KEEP_SECONDS = 300;
/** Rounds of tries before the caller is told to try again a moment later (RateScheduleContendedError). */
const MAX_ROUNDS = 3;

export const rateScheduleKey = (rate: string): string => `${KEY_PREFIX.rate}${rate}`;

type Form = 'take' | 'burst' | 'extend' | 'restart';
interface Seen {
  nextAt: number;
  burstLeft: number;
  burstUntil: number;
}

export class DynamoDbRateSchedule implements RateSchedule {
  /** Each rate's item as this sender last wrote it: which form to try first (a wrong guess costs a failed write). */
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly table: TableOptions) {}

  async bookSends(rate: string, request: RateBooking): Promise<BookedSend[] | undefined> {
    const { at, count } = request;
    const seen = this.seen.get(rate);
    if (request.onlyIfIdle) {
      // Seen busy: no write at all (the borrower asks again later).
      if (seen && seen.nextAt >= at) return undefined;
      return this.attempt(rate, 'restart', request);
    }
    const burst = request.burst && count <= request.burst.size;
    const plan: Form[] = [];
    if (burst && seen && seen.burstLeft >= count && seen.burstUntil >= at) plan.push('take');
    if (burst && (!seen || seen.nextAt <= quietSince(at, request.burst!.size, request.intervalMs))) {
      plan.push('burst', 'take');
    }
    plan.push(...(seen && seen.nextAt >= at ? (['extend', 'restart'] as const) : (['restart', 'extend'] as const)));
    for (let round = 0; round < MAX_ROUNDS; round++) {
      for (const form of plan) {
        const instants = await this.attempt(rate, form, request);
        if (instants) return instants;
      }
    }
    throw new RateScheduleContendedError(`rate schedule ${rate}: ${MAX_ROUNDS} rounds of races lost`);
  }

  /** One form of booking, one conditional write: the sends' instants, or undefined when its condition did not hold. */
  private async attempt(rate: string, form: Form, request: RateBooking): Promise<BookedSend[] | undefined> {
    const { at, count, intervalMs } = request;
    const spaced = (first: number) => Array.from({ length: count }, (_, i) => ({ at: first + i * intervalMs }));
    const together = (burstUntil: number) => Array.from({ length: count }, () => ({ at, burstUntil }));
    const span = count * intervalMs;
    const ttl = (until: number) => Math.ceil(until / 1000) + KEEP_SECONDS;
    let update: { expression: string; condition: string; values: Record<string, number> };
    switch (form) {
      case 'extend':
        update = {
          expression: 'ADD #next :span SET #ttl = :ttl',
          condition: '#next >= :at',
          values: { ':span': span, ':at': at, ':ttl': ttl(at + span) },
        };
        break;
      case 'restart':
        update = {
          expression: 'SET #next = :next, #left = :zero, #ttl = :ttl',
          condition: 'attribute_not_exists(#next) OR #next < :at',
          values: { ':next': at + span, ':zero': 0, ':at': at, ':ttl': ttl(at + span) },
        };
        break;
      case 'burst': {
        const { size, windowMs } = request.burst!;
        const next = at + windowMs + size * intervalMs;
        update = {
          expression: 'SET #next = :next, #left = :left, #until = :until, #ttl = :ttl',
          condition: 'attribute_not_exists(#next) OR #next <= :quietSince',
          values: {
            ':next': next,
            ':left': size - count,
            ':until': at + windowMs,
            ':quietSince': quietSince(at, size, intervalMs),
            ':ttl': ttl(next),
          },
        };
        break;
      }
      case 'take':
        update = {
          expression: 'ADD #left :minus SET #ttl = :ttl',
          condition: '#left >= :count AND #until >= :at',
          values: { ':minus': -count, ':count': count, ':at': at, ':ttl': ttl(at + span) },
        };
        break;
      default: {
        const unhandled: never = form;
        throw new Error(`unknown booking form ${String(unhandled)}`);
      }
    }
    try {
      const { Attributes } = await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { [PARTITION_KEY]: rateScheduleKey(rate) },
          UpdateExpression: update.expression,
          ConditionExpression: update.condition,
          ExpressionAttributeNames: namesIn(`${update.expression} ${update.condition}`),
          ExpressionAttributeValues: update.values,
          // The item after the write: where the schedule is now, for the next booking's first guess (free).
          ReturnValues: 'ALL_NEW',
        }),
      );
      const nextAt = Number(Attributes?.nextAt);
      this.seen.set(rate, {
        nextAt,
        burstLeft: Number(Attributes?.burstLeft ?? 0),
        burstUntil: Number(Attributes?.burstUntil ?? 0),
      });
      switch (form) {
        case 'extend':
          return spaced(nextAt - span);
        case 'restart':
          return spaced(at);
        default:
          // Anywhere in the burst's window: the schedule after it starts past the window.
          return together(Number(Attributes?.burstUntil));
      }
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return undefined;
    }
  }
}

/**
 * A burst of `size` may go at `at` when the schedule ended by this instant: every send has a slot of its own
 * `intervalMs` apart (a burst's sends go before theirs, never after), so the second before `at` then holds at most
 * rate − size − 1 of them, and with the burst at most the rate; the schedule after the burst starts past its window
 * and its slots, which keeps every later second at the rate too.
 */
export function quietSince(at: number, size: number, intervalMs: number): number {
  const perSecond = Math.floor(1000 / intervalMs);
  return at - 1000 + Math.max(0, perSecond - size - 1) * intervalMs;
}

const NAMES: Record<string, string> = {
  '#next': 'nextAt',
  '#left': 'burstLeft',
  '#until': 'burstUntil',
  '#ttl': TTL_ATTRIBUTE,
};
/** The attribute names an expression uses (DynamoDB refuses a name it does not use). */
const namesIn = (expression: string): Record<string, string> =>
  Object.fromEntries(Object.entries(NAMES).filter(([placeholder]) => expression.includes(placeholder)));
