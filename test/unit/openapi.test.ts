// The contract (shared/http/openapi.ts): a valid OpenAPI 3.1 document of exactly the catalog's routes, every error a
// problem document, the status callbacks as webhooks, examples the schema accepts; the committed openapi.json and
// reference page are what the schemas generate now; and API Gateway's request model derived from the same schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import {
  API_REFERENCE_FILE,
  apiReferencePage,
  OPENAPI_DOCUMENT_FILE,
  PROJECT_ROOT,
  staleOpenApiFiles,
} from '../../bin/cli/openapi-files.js';
import { apiRoutes } from '../../functions/catalog.js';
import { apiGatewayModelSchema } from '../../shared/http/api-gateway-model.js';
import { CALLBACK_EVENT_TYPES, callbackEventSchema } from '../../shared/http/callback-events.js';
import { notificationRequestSchema } from '../../shared/http/notification-request.js';
import { buildOpenApiDocument, NOTIFICATION_REQUEST_EXAMPLES } from '../../shared/http/openapi.js';

interface Operation {
  deprecated?: boolean;
  security?: Record<string, string[]>[];
  responses: Record<
    string,
    { headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: Schema }> }
  >;
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown; examples?: Record<string, unknown> }> };
}
interface Schema {
  $ref?: string;
  allOf?: Schema[];
}

const document = buildOpenApiDocument() as unknown as {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, { post: Operation }>;
  components: { securitySchemes: Record<string, Record<string, unknown>>; headers: Record<string, unknown> };
};
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
);
const operationOf = (route: string) => operations.find((o) => o.route === route)!.operation;
const PROBLEM = '#/components/schemas/ProblemDetails';
type OpenApiDocument = Exclude<Parameters<typeof validate>[0], string>;

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    // validate() dereferences what it is given: a copy. (zod-openapi's types and the validator's differ in detail.)
    const result = await validate(structuredClone(buildOpenApiDocument()) as unknown as OpenApiDocument);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.info).toMatchObject({ version: '1.0.0', description: expect.stringContaining('README.md') });
  });

  it("documents exactly the catalog's routes: one added there without an operation here fails", () => {
    expect(operations.map((o) => o.route).sort()).toEqual(
      apiRoutes()
        .map((r) => `${r.method} ${r.resource}`)
        .sort(),
    );
  });

  it("asks each route for its catalog's credentials: the API key, a SigV4 signature, or none for the contract", () => {
    const expected = { apiKey: [{ apiKey: [] }], iam: [{ sigv4: [] }], none: [] };
    for (const route of apiRoutes()) {
      expect(operationOf(`${route.method} ${route.resource}`).security, route.resource).toEqual(expected[route.auth]);
    }
    expect(operationOf('GET /v1/openapi.json').security).toEqual([]);
    expect(document.components.securitySchemes.apiKey).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
    });
    expect(document.components.securitySchemes.sigv4).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
      description: expect.stringMatching(/Signature Version 4.*IAM credentials.*execute-api/s),
    });
  });

  it('marks the unversioned POST /notifications deprecated, its answers carrying Deprecation and Link', () => {
    const alias = operationOf('POST /notifications');
    expect(alias.deprecated).toBe(true);
    expect(operationOf('POST /v1/notifications').deprecated).toBeUndefined();
    for (const status of ['202', '200']) {
      expect(Object.keys(alias.responses[status]!.headers!)).toEqual(expect.arrayContaining(['Deprecation', 'Link']));
    }
  });

  it('answers POST /v1/notifications 202 with Location, 200 on a replay, and every error of the contract', () => {
    const { responses } = operationOf('POST /v1/notifications');
    expect(Object.keys(responses).sort()).toEqual([
      '200',
      '202',
      '400',
      '403',
      '409',
      '413',
      '415',
      '422',
      '429',
      '500',
    ]);
    expect(responses['202']!.headers!.Location).toEqual({ $ref: '#/components/headers/Location' });
    expect(responses['200']!.headers!['Idempotency-Replayed']).toEqual({
      $ref: '#/components/headers/Idempotency-Replayed',
    });
    expect(responses['409']!.headers!['Retry-After']).toEqual({ $ref: '#/components/headers/Retry-After' });
    expect(responses['429']!.headers!['Retry-After']).toEqual({ $ref: '#/components/headers/Retry-After' });
    expect(Object.keys(document.components.headers)).toEqual(
      expect.arrayContaining([
        'Location',
        'Idempotency-Replayed',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
      ]),
    );
  });

  it('answers every error of every route as application/problem+json with the ProblemDetails schema', () => {
    for (const { route, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {}), `${route} ${status}`).toEqual(['application/problem+json']);
        const schema = response.content!['application/problem+json']!.schema;
        const refs = [schema.$ref, ...(schema.allOf ?? []).map((s) => s.$ref)];
        expect(refs, `${route} ${status}`).toContain(PROBLEM);
      }
    }
    expect(operationOf('GET /v1/notifications/{id}').responses['404']).toBeDefined();
    expect(operationOf('POST /v1/notifications/{id}/cancel').responses['409']).toBeDefined();
  });

  it('serves the CSV export as text/csv', () => {
    expect(Object.keys(operationOf('GET /v1/notifications/export.csv').responses['200']!.content!)).toEqual([
      'text/csv',
    ]);
  });

  it('describes one webhook per callback event, its body the event schema, signed as Standard Webhooks sign', () => {
    expect(Object.keys(document.webhooks).sort()).toEqual(Object.values(CALLBACK_EVENT_TYPES).sort());
    for (const [type, { post }] of Object.entries(document.webhooks)) {
      const body = post.requestBody!.content['application/json']!;
      expect(body.schema).toEqual({ $ref: '#/components/schemas/NotificationEvent' });
      expect(callbackEventSchema.parse(body.example)).toMatchObject({ type });
      const headers = (post as unknown as { parameters: { $ref: string }[] }).parameters.map((p) => p.$ref);
      expect(headers).toEqual([
        '#/components/parameters/webhook-id',
        '#/components/parameters/webhook-timestamp',
        '#/components/parameters/webhook-signature',
      ]);
    }
  });

  it('gives request examples the schema accepts, among them a callbackUrl on https', () => {
    const { examples } = operationOf('POST /v1/notifications').requestBody!.content['application/json']!;
    expect(examples).toEqual(NOTIFICATION_REQUEST_EXAMPLES);
    for (const { value } of Object.values(NOTIFICATION_REQUEST_EXAMPLES)) {
      expect(notificationRequestSchema.safeParse(value).error).toBeUndefined();
    }
    expect(Object.values(NOTIFICATION_REQUEST_EXAMPLES).map((e) => e.value.callbackUrl)).toContain(
      'https://tms.example.com/hooks/wachap',
    );
  });
});

