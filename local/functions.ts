// The functions of the catalog, loaded exactly as Lambda loads them: the handler modules read their
// configuration from process.env at import, so the environment is set before the first import.
import type { Context } from 'aws-lambda';
import { FUNCTION_NAMES, type FunctionName } from '../functions/catalog.js';
import { callingAs } from '../shared/observability/aws-calls.js';

export { FUNCTION_NAMES, type FunctionName, isFunctionName } from '../functions/catalog.js';
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
export type FunctionRegistry = Record<FunctionName, LambdaHandler>;

// All of them share one process here: each invocation's AWS calls are attributed to its function,
// whose role has to grant them.
const attributed =
  (name: FunctionName, handler: unknown): LambdaHandler =>
  (event, context) =>
    callingAs(name, () => (handler as LambdaHandler)(event, context));

// One loader per function of the catalog (a function added there without one fails the typecheck here). The
// imports stay literal so that tsx and vitest can resolve them.
const HANDLER_MODULES: Record<FunctionName, () => Promise<{ handler: unknown }>> = {
  ingest: () => import('../functions/ingest/handler.js'),
  'operator-read': () => import('../functions/operator-read/handler.js'),
  'operator-actions': () => import('../functions/operator-actions/handler.js'),
  'api-docs': () => import('../functions/api-docs/handler.js'),
  sender: () => import('../functions/sender/handler.js'),
  'retry-sweep': () => import('../functions/retry-sweep/handler.js'),
  'health-check': () => import('../functions/health-check/handler.js'),
  'provider-probe': () => import('../functions/provider-probe/handler.js'),
  'callback-dispatcher': () => import('../functions/callback-dispatcher/handler.js'),
};

export async function loadFunctions(env: Record<string, string>): Promise<FunctionRegistry> {
  Object.assign(process.env, env);
  const modules = await Promise.all(
    FUNCTION_NAMES.map(async (name) => [name, attributed(name, (await HANDLER_MODULES[name]()).handler)] as const),
  );
  return Object.fromEntries(modules) as FunctionRegistry;
}
