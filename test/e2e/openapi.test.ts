// The contract through the local API door: GET /v1/openapi.json without credentials answers the committed document,
// every request example of POST /v1/notifications is accepted by the live API, and GET /docs (local only) answers
// the reference page.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_REFERENCE_FILE, OPENAPI_DOCUMENT_FILE, PROJECT_ROOT } from '../../bin/cli/openapi-files.js';
import { NOTIFICATION_REQUEST_EXAMPLES } from '../../shared/http/openapi.js';
import { type E2eStack, startE2eStack } from '../support/local-stack.js';

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack();
});
afterAll(async () => {
  await e2e?.stop();
});

const committed = (path: string) => readFileSync(new URL(path, `file://${PROJECT_ROOT}`), 'utf8');

describe('GET /v1/openapi.json', () => {
  it('answers the committed document as JSON, without an API key or a signature', async () => {
    const response = await fetch(`${e2e.stack.urls.api}/v1/openapi.json`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(JSON.parse(committed(OPENAPI_DOCUMENT_FILE)));
  });

  it('is GET only: another method is no route (403, as API Gateway answers)', async () => {
    const response = await fetch(`${e2e.stack.urls.api}/v1/openapi.json`, { method: 'POST' });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('the request examples of POST /v1/notifications', () => {
  interface Document {
    paths: Record<string, { post: { requestBody: { content: Record<string, { examples: unknown }> } } }>;
  }
  const { paths } = JSON.parse(committed(OPENAPI_DOCUMENT_FILE)) as Document;
  const examples = paths['/v1/notifications']!.post.requestBody.content['application/json']!.examples;

  it('are the ones the contract module exports', () => {
    expect(examples).toEqual(NOTIFICATION_REQUEST_EXAMPLES);
  });

  it.each(Object.entries(NOTIFICATION_REQUEST_EXAMPLES))(
    'accepts %s as it is (202, or 200 for a repeat)',
    async (_name, { value }) => {
      const answer = await e2e.post(value);

      expect([202, 200], JSON.stringify(answer.body)).toContain(answer.status);
      expect(answer.headers.get('location')).toBe(`/v1/notifications/${answer.body.id}`);
    },
  );
});

describe('GET /docs (the local stack only)', () => {
  it('answers the committed reference page as HTML, without credentials', async () => {
    const response = await fetch(`${e2e.stack.urls.api}/docs`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toBe(committed(API_REFERENCE_FILE));
  });
});
