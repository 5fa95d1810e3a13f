// GET /v1/openapi.json, built from the document it answers (handler.ts hands it the committed openapi.json): the
// contract as JSON, to anyone (the route has no authorization: API Gateway lets every caller in).
import type { Logger } from '@aws-lambda-powertools/logger';
import { httpHandler, routedHandler } from '../../shared/http/http-handler.js';
import type { RouteKeyOf } from '../catalog.js';

/** Short: the document changes with a deployment. */
const MAX_AGE_SECONDS = 300;

export const createApiDocsHandler = (logger: Logger, document: unknown) => {
  // Serialised once per instance: every answer is the same bytes.
  const body = JSON.stringify(document);
  return routedHandler<RouteKeyOf<'api-docs'>>({
    'GET /v1/openapi.json': httpHandler({ logger, body: undefined }, async () => ({
      statusCode: 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': `public, max-age=${MAX_AGE_SECONDS}`,
      },
      body,
    })),
  });
};
