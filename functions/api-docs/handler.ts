// GET /v1/openapi.json: the API contract, without credentials.
//
// The document is the committed openapi.json, imported as JSON: esbuild inlines it (80 KB minified) and the function
// answers it as it is. Generating it at cold start instead (shared/http/openapi.ts) would bundle zod-openapi and the
// schemas (230 KB more, measured with esbuild) and spend about 160 ms of each cold start loading and building the
// same bytes. The file cannot drift: `npm run openapi -- --check` (test/unit/openapi.test.ts) fails when it is not
// what the schemas generate, and the e2e test holds this answer to the file.
import document from '../../openapi.json' with { type: 'json' };
import { createLogger } from '../../shared/observability/logger.js';
import { createApiDocsHandler } from './create-handler.js';

export const handler = createApiDocsHandler(createLogger('api-docs'), document);
