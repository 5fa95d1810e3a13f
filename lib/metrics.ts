// The functions' own metrics as CloudWatch knows them, read from the catalogue (shared/observability/metrics.ts):
// the alarms and the dashboard name none by hand.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SERVICE_NAME } from '../shared/observability/logger.js';
import { METRICS, type MetricName, metricsNamespace } from '../shared/observability/metrics.js';

/** How each kind reads by default: counts add up, levels at their highest, timings at their median. */
const STATISTIC = { count: 'Sum', level: 'Maximum', timing: 'p50' } as const;

/**
 * A catalogue metric over the whole service (the [service] dimension set every line carries), for `stage`'s stack.
 * `statistic` and `period` default to the kind's reading and five minutes.
 */
export function serviceMetric(
  stage: string,
  name: MetricName,
  options: { statistic?: string; period?: Duration; label?: string } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: metricsNamespace(stage),
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: options.statistic ?? STATISTIC[METRICS[name].kind],
    period: options.period ?? Duration.minutes(5),
    ...(options.label ? { label: options.label } : {}),
  });
}
