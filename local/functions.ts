// The four functions, loaded exactly as Lambda loads them: the handler modules read their
// configuration from process.env at import, so the environment is set before the first import.
import type { Context } from 'aws-lambda';
import { callingAs } from '../shared/observability/aws-calls.js';

export const FUNCTION_NAMES = ['ingest', 'sender', 'retry-sweep', 'health-check', 'provider-probe'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
export type FunctionRegistry = Record<FunctionName, LambdaHandler>;

export const isFunctionName = (name: string): name is FunctionName =>
  (FUNCTION_NAMES as readonly string[]).includes(name);

// All five share one process here: each invocation's AWS calls are attributed to its function,
// whose role has to grant them.
const attributed =
  (name: FunctionName, handler: unknown): LambdaHandler =>
  (event, context) =>
    callingAs(name, () => (handler as LambdaHandler)(event, context));

export async function loadFunctions(env: Record<string, string>): Promise<FunctionRegistry> {
  Object.assign(process.env, env);
  const [ingest, sender, sweep, health, probe] = await Promise.all([
    import('../functions/ingest/handler.js'),
    import('../functions/sender/handler.js'),
    import('../functions/retry-sweep/handler.js'),
    import('../functions/health-check/handler.js'),
    import('../functions/provider-probe/handler.js'),
  ]);
  return {
    ingest: attributed('ingest', ingest.handler),
    sender: attributed('sender', sender.handler),
    'retry-sweep': attributed('retry-sweep', sweep.handler),
    'health-check': attributed('health-check', health.handler),
    'provider-probe': attributed('provider-probe', probe.handler),
  };
}
