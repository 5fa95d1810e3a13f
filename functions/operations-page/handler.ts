// GET /ops and GET /ops/{file} on AWS (no authorization: static files, nothing secret): the operations page, whose
// files are bundled next to this handler (lib/operations-page.ts copies ops/), and its config.json, which tells the
// page to sign in through the stack's Cognito user pool and to call the API on this same stage. Not in the catalog:
// it serves files, reads no table and calls no AWS service; locally the API door serves the same answers itself.
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { loadConfig } from '../../shared/config.js';
import { OPS_PATH, operationsPageAnswer, opsFileReader } from '../../shared/http/operations-page.js';
import { API_VERSION_PATH } from '../catalog.js';

export const operationsPageEnv = z.object({
  AWS_REGION: z.string().min(1),
  OPS_USER_POOL_ID: z.string().min(1),
  OPS_USER_POOL_CLIENT_ID: z.string().min(1),
  OPS_IDENTITY_POOL_ID: z.string().min(1),
});

const env = loadConfig(operationsPageEnv);
const readFile = opsFileReader(fileURLToPath(new URL('./ops/', import.meta.url)));

export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  // requestContext.path is the path as the caller wrote it (/<stage>/ops/…, or a custom domain's base path), event.path
  // the resource's (/ops/…): what precedes it is where this API lives for the caller, and so where the page calls it.
  const pagePath = event.requestContext.path;
  const basePath = pagePath.slice(0, Math.max(0, pagePath.length - event.path.length));
  return operationsPageAnswer(
    { subPath: event.path.slice(OPS_PATH.length), pagePath },
    {
      config: {
        auth: 'cognito',
        apiBase: `${basePath}${API_VERSION_PATH}`,
        region: env.AWS_REGION,
        userPoolId: env.OPS_USER_POOL_ID,
        clientId: env.OPS_USER_POOL_CLIENT_ID,
        identityPoolId: env.OPS_IDENTITY_POOL_ID,
      },
      readFile,
    },
  );
};
