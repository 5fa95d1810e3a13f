// The health check's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type HealthCheckDependencies,
  type HealthReport,
  runHealthCheck,
} from '../../shared/application/health-check.js';
import {
  healthPayloadSchema,
  type InvokeRejection,
  parseInvokePayload,
} from '../../shared/application/invoke-payload.js';

export function createHealthCheckHandler(logger: Logger, deps: HealthCheckDependencies) {
  return middy<unknown, HealthReport | InvokeRejection, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const payload = parseInvokePayload(healthPayloadSchema, event);
      if (!payload.ok) {
        logger.warn('invalid invoke payload', { details: payload.rejection.details });
        return payload.rejection;
      }
      return runHealthCheck(payload.value.dryRun, deps);
    });
}
