import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  closeCircuit,
  DRAIN_WATCH_MS,
  drainingAfterProbe,
  isCircuitOpen,
  nextWatchCheck,
  type OpenCause,
  openCircuit,
  type ProviderState,
  probeDue,
  recordProbe,
  releaseDone,
  releaseProgressed,
  watchesCircuit,
} from '../../shared/domain/provider-circuit.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const INTERVAL = MINUTE;
const HOUR_LATER = 60 * MINUTE;

const T0 = new Date('2025-11-27T12:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const iso = (ms: number): string => at(ms).toISOString();

const TOKEN_EXPIRED: OpenCause = {
  reason: 'HTTP 401: Unauthorized: token expired',
  errorType: 'http_error',
  recommendation: 'Renew the WaChap access token.',
};
const DISCONNECTED: OpenCause = {
  reason: 'Instance disconnected',
  errorType: 'application_error',
  recommendation: 'Scan the QR code again.',
};
const OPERATOR: OpenCause = {
  reason: 'opened by an operator: maintenance',
  errorType: 'operator',
  recommendation: 'Close the circuit when WaChap is usable again.',
  forced: true,
};

/** Opens a circuit that does not exist yet, or fails the test. */
function opened(cause: OpenCause = TOKEN_EXPIRED, when = 0, state?: ProviderState): ProviderState {
  const next = openCircuit(state, at(when), cause);
  if (!next) throw new Error('expected the circuit to open');
  return next;
}

describe('isCircuitOpen', () => {
  it('is open only while the provider is unavailable', () => {
    expect(isCircuitOpen(undefined)).toBe(false);
    expect(isCircuitOpen(opened())).toBe(true);
    expect(isCircuitOpen(closeCircuit(opened(), at(MINUTE)))).toBe(false);
  });
});

describe('openCircuit', () => {
  it('opens a circuit that was never written, at version 1, with the cause', () => {
    expect(openCircuit(undefined, at(0), TOKEN_EXPIRED)).toEqual({
      status: 'unavailable',
      since: iso(0),
      reason: TOKEN_EXPIRED.reason,
      errorType: 'http_error',
      recommendation: TOKEN_EXPIRED.recommendation,
      version: 1,
    });
  });

  it('opens a closed circuit with the next version and a fresh since', () => {
    const closed = closeCircuit(opened(), at(MINUTE));
    const reopened = opened(DISCONNECTED, 10 * MINUTE, closed);
    expect(reopened).toMatchObject({ status: 'unavailable', since: iso(10 * MINUTE), reason: 'Instance disconnected' });
    expect(reopened.version).toBe(closed.version + 1);
    expect(reopened.forced).toBeUndefined();
  });

  it('keeps the last probe time of the circuit it reopens: probes stay at most one per interval', () => {
    const closedByProbe = closeCircuit(opened(), at(5 * MINUTE), 'healthy');
    const reopened = opened(TOKEN_EXPIRED, 5 * MINUTE + 10 * SECOND, closedByProbe);
    expect(reopened.lastProbeAt).toBe(iso(5 * MINUTE));
    expect(probeDue(reopened, at(5 * MINUTE + 30 * SECOND), INTERVAL)).toBe(false);
    expect(probeDue(reopened, at(6 * MINUTE), INTERVAL)).toBe(true);
  });

  it('leaves an open circuit as it is (undefined: nothing to write), whatever the new cause', () => {
    const open = opened();
    expect(openCircuit(open, at(MINUTE), TOKEN_EXPIRED)).toBeUndefined();
    expect(openCircuit(open, at(MINUTE), DISCONNECTED)).toBeUndefined();
  });

  it('an operator forces an open circuit: same since, forced, next version, probe time kept', () => {
    const probed = recordProbe(opened(), at(MINUTE), 'http_error 401: token expired');
    const forced = openCircuit(probed, at(2 * MINUTE), OPERATOR);
    expect(forced).toMatchObject({
      status: 'unavailable',
      since: iso(0),
      reason: OPERATOR.reason,
      errorType: 'operator',
      forced: true,
      lastProbeAt: iso(MINUTE),
      version: probed.version + 1,
    });
  });

  it('an operator opens a closed circuit, forced', () => {
    const forced = opened(OPERATOR, 0);
    expect(forced).toMatchObject({ status: 'unavailable', forced: true, version: 1, since: iso(0) });
  });

  it('a forced circuit is not reopened over, by a sender or by another operator', () => {
    const forced = opened(OPERATOR);
    expect(openCircuit(forced, at(MINUTE), TOKEN_EXPIRED)).toBeUndefined();
    expect(openCircuit(forced, at(MINUTE), { ...OPERATOR, reason: 'opened by an operator: again' })).toBeUndefined();
  });
});

describe('closeCircuit', () => {
  it('closes with the next version, a fresh since, and nothing of the outage left', () => {
    const open = recordProbe(opened(), at(MINUTE), 'http_error 401: token expired');
    const closed = closeCircuit(open, at(3 * MINUTE));
    expect(closed).toEqual({
      status: 'healthy',
      since: iso(3 * MINUTE),
      releasePending: true,
      release: { pass: 'sweep' },
      version: open.version + 1,
    });
  });

  it('closed by a probe, it says when and what the probe found', () => {
    const closed = closeCircuit(opened(), at(2 * MINUTE), 'healthy');
    expect(closed).toEqual({
      status: 'healthy',
      since: iso(2 * MINUTE),
      lastProbeAt: iso(2 * MINUTE),
      lastProbeResult: 'healthy',
      releasePending: true,
      release: { pass: 'sweep' },
      version: 2,
    });
  });

  it('an operator closes a forced circuit, and the next failure opens it unforced', () => {
    const closed = closeCircuit(opened(OPERATOR), at(MINUTE));
    expect(closed.forced).toBeUndefined();
    expect(opened(TOKEN_EXPIRED, 2 * MINUTE, closed).forced).toBeUndefined();
  });

  it('closing a circuit that was never written starts at version 1', () => {
    expect(closeCircuit(undefined, at(0)).version).toBe(1);
  });
});

describe('releaseDone', () => {
  it('clears the pending release, keeps the rest, and bumps the version', () => {
    const closed = closeCircuit(opened(), at(2 * MINUTE), 'healthy');
    const done = releaseDone(closed);
    const { releasePending: _pending, release: _release, ...rest } = closed;
    expect(done).toEqual({ ...rest, version: closed.version + 1 });
    expect(isCircuitOpen(done)).toBe(false);
  });

  it('a reopened circuit carries no pending release', () => {
    const reopened = opened(TOKEN_EXPIRED, 3 * MINUTE, closeCircuit(opened(), at(2 * MINUTE)));
    expect(reopened.releasePending).toBeUndefined();
  });
});

describe('recordProbe', () => {
  it('records the time and result of a probe, keeps the rest, and bumps the version', () => {
    const open = opened();
    const probed = recordProbe(open, at(MINUTE), 'http_error 401: token expired');
    expect(probed).toEqual({
      ...open,
      lastProbeAt: iso(MINUTE),
      lastProbeResult: 'http_error 401: token expired',
      version: open.version + 1,
    });
  });

  it('keeps a forced circuit forced and open, even when the probe found WaChap healthy', () => {
    const probed = recordProbe(opened(OPERATOR), at(MINUTE), 'healthy');
    expect(probed).toMatchObject({ status: 'unavailable', forced: true, lastProbeResult: 'healthy' });
    expect(isCircuitOpen(probed)).toBe(true);
  });
});

describe('probeDue', () => {
  it('never while closed or never opened', () => {
    expect(probeDue(undefined, at(0), INTERVAL)).toBe(false);
    expect(probeDue(closeCircuit(opened(), at(0)), at(HOUR_LATER), INTERVAL)).toBe(false);
  });

  it('at once for a circuit never probed', () => {
    expect(probeDue(opened(), at(0), INTERVAL)).toBe(true);
  });

  it('about once per interval after a probe, with a quarter of slack', () => {
    const probed = recordProbe(opened(), at(MINUTE), 'timeout: no answer');
    expect(probeDue(probed, at(MINUTE), INTERVAL)).toBe(false);
    expect(probeDue(probed, at(MINUTE + INTERVAL * 0.75 - 1), INTERVAL)).toBe(false);
    expect(probeDue(probed, at(MINUTE + INTERVAL * 0.75), INTERVAL)).toBe(true);
  });

  it('probes at every tick of a schedule as fast as the interval, even when the probe records its time late', () => {
    // A rate(1 minute) schedule, a 60 s interval, each probe recording its time 1.5 s after its tick (the WaChap
    // call), and each tick up to 2 s early or late (EventBridge's jitter): every tick must probe.
    const interval = 60_000;
    let state = opened();
    const jitter = [0, 2_000, -2_000, 1_000, -1_500, 0, 2_000, -2_000];
    for (const [tick, offset] of jitter.entries()) {
      const now = at(tick * interval + offset);
      expect(probeDue(state, now, interval)).toBe(true);
      state = recordProbe(state, new Date(now.getTime() + 1_500), 'timeout: no answer');
    }
  });

  it('never for a circuit an operator forced open: only an operator closes it', () => {
    expect(probeDue(opened(OPERATOR), at(0), INTERVAL)).toBe(false);
    expect(probeDue(opened(OPERATOR), at(HOUR_LATER), INTERVAL)).toBe(false);
  });
});

describe('watchesCircuit', () => {
  it('watches an open circuit, not a closed one nor one an operator holds open', () => {
    expect(watchesCircuit(undefined)).toBe(false);
    expect(watchesCircuit(opened())).toBe(true);
    expect(watchesCircuit(releaseDone(closeCircuit(opened(), at(0))))).toBe(false);
    expect(watchesCircuit(opened(OPERATOR))).toBe(false);
  });

  it('watches a circuit it found open and closed while its release is pending, so a reopening during the drain is probed soon', () => {
    const closed = closeCircuit(opened(), at(0), 'healthy');
    expect(watchesCircuit(closed, true)).toBe(true);
    expect(watchesCircuit(releaseProgressed(closed, { pass: 'verify' }), true)).toBe(true);
    expect(watchesCircuit(releaseDone(closed), true)).toBe(false);
    // A tick that found it closed, its release pending, goes on with the release and does not wait.
    expect(watchesCircuit(closed, false)).toBe(false);
  });

  it('watches a circuit while it drains: closed by a probe less than the window ago', () => {
    const closedAt = 5 * MINUTE;
    const done = releaseDone(closeCircuit(opened(), at(closedAt), 'healthy'));
    const draining = (ms: number, state: ProviderState = done) =>
      drainingAfterProbe(state, at(closedAt + ms).getTime(), DRAIN_WATCH_MS);
    expect(draining(0)).toBe(true);
    expect(draining(DRAIN_WATCH_MS - 1)).toBe(true);
    expect(draining(DRAIN_WATCH_MS)).toBe(false);
    expect(watchesCircuit(done, false, draining(MINUTE))).toBe(true);
    // An operator's close records no probe: the ticks after it do not wait.
    expect(draining(0, releaseDone(closeCircuit(opened(OPERATOR), at(closedAt))))).toBe(false);
    // A later probe of an open circuit is no close: reopened, it is watched as open, and closed again, anew.
    const reopened = opened(DISCONNECTED, closedAt + 20 * SECOND, done);
    expect(draining(30 * SECOND, reopened)).toBe(false);
    expect(draining(30 * SECOND, recordProbe(reopened, at(closedAt + 30 * SECOND), 'http_error 401'))).toBe(false);
    const again = closeCircuit(reopened, at(closedAt + 2 * MINUTE), 'healthy');
    expect(draining(2 * MINUTE + DRAIN_WATCH_MS - 1, again)).toBe(true);
    expect(drainingAfterProbe(undefined, at(0).getTime(), DRAIN_WATCH_MS)).toBe(false);
  });
});

describe('nextWatchCheck', () => {
  // As deployed: checks every 10 s, the next tick a minute later, a 70 s function keeping 15 s for a release.
  const WATCH = { startedAt: 0, intervalMs: 10 * SECOND, watchMs: MINUTE, marginMs: 15 * SECOND };
  const TIMEOUT = 70 * SECOND;
  const checksOf = (watch: typeof WATCH, timeoutMs: number, checkTakesMs = 0): number[] => {
    const checks: number[] = [];
    for (let now = checkTakesMs; ; ) {
      const next = nextWatchCheck({ ...watch, now, remainingMs: timeoutMs - now });
      if (next === undefined) return checks;
      checks.push(next);
      now = next + checkTakesMs;
    }
  };

  it('checks every interval until the next tick takes over: at 10, 20, 30, 40 and 50 s', () => {
    expect(checksOf(WATCH, TIMEOUT)).toEqual([10, 20, 30, 40, 50].map((s) => s * SECOND));
    // Checks that take their time do not shift the cadence.
    expect(checksOf(WATCH, TIMEOUT, 1_500)).toEqual([10, 20, 30, 40, 50].map((s) => s * SECOND));
  });

  it('skips the instants a late check missed', () => {
    expect(nextWatchCheck({ ...WATCH, now: 23 * SECOND, remainingMs: TIMEOUT - 23 * SECOND })).toBe(30 * SECOND);
  });

  it("stops while a check would still leave its release the margin of the function's time", () => {
    // A 30 s function (an operator's invocation on the local stack): one more check, at 10 s.
    expect(checksOf(WATCH, 30 * SECOND)).toEqual([10 * SECOND]);
    // Time cut short (a local stack stopping): none.
    expect(nextWatchCheck({ ...WATCH, now: 0, remainingMs: 0 })).toBeUndefined();
  });

  it('never checks again when the interval reaches the next tick, nor without an interval', () => {
    expect(checksOf({ ...WATCH, intervalMs: MINUTE }, TIMEOUT)).toEqual([]);
    expect(checksOf({ ...WATCH, intervalMs: 0 }, TIMEOUT)).toEqual([]);
    expect(checksOf({ ...WATCH, watchMs: 0 }, TIMEOUT)).toEqual([]);
  });

  it('every check leaves at least the margin, and none comes at or after the next tick', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 5_000 }),
        (intervalSeconds, timeoutSeconds, checkTakesMs) => {
          const watch = { ...WATCH, intervalMs: intervalSeconds * SECOND };
          const checks = checksOf(watch, timeoutSeconds * SECOND, checkTakesMs);
          for (const [i, check] of checks.entries()) {
            expect(check % watch.intervalMs).toBe(0);
            expect(check).toBeLessThan(watch.watchMs);
            expect(timeoutSeconds * SECOND - check).toBeGreaterThanOrEqual(watch.marginMs);
            if (i > 0) expect(check).toBeGreaterThan(checks[i - 1]!);
          }
        },
      ),
    );
  });
});

describe('versions', () => {
  const step = fc.oneof(
    fc.constant('open' as const),
    fc.constant('force' as const),
    fc.constant('close' as const),
    fc.constant('probe' as const),
    fc.constant('released' as const),
  );

  it('every state written is one version past the state it was computed from', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        let state: ProviderState | undefined;
        let clock = 0;
        for (const s of steps) {
          clock += SECOND;
          const before = state?.version ?? 0;
          let next: ProviderState | undefined;
          if (s === 'open') next = openCircuit(state, at(clock), TOKEN_EXPIRED);
          else if (s === 'force') next = openCircuit(state, at(clock), OPERATOR);
          else if (s === 'close') next = closeCircuit(state, at(clock));
          else if (s === 'probe')
            next = state && isCircuitOpen(state) ? recordProbe(state, at(clock), 'timeout') : undefined;
          else next = state?.releasePending ? releaseDone(state) : undefined;
          if (next) {
            expect(next.version).toBe(before + 1);
            state = next;
          }
        }
      }),
    );
  });
});
