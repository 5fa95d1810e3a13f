// Health evaluation, pure: figures in, alerts out. The thresholds are the original's
// (≥ 20 failures in an hour, ≥ 5 permanent failures in 24 h, ≥ 50 % failure rate; its ALERT_FAILED_OTP_THRESHOLD,
// 10 OTP failures in an hour, and ALERT_WHATSAPP_FAILURE_THRESHOLD, 5 WhatsApp failures in a row), all configurable.
// The domain says what is wrong and with which figures; the words (French and English) and the commands to act are
// the presentation's (shared/presentation/alert-texts.ts).
import type { FailureReason, Notification, NotificationStatus } from './notification.js';
import { maskPhone, maskPhonesInText } from './phone.js';
import { isCircuitOpen, type ProviderState } from './provider-circuit.js';

export type Severity = 'critical' | 'warning';

export interface WindowCounts {
  attempts: number;
  sent: number;
  temporaryFailures: number;
  permanentFailures: number;
  /** OTP notifications that failed (each once); absent: none counted. */
  otpFailures?: number;
}

export interface WindowFigures extends WindowCounts {
  failures: number;
  /** failures / attempts, 0 when nothing was attempted. */
  failureRate: number;
}

export interface HealthThresholds {
  hourlyFailures: number;
  dailyPermanentFailures: number;
  failureRate: number;
  /** Below this many attempts in the hour, the failure rate pages nobody. */
  failureRateMinAttempts: number;
  /** Messages in the send queue's DLQ before it is worth a look (0 alerts on the first one). */
  dlqDepth: number;
  /** Age of the oldest due notification, in minutes, past which the sweep is not keeping up. */
  backlogAgeMinutes: number;
  /** OTP notifications failed in the last hour (the original's ALERT_FAILED_OTP_THRESHOLD; 0 turns it off). */
  hourlyOtpFailures: number;
  /** WhatsApp sends failed in a row, none delivered since (ALERT_WHATSAPP_FAILURE_THRESHOLD; 0 turns it off). */
  consecutiveFailures: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  hourlyFailures: 20,
  dailyPermanentFailures: 5,
  failureRate: 0.5,
  failureRateMinAttempts: 10,
  dlqDepth: 1,
  backlogAgeMinutes: 90,
  hourlyOtpFailures: 10,
  consecutiveFailures: 5,
};

export type AlertKind =
  | 'failure_burst'
  | 'permanent_failures'
  | 'failure_rate'
  | 'dead_letters'
  | 'stale_backlog'
  | 'provider_unavailable'
  | 'otp_failures'
  | 'consecutive_failures';

/**
 * The figures an alert carries. Each name has one kind (the presentation formats it by name): counts, ratios
 * (failureRate, failureRateThreshold, 0 to 1), durations in minutes (minutesSinceOpen, oldestAgeMinutes) and instants
 * in epoch milliseconds (openedAt).
 */
export type FigureName =
  | 'failures'
  | 'attempts'
  | 'threshold'
  | 'failureRate'
  | 'failureRateThreshold'
  | 'permanentFailures'
  | 'otpFailures'
  | 'consecutiveFailures'
  | 'dlqDepth'
  | 'count'
  | 'oldestAgeMinutes'
  | 'minutesSinceOpen'
  | 'openedAt';

export type AlertFigures = Partial<Record<FigureName, number>>;

/** The open circuit as the provider_unavailable alert reports it: the provider's own words, not ours to trust. */
export interface CircuitFacts {
  since: string;
  reason?: string;
  recommendation?: string;
  /** An operator opened it: only closing it by hand ends the outage. */
  forced?: boolean;
  /** The WaChap instance whose circuit it is, when there are several: only its notifications are held. */
  instance?: string;
}

export interface HealthAlert {
  kind: AlertKind;
  severity: Severity;
  figures: AlertFigures;
  /** provider_unavailable only. */
  circuit?: CircuitFacts;
}

/** A notification an alert concerns, as an admin may see it: the phone masked, the error on one bounded line. */
export interface AffectedNotification {
  id: string;
  /** Masked: only the last 4 digits. */
  phone: string;
  category: string;
  status: NotificationStatus;
  lastError?: { type: string; message: string };
}

/** An affected notification as the alert shows it: the number masked, in its field and in the error text. */
export function affectedNotification(notification: Notification): AffectedNotification {
  const error = notification.lastError;
  return {
    id: notification.id,
    phone: maskPhone(notification.recipient.phone),
    category: notification.category,
    status: notification.status,
    ...(error ? { lastError: { type: error.type, message: maskPhonesInText(error.message) } } : {}),
  };
}

/** At most this many affected notifications per alert: enough to start from, one bounded read. */
export const AFFECTED_LIMIT = 10;

/**
 * Which notifications an alert concerns: newest created first from the status index (the statuses, narrowed, created
 * within the last `withinHours`), the oldest due ones, or none (a DLQ message is not read: receiving it is not a
 * peek). The health check reads them and the alert prints the same selection as the command that lists them all.
 */
export type AffectedSelection =
  | {
      source: 'status_index';
      statuses: readonly NotificationStatus[];
      category?: string;
      reason?: FailureReason;
      withinHours?: number;
    }
  | { source: 'due' }
  | { source: 'none' };

const RECENT_FAILURES: AffectedSelection = {
  source: 'status_index',
  statuses: ['failed', 'permanent_failure'],
  withinHours: 24,
};

