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
import { maskPhonesInText } from '../../shared/domain/phone.js';

export function createHealthCheckHandler(logger: Logger, deps: HealthCheckDependencies) {
  return middy<unknown, HealthReport | InvokeRejection, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const payload = parseInvokePayload(healthPayloadSchema, event);
      if (!payload.ok) {
        // Field names come from the caller: a phone number used as a key must not reach the logs.
        logger.warn('invalid invoke payload', { details: maskPhonesInText(payload.rejection.message) });
        return payload.rejection;
      }
      return runHealthCheck(payload.value.dryRun, deps);
    });
}
