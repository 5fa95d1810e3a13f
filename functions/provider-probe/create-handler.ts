// The provider probe's Lambda entry point, built from its dependencies (handler.ts wires them from the environment):
// the schedule's ticks and the operators' invocations (npm run circuit), and the same commands over HTTP for the
// operations page (GET and POST /v1/provider/circuit, IAM authorization).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { InvalidInputError } from '../../shared/application/errors.js';
import { circuitPayloadSchema } from '../../shared/application/invoke-payload.js';
import {
  type CircuitCommand,
  type CircuitReport,
  type InstanceProbes,
  type ProbeDependencies,
  runCircuitCommand,
  runInstancesCommand,
  UnknownInstanceError,
} from '../../shared/application/provider-circuit.js';
import { jsonResponse } from '../../shared/http/errors.js';
import { httpHandler, routedHandler } from '../../shared/http/http-handler.js';
import { circuitCommandBody, circuitStatusQuery } from '../../shared/http/operator-requests.js';
import type { RouteKeyOf } from '../catalog.js';
import { createInvokeHandler } from '../invoke-handler.js';

/**
 * API Gateway gives up on an integration after 29 s, whatever the function's own timeout (60 s): a close's release
 * started from the API must stop (and leave the rest to the next tick) before that, or the operator sees a 504 for
 * a close that happened.
 */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

/** An API Gateway proxy event, as opposed to an invoke payload (`{ action }`) or a scheduled event. */
const isApiEvent = (event: unknown): event is APIGatewayProxyEvent =>
  typeof event === 'object' && event !== null && 'httpMethod' in event && 'requestContext' in event;

export const createProviderProbeHandler = (logger: Logger, deps: ProbeDependencies, instances?: InstanceProbes) => {
  const invoked = createInvokeHandler(
    logger,
    circuitPayloadSchema,
    ({ action, reason, instance }, context, { scheduled }) => {
      // The schedule's tick also watches the drain after a probe's close; an operator's returns at once.
      const command: CircuitCommand =
        action === 'open' ? { action, reason } : action === 'tick' && scheduled ? { action, scheduled } : { action };
      // A long release stops before the function's time runs out; the next tick resumes it.
      const remainingMs = () => context.getRemainingTimeInMillis();
      return instances
        ? runInstancesCommand({ ...command, instance }, deps, instances, remainingMs)
        : runCircuitCommand(command, deps, remainingMs);
    },
    deps.metrics,
  );
  // An operator's command over HTTP: on the instance it names (several instances), else the default one.
  const command = async (
    circuitCommand: CircuitCommand,
    instance: string | undefined,
    remainingMs: () => number,
  ): Promise<CircuitReport> => {
    if (!instances) {
      if (instance !== undefined)
        throw new InvalidInputError([{ path: 'instance', message: 'no instances are configured' }]);
      return runCircuitCommand(circuitCommand, deps, remainingMs);
    }
    try {
      return await runInstancesCommand({ ...circuitCommand, instance }, deps, instances, remainingMs);
    } catch (error) {
      if (error instanceof UnknownInstanceError)
        throw new InvalidInputError([{ path: 'instance', message: error.message }]);
      throw error;
    }
  };
  const routed = routedHandler<RouteKeyOf<'provider-probe'>>({
    'GET /v1/provider/circuit': httpHandler({ logger, body: undefined, query: circuitStatusQuery }, async ({ query }) =>
      jsonResponse(200, await command({ action: 'status' }, query.instance, () => Number.POSITIVE_INFINITY)),
    ),
    'POST /v1/provider/circuit': httpHandler(
      { logger, body: circuitCommandBody },
      async ({ body, callerArn, context }) => {
        const answerBy = Date.now() + API_GATEWAY_TIMEOUT_MS;
        logger.warn('provider circuit command from the operator API', {
          action: body.action,
          by: callerArn,
          ...(body.instance ? { instance: body.instance } : {}),
        });
        const report = await command(
          body.action === 'open' ? { action: 'open', reason: body.reason } : { action: body.action },
          body.instance,
          () => Math.min(context.getRemainingTimeInMillis(), answerBy - Date.now()),
        );
        return jsonResponse(200, report);
      },
    ),
  });
  return (event: unknown, context: Context) => (isApiEvent(event) ? routed(event, context) : invoked(event, context));
};
