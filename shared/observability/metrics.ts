// The metrics every function publishes: the catalogue (names, units, what each counts, its dimensions) that the
// functions, the CDK alarms and dashboard, the README and the tests all read, the port the use cases call
// (Telemetry: no Powertools in the application layer), and its Lambda adapter on Powertools Metrics, which writes
// the embedded metric format (EMF) into the function's log: CloudWatch extracts the metrics, no API call is made.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';
import { KNOWN_CATEGORIES } from '../domain/new-notification.js';
import type { Classification, ErrorScope, FailureReason, Priority } from '../domain/notification.js';
import { type Log, SERVICE_NAME } from './logger.js';

/** One namespace per stage: a dev and a prod stack in one account must not add up each other's sends. */
export const METRICS_NAMESPACE = 'WaChapNotifications';
export const metricsNamespace = (stage: string): string => `${METRICS_NAMESPACE}/${stage}`;

/** The only dimensions a metric may carry besides `service`: each value of each one is a metric billed monthly. */
export type MetricDimension = 'category' | 'priority';
export type MetricDimensions = { category?: string; priority?: Priority };

/** Counts add up (Sum), timings spread (percentiles), levels are read as they are (Maximum). */
type Kind = 'count' | 'timing' | 'level';

export interface MetricSpec {
  kind: Kind;
  unit: (typeof MetricUnit)[keyof typeof MetricUnit];
  /** What one data point means, for the README's table and the dashboard. */
  counts: string;
  /** Who publishes it. */
  from: string;
  dimensions: readonly MetricDimension[];
}

type CountSpec = MetricSpec & { kind: 'count' };
const BY_CLASS = ['category', 'priority'] as const;
const count = (counts: string, from: string, dimensions: readonly MetricDimension[] = []): CountSpec => ({
  kind: 'count',
  unit: MetricUnit.Count,
  counts,
  from,
  dimensions,
});

// Every classification and scope a failure verdict can carry, and the reasons a notification ends in
// permanent_failure with: the metric names below are made of them, and a new value fails the checks here.
export const CLASSIFICATIONS = ['temporary', 'permanent'] as const satisfies readonly Classification[];
export const SCOPES = ['recipient', 'provider', 'transient'] as const satisfies readonly ErrorScope[];
export const PERMANENT_FAILURE_REASONS = [
  'permanent_error',
  'max_retries_exceeded',
] as const satisfies readonly FailureReason[];
const everyClassification: Exclude<Classification, (typeof CLASSIFICATIONS)[number]> extends never ? true : false =
  true;
const everyScope: Exclude<ErrorScope, (typeof SCOPES)[number]> extends never ? true : false = true;
void everyClassification;
void everyScope;

const pascal = (words: string): string =>
  words
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');

