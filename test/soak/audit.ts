// The audit at the end of a soak: every notification ingested is in exactly one accountable state,
// every extra delivery WaChap made is explained by an event of that same recipient, and the held
// backlog went out soon after the provider came back.
import type { Store } from '../../shared/adapters/dynamodb/store.js';
import { isTerminal, type Notification } from '../../shared/domain/notification.js';
import type { CircuitWatch } from './circuit-watch.js';
import { emailOf, type FakeMailbox } from './fake-mailbox.js';
import type { FakeWaChap, Outage } from './fake-wachap.js';
import type { MessageTrace } from './message-trace.js';
import type { Percentiles, SoakResult } from './report.js';
import { MINUTE, phoneOf, SECOND } from './support.js';

/** A scheduled notification whose next attempt is this far in the past has been forgotten. */
const OVERDUE_AFTER = 60 * MINUTE;
const SAMPLE = 5;

export type NotificationAudit = Pick<
  SoakResult,
  | 'sent'
  | 'permanentFailures'
  | 'permanentFailuresByReason'
  | 'expired'
  | 'stillScheduled'
  | 'stillScheduledByReason'
  | 'nextScheduledAttempts'
  | 'lost'
  | 'lostSample'
  | 'sentMoreThanOnce'
  | 'extraDeliveries'
  | 'unexplainedDuplicates'
  | 'unexplainedSample'
  | 'deliveredOnBothChannels'
  | 'deliveredOnBothSample'
  | 'emailedMoreThanOnce'
  | 'sentByEmail'
  | 'sentByEmailAfterHold'
  | 'deliveredNotRecordedSent'
  | 'sentWithoutDelivery'
  | 'attemptsBurnedByOutage'
  | 'attemptsBurnedSample'
  | 'heldDuringOutage'
  | 'circuitOpenedAt'
  | 'circuitClosedAt'
  | 'circuitChangesAfterRecovery'
  | 'recoveryDetectedAfterSeconds'
  | 'recoveryToAllHeldAttemptedSeconds'
  | 'slowestHeldAttempt'
  | 'heldNotAttemptedAfterRecovery'
  | 'recoveryToLastHeldSentSeconds'
  | 'reheldAfterRecovery'
>;

const round = (seconds: number) => Math.round(seconds * 10) / 10;
const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Nearest-rank percentiles of `values`, in seconds. */
function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { p50: at(0.5), p95: at(0.95), max: round(sorted.at(-1)!) };
}

