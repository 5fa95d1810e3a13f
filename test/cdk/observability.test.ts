// The alarms and the dashboard as synthesized: the catalogue's metrics under the stage's namespace, the thresholds
// from the configuration, a description that says what to do, and the dashboard's widgets.
import type { CfnResource } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../functions/catalog.js';
import { CIRCUIT_OPEN_PERIODS } from '../../lib/alarms.js';
import { dashboardName } from '../../lib/dashboard.js';
import type { NotificationStack } from '../../lib/notification-stack.js';
import { DEFAULT_HEALTH_THRESHOLDS } from '../../shared/domain/health.js';
import { SERVICE_NAME } from '../../shared/observability/logger.js';
import { METRIC_NAMES, metricsNamespace } from '../../shared/observability/metrics.js';
import { FULL_CONTEXT, removeSyntheses, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

type Resource = { Properties: Record<string, unknown> };
type Widget = { type: string; properties: Record<string, unknown> };

/** A Fn::Join of text and references as one string, each reference written `«ref»`. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return '«ref»';
  return join[1].map(joined).join(join[0]);
}

const NAMESPACE = metricsNamespace(FULL_CONTEXT.stage!);

describe('observability in the stack', () => {
  let stack: NotificationStack;
  let template: Template;
  let alarms: Resource[];
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const alarmNamed = (id: string): Resource => {
    const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([key]) => key.startsWith(id));
    if (!found) throw new Error(`no alarm ${id}`);
    return found[1] as Resource;
  };

  beforeAll(() => {
    ({ stack, template } = synthesize());
    alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
  });

  describe('alarms', () => {
    it('each say what to do, and notify the topic', () => {
      for (const alarm of alarms) {
        const description = joined(alarm.Properties.AlarmDescription);
        expect(description.length).toBeGreaterThan(60);
        // CloudWatch refuses a description over 1024 characters; a queue URL or log group name is under 120.
        expect(description.replaceAll('«ref»', 'x'.repeat(120)).length).toBeLessThanOrEqual(1024);
        expect(alarm.Properties.AlarmActions).toHaveLength(1);
      }
    });

    it("one on each catalog function's errors, telling how to read its log", () => {
      const errors = alarms.filter(
        (a) => a.Properties.Namespace === 'AWS/Lambda' && a.Properties.MetricName === 'Errors',
      );
      expect(errors).toHaveLength(FUNCTION_NAMES.length);
      for (const name of FUNCTION_NAMES) {
        const fn = stack.functions[name];
        const alarm = errors.find(
          (a) =>
            JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'FunctionName', Value: { Ref: logicalId(fn.lambda) } }]),
        );
        expect(alarm, name).toBeDefined();
        expect(joined(alarm!.Properties.AlarmDescription)).toContain('aws logs tail «ref» --since 1h');
      }
    });

    it('the failure rate over 15 minutes: failed attempts / attempts, from the catalogue, above the threshold', () => {
      const alarm = alarmNamed('SendFailureRate');
      expect(alarm.Properties).toMatchObject({
        Threshold: DEFAULT_HEALTH_THRESHOLDS.failureRate,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
      const queries = alarm.Properties.Metrics as {
        Id: string;
        Expression?: string;
        MetricStat?: {
          Metric: { Namespace: string; MetricName: string; Dimensions: unknown };
          Period: number;
          Stat: string;
        };
      }[];
      const expression = queries.find((q) => q.Expression)!.Expression!;
      expect(expression).toContain(`>= ${DEFAULT_HEALTH_THRESHOLDS.failureRateMinAttempts}`);
      expect(expression).toContain('FILL(failed, 0) / (FILL(sent, 0) + FILL(failed, 0))');
      const stats = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!);
      expect(stats.map((s) => s.Metric.MetricName).sort()).toEqual(['NotificationsSent', 'SendFailures']);
      for (const stat of stats) {
        expect(stat).toMatchObject({
          Period: 900,
          Stat: 'Sum',
          Metric: { Namespace: NAMESPACE, Dimensions: [{ Name: 'service', Value: SERVICE_NAME }] },
        });
      }
      expect(joined(alarm.Properties.AlarmDescription)).toContain(
        'npm run notifications -- --stage test list --status=failed --since=1h',
      );
    });

    it('the backlog: the oldest due notification older than the configured minutes', () => {
      expect(alarmNamed('BacklogTooOld').Properties).toMatchObject({
        Namespace: NAMESPACE,
        MetricName: 'OldestDueAge',
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: DEFAULT_HEALTH_THRESHOLDS.backlogAgeMinutes * 60,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      const { template: other } = synthesize({ stage: 'dev', alarmBacklogAgeMinutes: '30' });
      other.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestDueAge', Threshold: 1800 });
    });

    it('the provider circuit open in three 5-minute periods in a row: 15 minutes', () => {
      const alarm = alarmNamed('ProviderCircuitOpen');
      expect(alarm.Properties).toMatchObject({
        Namespace: NAMESPACE,
        MetricName: 'ProviderCircuitOpen',
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: CIRCUIT_OPEN_PERIODS,
        DatapointsToAlarm: CIRCUIT_OPEN_PERIODS,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(CIRCUIT_OPEN_PERIODS * 5).toBe(15);
      expect(joined(alarm.Properties.AlarmDescription)).toContain('npm run circuit -- --stage test --close');
    });

    it('the DLQ not empty, with the commands to read and purge it', () => {
      const alarm = alarmNamed('SendDlqNotEmpty');
      expect(alarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
      expect(joined(alarm.Properties.AlarmDescription)).toMatch(
        /aws sqs receive-message --queue-url «ref».*purge-queue/,
      );
    });
  });

  describe('dashboard', () => {
    let widgets: Widget[];

    beforeAll(() => {
      const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
      expect(dashboards).toHaveLength(1);
      expect(dashboards[0]!.Properties.DashboardName).toBe(dashboardName('test'));
      widgets = (JSON.parse(joined(dashboards[0]!.Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
    });

    it('graphs every metric of the catalogue, under the stage namespace and the service dimension', () => {
      const graphed = widgets
        .filter((w) => w.type === 'metric')
        .flatMap((w) => w.properties.metrics as unknown[][])
        .filter((m) => m[0] === NAMESPACE);
      for (const metric of graphed) expect(metric.slice(2, 4)).toEqual(['service', SERVICE_NAME]);
      expect(new Set(graphed.map((m) => m[1]))).toEqual(new Set(METRIC_NAMES));
    });

    it('shows latency percentiles, the circuit and the DLQ', () => {
      const statsOf = (name: string) =>
        widgets
          .filter((w) => w.type === 'metric')
          .flatMap((w) => w.properties.metrics as unknown[][])
          .filter((m) => m[1] === name)
          .map((m) => (m.at(-1) as { stat?: string }).stat);
      expect(statsOf('WaChapCallLatency')).toEqual(['p50', 'p90', 'p99']);
      expect(statsOf('CreationToSendLatency')).toEqual(['p50', 'p95']);
      expect(statsOf('ProviderCircuitOpen')).toEqual(['Maximum']);
      expect(JSON.stringify(widgets)).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible"');
    });

    it("holds every alarm's state", () => {
      const status = widgets.filter((w) => w.type === 'alarm');
      expect(status).toHaveLength(1);
      expect(status[0]!.properties.alarms).toHaveLength(alarms.length);
    });

    it("lists the latest failures from the sender's and the sweep's logs: id, masked phone, error", () => {
      const logs = widgets.filter((w) => w.type === 'log');
      expect(logs).toHaveLength(1);
      const query = logs[0]!.properties.query as string;
      // SOURCE '<group>' | SOURCE '<group>' | fields …: the two groups, referenced.
      expect(query.match(/SOURCE '«ref»'/g)).toHaveLength(2);
      expect(query).toMatch(/fields @timestamp, function, notificationId, to, coalesce\(error, errorType\)/);
      expect(query).toContain('sort @timestamp desc');
    });
  });

  it('gives the dashboard URL in the outputs', () => {
    const output = template.toJSON().Outputs.DashboardUrl as { Value: unknown };
    expect(joined(output.Value)).toBe(
      'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=«ref»',
    );
    template.hasOutput('DashboardUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
  });
});
