// The EventBridge schedules, shared by the CDK stack and the local stack.
export const RETRY_SWEEP_SCHEDULE = 'rate(30 minutes)';
export const HEALTH_CHECK_SCHEDULE = 'rate(1 hour)';
/**
 * While the provider circuit is open, each tick keeps checking WaChap every PROVIDER_PROBE_INTERVAL_SECONDS within
 * its own invocation until the next tick (PROVIDER_PROBE_PERIOD_SECONDS later): recovery is seen within an interval.
 */
export const PROVIDER_PROBE_SCHEDULE = 'rate(1 minute)';
/** That schedule's period, in seconds. */
export const PROVIDER_PROBE_PERIOD_SECONDS = 60;
