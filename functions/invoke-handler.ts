// The shape shared by the functions that operators and schedules invoke directly: Powertools
// context and metrics, the payload parsed by its schema, a 400-style answer (never a function error)
// when it does not fit, then the use case.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { type InvokeRejection, isScheduledEvent, parseInvokePayload } from '../shared/application/invoke-payload.js';
import { maskPhonesInText } from '../shared/domain/phone.js';
import { metricsMiddleware, type Telemetry } from '../shared/observability/metrics.js';

export function createInvokeHandler<S extends z.ZodType, R>(
  logger: Logger,
  schema: S,
  /** source.scheduled: the invocation is the schedule's (EventBridge's event), not an operator's payload. */
  run: (payload: z.output<S>, context: Context, source: { scheduled: boolean }) => Promise<R>,
  metrics?: Telemetry,
) {
  return middy<unknown, R | InvokeRejection, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware(metrics))
    .handler(async (event, context) => {
      const payload = parseInvokePayload(schema, event);
      if (!payload.ok) {
        // Field names come from the caller: a phone number used as a key must not reach the logs.
        logger.warn('invalid invoke payload', { details: maskPhonesInText(payload.rejection.message) });
        return payload.rejection;
      }
      return run(payload.value, context, { scheduled: isScheduledEvent(event) });
    });
}
