// The operations page on AWS: its files behind GET /ops routes with no authorization, served by a function that may
// only write its own logs; operators created by admins in a Cognito user pool (no self sign-up), signing in from a
// public client; and an identity pool that hands a signed-in operator, and only a signed-in one, the credentials of
// a role holding the NotificationOperatorPolicy and nothing else.
import type { CfnResource } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationStack } from '../../lib/notification-stack.js';
import { removeSyntheses, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('the operations page', () => {
  let stack: NotificationStack;
  let template: Template;
  let resources: Record<string, Resource>;
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnResource);

  beforeAll(() => {
    ({ stack, template } = synthesize());
    resources = template.toJSON().Resources;
  });

  it("hands the page's URL (this API, this stage, /ops/) to the functions whose alerts link it", () => {
    const restApiId = logicalId(stack.api);
    for (const name of ['HealthCheck', 'ProviderProbe']) {
      const fn = Object.entries(resources).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(name) && !id.includes('LogRetention'),
      )?.[1];
      expect(fn, name).toBeDefined();
      const environment = fn!.Properties.Environment as { Variables: Record<string, unknown> };
      const url = JSON.stringify(environment.Variables.OPERATIONS_PAGE_URL);
      expect(url).toContain(restApiId);
      expect(url).toContain('/test/ops/');
    }
  });

  it('lets admins alone create operators, with a strong password policy', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  it('signs in from a public client (no secret) with the user password flow, and hides whether a user exists', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']),
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('hands credentials only to signed-in users of this pool, through a role that holds the operator policy only', () => {
    const { userPool, client, identityPool, operatorRole } = stack.operationsPage;
    template.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: false,
      CognitoIdentityProviders: [
        {
          ClientId: { Ref: logicalId(client) },
          ProviderName: { 'Fn::GetAtt': [logicalId(userPool), 'ProviderName'] },
          ServerSideTokenCheck: true,
        },
      ],
    });
    const [attachment, ...others] = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Cognito::IdentityPoolRoleAttachment',
    );
    expect(others).toEqual([]);
    // An authenticated role, and no unauthenticated one.
    expect(attachment!.Properties).toEqual({
      IdentityPoolId: { Ref: stack.getLogicalId(identityPool) },
      Roles: { authenticated: { 'Fn::GetAtt': [logicalId(operatorRole), 'Arn'] } },
    });
    const role = resources[logicalId(operatorRole)]!.Properties;
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: stack.getLogicalId(identityPool) } },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
        },
      ],
    });
    expect(role.ManagedPolicyArns).toEqual([{ Ref: expect.stringMatching(/^NotificationOperatorPolicy/) }]);
    expect(role.MaxSessionDuration).toBe(3600);
    // No inline policy adds anything to it.
    const inline = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(logicalId(operatorRole)),
    );
    expect(inline).toEqual([]);
  });

  it('serves GET /ops and GET /ops/{file} without authorization from its own function', () => {
    const { pageFunction } = stack.operationsPage;
    const opsResource = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::ApiGateway::Resource' && r.Properties.PathPart === 'ops',
    )![0];
    const fileResource = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::ApiGateway::Resource' &&
        r.Properties.PathPart === '{file}' &&
        (r.Properties.ParentId as { Ref: string }).Ref === opsResource,
    )![0];
    for (const resource of [opsResource, fileResource]) {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'GET',
        ResourceId: { Ref: resource },
        AuthorizationType: 'NONE',
        ApiKeyRequired: false,
        Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
      });
    }
    const methods = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::ApiGateway::Method' &&
        [opsResource, fileResource].includes((r.Properties.ResourceId as { Ref: string }).Ref),
    );
    expect(methods).toHaveLength(2);
    for (const method of methods)
      expect(JSON.stringify(method.Properties.Integration)).toContain(logicalId(pageFunction));
  });

  it('runs a function that may write its own logs and nothing else, told where to sign in', () => {
    const { pageFunction, userPool, client, identityPool } = stack.operationsPage;
    const fn = resources[logicalId(pageFunction)]!.Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toEqual({
      OPS_USER_POOL_ID: { Ref: logicalId(userPool) },
      OPS_USER_POOL_CLIENT_ID: { Ref: logicalId(client) },
      OPS_IDENTITY_POOL_ID: { Ref: stack.getLogicalId(identityPool) },
      NODE_OPTIONS: '--enable-source-maps',
    });
    const roleId = (fn.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const actions = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
      .flatMap((statement) => [statement.Action].flat());
    expect(actions.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('outputs the page URL and the ids an admin needs to create operators', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.OperationsPageUrl?.Value)).toContain('/ops/');
    expect(outputs).toMatchObject({
      OperatorUserPoolId: { Value: { Ref: logicalId(stack.operationsPage.userPool) } },
      OperatorUserPoolClientId: { Value: { Ref: logicalId(stack.operationsPage.client) } },
      OperatorIdentityPoolId: { Value: { Ref: stack.getLogicalId(stack.operationsPage.identityPool) } },
    });
  });
});
