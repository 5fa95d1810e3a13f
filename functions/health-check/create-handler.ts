// The health check's Lambda entry point, built from its dependencies (handler.ts wires them from the environment).
import type { Logger } from '@aws-lambda-powertools/logger';
import { type HealthCheckDependencies, runHealthCheck } from '../../shared/application/health-check.js';
import { healthPayloadSchema } from '../../shared/application/invoke-payload.js';
import { createInvokeHandler } from '../invoke-handler.js';

export const createHealthCheckHandler = (logger: Logger, deps: HealthCheckDependencies) =>
  createInvokeHandler(logger, healthPayloadSchema, ({ dryRun }) => runHealthCheck(dryRun, deps), deps.metrics);
