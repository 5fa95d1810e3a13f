// The soaks' figures, the lines that must hold, and their two renderings: a table for people and
// one JSON object for scripts (`npm run soak -- --json`).
import type { FaultRates } from './fake-wachap.js';
import { READS_PER_HELD_GOAL, type ReleaseScaleResult } from './release-scale.js';

export interface SoakSettings {
  notifications: number;
  hours: number;
  seed: number;
  outageStartHour: number;
  outageHours: number;
  faults: FaultRates;
  /** Share of DynamoDB calls that fail with ProvisionedThroughputExceededException. */
  throttleRate: number;
  /** Share of received SQS messages delivered a second time. */
  duplicateRate: number;
  /** Share of sweeps that run twice at once. */
  overlapRate: number;
  otpShare: number;
  invalidShare: number;
  /** Share of recipients who give an email address (the fallback channel). */
  emailShare: number;
  /** Share of email sends SES throttles. */
  emailThrottleRate: number;
  /** Share of ingest requests the upstream system sends again (same idempotency key). */
  replayRate: number;
  /** How long a sender trusts its last read of the provider circuit (the deployed default unless set). */
  circuitCacheMs: number;
  /**
   * A disconnected-instance blip this long after WaChap's recovery: the first send from then on gets it (a blip in
   * the drain, which the random ones reach in about one run in four). Absent: only the random blips.
   */
  blipAfterRecoveryMs?: number | undefined;
}

export interface Percentiles {
  p50: number;
  p95: number;
  max: number;
}

export interface SoakResult {
  options: SoakSettings;
  ingested: number;
  ingestRetries: number;
  replays: number;
  replaysAnsweredWithSameId: number;
  sent: number;
  permanentFailures: number;
  permanentFailuresByReason: Record<string, number>;
  expired: number;
  stillScheduled: number;
  stillScheduledByReason: Record<string, number>;
  nextScheduledAttempts: { earliest: string; latest: string } | null;
  lost: number;
  lostSample: string[];
  /** Recipients WaChap delivered to more than once. */
  sentMoreThanOnce: number;
  /** Deliveries beyond the first, over all recipients. */
  extraDeliveries: number;
  /** WaChap accepted, then the sender died before recording it. */
  crashWindowEvents: number;
  /** WaChap delivered, but the sender was told timeout, reset or unreadable. */
  ambiguousDelivered: number;
  /** Recipients with more extra deliveries than crash-window and ambiguous events of their own. */
  unexplainedDuplicates: number;
  unexplainedSample: string[];
  crashes: number;
  /** Notifications delivered both by WhatsApp and by email: the promise is none. */
  deliveredOnBothChannels: number;
  deliveredOnBothSample: string[];
  /** Notifications emailed more than once (email has no ambiguous answer nor crash window in the soak). */
  emailedMoreThanOnce: number;
  /** Recorded sent by email (the fallback): by a number not on WhatsApp, or near its expiry during the outage. */
  sentByEmail: number;
  /** Of those, sent by email after the provider held them (the near-expiry fallback). */
  sentByEmailAfterHold: number;
  emailsSent: number;
  emailsThrottled: number;
  deliveredNotRecordedSent: number;
  sentWithoutDelivery: number;
  attemptsBurnedByOutage: number;
  /** A few of them: id, outcome, channel, instant and error type. */
  attemptsBurnedSample: string[];
  heldDuringOutage: number;
  outage: { start: string; end: string };
  circuitOpenedAt: string | null;
  circuitClosedAt: string | null;
  /** The circuit's first changes after that close (a reopening delays the held notifications again). */
  circuitChangesAfterRecovery: string[];
  /** WaChap healthy again → the circuit closed. */
  recoveryDetectedAfterSeconds: number | null;
  /** Probe ticks that failed (an injected throttle) between the recovery and the end of the release: a minute each. */
  recoveryTicksFailed: number;
  /** WaChap healthy again → each notification held during the outage attempted again. */
  recoveryToAllHeldAttemptedSeconds: Percentiles | null;
  /** The held notification attempted last after the recovery: its id, delay and history from the outage's end. */
  /** Its history from the outage's end; `queue`: its messages' story (queued, received, what the sender said). */
  slowestHeldAttempt: { id: string; seconds: number; after: string[]; queue: string[] } | null;
  /** Held during the outage, not final, and never attempted after it. */
  heldNotAttemptedAfterRecovery: number;
  recoveryToLastHeldSentSeconds: number | null;
  /** Notifications held for an open circuit at a time it was closed: a sender acted on a read from before the close. */
  reheldAfterRecovery: number;
  wachapCalls: number;
  wachapCallsDuringOutage: number;
  throttled: number;
  duplicatesInjected: number;
  sweeps: number;
  overlappingSweeps: number;
  dlqDepth: number;
  unmaskedPhonesInLogs: number;
  logLines: number;
  wallSeconds: number;
}

