// The CloudWatch dashboard an on-call person opens first: sends and failures by class over time, WaChap's latency,
// the time from creation to send, the backlog and its age, the provider circuit, the DLQ, every alarm's state, and
// the latest failures from the logs. Metric names come from the catalogue (shared/observability/metrics.ts).
import { Duration, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  CLASSIFICATIONS,
  failedMetric,
  PERMANENT_FAILURE_REASONS,
  permanentFailureMetric,
  SCOPES,
} from '../shared/observability/metrics.js';
import { serviceMetric } from './metrics.js';

const WIDTH = 24;
const HALF = WIDTH / 2;
const THIRD = WIDTH / 3;
const HEIGHT = 6;

/**
 * The sender logs each failed attempt (warn: retried; error: held or given up) and the sweep what it could not
 * update, each with the notification's id and the phone masked (`to`): the latest of them, newest first.
 */
export const LATEST_FAILURES_QUERY = [
  'fields @timestamp, function, notificationId, to, coalesce(error, errorType) as failure, httpStatus, classification, scope, reason',
  'filter ispresent(notificationId) and (level = "WARN" or level = "ERROR")',
  'sort @timestamp desc',
  'limit 50',
];

export const dashboardName = (stage: string): string => `WaChapNotifications-${stage}`;

export function addDashboard(
  stack: Stack,
  props: {
    stage: string;
    alarms: cloudwatch.IAlarm[];
    sendDlq: sqs.IQueue;
    /** The log groups whose failures the logs widget lists (the sender's, the sweep's). */
    failureLogGroups: logs.ILogGroup[];
  },
): cloudwatch.Dashboard {
  const { stage } = props;
  const metric = serviceMetric.bind(undefined, stage);
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', {
    dashboardName: dashboardName(stage),
    defaultInterval: Duration.hours(24),
  });

  const failuresByClass = CLASSIFICATIONS.flatMap((classification) =>
    SCOPES.map((scope) =>
      metric(failedMetric(classification, scope), { label: `failed: ${classification}, ${scope}` }),
    ),
  );
  const latency = (name: 'WaChapCallLatency' | 'CreationToSendLatency', percentiles: string[]) =>
    percentiles.map((p) => metric(name, { statistic: p, label: p }));

  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Sent and failed attempts by class (per 5 minutes)',
      width: HALF,
      height: HEIGHT,
      stacked: true,
      left: [metric('NotificationsSent', { label: 'sent' }), ...failuresByClass],
      right: [
        new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) / (FILL(sent, 0) + FILL(failed, 0))',
          usingMetrics: { sent: metric('NotificationsSent'), failed: metric('SendFailures') },
          label: 'failure rate',
        }),
      ],
      rightYAxis: { min: 0, max: 1 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Accepted, held, email fallbacks, expired, permanent failures, operators',
      width: HALF,
      height: HEIGHT,
      left: [
        metric('NotificationsAccepted', { label: 'accepted' }),
        metric('NotificationsHeld', { label: 'held for the provider' }),
        metric('ChannelFallbacks', { label: 'fell back to email' }),
        metric('NotificationsExpired', { label: 'expired' }),
        ...PERMANENT_FAILURE_REASONS.map((reason) =>
          metric(permanentFailureMetric(reason), { label: `permanent: ${reason}` }),
        ),
        metric('NotificationsRedriven', { label: 're-driven' }),
        metric('NotificationsCancelled', { label: 'cancelled' }),
      ],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'WaChap call latency (ms)',
      width: HALF,
      height: HEIGHT,
      left: latency('WaChapCallLatency', ['p50', 'p90', 'p99']),
    }),
    new cloudwatch.GraphWidget({
      title: 'Creation to send (ms; a scheduled notification includes its wait)',
      width: HALF,
      height: HEIGHT,
      left: latency('CreationToSendLatency', ['p50', 'p95']),
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Due backlog and its oldest age (hourly, health check); sweeps',
      width: THIRD,
      height: HEIGHT,
      left: [
        metric('DueBacklog', { period: Duration.hours(1), label: 'due, not attempted' }),
        metric('SweepFound', { period: Duration.minutes(30), label: 'sweep found' }),
        metric('SweepQueued', { period: Duration.minutes(30), label: 'sweep queued' }),
      ],
      right: [metric('OldestDueAge', { period: Duration.hours(1), label: 'oldest due (s)' })],
    }),
    new cloudwatch.GraphWidget({
      title: 'Provider circuit (1: open, nothing sent)',
      width: THIRD,
      height: HEIGHT,
      left: [metric('ProviderCircuitOpen', { period: Duration.minutes(1), label: 'open' })],
      leftYAxis: { min: 0, max: 1 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Send DLQ depth',
      width: THIRD,
      height: HEIGHT,
      left: [
        props.sendDlq.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
          label: 'messages (SQS, 5 min)',
        }),
        metric('DlqDepth', { period: Duration.hours(1), label: 'messages (health check, hourly)' }),
      ],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      width: WIDTH,
      height: 4,
      alarms: props.alarms,
      sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.LogQueryWidget({
      title: 'Latest failures (id, masked phone, error)',
      width: WIDTH,
      height: 8,
      logGroupNames: props.failureLogGroups.map((group) => group.logGroupName),
      queryLines: LATEST_FAILURES_QUERY,
      view: cloudwatch.LogQueryVisualizationType.TABLE,
    }),
  );
  return dashboard;
}

/** The console's address of the dashboard. */
export const dashboardUrl = (region: string, name: string): string =>
  `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
