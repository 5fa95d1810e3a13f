// WaChap's rate schedule on every available engine: senders racing on one schedule (each with its own client, as
// separate Lambda instances) get sends that never overlap, spaced `intervalMs` apart with no gap, so together they
// never exceed the rate in any second; an idle schedule restarts from now; a borrow of an idle rate writes nothing
// when the rate is busy; the item expires minutes after its last booking.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines, type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { DynamoDbRateSchedule, rateScheduleKey } from '../../shared/adapters/dynamodb/rate-schedule.js';
import { localDynamoDbClient, randomTableName } from '../support/dynamodb.js';
import { busiestSecond } from '../support/rolling-second.js';

// A fixed instant: the schedule's rule is about the `now` each booking states, never the wall clock.
const T0 = Date.parse('2026-11-30T12:00:00.000Z');
const INTERVAL = 52;

let nextRate = 0;

const newRate = () => `instance-${nextRate++}#standard`;

describe.each(availableEngines())('WaChap rate schedule on %s', (engineName) => {
  let engine: RunningDynamoDb;
  const clients: DynamoDBClient[] = [];
  let doc: DynamoDBDocumentClient;
  let tableName: string;
  /** A sender of its own: its own client and its own memory of where the schedule was. */
  const sender = () => {
    const client = localDynamoDbClient(engine.endpoint);
    clients.push(client);
    return new DynamoDbRateSchedule({ client: notificationDocumentClient(client), tableName });
  };
  const item = async (rate: string) =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: { pk: rateScheduleKey(rate) }, ConsistentRead: true })))
      .Item;

  beforeAll(async () => {
    engine = await startDynamoDb({ engine: engineName });
    const client = localDynamoDbClient(engine.endpoint);
    clients.push(client);
    doc = notificationDocumentClient(client);
    tableName = randomTableName();
    await ensureTable(client, tableName);
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await engine?.stop();
  });

  it('gives senders racing on one schedule consecutive sends, never two in one slot', async () => {
    // Prepare: four senders, each booking blocks of 1 to 5 sends, all stating the same instant.
    const rate = newRate();
    const senders = Array.from({ length: 4 }, sender);
    const blocks = Array.from({ length: 40 }, (_, i) => ({ sender: senders[i % 4]!, count: 1 + (i % 5) }));

    // Act: every booking at once.
    const booked = await Promise.all(
      blocks.map(({ sender, count }) => sender.bookSends(rate, { at: T0, count, intervalMs: INTERVAL })),
    );

    // Assess: the sends are exactly the slots from T0 on, each once: INTERVAL apart, so at most
    // ceil(1000 / INTERVAL) = 20 in any second whichever sender booked them.
    const total = blocks.reduce((sum, block) => sum + block.count, 0);
    const instants = booked.flatMap((b) => b ?? []).map((send) => send.at);
    expect(instants.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => T0 + i * INTERVAL));
    expect((await item(rate))?.nextAt).toBe(T0 + total * INTERVAL);
  });

  it('keeps senders racing with bursts, spaced sends and late comers under the rate in every rolling second', async () => {
    // Prepare: a 20/s rate (INTERVAL 52 ms, bursts of 10 within 250 ms); three senders booking blocks of 1 to 10 at
    // instants spread over eight seconds, with quiet gaps that let bursts start again.
    const rate = newRate();
    const senders = Array.from({ length: 3 }, sender);
    const burst = { size: 10, windowMs: 250 };
    const bookings = Array.from({ length: 60 }, (_, i) => ({
      sender: senders[i % 3]!,
      at: T0 + (i < 30 ? i * 40 : 5000 + (i - 30) * 90),
      count: 1 + ((i * 7) % 10),
    }));

    // Act: in waves of three at once (one per sender), each wave in the order of its instants.
    const instants: number[] = [];
    const early: number[] = [];
    const latest: number[] = [];
    for (let i = 0; i < bookings.length; i += 3) {
      const wave = bookings.slice(i, i + 3);
      const booked = await Promise.all(
        wave.map(({ sender, at, count }) => sender.bookSends(rate, { at, count, intervalMs: INTERVAL, burst })),
      );
      wave.forEach(({ at }, j) => {
        for (const send of booked[j] ?? []) if (send.at < at) early.push(send.at);
      });
      const sends = booked.flatMap((b) => b ?? []);
      instants.push(...sends.map((send) => send.at));
      // A burst's send may go anywhere in its window: as late as it may, too.
      latest.push(...sends.map((send) => send.burstUntil ?? send.at));
    }

    // Assess: every send booked, none before the instant its booking stated, at most 20 in any rolling second.
    expect(instants).toHaveLength(bookings.reduce((sum, b) => sum + b.count, 0));
    expect(early).toEqual([]);
    expect(busiestSecond(instants)).toBeLessThanOrEqual(20);
    expect(busiestSecond(latest)).toBeLessThanOrEqual(20);
  });

  it('restarts from now once every send booked lies in the past, and keeps the item minutes after its last', async () => {
    const rate = newRate();
    const [a, b] = [sender(), sender()];
    await a.bookSends(rate, { at: T0, count: 3, intervalMs: INTERVAL });

    // Act: another sender, a minute later; then the first again, whose memory says the schedule is ahead.
    const later = T0 + 60_000;
    const restarted = await b.bookSends(rate, { at: later, count: 2, intervalMs: INTERVAL });
    const after = await a.bookSends(rate, { at: later + 1, count: 1, intervalMs: INTERVAL });

    // Assess
    expect(restarted).toEqual([{ at: later }, { at: later + INTERVAL }]);
    expect(after).toEqual([{ at: later + 2 * INTERVAL }]);
    const stored = await item(rate);
    expect(stored?.ttl).toBe(Math.ceil((later + 3 * INTERVAL) / 1000) + 300);
  });

  it('lets a burst go at once after a quiet second, a booking within its window join it, and spaces what follows', async () => {
    const rate = newRate();
    const [a, b] = [sender(), sender()];
    const burst = { size: 10, windowMs: 250 };

    const first = await a.bookSends(rate, { at: T0, count: 1, intervalMs: INTERVAL, burst });
    const joined = await b.bookSends(rate, { at: T0 + 100, count: 9, intervalMs: INTERVAL, burst });
    const after = await a.bookSends(rate, { at: T0 + 150, count: 2, intervalMs: INTERVAL, burst });

    expect(first).toEqual([{ at: T0, burstUntil: T0 + 250 }]);
    expect(joined).toEqual(Array.from({ length: 9 }, () => ({ at: T0 + 100, burstUntil: T0 + 250 })));
    // After the burst's window and ten intervals: a second's rate never exceeded, wherever in the window it went.
    expect(after).toEqual([{ at: T0 + 250 + 10 * INTERVAL }, { at: T0 + 250 + 11 * INTERVAL }]);
  });

  it('refuses a burst while the last second already holds too many sends, and spaces it instead', async () => {
    // Prepare: 15 sends at 20/s, from T0 to T0 + 728; a batch of ten asks for a burst at T0 + 800.
    const rate = newRate();
    const [a, b] = [sender(), sender()];
    const before = (await a.bookSends(rate, { at: T0, count: 15, intervalMs: INTERVAL })) ?? [];

    // Act
    const batch =
      (await b.bookSends(rate, {
        at: T0 + 800,
        count: 10,
        intervalMs: INTERVAL,
        burst: { size: 10, windowMs: 250 },
      })) ?? [];

    // Assess: ten at once would make 25 in the second ending at T0 + 800; spaced, no second holds more than 20.
    expect(batch.map((send) => send.at)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 800 + i * INTERVAL));
    expect(busiestSecond([...before, ...batch].map((send) => send.at))).toBeLessThanOrEqual(20);
  });

  it('books an idle rate for a borrower, and writes nothing for one when sends are booked ahead', async () => {
    const rate = newRate();
    const [owner, borrower] = [sender(), sender()];

    const idle = await borrower.bookSends(rate, { at: T0, count: 1, intervalMs: 500, onlyIfIdle: true });
    await owner.bookSends(rate, { at: T0 + 600, count: 2, intervalMs: 500 });
    const before = await item(rate);
    const busy = await borrower.bookSends(rate, { at: T0 + 700, count: 1, intervalMs: 500, onlyIfIdle: true });

    expect(idle).toEqual([{ at: T0 }]);
    expect(busy).toBeUndefined();
    expect(await item(rate)).toEqual(before);
  });
});