export async function auditNotifications(input: {
  store: Pick<Store, 'get'>;
  ids: ReadonlyMap<number, string>;
  wachap: FakeWaChap;
  mailbox: FakeMailbox;
  outage: Outage;
  end: number;
  watch: CircuitWatch;
  /** The queue's and the logs' story of each notification. */
  trace?: MessageTrace;
}): Promise<NotificationAudit> {
  const { ids, wachap, outage, end, watch } = input;
  const opened = watch.changes.find((c) => c.status === 'unavailable' && c.at >= outage.start && c.at < outage.end);
  const closed = watch.changes.find((c) => c.status === 'healthy' && c.at >= outage.end);
  const audit: NotificationAudit = {
    sent: 0,
    permanentFailures: 0,
    permanentFailuresByReason: {},
    expired: 0,
    stillScheduled: 0,
    stillScheduledByReason: {},
    nextScheduledAttempts: null,
    lost: 0,
    lostSample: [],
    sentMoreThanOnce: 0,
    extraDeliveries: 0,
    unexplainedDuplicates: 0,
    unexplainedSample: [],
    deliveredOnBothChannels: 0,
    deliveredOnBothSample: [],
    emailedMoreThanOnce: 0,
    sentByEmail: 0,
    sentByEmailAfterHold: 0,
    deliveredNotRecordedSent: 0,
    sentWithoutDelivery: 0,
    attemptsBurnedByOutage: 0,
    attemptsBurnedSample: [],
    heldDuringOutage: 0,
    circuitOpenedAt: opened ? new Date(opened.at).toISOString() : null,
    circuitClosedAt: closed ? new Date(closed.at).toISOString() : null,
    circuitChangesAfterRecovery: closed
      ? watch.changes
          .filter((c) => c.at > closed.at)
          .slice(0, SAMPLE)
          .map((c) => `${new Date(c.at).toISOString()} ${c.status}${c.reason ? ` (${c.reason})` : ''}`)
      : [],
    recoveryDetectedAfterSeconds: closed ? (closed.at - outage.end) / SECOND : null,
    recoveryToAllHeldAttemptedSeconds: null,
    slowestHeldAttempt: null,
    heldNotAttemptedAfterRecovery: 0,
    recoveryToLastHeldSentSeconds: null,
    reheldAfterRecovery: 0,
  };
  const lost = (why: string) => {
    audit.lost++;
    if (audit.lostSample.length < SAMPLE) audit.lostSample.push(why);
  };
  const heldDelays: number[] = [];
  let lastHeldSent: number | undefined;

  for (const [index, id] of ids) {
    const n: Notification | undefined = await input.store.get(id);
    if (!n) {
      lost(`${id} (no record)`);
      continue;
    }

    // Duplicates, per recipient: each delivery beyond the first must be matched by one of its own events.
    const ledger = wachap.ledger.get(phoneOf(index));
    const delivered = ledger?.deliveries ?? 0;
    if (ledger && delivered > 1) {
      audit.sentMoreThanOnce++;
      audit.extraDeliveries += delivered - 1;
      if (delivered - 1 > ledger.crashWindow + ledger.ambiguous) {
        audit.unexplainedDuplicates++;
        if (audit.unexplainedSample.length < SAMPLE) {
          audit.unexplainedSample.push(
            `${id} (${delivered} deliveries, ${ledger.crashWindow} crash-window, ${ledger.ambiguous} ambiguous)`,
          );
        }
      }
    }
    // Across channels: WhatsApp's deliveries and the emails of this notification's own address.
    const emailed = input.mailbox.ledger.get(emailOf(index)) ?? 0;
    if (delivered > 0 && emailed > 0) {
      audit.deliveredOnBothChannels++;
      if (audit.deliveredOnBothSample.length < SAMPLE) {
        audit.deliveredOnBothSample.push(`${id} (${delivered} by WhatsApp, ${emailed} by email)`);
      }
    }
    if (emailed > 1) audit.emailedMoreThanOnce++;
    if (n.status === 'sent' && n.channel === 'email') {
      audit.sentByEmail++;
      if (n.history.some((h) => h.outcome === 'held' && (h.channel ?? 'whatsapp') === 'whatsapp')) {
        audit.sentByEmailAfterHold++;
      }
      // The record says email: the email is what reached the recipient.
      if (emailed === 0) audit.sentWithoutDelivery++;
    } else if (n.status === 'sent' && delivered === 0) audit.sentWithoutDelivery++;
    if (delivered + emailed > 0 && n.status !== 'sent') audit.deliveredNotRecordedSent++;

    const during = n.history.filter((h) => Date.parse(h.at) >= outage.start && Date.parse(h.at) < outage.end);
    // WhatsApp attempts only: an email sent as the fallback during the outage may fail for reasons of its own (SES
    // throttling), which is that channel's failure, classified and retried as such, not an attempt WaChap's outage
    // burned (the email ones are still sampled, so a run shows them).
    for (const h of during.filter((h) => h.outcome === 'failed' || h.outcome === 'permanent_failure')) {
      const onEmail = h.channel === 'email';
      if (onEmail) {
        if (audit.attemptsBurnedSample.length < SAMPLE) {
          audit.attemptsBurnedSample.push(`${id}: ${h.outcome} on email at ${h.at} (${h.errorType}), not counted`);
        }
        continue;
      }
      audit.attemptsBurnedByOutage++;
      if (audit.attemptsBurnedSample.length < SAMPLE) {
        audit.attemptsBurnedSample.push(
          `${id}: ${h.outcome} on ${h.channel ?? 'whatsapp'} at ${h.at} (${h.errorType})`,
        );
      }
    }
    if (during.some((h) => h.outcome === 'held')) {
      audit.heldDuringOutage++;
      const attempt = n.history.find((h) => Date.parse(h.at) >= outage.end && h.outcome !== 'held');
      if (attempt) {
        const delay = (Date.parse(attempt.at) - outage.end) / SECOND;
        heldDelays.push(delay);
        // The slowest one's whole story after the outage, so that a run whose last attempt came late says why.
        if (!audit.slowestHeldAttempt || delay > audit.slowestHeldAttempt.seconds) {
          audit.slowestHeldAttempt = {
            id,
            seconds: delay,
            after: n.history
              .filter((h) => Date.parse(h.at) >= outage.end - MINUTE)
              .map((h) => `${h.at} ${h.outcome}${h.errorType ? ` (${h.errorType})` : ''}`),
            queue: (input.trace?.of(id) ?? []).filter((line) => Date.parse(line.slice(0, 24)) >= outage.end - MINUTE),
          };
        }
      } else if (!isTerminal(n.status)) audit.heldNotAttemptedAfterRecovery++;
      if (n.sentAt) lastHeldSent = Math.max(lastHeldSent ?? 0, (Date.parse(n.sentAt) - outage.end) / SECOND);
    }

    // A hold for the open circuit while it was closed: the sender acted on a read from before the close.
    if (
      n.history.some((h) => h.outcome === 'held' && h.errorType === 'circuit_open' && watch.closedAt(Date.parse(h.at)))
    ) {
      audit.reheldAfterRecovery++;
    }

    switch (n.status) {
      case 'sent':
        audit.sent++;
        break;
      case 'permanent_failure':
        audit.permanentFailures++;
        bump(audit.permanentFailuresByReason, n.reason ?? 'unknown');
        break;
      case 'expired':
        audit.expired++;
        break;
      case 'cancelled':
        lost(`${id} (cancelled: nobody cancels in the soak)`);
        break;
      default: {
        const next = n.nextAttemptAt ? Date.parse(n.nextAttemptAt) : undefined;
        if (next === undefined || next < end - OVERDUE_AFTER) {
          lost(`${id} (${n.status}, next attempt ${n.nextAttemptAt ?? 'none'})`);
          break;
        }
        audit.stillScheduled++;
        bump(audit.stillScheduledByReason, n.inFlight ? 'attempt_in_flight' : (n.reason ?? n.status));
        const at = n.nextAttemptAt!;
        const span = audit.nextScheduledAttempts;
        audit.nextScheduledAttempts = {
          earliest: span && span.earliest < at ? span.earliest : at,
          latest: span && span.latest > at ? span.latest : at,
        };
      }
    }
  }
  audit.recoveryToAllHeldAttemptedSeconds = percentiles(heldDelays);
  audit.recoveryToLastHeldSentSeconds = lastHeldSent ?? null;
  return audit;
}
