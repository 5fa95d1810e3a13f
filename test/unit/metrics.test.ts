// The metric catalogue and its EMF adapter: what Powertools writes for the use cases' calls, and the README's table
// held to the catalogue.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLASSIFICATIONS,
  createTelemetry,
  failedMetric,
  METRIC_NAMES,
  METRICS,
  metricCategory,
  metricsMiddleware,
  PERMANENT_FAILURE_REASONS,
  permanentFailureMetric,
  SCOPES,
  silentTelemetry,
  type Telemetry,
} from '../../shared/observability/metrics.js';
import { captureOutput } from '../support/capture-output.js';
import { collectingLog } from '../support/collecting-log.js';

type Emf = Record<string, unknown> & {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
};

/** Runs one invocation through the middleware, `record` playing the use case; returns the EMF lines written. */
async function invocation(telemetry: Telemetry, record: () => void): Promise<{ lines: Emf[]; output: string }> {
  const middleware = metricsMiddleware(telemetry);
  const output = captureOutput();
  try {
    const request = { event: {}, context: {}, response: undefined, error: undefined, internal: {} };
    await middleware.before?.(request as never);
    record();
    await middleware.after?.(request as never);
  } finally {
    output.restore();
  }
  const lines = output
    .text()
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
  return { lines, output: output.text() };
}

describe('metric catalogue', () => {
  it('has a metric for every class and scope of a failed attempt, and every reason of a permanent failure', () => {
    for (const classification of CLASSIFICATIONS) {
      for (const scope of SCOPES) expect(METRIC_NAMES).toContain(failedMetric(classification, scope));
    }
    expect(failedMetric('temporary', 'transient')).toBe('SendFailedTemporaryTransient');
    for (const reason of PERMANENT_FAILURE_REASONS) expect(METRIC_NAMES).toContain(permanentFailureMetric(reason));
    expect(permanentFailureMetric('max_retries_exceeded')).toBe('PermanentFailureMaxRetriesExceeded');
  });

  it('keeps the dimensions to category and priority', () => {
    for (const name of METRIC_NAMES) {
      for (const dimension of METRICS[name].dimensions) expect(['category', 'priority']).toContain(dimension);
    }
  });

  it("bounds categories: the original's by name, any other as 'other'", () => {
    expect(metricCategory('otp')).toBe('otp');
    expect(metricCategory('colis_livre')).toBe('colis_livre');
    expect(metricCategory('alerte_douane')).toBe('other');
  });

  it("is the README's table, row for row", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const header = '| Metric | Unit | Dimensions | From | One data point is |';
    const start = readme.indexOf(header);
    expect(start).toBeGreaterThan(0);
    const rows = readme
      .slice(start)
      .split('\n')
      .slice(2)
      .filter((_line, index, lines) => !lines.slice(0, index + 1).some((l) => !l.startsWith('|')))
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    expect(rows.map(([name]) => name)).toEqual(METRIC_NAMES.map((name) => `\`${name}\``));
    for (const [name, unit, dimensions, from, counts] of rows) {
      const spec = METRICS[name!.replaceAll('`', '') as keyof typeof METRICS];
      expect([unit, dimensions, from, counts]).toEqual([
        spec.unit,
        spec.dimensions.length > 0 ? spec.dimensions.map((d) => `\`${d}\``).join(', ') : '—',
        spec.from,
        spec.counts,
      ]);
    }
  });
});

describe('EMF telemetry', () => {
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes one line per combination of dimension values, each declaring the total and each split', async () => {
    const telemetry = createTelemetry('unit', collectingLog());
    const { lines } = await invocation(telemetry, () => {
      telemetry.count('NotificationsSent', 1, { category: 'otp', priority: 'high' });
      telemetry.count('NotificationsSent', 1, { category: 'otp', priority: 'high' });
      telemetry.count('NotificationsSent', 1, { category: 'lot_ferme', priority: 'normal' });
      telemetry.timing('WaChapCallLatency', 120.4);
    });
    expect(lines).toHaveLength(3);
    const otp = lines.find((line) => line.category === 'otp')!;
    expect(otp).toMatchObject({ service: 'wachap-notifications', priority: 'high', NotificationsSent: 2 });
    expect(otp._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'WaChapNotifications/unit',
      Dimensions: [['service'], ['service', 'category'], ['service', 'priority']],
      Metrics: [{ Name: 'NotificationsSent', Unit: 'Count' }],
    });
    const plain = lines.find((line) => 'WaChapCallLatency' in line)!;
    expect(plain).toMatchObject({ WaChapCallLatency: 120 });
    expect(plain._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('sums counts before writing: 500 expiries are one value', async () => {
    const telemetry = createTelemetry('unit', collectingLog());
    const { lines } = await invocation(telemetry, () => {
      for (let i = 0; i < 500; i++) telemetry.count('NotificationsExpired', 1, { category: 'otp', priority: 'high' });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ NotificationsExpired: 500 });
  });

  it('writes more than 100 timings of one combination over several lines, none losing its dimensions', async () => {
    const telemetry = createTelemetry('unit', collectingLog());
    const { lines } = await invocation(telemetry, () => {
      for (let i = 0; i < 250; i++) telemetry.timing('CreationToSendLatency', i, { priority: 'normal' });
    });
    expect(lines.map((line) => (line.CreationToSendLatency as number[]).length)).toEqual([100, 100, 50]);
    for (const line of lines) expect(line).toMatchObject({ priority: 'normal' });
  });

  it("drops a dimension the metric does not declare, and names an unknown category 'other'", async () => {
    const telemetry = createTelemetry('unit', collectingLog());
    const { lines } = await invocation(telemetry, () => {
      telemetry.count('SweepFound', 3, { category: 'otp', priority: 'high' });
      telemetry.count('NotificationsAccepted', 1, { category: 'made_up_by_a_caller', priority: 'normal' });
    });
    const sweep = lines.find((line) => 'SweepFound' in line)!;
    expect(sweep.category).toBeUndefined();
    expect(sweep._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(lines.find((line) => 'NotificationsAccepted' in line)).toMatchObject({ category: 'other' });
  });

  it('writes nothing, and logs nothing, for an invocation without metrics', async () => {
    const log = collectingLog();
    const telemetry = createTelemetry('unit', log);
    const { lines, output } = await invocation(telemetry, () => undefined);
    expect(lines).toEqual([]);
    expect(output).toBe('');
    expect(log.messages('warn')).toEqual([]);
  });

  it('writes nothing when POWERTOOLS_METRICS_DISABLED is true', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const telemetry = createTelemetry('unit', collectingLog());
    const { lines } = await invocation(telemetry, () => telemetry.level('ProviderCircuitOpen', 1));
    expect(lines).toEqual([]);
  });

  it('leaves a telemetry that is not EMF (a test’s, or none) to itself', async () => {
    const { output } = await invocation(silentTelemetry, () => silentTelemetry.count('SweepQueued', 1));
    expect(output).toBe('');
    expect(metricsMiddleware(undefined).after).toBeUndefined();
  });
});