type Pascal<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Capitalize<Head>}${Pascal<Tail>}`
  : Capitalize<S>;

/** A failed attempt's metric: `SendFailedTemporaryTransient`, `SendFailedPermanentProvider`… */
export type FailedMetric = `SendFailed${Pascal<Classification>}${Pascal<ErrorScope>}`;
export const failedMetric = (classification: Classification, scope: ErrorScope): FailedMetric =>
  `SendFailed${pascal(classification)}${pascal(scope)}` as FailedMetric;

type PermanentReason = (typeof PERMANENT_FAILURE_REASONS)[number];
/** A notification ending in permanent_failure, by its reason: `PermanentFailurePermanentError`… */
export type PermanentFailureMetric = `PermanentFailure${Pascal<PermanentReason>}`;
export const permanentFailureMetric = (reason: PermanentReason): PermanentFailureMetric =>
  `PermanentFailure${pascal(reason)}` as PermanentFailureMetric;

const WHOSE_FAULT: Record<ErrorScope, string> = {
  recipient: "the recipient's fault (the number)",
  provider: "the provider's (our account or instance)",
  transient: "nobody's (a blip)",
};

const FAILED_METRICS = Object.fromEntries(
  CLASSIFICATIONS.flatMap((classification) =>
    SCOPES.map((scope) => [
      failedMetric(classification, scope),
      count(`failed WaChap attempts classified ${classification}, ${WHOSE_FAULT[scope]}`, 'sender'),
    ]),
  ),
) as Record<FailedMetric, CountSpec>;

const PERMANENT_FAILURE_METRICS = Object.fromEntries(
  PERMANENT_FAILURE_REASONS.map((reason) => [
    permanentFailureMetric(reason),
    count(`notifications ending in permanent_failure, reason ${reason}`, 'sender, retry-sweep'),
  ]),
) as Record<PermanentFailureMetric, CountSpec>;

export const METRICS = {
  NotificationsAccepted: count(
    'notifications accepted (a repeated idempotent request is not counted)',
    'ingest',
    BY_CLASS,
  ),
  NotificationsSent: count('notifications WaChap accepted', 'sender', BY_CLASS),
  SendFailures: count('failed WaChap attempts, whatever their class (the failure rate)', 'sender', BY_CLASS),
  ...FAILED_METRICS,
  ...PERMANENT_FAILURE_METRICS,
  NotificationsHeld: count('notifications held for the provider (a provider failure, or the open circuit)', 'sender'),
  NotificationsExpired: count('notifications whose validity ran out unsent', 'sender, retry-sweep', BY_CLASS),
  NotificationsRedriven: count(
    'notifications re-driven (an operator, or a sweep with a raised limit)',
    'operator-actions, retry-sweep',
  ),
  NotificationsCancelled: count('notifications cancelled by an operator', 'operator-actions'),
  ChannelFallbacks: count('notifications moved from WhatsApp to email (the fallback channel)', 'sender', BY_CLASS),
  WaChapCallLatency: {
    kind: 'timing',
    unit: MetricUnit.Milliseconds,
    counts: 'one WaChap send call, from request to answer (or timeout)',
    from: 'sender',
    dimensions: [],
  },
  CreationToSendLatency: {
    kind: 'timing',
    unit: MetricUnit.Milliseconds,
    counts: 'a sent notification, from its creation to WaChap accepting it (a scheduled one includes its wait)',
    from: 'sender',
    dimensions: ['priority'],
  },
  SweepFound: count('due notifications a sweep found (dry runs aside)', 'retry-sweep'),
  SweepQueued: count('notifications a sweep put on the send queues', 'retry-sweep'),
  DlqDepth: {
    kind: 'level',
    unit: MetricUnit.Count,
    counts: 'messages in the send DLQ, each hour',
    from: 'health-check',
    dimensions: [],
  },
  DueBacklog: {
    kind: 'level',
    unit: MetricUnit.Count,
    counts: 'notifications due and not attempted yet (capped at 1,000), each hour',
    from: 'health-check',
    dimensions: [],
  },
  OldestDueAge: {
    kind: 'level',
    unit: MetricUnit.Seconds,
    counts: 'how long the oldest due notification has waited (0 when none), each hour',
    from: 'health-check',
    dimensions: [],
  },
  ProviderCircuitOpen: {
    kind: 'level',
    unit: MetricUnit.NoUnit,
    counts: '1 while the provider circuit is open, 0 while closed, each minute',
    from: 'provider-probe',
    dimensions: [],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];
type NamesOf<K extends Kind> = { [N in MetricName]: (typeof METRICS)[N]['kind'] extends K ? N : never }[MetricName];
export type CountMetric = NamesOf<'count'>;
export type TimingMetric = NamesOf<'timing'>;
export type LevelMetric = NamesOf<'level'>;

/**
 * Categories are an open set (any slug a caller sends): as a dimension each new one would be a new metric billed
 * every month, and a caller inventing slugs would inflate the bill without bound. The original's categories keep
 * their name; any other counts as `other`.
 */
export const OTHER_CATEGORY = 'other';
export const metricCategory = (category: string): string =>
  KNOWN_CATEGORIES.includes(category) ? category : OTHER_CATEGORY;

/** What the use cases call; the Lambda adapter publishes, the tests may collect, and `silentTelemetry` drops. */
export interface Telemetry {
  count(name: CountMetric, n?: number, dimensions?: MetricDimensions): void;
  timing(name: TimingMetric, ms: number, dimensions?: MetricDimensions): void;
  level(name: LevelMetric, value: number): void;
}

export const silentTelemetry: Telemetry = { count() {}, timing() {}, level() {} };

interface Group {
  /** The dimension values this group's EMF line carries (only those its metrics declare). */
  dimensions: Partial<Record<MetricDimension, string>>;
  values: Map<MetricName, number[]>;
}

// EMF takes at most 100 values of one metric in one line (Powertools publishes early past it).
const MAX_VALUES_PER_LINE = 100;

/**
 * Telemetry as EMF through Powertools Metrics. One EMF line carries one value per dimension, so the data points
 * are kept per combination of dimension values and written one line per combination when the invocation ends
 * (`metricsMiddleware`). A line declares the dimension sets [service], [service, category], [service, priority]
 * (those its metrics declare): the total and each split, never their cross product. Counts are summed before
 * writing (a sweep of 500 expiries is one value, not 500).
 * In Lambda one instance serves one invocation at a time; locally several invocations of a function share it, and
 * each flush writes whatever is there: every point is written once, whichever invocation writes it.
 */
export class EmfTelemetry implements Telemetry {
  private groups = new Map<string, Group>();

  constructor(readonly metrics: Metrics) {}

  count(name: CountMetric, n = 1, dimensions: MetricDimensions = {}): void {
    const values = this.valuesOf(name, dimensions);
    if (values.length === 0) values.push(n);
    else values[0]! += n;
  }

  timing(name: TimingMetric, ms: number, dimensions: MetricDimensions = {}): void {
    this.valuesOf(name, dimensions).push(Math.max(0, Math.round(ms)));
  }

  level(name: LevelMetric, value: number): void {
    this.valuesOf(name, {}).push(value);
  }

  /**
   * Writes every dimensioned group as a line of its own, and stores the service-only group in the instance for
   * logMetrics to write (the middleware's own flush, right after this).
   */
  flush(): void {
    const groups = [...this.groups.values()];
    this.groups = new Map();
    const plain = groups.filter((group) => Object.keys(group.dimensions).length === 0);
    for (const group of groups) {
      if (plain.includes(group)) continue;
      for (const chunk of chunks(group.values)) {
        this.metrics.addDimensions({});
        for (const [name, value] of Object.entries(group.dimensions)) this.metrics.addDimensions({ [name]: value });
        for (const [name, values] of chunk) for (const value of values) this.add(name, value);
        this.metrics.publishStoredMetrics();
      }
    }
    for (const group of plain)
      for (const [name, values] of group.values) for (const value of values) this.add(name, value);
  }

  private add(name: MetricName, value: number): void {
    this.metrics.addMetric(name, METRICS[name].unit, value);
  }

  private valuesOf(name: MetricName, given: MetricDimensions): number[] {
    const dimensions: Group['dimensions'] = {};
    for (const dimension of METRICS[name].dimensions) {
      const value = given[dimension];
      if (value !== undefined) dimensions[dimension] = dimension === 'category' ? metricCategory(value) : value;
    }
    const key = JSON.stringify(dimensions);
    let group = this.groups.get(key);
    if (!group) {
      group = { dimensions, values: new Map() };
      this.groups.set(key, group);
    }
    let values = group.values.get(name);
    if (!values) {
      values = [];
      group.values.set(name, values);
    }
    return values;
  }
}

/** The group's values in slices of at most MAX_VALUES_PER_LINE per metric, one EMF line each. */
function* chunks(values: Map<MetricName, number[]>): Generator<[MetricName, number[]][]> {
  const longest = Math.max(0, ...[...values.values()].map((v) => v.length));
  for (let start = 0; start < longest; start += MAX_VALUES_PER_LINE) {
    yield [...values].flatMap(([name, v]) => {
      const slice = v.slice(start, start + MAX_VALUES_PER_LINE);
      return slice.length > 0 ? [[name, slice] as [MetricName, number[]]] : [];
    });
  }
}

// Powertools warns on every flush without a metric (a refused request, a duplicate delivery): a log line per such
// invocation, paid as log ingestion and read by nobody. Its other warnings (a bad dimension) go to the log.
const EMPTY_FLUSH = /^No application metrics to publish/;
const quietOnEmpty = (log: Log): Log => ({
  debug: (message, ...extra) => log.debug(message, ...extra),
  info: (message, ...extra) => log.info(message, ...extra),
  warn: (message, ...extra) => {
    if (!EMPTY_FLUSH.test(message)) log.warn(message, ...extra);
  },
  error: (message, ...extra) => log.error(message, ...extra),
});

/**
 * One function's telemetry, created once at module scope. POWERTOOLS_METRICS_DISABLED=true turns the writing off
 * (the tests and the local stack, unless asked); no cold-start metric (the Lambda Init Duration says it).
 */
export function createTelemetry(stage: string, log: Log): EmfTelemetry {
  return new EmfTelemetry(
    new Metrics({
      namespace: metricsNamespace(stage),
      serviceName: SERVICE_NAME,
      logger: quietOnEmpty(log),
    }),
  );
}

/**
 * The middy middleware that writes an invocation's metrics when it ends, failed or not: Powertools' logMetrics
 * (throwOnEmptyMetrics off: most invocations of some functions publish nothing), after the adapter's own lines.
 * A telemetry that is not the EMF adapter (a test's, or none) needs nothing written.
 */
export function metricsMiddleware(telemetry: Telemetry | undefined): MiddlewareObj {
  if (!(telemetry instanceof EmfTelemetry)) return { before: () => undefined };
  const powertools = logMetrics(telemetry.metrics, { throwOnEmptyMetrics: false, captureColdStartMetric: false });
  const flushed =
    (hook: 'after' | 'onError'): NonNullable<MiddlewareObj[typeof hook]> =>
    (request) => {
      telemetry.flush();
      return powertools[hook]?.(request);
    };
  return { before: powertools.before, after: flushed('after'), onError: flushed('onError') };
}
