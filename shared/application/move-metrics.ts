// The metrics a move of a notification publishes, derived from the same before → after pair as the hourly
// counters (countsOf): every move of every use case goes through applyTransition, so no sent, failed, held or
// expired notification is left out, and none is counted by hand beside a call.
import { countsOf } from '../domain/counters.js';
import type { Notification } from '../domain/notification.js';
import type { NotificationEvent } from '../domain/transitions.js';
import {
  failedMetric,
  PERMANENT_FAILURE_REASONS,
  permanentFailureMetric,
  type Telemetry,
} from '../observability/metrics.js';

const isPermanentReason = (reason: string | undefined): reason is (typeof PERMANENT_FAILURE_REASONS)[number] =>
  (PERMANENT_FAILURE_REASONS as readonly (string | undefined)[]).includes(reason);

/** Publishes what the move `event`, which turned `before` into `after`, amounts to. */
export function publishMove(
  metrics: Telemetry,
  event: NotificationEvent,
  after: Notification,
  before: Notification,
): void {
  const counts = countsOf(event, after, before);
  const dimensions = { category: after.category, priority: after.priority };
  if (counts.sent) {
    metrics.count('NotificationsSent', counts.sent, dimensions);
    metrics.timing('CreationToSendLatency', event.at.getTime() - Date.parse(after.createdAt), dimensions);
  }
  if (event.type === 'failure') {
    metrics.count('SendFailures', 1, dimensions);
    metrics.count(failedMetric(event.verdict.classification, event.verdict.scope));
  }
  if (counts.permanentFailures && isPermanentReason(after.reason)) {
    metrics.count(permanentFailureMetric(after.reason), counts.permanentFailures);
  }
  if (counts.held) metrics.count('NotificationsHeld', counts.held);
  if (counts.expired) metrics.count('NotificationsExpired', counts.expired, dimensions);
  if (event.type === 'redrive') metrics.count('NotificationsRedriven');
  if (event.type === 'cancel') metrics.count('NotificationsCancelled');
  if (event.type === 'switch_channel') metrics.count('ChannelFallbacks', 1, dimensions);
}