describe('the committed files (npm run openapi -- --check)', () => {
  it('are what the schemas generate now', () => {
    expect(staleOpenApiFiles()).toEqual([]);
    expect(JSON.parse(readFileSync(join(PROJECT_ROOT, OPENAPI_DOCUMENT_FILE), 'utf8'))).toEqual(document);
  });

  it('make a reference page that loads nothing from the network', () => {
    const page = readFileSync(join(PROJECT_ROOT, API_REFERENCE_FILE), 'utf8');
    const remote = [...page.matchAll(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//gi)].map((m) => m[0]);
    expect(remote).toEqual([]);
    expect(page).toContain('Redoc.init(spec, {}, document.getElementById(');
    expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  });

  it('keep the HTML parser inside each script: no </script or <!-- of the bundle or the document ends it', () => {
    const page = apiReferencePage(
      { info: { title: 'T', version: '1' } },
      'const a = "</script><!-- <script>"; const re = /<\\/script>/;',
    );
    const scripts = page.match(/<script>[\s\S]*?<\/script>/g)!;
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toContain('"\\x3C/script>\\x3C!-- \\x3Cscript>"');
  });
});

describe("API Gateway's request model of the notification body", () => {
  const model = apiGatewayModelSchema(notificationRequestSchema);

  it("is the body's shape in draft 4 terms: types, required and unknown fields, enums, bounds", () => {
    expect(model).toMatchObject({
      type: 'object',
      required: ['recipient', 'category', 'message'],
      additionalProperties: false,
      properties: {
        recipient: { type: 'object', required: ['phone'], additionalProperties: false },
        priority: { type: 'string', enum: ['high', 'normal'] },
        ttlSeconds: { type: 'integer', minimum: 1, maximum: 604_800 },
        idempotencyKey: { type: 'string', minLength: 1, maxLength: 128 },
      },
    });
  });

  it('leaves the function what API Gateway would judge otherwise: patterns, formats, lengths of normalised text', () => {
    const text = JSON.stringify(model);
    expect(text).not.toMatch(/"(\$schema|\$id|\$ref|pattern|format|description|examples)"/);
    // Trimmed and CRLF to LF before they are counted: a title of 200 characters and a trailing space is accepted.
    expect(model.properties?.title).toEqual({ type: 'string' });
    expect(model.properties?.message).toEqual({ type: 'string' });
    expect(
      notificationRequestSchema.safeParse({ ...NOTIFICATION_REQUEST_EXAMPLES.otp!.value, title: `${'T'.repeat(200)} ` })
        .success,
    ).toBe(true);
  });
});