/** WaChap healthy again → 95 % of the held notifications attempted again. */
export const RECOVERY_P95_LIMIT_SECONDS = 120;
/** WaChap healthy again → the circuit closed (the probe runs every minute). */
export const RECOVERY_DETECTION_LIMIT_SECONDS = 120;

const outageEndsInRun = (r: SoakResult) => r.options.outageStartHour + r.options.outageHours < r.options.hours;

/** Lines that are off: an empty list means the promise held. */
export function soakProblems(r: SoakResult): string[] {
  const problems: string[] = [];
  const o = r.options;
  if (r.ingested !== o.notifications) problems.push(`ingested ${r.ingested} of ${o.notifications}`);
  if (r.lost > 0) problems.push(`${r.lost} lost: ${r.lostSample.join(', ')}`);
  if (r.unexplainedDuplicates > 0) {
    problems.push(
      `${r.unexplainedDuplicates} recipients got more extra deliveries than their own crash-window and ambiguous events explain: ${r.unexplainedSample.join(', ')}`,
    );
  }
  if (r.sentMoreThanOnce > r.crashWindowEvents + r.ambiguousDelivered) {
    problems.push(
      `${r.sentMoreThanOnce} sent more than once, more than the ${r.crashWindowEvents} crash-window events and ${r.ambiguousDelivered} ambiguous deliveries`,
    );
  }
  if (r.sentWithoutDelivery > 0) problems.push(`${r.sentWithoutDelivery} recorded sent that no channel ever accepted`);
  if (r.deliveredOnBothChannels > 0) {
    problems.push(
      `${r.deliveredOnBothChannels} delivered by both WhatsApp and email: ${r.deliveredOnBothSample.join(', ')}`,
    );
  }
  if (r.emailedMoreThanOnce > 0) problems.push(`${r.emailedMoreThanOnce} emailed more than once`);
  if (r.attemptsBurnedByOutage > 0) problems.push(`${r.attemptsBurnedByOutage} attempts burned by the provider outage`);
  if (o.outageHours > 0) {
    if (!outageEndsInRun(r)) {
      problems.push(`the outage (${r.outage.start} … ${r.outage.end}) does not end within the run: nothing recovers`);
    } else if (r.recoveryDetectedAfterSeconds === null) {
      problems.push('the provider recovery was never detected');
    } else if (r.recoveryDetectedAfterSeconds > RECOVERY_DETECTION_LIMIT_SECONDS) {
      problems.push(
        `recovery detected ${r.recoveryDetectedAfterSeconds} s after WaChap was healthy (limit ${RECOVERY_DETECTION_LIMIT_SECONDS} s)`,
      );
    }
    if (r.heldDuringOutage === 0) problems.push('nothing was held during the outage: the outage was not exercised');
    const p95 = r.recoveryToAllHeldAttemptedSeconds?.p95;
    if (p95 !== undefined && p95 > RECOVERY_P95_LIMIT_SECONDS) {
      problems.push(
        `95 % of the held notifications were attempted within ${p95} s of the recovery (limit ${RECOVERY_P95_LIMIT_SECONDS} s; last ${r.recoveryToAllHeldAttemptedSeconds?.max} s)`,
      );
    }
    if (outageEndsInRun(r) && r.heldNotAttemptedAfterRecovery > 0) {
      problems.push(`${r.heldNotAttemptedAfterRecovery} notifications held during the outage never attempted after it`);
    }
  }
  if (r.reheldAfterRecovery > 0) {
    problems.push(`${r.reheldAfterRecovery} notifications held again after the circuit closed`);
  }
  if (r.replays !== r.replaysAnsweredWithSameId) {
    problems.push(`${r.replays - r.replaysAnsweredWithSameId} idempotent repeats answered with another id`);
  }
  if (r.unmaskedPhonesInLogs > 0) problems.push(`${r.unmaskedPhonesInLogs} unmasked phone numbers in the logs`);
  return problems;
}

/** The figures and the problems, as one object. */
export const soakJson = (r: SoakResult) => ({ ...r, problems: soakProblems(r) });

