// The operator routes on AWS: IAM authorization on every one of them (never the upstream's API key), a managed
// policy granting execute-api:Invoke on exactly those methods, the functions behind them granted exactly what they
// call, and the outputs the operator CLIs find a deployed stage by.
import type { CfnResource } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationStack } from '../../lib/notification-stack.js';
import { STATUS_INDEX_NAME } from '../../shared/adapters/dynamodb/table.js';
import { removeSyntheses, roleStatements, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('the operator API', () => {
  let stack: NotificationStack;
  let template: Template;
  let resources: Record<string, Resource>;
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnResource);

  beforeAll(() => {
    ({ stack, template } = synthesize());
    resources = template.toJSON().Resources;
  });

  /** Each API method as `METHOD /path` with its authorization, from the template's resources. */
  function methods() {
    const pathOf = (id: string): string => {
      const resource = resources[id]!;
      const parent = (resource.Properties.ParentId as { Ref?: string; 'Fn::GetAtt'?: string[] }).Ref;
      return parent ? `${pathOf(parent)}/${resource.Properties.PathPart}` : `/${resource.Properties.PathPart}`;
    };
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method')
      .map((r) => {
        const resourceId = (r.Properties.ResourceId as { Ref: string }).Ref;
        return {
          route: `${r.Properties.HttpMethod} ${pathOf(resourceId)}`,
          authorizationType: r.Properties.AuthorizationType,
          apiKeyRequired: r.Properties.ApiKeyRequired,
        };
      })
      .sort((a, b) => (a.route < b.route ? -1 : 1));
  }

  it('puts every operator route behind IAM authorization, without the API key, and leaves ingest its key', () => {
    const iam = { authorizationType: 'AWS_IAM', apiKeyRequired: false };
    expect(methods()).toEqual([
      // The operations page's files: open, static, no data (test/cdk/operations-page.test.ts).
      { route: 'GET /ops', authorizationType: 'NONE', apiKeyRequired: false },
      { route: 'GET /ops/{file}', authorizationType: 'NONE', apiKeyRequired: false },
      { route: 'GET /v1/notifications', ...iam },
      { route: 'GET /v1/notifications/counts', ...iam },
      { route: 'GET /v1/notifications/export.csv', ...iam },
      { route: 'GET /v1/notifications/{id}', ...iam },
      // The contract: anyone, no key, no signature.
      { route: 'GET /v1/openapi.json', authorizationType: 'NONE', apiKeyRequired: false },
      // The provider circuit, served by the provider probe.
      { route: 'GET /v1/provider/circuit', ...iam },
      // The upstream's route, also at its deprecated unversioned path; the operators' under /v1 only.
      { route: 'POST /notifications', authorizationType: 'NONE', apiKeyRequired: true },
      { route: 'POST /v1/notifications', authorizationType: 'NONE', apiKeyRequired: true },
      { route: 'POST /v1/notifications/retry', ...iam },
      { route: 'POST /v1/notifications/{id}/cancel', ...iam },
      { route: 'POST /v1/notifications/{id}/retry', ...iam },
      { route: 'POST /v1/provider/circuit', ...iam },
    ]);
  });

  it('offers a managed policy granting execute-api:Invoke on exactly the operator methods of this stage', () => {
    const policies = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy');
    expect(policies.map(([id]) => id)).toEqual([expect.stringMatching(/^NotificationOperatorPolicy/)]);
    const document = policies[0]![1].Properties.PolicyDocument as {
      Statement: { Effect: string; Action: string; Resource: { 'Fn::Join': [string, unknown[]] }[] }[];
    };
    expect(document.Statement).toHaveLength(1);
    const [statement] = document.Statement;
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
    const apiId = logicalId(stack.api);
    const stageId = logicalId(stack.api.deploymentStage);
    const arn = (methodPath: string) => ({
      'Fn::Join': [
        '',
        ['arn:aws:execute-api:eu-west-1:123456789012:', { Ref: apiId }, '/', { Ref: stageId }, methodPath],
      ],
    });
    expect(statement!.Resource).toEqual([
      arn('/GET/v1/notifications'),
      arn('/GET/v1/notifications/*'),
      arn('/GET/v1/notifications/counts'),
      arn('/GET/v1/notifications/export.csv'),
      arn('/GET/v1/provider/circuit'),
      arn('/POST/v1/notifications/*/cancel'),
      arn('/POST/v1/notifications/*/retry'),
      arn('/POST/v1/notifications/retry'),
      arn('/POST/v1/provider/circuit'),
    ]);
    // Not the upstream's route (either path), and never a wildcard method or stage.
    expect(JSON.stringify(statement!.Resource)).not.toContain('/POST/notifications"');
    expect(JSON.stringify(statement!.Resource)).not.toContain('/POST/v1/notifications"');
    // Nor the contract: it takes no credentials at all.
    expect(JSON.stringify(statement!.Resource)).not.toContain('openapi.json');
  });

  it("grants the read function GetItem and BatchGetItem (a page's items) and Query on the status index only, never a write", () => {
    const statements = roleStatements(stack, template, 'operator-read');
    const tableArn = { 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] };
    const statusIndexArn = { 'Fn::Join': ['', [tableArn, `/index/${STATUS_INDEX_NAME}`]] };
    const onTable = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(onTable.map((s) => ({ Action: s.Action, Resource: s.Resource }))).toEqual([
      { Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'], Resource: tableArn },
      { Action: 'dynamodb:Query', Resource: statusIndexArn },
    ]);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  it('grants the actions function its conditional writes, Query on the status index, both send queues and the callback queue', () => {
    const statements = roleStatements(stack, template, 'operator-actions');
    const queries = statements.filter((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(queries.map((s) => s.Resource)).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] }, `/index/${STATUS_INDEX_NAME}`]] },
    ]);
    const sends = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(sends.flatMap((s) => [s.Resource].flat())).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [logicalId(stack.sendQueue), 'Arn'] },
        { 'Fn::GetAtt': [logicalId(stack.prioritySendQueue), 'Arn'] },
        // A cancel's status callback.
        { 'Fn::GetAtt': [logicalId(stack.callbackQueue), 'Arn'] },
      ]),
    );
    expect(sends.flatMap((s) => [s.Resource].flat())).toHaveLength(3);
  });

  it('outputs the API, the operator policy and every function, for the CLIs to find a deployed stage', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const functionName = (name: keyof NotificationStack['functions']) => ({
      Ref: logicalId(stack.functions[name].lambda),
    });
    expect(outputs.OperatorPolicyArn?.Value).toEqual({ Ref: expect.stringMatching(/^NotificationOperatorPolicy/) });
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain('/v1/notifications');
    expect(outputs).toMatchObject({
      IngestFunctionName: { Value: functionName('ingest') },
      RetrySweepFunctionName: { Value: functionName('retry-sweep') },
      HealthCheckFunctionName: { Value: functionName('health-check') },
      ProviderProbeFunctionName: { Value: functionName('provider-probe') },
      OperatorReadFunctionName: { Value: functionName('operator-read') },
      OperatorActionsFunctionName: { Value: functionName('operator-actions') },
      // npm run backfill-status-index -- --stage finds the table by it.
      TableName: { Value: { Ref: logicalId(stack.table) } },
    });
  });
});
