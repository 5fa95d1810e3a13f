// The EventBridge schedules, shared by the CDK stack and the local stack.
export const RETRY_SWEEP_SCHEDULE = 'rate(30 minutes)';
export const HEALTH_CHECK_SCHEDULE = 'rate(1 hour)';
/** While the provider circuit is open, recovery is detected within two minutes. */
export const PROVIDER_PROBE_SCHEDULE = 'rate(1 minute)';
