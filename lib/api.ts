// The REST API in front of the functions the catalog routes: the upstream's API key and usage plan, the operators'
// IAM authorization and the managed policy that lets them in, access logs, a validator.
import { RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { API_BINARY_MEDIA_TYPES, type ApiAuth, apiRoutes, type FunctionName } from '../functions/catalog.js';
import { apiGatewayModelSchema } from '../shared/http/api-gateway-model.js';
import {
  GATEWAY_PROBLEMS,
  type GatewayProblem,
  type GatewayResponseType,
  gatewayResponseTemplate,
} from '../shared/http/gateway-problems.js';
import { notificationRequestSchema } from '../shared/http/notification-request.js';
import { PROBLEM_CONTENT_TYPE } from '../shared/http/problems.js';
import type { UsagePlan } from '../shared/http/usage-plan.js';
import { type NotificationConfig, UPSTREAM_CALLER } from './config.js';
import { pascalCase } from './names.js';
import type { NotificationFunction } from './notification-function.js';

export function addNotificationApi(
  stack: Stack,
  props: {
    config: NotificationConfig;
    functions: { readonly [N in FunctionName]: NotificationFunction<N> };
    logRemovalPolicy: RemovalPolicy;
  },
): {
  api: apigw.RestApi;
  /** The stack's first upstream key (UpstreamApiKey). */
  apiKey: apigw.ApiKey;
  /** Every upstream caller's key, the first one first. */
  apiKeys: { name: string; apiKey: apigw.ApiKey }[];
  operatorPolicy: iam.ManagedPolicy;
} {
  const { config, logRemovalPolicy } = props;
  const accessLogs = new logs.LogGroup(stack, 'ApiAccessLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: logRemovalPolicy,
  });
  const api = new apigw.RestApi(stack, 'Api', {
    restApiName: `wachap-notifications-${config.stage}`,
    description: 'Accepts WhatsApp notifications from the upstream system',
    endpointTypes: [apigw.EndpointType.REGIONAL],
    apiKeySourceType: apigw.ApiKeySourceType.HEADER,
    // Bodies reach the function as the caller's bytes, base64-encoded (isBase64Encoded: true), not as text API
    // Gateway decoded as UTF-8 with replacement characters: the function refuses bytes that are not UTF-8 (400)
    // and other charsets (415). '*/*' because a narrower list is matched against the whole Content-Type
    // (`application/json; charset=…`, `application/x+json`). Responses are unaffected: the function's are text
    // (isBase64Encoded: false), passed through as they are. AWS documents this conversion between the method
    // request and the integration request; the body validator below belongs to the method request, so it should
    // still read the JSON (not documented in so many words: after a deploy, check that a valid POST is 202 and
    // `[]` is 400). Either way the function refuses what is not a JSON object itself. A mock integration (CORS
    // preflight) would need contentHandling: CONVERT_TO_TEXT with this setting; there is none.
    binaryMediaTypes: [...API_BINARY_MEDIA_TYPES],
    // API Gateway logs through one role per account and region; kept on delete so that another
    // stage's stack sharing the account does not lose its logging.
    cloudWatchRole: true,
    cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
    deployOptions: {
      stageName: config.stage,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.custom(
        JSON.stringify({
          requestId: apigw.AccessLogField.contextRequestId(),
          requestTime: apigw.AccessLogField.contextRequestTime(),
          sourceIp: apigw.AccessLogField.contextIdentitySourceIp(),
          apiKeyId: apigw.AccessLogField.contextIdentityApiKeyId(),
          httpMethod: apigw.AccessLogField.contextHttpMethod(),
          resourcePath: apigw.AccessLogField.contextResourcePath(),
          status: apigw.AccessLogField.contextStatus(),
          responseLength: apigw.AccessLogField.contextResponseLength(),
          responseLatency: apigw.AccessLogField.contextResponseLatency(),
          integrationStatus: apigw.AccessLogField.contextIntegrationStatus(),
          errorMessage: apigw.AccessLogField.contextErrorMessage(),
        }),
      ),
      // Every caller together, keys or none: what is left once the usage plans have had their say.
      throttlingRateLimit: config.stageRateLimit,
      throttlingBurstLimit: config.stageBurstLimit,
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      tracingEnabled: true,
    },
  });

  // API Gateway REST caps payloads at a fixed 10 MB; the ingest function answers 413 above 16 KB.
  // The request model is derived from the function's zod schema (shared/http/api-gateway-model.ts): it describes the
  // body to API Gateway (its exported OpenAPI, generated SDKs). It is not enforced: API Gateway's refusal of a body
  // (BAD_REQUEST_BODY) cannot name the field (its validation text is not JSON-escaped, and a gateway response
  // substitutes nothing else), where the function answers 400 validation_error with each field in `errors`. The
  // zod schema stays the one judge of a body, on AWS as on the local door, which checks no model either.
  const validator = api.addRequestValidator('NotificationValidator', {
    validateRequestBody: false,
    validateRequestParameters: true,
  });
  const requestModel = api.addModel('NotificationRequest', {
    contentType: 'application/json',
    description: "A notification's shape, derived from the ingest function's schema; the function validates its fields",
    schema: {
      // The derived keywords are draft 4's, their `type` values JsonSchemaType's own strings.
      ...(apiGatewayModelSchema(notificationRequestSchema) as apigw.JsonSchema),
      schema: apigw.JsonSchemaVersion.DRAFT4,
      title: 'NotificationRequest',
    },
  });
  // The catalog's routes. API key routes: a missing or wrong x-api-key is answered 403 by API Gateway. IAM routes:
  // an unsigned request, a wrong signature or a caller without execute-api:Invoke on the method is answered 403, and
  // the upstream's key opens nothing. Either way the function never runs. Open routes (the contract): anyone.
  for (const route of apiRoutes()) {
    // The ingest routes (/v1/notifications and its deprecated unversioned alias) carry the notification body.
    const withBody = route.target === 'ingest';
    api.root
      .resourceForPath(route.resource)
      .addMethod(route.method, new apigw.LambdaIntegration(props.functions[route.target].lambda), {
        ...METHOD_AUTH[route.auth],
        ...(withBody ? { requestValidator: validator, requestModels: { 'application/json': requestModel } } : {}),
      });
  }
  const operatorPolicy = addOperatorPolicy(stack, api, config);
  addProblemResponses(api);

  Validations.of(api).acknowledge(
    ...(config.wafRateLimitPer5Minutes > 0
      ? []
      : [
          {
            id: 'AwsSolutions-APIG3',
            reason: 'WAF turned off by wafRateLimitPer5Minutes=0: API key, usage plan and stage throttling remain.',
          },
        ]),
    {
      id: 'AwsSolutions-APIG4',
      reason:
        'POST /v1/notifications (and its deprecated alias POST /notifications) is called by the upstream system, authenticated by its API key (x-api-key) on a usage ' +
        'plan; GET /v1/openapi.json is the public contract (a static document, no data behind it); GET /ops and ' +
        '/ops/{file} serve the operations page, static files without data; every other method requires IAM ' +
        'authorization (SigV4).',
    },
    {
      id: 'AwsSolutions-APIG2',
      reason:
        "Request parameters are validated by API Gateway; bodies by the ingest function's zod schema, which answers " +
        '400 naming each wrong field (API Gateway could not name it) and refuses what is not JSON before any write.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason:
        'No Cognito authorizer: the upstream system authenticates with an API key, operators with IAM credentials ' +
        '(SigV4, the NotificationOperatorPolicy): their own, or those the operators identity pool hands out after a ' +
        'Cognito user pool sign-in on the operations page (lib/operations-page.ts).',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level logging role uses AWS's AmazonAPIGatewayPushToCloudWatchLogs policy, made for it.",
    },
  );
  const callers = [
    {
      name: UPSTREAM_CALLER,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      dailyQuota: config.apiDailyQuota,
    },
    ...config.apiCallers.map((caller) => ({
      name: caller.name,
      rateLimit: caller.rateLimit ?? config.apiRateLimit,
      burstLimit: caller.burstLimit ?? config.apiBurstLimit,
      dailyQuota: caller.dailyQuota ?? config.apiDailyQuota,
    })),
  ];
  const apiKeys = callers.map((caller) => ({ name: caller.name, apiKey: addCaller(stack, api, config, caller) }));
  if (config.wafRateLimitPer5Minutes > 0) addRateBasedWaf(stack, api, config);
  return { api, apiKey: apiKeys[0]!.apiKey, apiKeys, operatorPolicy };
}

