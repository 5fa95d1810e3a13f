// Health evaluation, pure: figures in, alerts out. The thresholds are the original's
// (≥ 20 failures in an hour, ≥ 5 permanent failures in 24 h, ≥ 50 % failure rate; its ALERT_FAILED_OTP_THRESHOLD,
// 10 OTP failures in an hour, and ALERT_WHATSAPP_FAILURE_THRESHOLD, 5 WhatsApp failures in a row), all configurable.
import { LOCAL_STAGE, operatorCommand } from './operator-command.js';
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

export interface HealthAlert {
  kind: AlertKind;
  severity: Severity;
  /** One line a person understands at a glance. */
  summary: string;
  figures: Record<string, number>;
  recommendation: string;
}

export interface HealthInput {
  lastHour: WindowCounts;
  last24Hours: WindowCounts;
  dlqDepth?: number;
  backlog?: { count: number; oldestDueAt?: string };
  /** The provider circuit: while it is open every notification is held, whatever the counters say. */
  provider?: ProviderState;
  /** WhatsApp sends failed in a row since the last one delivered (the recipient's faults aside). */
  consecutiveFailures?: number;
  /** The stage being checked, named in the commands the alerts print (default: the local stack). */
  stage?: string;
  now: Date;
}

/**
 * The circuit is open: WaChap is refused or broken, and notifications wait for it. `stage` is the alerting
 * stack's, so that the command printed closes this stage's circuit.
 */
export function providerUnavailableAlert(state: ProviderState, now: Date, stage: string = LOCAL_STAGE): HealthAlert {
  const minutes = Math.max(0, Math.round((now.getTime() - Date.parse(state.since)) / 60_000));
  const opener = state.forced ? ' (opened by an operator)' : '';
  return {
    kind: 'provider_unavailable',
    severity: 'critical',
    summary: `WaChap is unavailable since ${state.since} (${minutes} min)${opener}: ${state.reason ?? 'unknown reason'}. Notifications are held, none is lost.`,
    figures: { minutesSinceOpen: minutes },
    recommendation: `${state.recommendation ?? 'Check the WaChap dashboard.'} After fixing it, close the circuit at once with \`${operatorCommand('circuit', ['--close'], stage)}\` (or wait for the next probe, within a minute).`,
  };
}

export function windowFigures(counts: WindowCounts): WindowFigures {
  const failures = counts.temporaryFailures + counts.permanentFailures;
  return { ...counts, failures, failureRate: counts.attempts > 0 ? failures / counts.attempts : 0 };
}

const percent = (rate: number): string => `${Math.round(rate * 1000) / 10}%`;

