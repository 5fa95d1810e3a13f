import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  evaluateHealth,
  type HealthAlert,
  type HealthInput,
  type WindowCounts,
  windowFigures,
} from '../../shared/domain/health.js';
import { closeCircuit, openCircuit } from '../../shared/domain/provider-circuit.js';
import { alertReportTexts } from '../../shared/presentation/alert-messages.js';

const NOW = new Date('2025-11-27T12:00:00.000Z');

const QUIET: WindowCounts = { attempts: 0, sent: 0, temporaryFailures: 0, permanentFailures: 0 };

/** A window with `failures` temporary failures out of `attempts`. */
const hourWith = (attempts: number, failures: number): WindowCounts => ({
  attempts,
  sent: attempts - failures,
  temporaryFailures: failures,
  permanentFailures: 0,
});

const input = (overrides: Partial<HealthInput> = {}): HealthInput => ({
  lastHour: QUIET,
  last24Hours: QUIET,
  now: NOW,
  ...overrides,
});

const kinds = (alerts: ReturnType<typeof evaluateHealth>) => alerts.map((alert) => alert.kind);

/** What the alert says in English, with the commands for `stage` (the presentation's words for the domain's alert). */
const said = (alert: HealthAlert | undefined, stage = 'local') => alertReportTexts(alert!, { stage });

describe('DEFAULT_HEALTH_THRESHOLDS', () => {
  it("are the original's: 20 failures an hour, 5 permanent a day, 50 % over at least 10 attempts", () => {
    expect(DEFAULT_HEALTH_THRESHOLDS).toMatchObject({
      hourlyFailures: 20,
      dailyPermanentFailures: 5,
      failureRate: 0.5,
      failureRateMinAttempts: 10,
    });
  });
});

describe('windowFigures', () => {
  it('adds temporary and permanent failures and divides by the attempts', () => {
    const figures = windowFigures({ attempts: 8, sent: 5, temporaryFailures: 2, permanentFailures: 1 });

    expect(figures).toMatchObject({ failures: 3, failureRate: 3 / 8 });
  });

  it('gives a rate of 0 when nothing was attempted', () => {
    expect(windowFigures(QUIET).failureRate).toBe(0);
  });
});

