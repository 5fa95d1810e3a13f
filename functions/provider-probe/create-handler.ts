// The provider probe's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  circuitPayloadSchema,
  type InvokeRejection,
  parseInvokePayload,
} from '../../shared/application/invoke-payload.js';
import {
  type CircuitReport,
  type ProbeDependencies,
  runCircuitCommand,
} from '../../shared/application/provider-circuit.js';
import { maskPhonesInText } from '../../shared/domain/phone.js';

export function createProviderProbeHandler(logger: Logger, deps: ProbeDependencies) {
  return middy<unknown, CircuitReport | InvokeRejection, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const payload = parseInvokePayload(circuitPayloadSchema, event);
      if (!payload.ok) {
        // Field names come from the caller: a phone number used as a key must not reach the logs.
        logger.warn('invalid invoke payload', { details: maskPhonesInText(payload.rejection.message) });
        return payload.rejection;
      }
      const { action, reason } = payload.value;
      return runCircuitCommand(action === 'open' ? { action, reason } : { action }, deps);
    });
}