export function evaluateHealth(
  input: HealthInput,
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): HealthAlert[] {
  const hour = windowFigures(input.lastHour);
  const day = windowFigures(input.last24Hours);
  const alerts: HealthAlert[] = [];

  if (input.provider && isCircuitOpen(input.provider))
    alerts.push(providerUnavailableAlert(input.provider, input.now, input.stage));
  if (hour.failures >= thresholds.hourlyFailures) {
    alerts.push({
      kind: 'failure_burst',
      severity: 'critical',
      summary: `${hour.failures} WhatsApp sends failed in the last hour (threshold ${thresholds.hourlyFailures}).`,
      figures: { failures: hour.failures, attempts: hour.attempts, threshold: thresholds.hourlyFailures },
      recommendation:
        'Check the WaChap instance (connected? subscription active?) and the last errors in the logs; failed notifications are retried automatically.',
    });
  }
  if (day.permanentFailures >= thresholds.dailyPermanentFailures) {
    alerts.push({
      kind: 'permanent_failures',
      severity: 'warning',
      summary: `${day.permanentFailures} notifications failed permanently in the last 24 hours (threshold ${thresholds.dailyPermanentFailures}).`,
      figures: { permanentFailures: day.permanentFailures, threshold: thresholds.dailyPermanentFailures },
      recommendation: `These will not be retried: list them with \`${operatorCommand('notifications', ['list', '--status=permanent_failure', '--since=24h'], input.stage)}\`, look at their lastError (usually an invalid number), fix the data, then re-drive them with \`${operatorCommand('notifications', ['retry', '--status=permanent_failure', '--since=24h', '--dry-run'], input.stage)}\` (without --dry-run once the count is right).`,
    });
  }
  if (hour.attempts >= thresholds.failureRateMinAttempts && hour.failureRate >= thresholds.failureRate) {
    alerts.push({
      kind: 'failure_rate',
      severity: 'critical',
      summary: `${percent(hour.failureRate)} of WhatsApp sends failed in the last hour (${hour.failures} of ${hour.attempts}; threshold ${percent(thresholds.failureRate)}).`,
      figures: { failureRate: hour.failureRate, failures: hour.failures, attempts: hour.attempts },
      recommendation:
        'Most sends are failing: WaChap is likely down or our account is blocked. Check the WaChap dashboard before customers notice.',
    });
  }
  const otpFailures = hour.otpFailures ?? 0;
  if (thresholds.hourlyOtpFailures > 0 && otpFailures >= thresholds.hourlyOtpFailures) {
    // Critical: a customer without the code cannot log in, and the original sent this one by WhatsApp too.
    alerts.push({
      kind: 'otp_failures',
      severity: 'critical',
      summary: `${otpFailures} OTP notifications failed in the last hour (threshold ${thresholds.hourlyOtpFailures}): customers are not getting their codes.`,
      figures: { otpFailures, threshold: thresholds.hourlyOtpFailures },
      recommendation: `Look at their lastError with \`${operatorCommand('notifications', ['list', '--status=failed,permanent_failure,expired', '--category=otp', '--since=1h'], input.stage)}\`: a WaChap problem (instance, account) fails them all, invalid numbers fail a few. An OTP is valid for minutes, so the customer has to ask for a new one: re-driving an old one does not help.`,
    });
  }
  const inARow = input.consecutiveFailures ?? 0;
  if (thresholds.consecutiveFailures > 0 && inARow >= thresholds.consecutiveFailures) {
    alerts.push({
      kind: 'consecutive_failures',
      severity: 'critical',
      summary: `${inARow} WhatsApp sends failed in a row, none delivered since (threshold ${thresholds.consecutiveFailures}): the WaChap instance looks down.`,
      figures: { consecutiveFailures: inARow, threshold: thresholds.consecutiveFailures },
      recommendation:
        'Check the WaChap instance (connected? phone online? subscription active?) and the last errors in the logs; failed notifications are retried automatically, and an instance WaChap reports as disconnected or expired opens the provider circuit by itself.',
    });
  }
  if (input.dlqDepth !== undefined && thresholds.dlqDepth > 0 && input.dlqDepth >= thresholds.dlqDepth) {
    alerts.push({
      kind: 'dead_letters',
      severity: 'warning',
      summary: `${input.dlqDepth} message(s) in the send queue's dead-letter queue.`,
      figures: { dlqDepth: input.dlqDepth },
      recommendation:
        'A message the sender could not process 5 times: read it from the DLQ, check the sender logs, then redrive or delete it. The notification itself is still swept from the table.',
    });
  }
  const oldest = input.backlog?.oldestDueAt ? Date.parse(input.backlog.oldestDueAt) : undefined;
  const ageMinutes = oldest !== undefined ? (input.now.getTime() - oldest) / 60_000 : 0;
  if (input.backlog && ageMinutes >= thresholds.backlogAgeMinutes) {
    alerts.push({
      kind: 'stale_backlog',
      severity: 'warning',
      summary: `${input.backlog.count} notification(s) are due, the oldest for ${Math.round(ageMinutes)} minutes.`,
      figures: { count: input.backlog.count, oldestAgeMinutes: Math.round(ageMinutes) },
      recommendation: 'The retry sweep is not keeping up or not running: check its schedule and its last runs.',
    });
  }
  return alerts;
}
