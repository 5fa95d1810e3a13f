// The operations page's files (ops/), answered as API Gateway proxy results: by the local API door itself, and on
// AWS by a small function behind the unauthenticated GET /ops routes (lib/operations-page.ts). One table of the
// files and their types, one config.json saying how the page signs in, and the headers that keep the page to its
// own files: nothing is loaded from elsewhere, and the only other hosts it may call are Cognito's, on AWS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';

/** Where the page is served, under the API's base path. */
export const OPS_PATH = '/ops';

/** Every file the page has, with its type: anything else under /ops is a 404 (no directory is ever read). */
export const OPS_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'sigv4.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
} as const;

/**
 * How the page gets credentials: locally the static local/local key the door knows; on AWS a Cognito user pool
 * sign-in whose identity pool hands out temporary IAM credentials (the NotificationOperatorPolicy's).
 */
export type OpsConfig =
  | { auth: 'static'; apiBase: string; region: string }
  | {
      auth: 'cognito';
      apiBase: string;
      region: string;
      userPoolId: string;
      clientId: string;
      identityPoolId: string;
    };

/** Cognito's regional endpoints, the only hosts the page calls besides its own (InitiateAuth, GetId, credentials). */
export const cognitoEndpoints = (region: string) => [
  `https://cognito-idp.${region}.amazonaws.com`,
  `https://cognito-identity.${region}.amazonaws.com`,
];

function securityHeaders(config: OpsConfig): Record<string, string> {
  const connect = ["'self'", ...(config.auth === 'cognito' ? cognitoEndpoints(config.region) : [])].join(' ');
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src ${connect}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // The page is small and changes with a deployment: always revalidated, never stale after an upgrade.
    'cache-control': 'no-cache',
  };
}

const text = (statusCode: number, body: string, headers: Record<string, string>): APIGatewayProxyResult => ({
  statusCode,
  headers,
  body,
  isBase64Encoded: false,
});

/**
 * The answer to GET `pagePath`: `subPath` is what follows /ops in it ('' for /ops itself, which is redirected to
 * /ops/ so that the page's relative links resolve under it), `readFile` reads one of OPS_FILES.
 */
export function operationsPageAnswer(
  request: { subPath: string; pagePath: string },
  options: { config: OpsConfig; readFile: (name: keyof typeof OPS_FILES) => string },
): APIGatewayProxyResult {
  const headers = securityHeaders(options.config);
  if (request.subPath === '') return text(301, '', { ...headers, location: `${request.pagePath}/` });
  const name = request.subPath === '/' ? 'index.html' : request.subPath.slice(1);
  if (name === 'config.json') {
    return text(200, JSON.stringify(options.config), {
      ...headers,
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
  }
  if (!Object.hasOwn(OPS_FILES, name)) {
    return text(404, 'Not found', { ...headers, 'content-type': 'text/plain; charset=utf-8' });
  }
  const file = name as keyof typeof OPS_FILES;
  return text(200, options.readFile(file), { ...headers, 'content-type': OPS_FILES[file] });
}

/** A reader of the page's files in `directory` (the repository's ops/, or the copy bundled with the function). */
export const opsFileReader =
  (directory: string) =>
  (name: keyof typeof OPS_FILES): string =>
    readFileSync(join(directory, name), 'utf8');
