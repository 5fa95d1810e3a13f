// POST /v1/notifications (and its deprecated unversioned alias), built from its dependencies (handler.ts wires
// them from the environment): the HTTP edge has checked the body's shape; ingest checks the rest and writes.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type IngestDependencies, ingestNotification } from '../../shared/application/ingest.js';
import { jsonResponse, rateLimitHeaders } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/http-handler.js';
import { notificationRequestSchema } from '../../shared/http/notification-request.js';
import { API_VERSION_PATH, deprecationHeaders } from '../catalog.js';

/**
 * What precedes the API's paths in the caller's URL: on AWS's execute-api domain the stage (requestContext.path is
 * `/prod/v1/notifications` where path is `/v1/notifications`), on a custom domain its base path mapping, locally
 * nothing. Links built on it resolve against the URL the caller used.
 */
const basePathOf = (event: APIGatewayProxyEvent): string => {
  const full = event.requestContext?.path ?? event.path;
  return full.endsWith(event.path) ? full.slice(0, full.length - event.path.length).replace(/\/+$/, '') : '';
};

export const createIngestHandler = (logger: Logger, deps: IngestDependencies) =>
  httpHandler({ logger, metrics: deps.metrics, body: notificationRequestSchema }, async ({ body, header, event }) => {
    const result = await ingestNotification(
      body,
      // The API key's id, as API Gateway verified it: never the key itself, which would end up stored.
      { idempotencyHeader: header('idempotency-key'), caller: event.requestContext?.identity?.apiKeyId ?? undefined },
      deps,
    );
    const base = basePathOf(event);
    const self = `${base}${API_VERSION_PATH}/notifications/${encodeURIComponent(result.id)}`;
    // A repeat (200) has the same shape as the acceptance (202): the caller reads one kind of answer, and
    // Idempotency-Replayed says it is the first request's.
    return jsonResponse(
      result.created ? 202 : 200,
      { id: result.id, status: result.status, links: { self } },
      {
        location: self,
        ...(result.created ? {} : { 'idempotency-replayed': 'true' }),
        ...(result.rateLimit ? rateLimitHeaders(result.rateLimit) : {}),
        ...deprecationHeaders(event.httpMethod, event.resource, base),
      },
    );
  });
