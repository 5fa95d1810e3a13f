// The bench's figures: each group measures some keys; each key has its meaning and, where the issue sets one, its goal.
import { runOtpLane } from './otp-lane.js';
import { runP1 } from './p1-recovery.js';
import { runP2 } from './p2-store-cost.js';
import { runP3 } from './p3-sweep-cost.js';
import { runP4 } from './p4-sender-batch.js';
import { runP5 } from './p5-bundles.js';
import { runP6 } from './p6-throughput.js';
import { runP7 } from './p7-ingest.js';

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
  /** Lines printed under the table for a group's details (P5's bundles). */
  details?(measured: object): string[];
}

const atMost = (limit: number): Goal => ({ text: `≤ ${limit}`, met: (value) => value <= limit });
const atLeast = (limit: number): Goal => ({ text: `≥ ${limit}`, met: (value) => value >= limit });
const exactly = (target: number): Goal => ({ text: `= ${target}`, met: (value) => value === target });

export const FIGURES: FigureGroup[] = [
  {
    name: 'p1',
    title: 'recovery: notifications held by an expired token, WaChap healthy again, ceiling 20/s',
    run: ({ quick }) => runP1({ quick }),
    figures: [
      { key: 'p1Held', what: 'notifications held by the outage' },
      { key: 'p1CeilingPerSecond', what: "WaChap's ceiling (the stand-in answers 429 above it)" },
      {
        key: 'p1FirstHeldAttemptSeconds',
        what: 'WaChap healthy → first held notification attempted',
        goal: atMost(20),
      },
      {
        key: 'p1AllHeldSentSeconds',
        what: 'WaChap healthy → all held sent',
        goal: {
          text: '≤ 20 + held ÷ (0.9 × ceiling)',
          met: (value, all) => value <= 20 + (all.p1Held ?? 0) / (0.9 * (all.p1CeilingPerSecond ?? 1)),
        },
      },
      { key: 'p1AllHeldSentGoalSeconds', what: 'that goal, in seconds' },
      { key: 'p1CircuitClosedSeconds', what: 'WaChap healthy → the circuit closed by the probe' },
      { key: 'p1DrainPerSecond', what: 'the held ones at WaChap, first to last, per second' },
      { key: 'p1Http429', what: '429s from WaChap during the recovery' },
      { key: 'p1Unsent', what: 'held ones not at WaChap when measured (a 429 waits out its retry: all sent n/a)' },
    ],
  },
  {
    name: 'p2',
    title: 'store cost per delivered notification (ReturnConsumedCapacity)',
    run: ({ quick }) => runP2({ quick }),
    details: (measured) =>
      Object.entries((measured as Awaited<ReturnType<typeof runP2>>).breakdown).map(
        ([kind, { calls, byTarget }]) =>
          `  ${kind.padEnd(8)} calls per notification: ${Object.entries(calls)
            .map(([command, n]) => `${command.replace(/Command$/, '')} ${n}`)
            .join(', ')}; capacity by table/index: ${Object.entries(byTarget)
            .map(
              ([target, units]) =>
                `${target.replace(/^[^/]*/, (table) => (table.includes('/') ? table : 'table'))} ${units}`,
            )
            .join(', ')}`,
      ),
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
  {
    name: 'p4',
    title: 'sender batch: 10 messages, WaChap answering in 200 ms, ceiling 100/s',
    run: ({ quick }) => runP4({ quick }),
    figures: [
      { key: 'p4OneCallMs', what: 'the sender handler, a batch of one (ms)' },
      { key: 'p4BatchOf10Ms', what: 'the sender handler, a batch of 10 (ms)' },
      { key: 'p4BatchRatio', what: 'batch of 10 ÷ batch of one', goal: atMost(1.5) },
    ],
  },
  {
    name: 'p5',
    title: 'bundles (esbuild as the CDK bundles) and cold import vs the SDK clients alone',
    run: ({ quick }) => runP5({ quick }),
    details: (measured) =>
      (measured as Awaited<ReturnType<typeof runP5>>).bundles.map(
        (b) =>
          `  ${b.name.padEnd(20)} ${String(b.bytes).padStart(8)} B (floor ${String(b.floorBytes).padStart(7)} B)  import ${b.importMs} ms (floor ${b.floorImportMs} ms)  clients: ${b.sdkClients.map((c) => c.replace('@aws-sdk/', '')).join(' ') || '-'}${b.sdkUnused.length ? `; bundled, unused: ${b.sdkUnused.map((c) => c.replace('@aws-sdk/', '')).join(' ')}` : ''}`,
      ),
    figures: [
      { key: 'p5BundleBytesMax', what: 'largest bundle (bytes)', goal: atMost(600_000) },
      { key: 'p5BundleRatioMax', what: 'largest bundle ÷ its SDK floor (bytes)', goal: atMost(1.5) },
      { key: 'p5ImportRatioMax', what: 'largest cold-import CPU ÷ its SDK floor', goal: atMost(1.15) },
      { key: 'p5ImportMsMax', what: 'longest cold-import CPU time (ms)' },
    ],
  },
  {
    name: 'p6',
    title: 'throughput at a ceiling of 20/s, the stand-in answering 429 above it',
    run: ({ quick }) => runP6({ quick }),
    figures: [
      { key: 'p6FractionOfCeiling', what: 'accepted sends per second ÷ the ceiling', goal: atLeast(0.9) },
      { key: 'p6SendsPerSecond', what: 'accepted sends per second' },
      { key: 'p6Http429', what: '429s from WaChap', goal: exactly(0) },
      { key: 'p6Duplicates', what: 'extra deliveries to a recipient', goal: exactly(0) },
      { key: 'p6Notifications', what: 'notifications posted' },
    ],
  },
  {
    name: 'p7',
    title: 'ingest: the API door vs a bare PutItem + SendMessage handler',
    run: ({ quick }) => runP7({ quick }),
    figures: [
      { key: 'p7IngestRatio', what: 'accepted per second, door ÷ bare', goal: atLeast(0.8) },
      { key: 'p7DoorPerSecond', what: 'accepted per second through the API door' },
      { key: 'p7BarePerSecond', what: 'accepted per second, bare handler' },
      { key: 'p7BareThreeCallsPerSecond', what: 'accepted per second, bare handler with a recipient counter' },
      { key: 'p7DoorVsThreeCallsRatio', what: 'door ÷ bare with the same three calls' },
    ],
  },
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
];
