// The provider probe's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { circuitPayloadSchema } from '../../shared/application/invoke-payload.js';
import { type ProbeDependencies, runCircuitCommand } from '../../shared/application/provider-circuit.js';
import { createInvokeHandler } from '../invoke-handler.js';

export const createProviderProbeHandler = (logger: Logger, deps: ProbeDependencies) =>
  createInvokeHandler(
    logger,
    circuitPayloadSchema,
    ({ action, reason }, context) =>
      // A long release stops before the function's time runs out; the next tick resumes it.
      runCircuitCommand(action === 'open' ? { action, reason } : { action }, deps, () =>
        context.getRemainingTimeInMillis(),
      ),
    deps.metrics,
  );
