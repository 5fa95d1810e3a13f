// The bench's figures: each group measures some keys; each key has its meaning and, where the issue sets one, its goal.
import { runOtpLane } from './otp-lane.js';
import { runP2 } from './p2-store-cost.js';
import { runP3 } from './p3-sweep-cost.js';

export interface Goal {
  text: string;
  met(value: number, all: Readonly<Record<string, number>>): boolean;
}

export interface Figure {
  key: string;
  what: string;
  goal?: Goal;
}

export interface FigureGroup {
  name: string;
  title: string;
  figures: Figure[];
  run(options: { quick: boolean }): Promise<object>;
}

const atMost = (limit: number): Goal => ({ text: `≤ ${limit}`, met: (value) => value <= limit });
const atLeast = (limit: number): Goal => ({ text: `≥ ${limit}`, met: (value) => value >= limit });
const exactly = (target: number): Goal => ({ text: `= ${target}`, met: (value) => value === target });

export const FIGURES: FigureGroup[] = [
  {
    name: 'otp',
    title: 'OTP lane: ordinary notifications draining at the ceiling, then one OTP',
    run: async ({ quick }) => {
      const otp = await runOtpLane(quick ? { backlog: 100 } : {});
      return {
        otpUnderFloodSeconds: otp.otpUnderFloodSeconds,
        otpOrdinarySentMeanwhile: otp.ordinarySentMeanwhile,
        otpOrdinaryStillWaiting: otp.ordinaryStillWaiting,
        otpFloodSendsPerSecond: otp.ordinarySendsPerSecond,
      };
    },
    figures: [
      { key: 'otpUnderFloodSeconds', what: 'OTP posted → at WaChap, 500 ordinary queued', goal: atMost(2) },
      { key: 'otpOrdinarySentMeanwhile', what: 'ordinary sends between the OTP post and the OTP' },
      { key: 'otpOrdinaryStillWaiting', what: 'ordinary notifications still queued behind it' },
      { key: 'otpFloodSendsPerSecond', what: 'pace of the ordinary flood' },
    ],
  },
  {
    name: 'p2',
    title: 'store cost per delivered notification (ReturnConsumedCapacity)',
    run: ({ quick }) => runP2({ quick }),
    figures: [
      { key: 'p2WritesPerDelivered', what: 'writes per delivered notification, short message', goal: atMost(3) },
      { key: 'p2WcuPerDelivered', what: 'WCU per delivered notification, short message', goal: atMost(4) },
      { key: 'p2WritesPerDeliveredWithKey', what: 'writes, with an idempotency key' },
      { key: 'p2WcuPerDeliveredWithKey', what: 'WCU, with an idempotency key' },
      { key: 'p2WritesPerDeliveredLargeMessage', what: 'writes, 4,000-character message' },
      { key: 'p2WcuPerDeliveredLargeMessage', what: 'WCU, 4,000-character message', goal: atMost(14) },
      { key: 'p2RecordBytes', what: 'bytes of the short-message record as stored (names + values)' },
    ],
  },
  {
    name: 'p3',
    title: 'sweep read cost vs table size (100 due among 1,000 vs 100,000)',
    run: ({ quick }) => runP3({ quick }),
    figures: [
      {
        key: 'p3SweepReadRatio',
        what: 'sweep RCU among the large table ÷ among 1,000 items',
        goal: { text: '≈ 1 (≤ 1.2)', met: (value) => value <= 1.2 },
      },
      { key: 'p3SmallTableRcu', what: 'sweep RCU, 100 due among 1,000 items' },
      { key: 'p3LargeTableRcu', what: 'sweep RCU, 100 due among the large table' },
      { key: 'p3LargeTableItems', what: 'items in the large table' },
    ],
  },
];

void exactly;
void atLeast;
