// The contract on AWS: the ingest routes' request model is the one derived from the ingest function's schema (not a
// hand-written copy that drifts), and GET /v1/openapi.json is open: no authorizer, no API key, served by a function
// that may only write its logs.
import type { CfnResource } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationStack } from '../../lib/notification-stack.js';
import { apiGatewayModelSchema } from '../../shared/http/api-gateway-model.js';
import { notificationRequestSchema } from '../../shared/http/notification-request.js';
import { removeSyntheses, roleStatements, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('the API contract on AWS', () => {
  let stack: NotificationStack;
  let template: Template;
  let resources: Record<string, Resource>;
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnResource);

  beforeAll(() => {
    ({ stack, template } = synthesize());
    resources = template.toJSON().Resources;
  });

  /** The API method at `path` (e.g. /v1/openapi.json) for `httpMethod`, from the template's resources. */
  function method(httpMethod: string, path: string): Record<string, unknown> {
    const pathOf = (id: string): string => {
      const resource = resources[id]!;
      const parent = (resource.Properties.ParentId as { Ref?: string }).Ref;
      return parent ? `${pathOf(parent)}/${resource.Properties.PathPart}` : `/${resource.Properties.PathPart}`;
    };
    const found = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::ApiGateway::Method' &&
        r.Properties.HttpMethod === httpMethod &&
        pathOf((r.Properties.ResourceId as { Ref: string }).Ref) === path,
    );
    expect(found, `${httpMethod} ${path}`).toHaveLength(1);
    return found[0]!.Properties;
  }

  it("validates the ingest routes' bodies against the model derived from the ingest function's schema", () => {
    const models = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGateway::Model');
    expect(models).toHaveLength(1);
    const [modelId, model] = models[0]!;
    expect(model.Properties.Schema).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      title: 'NotificationRequest',
      ...apiGatewayModelSchema(notificationRequestSchema),
    });
    for (const path of ['/v1/notifications', '/notifications']) {
      expect(method('POST', path).RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    }
  });

  it('serves GET /v1/openapi.json without an authorizer or an API key', () => {
    const docs = method('GET', '/v1/openapi.json');
    expect(docs).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false });
    expect(docs.AuthorizerId).toBeUndefined();
    expect(docs.RequestValidatorId).toBeUndefined();
    const target = JSON.stringify(docs.Integration);
    expect(target).toContain(logicalId(stack.functions['api-docs'].lambda));
  });

  it('gives the contract function its logs and traces only', () => {
    const actions = roleStatements(stack, template, 'api-docs').flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort(),
    );
  });
});
