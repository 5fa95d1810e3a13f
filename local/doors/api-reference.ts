// The API's reference page on the local door (GET /docs): the committed docs/api-reference.html, read when asked so
// that `npm run openapi` shows without a restart. Local only: on AWS the page is a file in the repository, and the
// contract itself is GET /v1/openapi.json.
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

export const API_REFERENCE_PATH = '/docs';
const PAGE = fileURLToPath(new URL('../../docs/api-reference.html', import.meta.url));

export async function sendApiReference(response: ServerResponse): Promise<void> {
  const page = await readFile(PAGE);
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
  response.end(page);
}
