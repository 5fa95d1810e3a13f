// The four functions, loaded exactly as Lambda loads them: the handler modules read their
// configuration from process.env at import, so the environment is set before the first import.
import type { Context } from 'aws-lambda';

export const FUNCTION_NAMES = ['ingest', 'sender', 'retry-sweep', 'health-check', 'provider-probe'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
export type FunctionRegistry = Record<FunctionName, LambdaHandler>;

export const isFunctionName = (name: string): name is FunctionName =>
  (FUNCTION_NAMES as readonly string[]).includes(name);

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
    ingest: ingest.handler as unknown as LambdaHandler,
    sender: sender.handler as unknown as LambdaHandler,
    'retry-sweep': sweep.handler as unknown as LambdaHandler,
    'health-check': health.handler as unknown as LambdaHandler,
    'provider-probe': probe.handler as unknown as LambdaHandler,
  };
}
