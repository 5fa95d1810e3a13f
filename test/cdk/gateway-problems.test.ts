// API Gateway's own refusals (key, signature, throttling, body too large, unknown route…) answer the same problem
// documents as the functions: one gateway response per type of the shared table, application/problem+json, and a
// template that is valid JSON once API Gateway has put in the request's values.
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS, type GatewayResponseType } from '../../shared/http/gateway-problems.js';
import { PROBLEM_TYPES, problemTypeUri } from '../../shared/http/problems.js';
import { removeSyntheses, synthesize } from '../support/cdk-stack.js';
import { renderGatewayTemplate, TEMPLATE_VARIABLE } from '../support/gateway-template.js';

afterAll(removeSyntheses);

interface GatewayResponse {
  ResponseType: GatewayResponseType;
  StatusCode?: string;
  ResponseParameters?: Record<string, string>;
  ResponseTemplates: Record<string, string>;
}

describe('gateway responses', () => {
  const { template } = synthesize();
  const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).map(
    (resource) => resource.Properties as GatewayResponse,
  );

  it('answers every type of the table, and nothing else, as application/problem+json', () => {
    expect(responses.map((r) => r.ResponseType).sort()).toEqual(Object.keys(GATEWAY_PROBLEMS).sort());
    for (const response of responses) {
      expect(response.ResponseParameters?.['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
    }
  });

  it.each(Object.entries(GATEWAY_PROBLEMS))('%s: its status and a problem document once rendered', (type, problem) => {
    const response = responses.find((r) => r.ResponseType === type)!;
    const request = {
      // SigV4 refusals quote names and carry newlines; a path may hold a ' (a " arrives percent-encoded).
      message: 'Authorization header requires \'Credential\' parameter.\n"Authorization=AWS4 x"',
      path: "/prod/v1/it's",
      requestId: 'c0ffee00-0000-4000-8000-000000000000',
    };

    expect(response.StatusCode).toBe(problem.status === undefined ? undefined : String(problem.status));
    for (const [name, value] of Object.entries(problem.headers ?? {})) {
      expect(response.ResponseParameters?.[`gatewayresponse.header.${name}`]).toBe(`'${value}'`);
    }
    for (const contentType of ['application/json', 'application/problem+json']) {
      // A gateway response's template is not run by the VTL engine: simple variables only.
      const template = response.ResponseTemplates[contentType]!;
      expect(template).not.toMatch(/\$util|#set|#if|\$context[.\w]*\(/);
      expect(new Set(template.match(TEMPLATE_VARIABLE))).toEqual(
        new Set(['$context.error.messageString', '$context.path', '$context.requestId']),
      );
      const body = JSON.parse(renderGatewayTemplate(template, request));
      expect(body).toEqual({
        type: problemTypeUri(problem.code),
        title: PROBLEM_TYPES[problem.code],
        ...(problem.status !== undefined ? { status: problem.status } : {}),
        detail: request.message,
        instance: request.path,
        requestId: request.requestId,
        code: problem.code,
        error: problem.code,
        message: request.message,
      });
    }
  });

  it('answers a missing or wrong key 403, throttling 429 with Retry-After, a body too large 413', () => {
    const status = (type: GatewayResponseType) => responses.find((r) => r.ResponseType === type)?.StatusCode;

    expect(status('INVALID_API_KEY')).toBe('403');
    expect(status('MISSING_AUTHENTICATION_TOKEN')).toBe('403');
    expect(status('THROTTLED')).toBe('429');
    expect(status('QUOTA_EXCEEDED')).toBe('429');
    expect(status('REQUEST_TOO_LARGE')).toBe('413');
    expect(status('BAD_REQUEST_BODY')).toBe('400');
  });
});