export function affectedSelection(kind: AlertKind): AffectedSelection {
  switch (kind) {
    case 'failure_burst':
    case 'failure_rate':
    case 'consecutive_failures':
      return RECENT_FAILURES;
    case 'permanent_failures':
      return { source: 'status_index', statuses: ['permanent_failure'], withinHours: 24 };
    case 'otp_failures':
      return {
        source: 'status_index',
        statuses: ['failed', 'permanent_failure', 'expired'],
        category: 'otp',
        withinHours: 1,
      };
    case 'provider_unavailable':
      // The held ones, however old: they wait for the circuit, not for their creation window.
      return { source: 'status_index', statuses: ['failed'], reason: 'provider_unavailable' };
    case 'stale_backlog':
      return { source: 'due' };
    case 'dead_letters':
      return { source: 'none' };
    default: {
      const _never: never = kind;
      return _never;
    }
  }
}

export interface HealthInput {
  lastHour: WindowCounts;
  last24Hours: WindowCounts;
  dlqDepth?: number;
  backlog?: { count: number; oldestDueAt?: string };
  /** The provider circuit: while it is open every notification is held, whatever the counters say. */
  provider?: ProviderState;
  /**
   * Several WaChap instances: every instance's circuit (the default's is `provider` above, under its own name
   * here too); each open one is an alert that names its instance.
   */
  instanceCircuits?: readonly { instance: string; state: ProviderState | undefined }[];
  /** WhatsApp sends failed in a row since the last one delivered (the recipient's faults aside). */
  consecutiveFailures?: number;
  now: Date;
}

/** The circuit is open: WaChap is refused or broken, and notifications wait for it. */
export function providerUnavailableAlert(state: ProviderState, now: Date, instance?: string): HealthAlert {
  const minutes = Math.max(0, Math.round((now.getTime() - Date.parse(state.since)) / 60_000));
  return {
    kind: 'provider_unavailable',
    severity: 'critical',
    figures: { minutesSinceOpen: minutes, openedAt: Date.parse(state.since) },
    circuit: {
      since: state.since,
      ...(state.reason !== undefined ? { reason: state.reason } : {}),
      ...(state.recommendation !== undefined ? { recommendation: state.recommendation } : {}),
      ...(state.forced ? { forced: true } : {}),
      ...(instance !== undefined ? { instance } : {}),
    },
  };
}

export function windowFigures(counts: WindowCounts): WindowFigures {
  const failures = counts.temporaryFailures + counts.permanentFailures;
  return { ...counts, failures, failureRate: counts.attempts > 0 ? failures / counts.attempts : 0 };
}

export function evaluateHealth(
  input: HealthInput,
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): HealthAlert[] {
  const hour = windowFigures(input.lastHour);
  const day = windowFigures(input.last24Hours);
  const alerts: HealthAlert[] = [];

  if (input.instanceCircuits) {
    for (const { instance, state } of input.instanceCircuits) {
      if (state && isCircuitOpen(state)) alerts.push(providerUnavailableAlert(state, input.now, instance));
    }
  } else if (input.provider && isCircuitOpen(input.provider)) {
    alerts.push(providerUnavailableAlert(input.provider, input.now));
  }
  if (hour.failures >= thresholds.hourlyFailures) {
    alerts.push({
      kind: 'failure_burst',
      severity: 'critical',
      figures: { failures: hour.failures, attempts: hour.attempts, threshold: thresholds.hourlyFailures },
    });
  }
  if (day.permanentFailures >= thresholds.dailyPermanentFailures) {
    alerts.push({
      kind: 'permanent_failures',
      severity: 'warning',
      figures: { permanentFailures: day.permanentFailures, threshold: thresholds.dailyPermanentFailures },
    });
  }
  if (hour.attempts >= thresholds.failureRateMinAttempts && hour.failureRate >= thresholds.failureRate) {
    alerts.push({
      kind: 'failure_rate',
      severity: 'critical',
      figures: {
        failureRate: hour.failureRate,
        failures: hour.failures,
        attempts: hour.attempts,
        failureRateThreshold: thresholds.failureRate,
      },
    });
  }
  const otpFailures = hour.otpFailures ?? 0;
  if (thresholds.hourlyOtpFailures > 0 && otpFailures >= thresholds.hourlyOtpFailures) {
    // Critical: a customer without the code cannot log in, and the original sent this one by WhatsApp too.
    alerts.push({
      kind: 'otp_failures',
      severity: 'critical',
      figures: { otpFailures, threshold: thresholds.hourlyOtpFailures },
    });
  }
  const inARow = input.consecutiveFailures ?? 0;
  if (thresholds.consecutiveFailures > 0 && inARow >= thresholds.consecutiveFailures) {
    alerts.push({
      kind: 'consecutive_failures',
      severity: 'critical',
      figures: { consecutiveFailures: inARow, threshold: thresholds.consecutiveFailures },
    });
  }
  if (input.dlqDepth !== undefined && thresholds.dlqDepth > 0 && input.dlqDepth >= thresholds.dlqDepth) {
    alerts.push({
      kind: 'dead_letters',
      severity: 'warning',
      figures: { dlqDepth: input.dlqDepth },
    });
  }
  const oldest = input.backlog?.oldestDueAt ? Date.parse(input.backlog.oldestDueAt) : undefined;
  const ageMinutes = oldest !== undefined ? (input.now.getTime() - oldest) / 60_000 : 0;
  if (input.backlog && ageMinutes >= thresholds.backlogAgeMinutes) {
    alerts.push({
      kind: 'stale_backlog',
      severity: 'warning',
      figures: { count: input.backlog.count, oldestAgeMinutes: Math.round(ageMinutes) },
    });
  }
  return alerts;
}
