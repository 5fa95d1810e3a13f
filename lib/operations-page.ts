// The operations page on AWS: its files served by the REST API itself (GET /ops, GET /ops/{file}, no authorization:
// static files, nothing secret), and the operators' sign-in, a Cognito user pool (no self sign-up: admins create the
// users) whose identity pool hands a signed-in operator temporary IAM credentials of a role holding exactly the
// NotificationOperatorPolicy. The page signs its calls to the operator routes with them (SigV4, IAM authorization),
// as the CLI signs with an operator's own keys: the operator API has one kind of authorization, whoever calls it.
//
// Why the API and a small function rather than S3 + CloudFront: the page is then on the API's own origin, so its
// signed calls need no CORS (a preflight OPTIONS route with no authorization on every operator resource, and CORS
// headers on every gateway response); and nothing is added but one function that may only write its own logs, where
// a bucket and a distribution would bring an origin access control, two access-log buckets and a second WAF.
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, type RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { z } from 'zod';
import type { operationsPageEnv } from '../functions/operations-page/handler.js';
import { OPS_PATH } from '../shared/http/operations-page.js';
import type { NotificationConfig } from './config.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What a signed-in operator's credentials last: the page renews them (and its ID token) before they run out. */
const SESSION = Duration.hours(1);

export interface OperationsPage {
  userPool: cognito.UserPool;
  client: cognito.UserPoolClient;
  identityPool: cognito.CfnIdentityPool;
  /** The role an identity pool credential carries: the operator policy, nothing else. */
  operatorRole: iam.Role;
  pageFunction: NodejsFunction;
}

export function addOperationsPage(
  stack: Stack,
  props: {
    config: NotificationConfig;
    api: apigw.RestApi;
    operatorPolicy: iam.IManagedPolicy;
    /** The user pool's and the logs' fate when the stack goes away (kept for prod). */
    removalPolicy: RemovalPolicy;
  },
): OperationsPage {
  const { config, api } = props;

  // ── Sign-in ──────────────────────────────────────────────────────────────────────────────────
  const userPool = new cognito.UserPool(stack, 'OperatorUserPool', {
    userPoolName: `wachap-notifications-${config.stage}-operators`,
    // Admins create operators (aws cognito-idp admin-create-user); nobody signs themselves up.
    selfSignUpEnabled: false,
    signInAliases: { username: true, email: true },
    passwordPolicy: {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    removalPolicy: props.removalPolicy,
  });
  const client = userPool.addClient('OperationsPageClient', {
    // A page in a browser keeps no secret: a public client, signing in with USER_PASSWORD_AUTH (over TLS).
    generateSecret: false,
    authFlows: { userPassword: true },
    preventUserExistenceErrors: true,
    idTokenValidity: SESSION,
    accessTokenValidity: SESSION,
    refreshTokenValidity: Duration.hours(12),
  });
  const identityPool = new cognito.CfnIdentityPool(stack, 'OperatorIdentityPool', {
    identityPoolName: `wachap_notifications_${config.stage}_operators`.replace(/[^\w]/g, '_'),
    allowUnauthenticatedIdentities: false,
    cognitoIdentityProviders: [
      { clientId: client.userPoolClientId, providerName: userPool.userPoolProviderName, serverSideTokenCheck: true },
    ],
  });
  const operatorRole = new iam.Role(stack, 'OperatorPageRole', {
    description: `Operators signed in to the operations page (${config.stage}): the operator API, nothing else`,
    // Only identities of this pool, and only once signed in.
    assumedBy: new iam.FederatedPrincipal(
      'cognito-identity.amazonaws.com',
      {
        StringEquals: { 'cognito-identity.amazonaws.com:aud': identityPool.ref },
        'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
      },
      'sts:AssumeRoleWithWebIdentity',
    ),
    managedPolicies: [props.operatorPolicy],
    maxSessionDuration: SESSION,
  });
  new cognito.CfnIdentityPoolRoleAttachment(stack, 'OperatorIdentityPoolRoles', {
    identityPoolId: identityPool.ref,
    roles: { authenticated: operatorRole.roleArn },
  });

  // ── The page's files ─────────────────────────────────────────────────────────────────────────
  const logGroup = new logs.LogGroup(stack, 'OperationsPageLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: props.removalPolicy,
  });
  // Our own role: it may write its own logs, and nothing else (it calls no AWS service).
  const role = new iam.Role(stack, 'OperationsPageFunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'operations-page: serves the operations page files',
  });
  // What the handler's schema reads (a renamed variable fails the typecheck here), but AWS_REGION: Lambda sets it.
  const environment: Omit<Record<keyof z.input<typeof operationsPageEnv>, string>, 'AWS_REGION'> = {
    OPS_USER_POOL_ID: userPool.userPoolId,
    OPS_USER_POOL_CLIENT_ID: client.userPoolClientId,
    OPS_IDENTITY_POOL_ID: identityPool.ref,
  };
  const pageFunction = new NodejsFunction(stack, 'OperationsPageFunction', {
    entry: `${PROJECT_ROOT}functions/operations-page/handler.ts`,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
    description: 'Serves the operations page (GET /ops): static files and its config.json',
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(5),
    role,
    logGroup,
    environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: {
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      externalModules: [],
      forceDockerBundling: false,
      // The page is served as it is written: its files travel next to the handler (ops/), not through esbuild.
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir, outputDir) => [
          `mkdir -p "${outputDir}/ops"`,
          `cp "${inputDir}/ops/index.html" "${inputDir}/ops/app.js" "${inputDir}/ops/sigv4.js" "${inputDir}/ops/style.css" "${outputDir}/ops/"`,
        ],
      },
    },
  });
  iam.Grant.addToPrincipal({
    grantee: pageFunction,
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resourceArns: [logGroup.logGroupArn],
  });
  Validations.of(pageFunction).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Node.js 22 is the runtime the project builds and tests on (engines >=22); moving to 24 is a deliberate upgrade.',
  });

  // GET /ops (redirected to /ops/) and GET /ops/{file}: no authorization, no API key. The page holds no data; what it
  // shows comes from the operator routes, which only a signed-in operator's credentials open.
  const integration = new apigw.LambdaIntegration(pageFunction);
  const open = { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: false };
  const page = api.root.resourceForPath(OPS_PATH);
  page.addMethod('GET', integration, open);
  page.addResource('{file}').addMethod('GET', integration, open);

  Validations.of(userPool).acknowledge(
    {
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional for now: the page signs in with USER_PASSWORD_AUTH and does not yet walk the TOTP setup ' +
        'challenge. Admins create every account (no self sign-up) with a 12-character password policy.',
    },
    {
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus feature plan (threat protection) is billed per active user; a handful of operators, created by admins, ' +
        'sign in to a page whose every call is also checked by IAM.',
    },
  );

  const output = (id: string, value: string, description: string) => new CfnOutput(stack, id, { value, description });
  output('OperationsPageUrl', api.urlForPath(`${OPS_PATH}/`), 'The operations page (sign in with an operator account)');
  output(
    'OperatorUserPoolId',
    userPool.userPoolId,
    'aws cognito-idp admin-create-user --user-pool-id <id> --username <name> creates an operator',
  );
  output('OperatorUserPoolClientId', client.userPoolClientId, "The operations page's user pool client");
  output('OperatorIdentityPoolId', identityPool.ref, 'Hands signed-in operators the OperatorPageRole credentials');
  return { userPool, client, identityPool, operatorRole, pageFunction };
}
