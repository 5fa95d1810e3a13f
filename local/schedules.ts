// The EventBridge rules on a laptop: the same rate(...) expressions, overridable for demos.
import { lambdaContext } from './aws-events.js';
import type { LambdaHandler } from './functions.js';

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `rate(30 minutes)` → 1 800 000. EventBridge's grammar: singular unit for 1, plural otherwise. */
export function rateToMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) throw new Error(`not an EventBridge rate expression: "${expression}" (e.g. rate(30 minutes))`);
  const value = Number(match[1]);
  const unit = match[2]!.replace(/s$/, '');
  if (value < 1) throw new Error(`rate must be at least 1: "${expression}"`);
  if ((value === 1) !== (match[2] === unit))
    throw new Error(`use "${value} ${value === 1 ? unit : `${unit}s`}" in "${expression}"`);
  return value * UNIT_MS[unit]!;
}

export interface Schedule {
  name: string;
  expression: string;
  handler: LambdaHandler;
  /** The function's timeout, as its context reports it (the local default otherwise). */
  timeoutMs?: number;
}

/** A scheduled event as EventBridge delivers it. */
export const scheduledEvent = (name: string) => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [`arn:aws:events:us-east-1:000000000000:rule/${name}`],
  detail: {},
});

export function startSchedules(
  schedules: Schedule[],
  onError: (name: string, error: unknown) => void,
): { stop(): void } {
  // Stopped, the running invocations see their time run out: one that waits between checks (the provider probe)
  // makes no more calls to engines that are gone.
  let stopped = false;
  const now = () => (stopped ? Number.POSITIVE_INFINITY : Date.now());
  const timers = schedules.map((schedule) =>
    setInterval(() => {
      const context = lambdaContext(schedule.name, {
        now,
        ...(schedule.timeoutMs ? { timeoutMs: schedule.timeoutMs } : {}),
      });
      schedule.handler(scheduledEvent(schedule.name), context).catch((error) => onError(schedule.name, error));
    }, rateToMs(schedule.expression)),
  );
  return {
    stop: () => {
      stopped = true;
      timers.forEach(clearInterval);
    },
  };
}
