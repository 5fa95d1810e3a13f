// The operators' actions, built from their dependencies (handler.ts wires them from the environment): cancel one
// notification, re-drive one, re-drive every match of a filter. Who acted is the caller API Gateway verified.
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  cancelNotification,
  type OperatorDependencies,
  redriveMatching,
  redriveNotification,
} from '../../shared/application/operator.js';
import { jsonResponse } from '../../shared/http/errors.js';
import { httpHandler, routedHandler } from '../../shared/http/http-handler.js';
import { notificationIdPath, operatorActionBody, redriveMatchingBody } from '../../shared/http/operator-requests.js';
import type { RouteKeyOf } from '../catalog.js';

const by = (callerArn: string | undefined) => (callerArn ? { by: callerArn } : {});

export const createOperatorActionsHandler = (logger: Logger, deps: OperatorDependencies) =>
  routedHandler<RouteKeyOf<'operator-actions'>>({
    'POST /v1/notifications/{id}/cancel': httpHandler(
      { logger, metrics: deps.metrics, body: operatorActionBody, bodyOptional: true, path: notificationIdPath },
      async ({ body, pathParameters, callerArn }) =>
        jsonResponse(200, await cancelNotification(pathParameters.id, { ...body, ...by(callerArn) }, deps)),
    ),
    'POST /v1/notifications/{id}/retry': httpHandler(
      { logger, metrics: deps.metrics, body: operatorActionBody, bodyOptional: true, path: notificationIdPath },
      async ({ body, pathParameters, callerArn }) =>
        jsonResponse(200, await redriveNotification(pathParameters.id, { ...body, ...by(callerArn) }, deps)),
    ),
    'POST /v1/notifications/retry': httpHandler(
      { logger, metrics: deps.metrics, body: redriveMatchingBody },
      async ({ body: { from, to, note, ...filter }, callerArn }) => {
        const result = await redriveMatching(
          {
            ...filter,
            ...(from ? { from: new Date(from) } : {}),
            ...(to ? { to: new Date(to) } : {}),
            ...(note ? { note } : {}),
            ...by(callerArn),
          },
          deps,
        );
        return jsonResponse(200, { ...result, nextCursor: result.nextCursor ?? null });
      },
    ),
  });