const duration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return 'n/a';
  return seconds < 120 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`;
};
const breakdown = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

export function formatSoakTable(r: SoakResult): string {
  const o = r.options;
  const ok = (good: boolean) => (good ? 'ok ' : 'OFF');
  const outage = o.outageHours > 0;
  const recovery = r.recoveryToAllHeldAttemptedSeconds;
  const rows: [string, string, string][] = [
    [
      ok(r.ingested === o.notifications),
      'ingested',
      `${r.ingested} (ingest 5xx retried by upstream: ${r.ingestRetries}; idempotent repeats ${r.replaysAnsweredWithSameId}/${r.replays} same id)`,
    ],
    ['   ', 'sent', String(r.sent)],
    ['   ', 'permanent failures', `${r.permanentFailures} (${breakdown(r.permanentFailuresByReason)})`],
    ['   ', 'expired', String(r.expired)],
    [
      '   ',
      'still scheduled',
      `${r.stillScheduled} (${breakdown(r.stillScheduledByReason)}; next attempts ${r.nextScheduledAttempts?.earliest ?? '-'} … ${r.nextScheduledAttempts?.latest ?? '-'})`,
    ],
    [ok(r.lost === 0), 'lost', String(r.lost)],
    [
      ok(r.unexplainedDuplicates === 0 && r.sentMoreThanOnce <= r.crashWindowEvents + r.ambiguousDelivered),
      'sent more than once',
      `${r.sentMoreThanOnce} ≤ ${r.crashWindowEvents} crash-window + ${r.ambiguousDelivered} ambiguous deliveries (${r.extraDeliveries} extra deliveries; ${r.unexplainedDuplicates === 0 ? 'each matched by an event of its own recipient' : `${r.unexplainedDuplicates} recipients unexplained`})`,
    ],
    [ok(r.sentWithoutDelivery === 0), 'recorded sent, never accepted', String(r.sentWithoutDelivery)],
    [
      ok(r.deliveredOnBothChannels === 0 && r.emailedMoreThanOnce === 0),
      'on both channels',
      `${r.deliveredOnBothChannels} (emailed twice: ${r.emailedMoreThanOnce}; sent by email ${r.sentByEmail}, of which ${r.sentByEmailAfterHold} near expiry after a hold; SES sends ${r.emailsSent}, throttled ${r.emailsThrottled})`,
    ],
    [
      '   ',
      'accepted, not recorded sent',
      `${r.deliveredNotRecordedSent} (WaChap has them, the record does not say sent: crash window or ambiguous answer)`,
    ],
    [
      ok(r.attemptsBurnedByOutage === 0),
      'attempts burned by the outage',
      `${r.attemptsBurnedByOutage} (${r.heldDuringOutage} held; WaChap calls during the outage: ${r.wachapCallsDuringOutage})${r.attemptsBurnedSample.length > 0 ? `: ${r.attemptsBurnedSample.join('; ')}` : ''}`,
    ],
    [
      ok(!outage || (r.recoveryDetectedAfterSeconds ?? Number.POSITIVE_INFINITY) <= RECOVERY_DETECTION_LIMIT_SECONDS),
      'recovery detected after',
      `${duration(r.recoveryDetectedAfterSeconds)} (probe ticks failed until the release was done: ${r.recoveryTicksFailed})`,
    ],
    [
      ok(!outage || (recovery !== null && recovery.p95 <= RECOVERY_P95_LIMIT_SECONDS)),
      'recovery → held attempted',
      recovery
        ? `median ${duration(recovery.p50)}, 95% ${duration(recovery.p95)} (limit ${RECOVERY_P95_LIMIT_SECONDS} s), last ${duration(recovery.max)}; never attempted ${r.heldNotAttemptedAfterRecovery}`
        : 'n/a',
    ],
    [
      ok(r.reheldAfterRecovery === 0),
      'held again after the close',
      `${r.reheldAfterRecovery} (a hold in the history after the circuit closed; sender circuit cache ${o.circuitCacheMs / 1000} s)`,
    ],
    [
      '   ',
      'recovery → last held sent',
      `${duration(r.recoveryToLastHeldSentSeconds)} (later ones met ordinary faults and backed off)`,
    ],
    [
      ok(r.unmaskedPhonesInLogs === 0),
      'unmasked phones in logs',
      `${r.unmaskedPhonesInLogs} (${r.logLines} log lines)`,
    ],
  ];
  const width = Math.max(...rows.map(([, name]) => name.length));
  return [
    `Soak: ${o.notifications} notifications over ${o.hours} h (seed ${o.seed}; expired-token outage ${o.outageHours} h from t+${o.outageStartHour} h)`,
    `Faults injected: WaChap calls ${r.wachapCalls}, sender crashes ${r.crashes}, DynamoDB throttles ${r.throttled}, duplicate SQS deliveries ${r.duplicatesInjected}, sweeps ${r.sweeps} (${r.overlappingSweeps} overlapping), DLQ ${r.dlqDepth}`,
    '',
    ...rows.map(([flag, name, value]) => `${flag}  ${name.padEnd(width)}  ${value}`),
    '',
    `Wall time ${r.wallSeconds} s.`,
  ].join('\n');
}

// ---- The release at scale -------------------------------------------------------------------

/** Lines that are off: an empty list means the backlog went out within the probe's limits. */
export function releaseScaleProblems(r: ReleaseScaleResult): string[] {
  const problems: string[] = [];
  if (r.stillHeld > 0) problems.push(`${r.stillHeld} of ${r.held} notifications still held after ${r.ticks} ticks`);
  if (r.notDue > 0) problems.push(`${r.notDue} of ${r.held} notifications no longer await an attempt, unsent`);
  if (r.queued < r.held) problems.push(`${r.held - r.queued} of ${r.held} held notifications never reached the queue`);
  if (!r.releasePendingCleared) problems.push(`the circuit still says releasePending after ${r.ticks} ticks`);
  if (r.releaseReadsPerHeld > READS_PER_HELD_GOAL) {
    problems.push(
      `the release read ${r.releaseItemsRead} items for ${r.held} held (${r.releaseReadsPerHeld} per held, limit ${READS_PER_HELD_GOAL})`,
    );
  }
  const over = r.tickDetails.filter((t) => t.wallSeconds > r.tickTimeoutSeconds);
  if (over.length > 0) {
    problems.push(
      `${over.length} ticks ran past the ${r.tickTimeoutSeconds} s limit (longest ${r.tickWallSeconds.max} s): Lambda would have stopped them`,
    );
  }
  if (r.reheld > 0) problems.push(`${r.reheld} notifications held again after the circuit closed`);
  return problems;
}

export const releaseScaleJson = (r: ReleaseScaleResult) => ({ ...r, problems: releaseScaleProblems(r) });

export function formatReleaseScaleTable(r: ReleaseScaleResult): string {
  const ok = (good: boolean) => (good ? 'ok ' : 'OFF');
  const rows: [string, string, string][] = [
    ['   ', 'held notifications', `${r.held} (written in ${r.seedWallSeconds} s)`],
    [
      ok(r.releasePendingCleared),
      'ticks',
      `${r.ticks} (${r.releasePendingCleared ? 'releasePending cleared' : 'releasePending still set'})`,
    ],
    [
      ok(r.tickWallSeconds.max <= r.tickTimeoutSeconds),
      'wall time per tick',
      `max ${r.tickWallSeconds.max} s, total ${r.tickWallSeconds.total} s (limit ${r.tickTimeoutSeconds} s each)`,
    ],
    [
      ok(r.releaseReadsPerHeld <= READS_PER_HELD_GOAL),
      'items read per held',
      `${r.releaseReadsPerHeld.toFixed(3)} (${r.releaseItemsRead} items from the due index; goal ≤ ${READS_PER_HELD_GOAL})`,
    ],
    [
      ok(r.queued === r.held),
      'queued',
      `${r.queued} distinct (${r.queueMessages} messages on the queue, ${r.enqueueFailures} refused)`,
    ],
    [
      ok(r.stillHeld === 0 && r.notDue === 0),
      'still held',
      `${r.stillHeld} (no longer awaiting an attempt, unsent: ${r.notDue})`,
    ],
    [ok(r.reheld === 0), 'held again after the close', String(r.reheld)],
  ];
  const width = Math.max(...rows.map(([, name]) => name.length));
  const ticks = r.tickDetails.map(
    (t, i) =>
      `  tick ${i + 1} at ${t.at}: ${t.wallSeconds} s, released ${t.released}, read ${t.itemsRead} (${t.outcome})`,
  );
  return [
    `Release at scale: ${r.held} held notifications, probe ticks a virtual minute apart, each with ${r.tickTimeoutSeconds} s to live (seed ${r.options.seed})`,
    '',
    ...rows.map(([flag, name, value]) => `${flag}  ${name.padEnd(width)}  ${value}`),
    '',
    ...ticks,
    '',
    `Wall time ${r.wallSeconds} s.`,
  ].join('\n');
}
