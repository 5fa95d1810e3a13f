// The provider circuit: when WaChap fails for provider-wide reasons (expired token or subscription,
// disconnected or inactive instance, missing credentials), every sender stops calling it and every
// notification waits, without burning an attempt, until a probe finds it healthy again.

export interface ProviderState {
  /** healthy: the circuit is closed (sends go out); unavailable: it is open (notifications are held). */
  status: 'healthy' | 'unavailable';
  since: string;
  /** What broke, in the provider's words (e.g. "HTTP 401: Unauthorized: token expired"). */
  reason?: string;
  errorType?: string;
  /** What an admin should do about it. */
  recommendation?: string;
  /** Set by an operator: a probe does not close a circuit an operator opened. */
  forced?: boolean;
  lastProbeAt?: string;
  lastProbeResult?: string;
  /** Closed, but some held notifications are not released yet: the next probe tick finishes the job. */
  releasePending?: boolean;
  version: number;
}

export const WACHAP_PROVIDER = 'wachap';

export const isCircuitOpen = (state: ProviderState | undefined): boolean => state?.status === 'unavailable';

export interface OpenCause {
  reason: string;
  errorType: string;
  recommendation: string;
  forced?: boolean;
}

/** The state after a provider-wide failure, or undefined when the circuit is already open for it. */
export function openCircuit(state: ProviderState | undefined, at: Date, cause: OpenCause): ProviderState | undefined {
  if (isCircuitOpen(state) && !(cause.forced && !state?.forced)) return undefined;
  return {
    status: 'unavailable',
    since: isCircuitOpen(state) ? state!.since : at.toISOString(),
    reason: cause.reason,
    errorType: cause.errorType,
    recommendation: cause.recommendation,
    ...(cause.forced ? { forced: true } : {}),
    ...(state?.lastProbeAt ? { lastProbeAt: state.lastProbeAt } : {}),
    version: (state?.version ?? 0) + 1,
  };
}

export function closeCircuit(state: ProviderState | undefined, at: Date, probeResult?: string): ProviderState {
  return {
    status: 'healthy',
    since: at.toISOString(),
    releasePending: true,
    ...(probeResult ? { lastProbeAt: at.toISOString(), lastProbeResult: probeResult } : {}),
    version: (state?.version ?? 0) + 1,
  };
}

export function recordProbe(state: ProviderState, at: Date, result: string): ProviderState {
  return { ...state, lastProbeAt: at.toISOString(), lastProbeResult: result, version: state.version + 1 };
}

/** Probes run at a modest pace: at most one per interval, whatever the number of waiting notifications. */
export function probeDue(state: ProviderState | undefined, at: Date, intervalMs: number): boolean {
  if (!isCircuitOpen(state) || state?.forced) return false;
  return !state?.lastProbeAt || at.getTime() - Date.parse(state.lastProbeAt) >= intervalMs;
}

/** The held backlog is all released. */
export function releaseDone(state: ProviderState): ProviderState {
  const { releasePending: _pending, ...rest } = state;
  return { ...rest, version: state.version + 1 };
}
