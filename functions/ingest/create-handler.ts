// POST /notifications, built from its dependencies (handler.ts wires them from the environment): the HTTP edge
// has checked the body's shape; ingest checks the rest and writes.
import type { Logger } from '@aws-lambda-powertools/logger';
import { type IngestDependencies, ingestNotification } from '../../shared/application/ingest.js';
import { jsonResponse } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/http-handler.js';
import { notificationRequestSchema } from '../../shared/http/notification-request.js';

export const createIngestHandler = (logger: Logger, deps: IngestDependencies) =>
  httpHandler({ logger, body: notificationRequestSchema }, async ({ body, header }) => {
    const result = await ingestNotification(body, header('idempotency-key'), deps);
    return jsonResponse(result.created ? 202 : 200, { id: result.id, status: result.status });
  });