/**
 * One upstream system: its API key and its usage plan (rate, burst, daily quota: a 429 past any of them). The first
 * keeps the logical ids it was deployed with (UpstreamApiKey, UsagePlan), so that its key survives the upgrade.
 */
function addCaller(
  stack: Stack,
  api: apigw.RestApi,
  config: NotificationConfig,
  caller: { name: string } & UsagePlan,
): apigw.ApiKey {
  const first = caller.name === UPSTREAM_CALLER;
  const id = first ? '' : pascalCase(caller.name);
  const apiKey = new apigw.ApiKey(stack, first ? 'UpstreamApiKey' : `${id}ApiKey`, {
    description: first
      ? `Key the upstream system sends as x-api-key (${config.stage})`
      : `Key the upstream system ${caller.name} sends as x-api-key (${config.stage})`,
  });
  const usagePlan = api.addUsagePlan(first ? 'UsagePlan' : `${id}UsagePlan`, {
    name: first ? `wachap-notifications-${config.stage}` : `wachap-notifications-${config.stage}-${caller.name}`,
    throttle: { rateLimit: caller.rateLimit, burstLimit: caller.burstLimit },
    // A bug upstream cannot send more than this in a day (429 "Limit Exceeded" until midnight UTC).
    quota: { limit: caller.dailyQuota, period: apigw.Period.DAY },
    apiStages: [{ api, stage: api.deploymentStage }],
  });
  usagePlan.addApiKey(apiKey);
  return apiKey;
}