describe('evaluateHealth', () => {
  it('raises nothing when all is quiet', () => {
    expect(evaluateHealth(input())).toEqual([]);
  });

  it('raises nothing for 19 failures in the hour out of 100 attempts', () => {
    const alerts = evaluateHealth(input({ lastHour: hourWith(100, 19) }));

    expect(alerts).toEqual([]);
  });

  it('raises a critical failure_burst at 20 failures in the hour', () => {
    // Prepare: 20 failures, but a rate well under 50 %.
    const lastHour = hourWith(100, 20);

    // Act
    const alerts = evaluateHealth(input({ lastHour }));

    // Assess
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'failure_burst',
      severity: 'critical',
      figures: { failures: 20, attempts: 100, threshold: 20 },
    });
    expect(said(alerts[0]).summary).toContain('20');
    expect(said(alerts[0]).recommendation.length).toBeGreaterThan(0);
  });

  it('counts permanent failures of the hour in the burst', () => {
    const lastHour = { attempts: 100, sent: 80, temporaryFailures: 15, permanentFailures: 5 };

    expect(kinds(evaluateHealth(input({ lastHour })))).toEqual(['failure_burst']);
  });

  it('raises nothing for 4 permanent failures in 24 hours', () => {
    const last24Hours = { attempts: 200, sent: 196, temporaryFailures: 0, permanentFailures: 4 };

    expect(evaluateHealth(input({ last24Hours }))).toEqual([]);
  });

  it('raises a permanent_failures warning at 5 permanent failures in 24 hours', () => {
    const last24Hours = { attempts: 200, sent: 195, temporaryFailures: 0, permanentFailures: 5 };

    const alerts = evaluateHealth(input({ last24Hours }));

    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'permanent_failures',
      severity: 'warning',
      figures: { permanentFailures: 5, threshold: 5 },
    });
    expect(said(alerts[0]).recommendation).toContain(
      '`npm run notifications -- list --status=permanent_failure --since=24h`',
    );
    expect(said(alerts[0]).recommendation).toContain(
      '`npm run notifications -- retry --status=permanent_failure --since=24h --dry-run`',
    );
  });

  it("names the alerting stage in the permanent_failures commands, so they reach that stage's stack", () => {
    const last24Hours = { attempts: 200, sent: 195, temporaryFailures: 0, permanentFailures: 5 };

    const [alert] = evaluateHealth(input({ last24Hours }));

    expect(said(alert, 'prod').recommendation).toContain(
      '`npm run notifications -- --stage prod list --status=permanent_failure --since=24h`',
    );
    expect(said(alert, 'prod').recommendation).toContain(
      '`npm run notifications -- --stage prod retry --status=permanent_failure --since=24h --dry-run`',
    );
  });

  it('pages nobody for 1 failure out of 1 attempt', () => {
    expect(evaluateHealth(input({ lastHour: hourWith(1, 1) }))).toEqual([]);
  });

  it('pages nobody for 9 failures out of 9 attempts (100 %, too few attempts to judge)', () => {
    expect(evaluateHealth(input({ lastHour: hourWith(9, 9) }))).toEqual([]);
  });

  it('raises a critical failure_rate at 5 failures out of 10 attempts (50 %)', () => {
    const alerts = evaluateHealth(input({ lastHour: hourWith(10, 5) }));

    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'failure_rate',
      severity: 'critical',
      figures: { failureRate: 0.5, failures: 5, attempts: 10 },
    });
    expect(said(alerts[0]).summary).toContain('50.0%');
  });

  it('raises nothing at 4 failures out of 10 attempts (40 %)', () => {
    expect(evaluateHealth(input({ lastHour: hourWith(10, 4) }))).toEqual([]);
  });

  it('raises both critical alerts when 30 of 40 sends failed', () => {
    expect(kinds(evaluateHealth(input({ lastHour: hourWith(40, 30) })))).toEqual(['failure_burst', 'failure_rate']);
  });

  it('follows configured thresholds', () => {
    // Prepare: stricter than the defaults.
    const thresholds = {
      ...DEFAULT_HEALTH_THRESHOLDS,
      hourlyFailures: 3,
      dailyPermanentFailures: 1,
      failureRate: 0.2,
      failureRateMinAttempts: 5,
    };
    const figures = input({
      lastHour: hourWith(5, 3),
      last24Hours: { attempts: 50, sent: 49, temporaryFailures: 0, permanentFailures: 1 },
    });

    // Act
    const alerts = evaluateHealth(figures, thresholds);

    // Assess
    expect(kinds(alerts)).toEqual(['failure_burst', 'permanent_failures', 'failure_rate']);
    // The same figures page nobody with the defaults.
    expect(evaluateHealth(figures)).toEqual([]);
  });

  describe('dead letters', () => {
    it('warns from the first message in the DLQ by default', () => {
      const alerts = evaluateHealth(input({ dlqDepth: 1 }));

      expect(alerts).toEqual([
        expect.objectContaining({ kind: 'dead_letters', severity: 'warning', figures: { dlqDepth: 1 } }),
      ]);
    });

    it('stays quiet with an empty DLQ', () => {
      expect(evaluateHealth(input({ dlqDepth: 0 }))).toEqual([]);
    });

    it('stays quiet below a configured depth', () => {
      expect(evaluateHealth(input({ dlqDepth: 2 }), { ...DEFAULT_HEALTH_THRESHOLDS, dlqDepth: 3 })).toEqual([]);
    });
  });

  describe('stale backlog', () => {
    it('warns when the oldest due notification has waited 90 minutes', () => {
      const oldestDueAt = new Date(NOW.getTime() - 90 * 60_000).toISOString();

      const alerts = evaluateHealth(input({ backlog: { count: 7, oldestDueAt } }));

      expect(alerts).toEqual([
        expect.objectContaining({
          kind: 'stale_backlog',
          severity: 'warning',
          figures: { count: 7, oldestAgeMinutes: 90 },
        }),
      ]);
    });

    it('stays quiet when the oldest due notification has waited 89 minutes', () => {
      const oldestDueAt = new Date(NOW.getTime() - 89 * 60_000).toISOString();

      expect(evaluateHealth(input({ backlog: { count: 7, oldestDueAt } }))).toEqual([]);
    });

    it('stays quiet with an empty backlog', () => {
      expect(evaluateHealth(input({ backlog: { count: 0 } }))).toEqual([]);
    });
  });
});

describe('evaluateHealth: the provider circuit', () => {
  const opened = openCircuit(undefined, new Date('2025-11-27T10:30:00.000Z'), {
    reason: 'HTTP 401: Unauthorized: token expired',
    errorType: 'http_error',
    recommendation: 'Renew the WaChap access token.',
  })!;

  it('raises a critical provider_unavailable alert while the circuit is open, even when the counters are quiet', () => {
    const alerts = evaluateHealth(input({ provider: opened }));

    expect(kinds(alerts)).toEqual(['provider_unavailable']);
    expect(alerts[0]).toMatchObject({ severity: 'critical', figures: { minutesSinceOpen: 90 } });
    expect(said(alerts[0]).summary).toContain('since 2025-11-27 10:30 UTC (1 h 30 min)');
    expect(said(alerts[0]).summary).toContain('token expired');
    expect(said(alerts[0]).recommendation).toContain('Renew the WaChap access token.');
    expect(said(alerts[0]).recommendation).toContain('`npm run circuit -- --close`');
  });

  it("prints the close command for the alerting stage: it closes that stage's circuit as printed", () => {
    const alerts = evaluateHealth(input({ provider: opened }));

    expect(said(alerts[0], 'prod').recommendation).toContain('`npm run circuit -- --stage prod --close`');
  });

  it('says when an operator opened it', () => {
    const forced = openCircuit(undefined, NOW, {
      reason: 'opened by an operator: maintenance',
      errorType: 'operator',
      recommendation: 'Close it when done.',
      forced: true,
    })!;

    expect(said(evaluateHealth(input({ provider: forced }))[0]).summary).toContain('(opened by an operator)');
  });

  it('raises nothing for a closed circuit', () => {
    expect(evaluateHealth(input({ provider: closeCircuit(opened, NOW) }))).toEqual([]);
  });
});