const METHOD_AUTH: Record<ApiAuth, Pick<apigw.MethodOptions, 'authorizationType' | 'apiKeyRequired'>> = {
  apiKey: { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true },
  iam: { authorizationType: apigw.AuthorizationType.IAM, apiKeyRequired: false },
  none: { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: false },
};

/**
 * API Gateway's own refusals (missing or wrong key, signature, throttling, body too large, unknown route…) answered
 * as problem details, like the functions' errors: the same table as the local door (shared/http/gateway-problems.ts).
 */
function addProblemResponses(api: apigw.RestApi) {
  for (const [type, problem] of Object.entries(GATEWAY_PROBLEMS) as [GatewayResponseType, GatewayProblem][]) {
    api.addGatewayResponse(`Problem${type}`, {
      type: apigw.ResponseType.of(type),
      ...(problem.status !== undefined ? { statusCode: String(problem.status) } : {}),
      responseHeaders: {
        'Content-Type': `'${PROBLEM_CONTENT_TYPE}'`,
        ...Object.fromEntries(Object.entries(problem.headers ?? {}).map(([name, value]) => [name, `'${value}'`])),
      },
      templates: {
        [PROBLEM_CONTENT_TYPE]: gatewayResponseTemplate(type),
        'application/json': gatewayResponseTemplate(type),
      },
    });
  }
}

/**
 * What an operator's user or role needs to call the operator routes (IAM authorization): execute-api:Invoke on
 * exactly those methods of this stage (all under /v1), nothing else (not POST /v1/notifications, the upstream's). A
 * {param} becomes `*`: IAM matches the ARN against the path the caller asked for.
 */
function addOperatorPolicy(stack: Stack, api: apigw.RestApi, config: NotificationConfig): iam.ManagedPolicy {
  const methodArns = apiRoutes()
    .filter((route) => route.auth === 'iam')
    .map((route) =>
      api.arnForExecuteApi(route.method, route.resource.replace(/\{\w+\}/g, '*'), api.deploymentStage.stageName),
    );
  const policy = new iam.ManagedPolicy(stack, 'NotificationOperatorPolicy', {
    description: `Operators of wachap-notifications (${config.stage}): read, list, export, cancel and re-drive notifications`,
    statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: methodArns })],
  });
  // cdk-nag names each wildcard resource in its finding: acknowledged one by one, only those of a {param}.
  Validations.of(policy).acknowledge(
    ...methodArns
      .map((arn) => flattenedReference(stack.resolve(arn)))
      .filter((arn) => arn.includes('*'))
      .map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${arn}]`,
        reason:
          'The * stands for the {id} path parameter of one operator method (execute-api ARNs name the path ' +
          'called); the API, the stage and the method are named exactly.',
      })),
  );
  return policy;
}

/** A resolved CloudFormation value as cdk-nag writes it in a finding: Fn::Join joined, Ref and GetAtt as <…>. */
export function flattenedReference(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (node['Fn::Join']) return node['Fn::Join'][1].map(flattenedReference).join(node['Fn::Join'][0]);
  if (node.Ref) return `<${node.Ref}>`;
  if (node['Fn::GetAtt']) return `<${node['Fn::GetAtt'][0]}.${node['Fn::GetAtt'][1]}>`;
  return JSON.stringify(value);
}

/**
 * A WAF web ACL on the stage with one rate-based rule: a source IP sending more than the limit in 5 minutes is
 * blocked (403) until its rate falls back. It turns away a flood before API Gateway counts it against the account's
 * throttle (shared with the upstream's key), whether or not the flood carries a key. Cost: $5 a month for the ACL,
 * $1 for the rule, $0.60 per million requests inspected.
 */
function addRateBasedWaf(stack: Stack, api: apigw.RestApi, config: NotificationConfig) {
  const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true });
  const acl = new wafv2.CfnWebACL(stack, 'ApiWebAcl', {
    name: `wachap-notifications-${config.stage}`,
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: metric(`wachap-notifications-${config.stage}`),
    rules: [
      {
        name: 'RatePerSourceIp',
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            limit: config.wafRateLimitPer5Minutes,
            aggregateKeyType: 'IP',
            evaluationWindowSec: 300,
          },
        },
        visibilityConfig: metric('RatePerSourceIp'),
      },
    ],
  });
  new wafv2.CfnWebACLAssociation(stack, 'ApiWebAclAssociation', {
    resourceArn: api.deploymentStage.stageArn,
    webAclArn: acl.attrArn,
  });
}
