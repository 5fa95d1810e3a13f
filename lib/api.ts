// The REST API in front of the functions the catalog routes: API key and usage plan, access logs, a validator.
import { RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { apiRoutes, type FunctionName } from '../functions/catalog.js';
import type { NotificationConfig } from './config.js';
import type { NotificationFunction } from './notification-function.js';

export function addNotificationApi(
  stack: Stack,
  props: {
    config: NotificationConfig;
    functions: { readonly [N in FunctionName]: NotificationFunction<N> };
    logRemovalPolicy: RemovalPolicy;
  },
): { api: apigw.RestApi; apiKey: apigw.ApiKey } {
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
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      tracingEnabled: true,
    },
  });

  // API Gateway REST caps payloads at a fixed 10 MB; the ingest function answers 413 above 16 KB.
  // The validator turns away anything that is not a JSON object before the function is invoked;
  // the function's zod schema remains the authority on fields.
  const validator = api.addRequestValidator('NotificationValidator', {
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  const requestModel = api.addModel('NotificationRequest', {
    contentType: 'application/json',
    description: 'A notification: a JSON object; the ingest function validates its fields',
    schema: {
      schema: apigw.JsonSchemaVersion.DRAFT4,
      title: 'NotificationRequest',
      type: apigw.JsonSchemaType.OBJECT,
    },
  });
  // The catalog's routes. apiKeyRequired: a missing or wrong x-api-key is answered 403 by API Gateway; the
  // function never runs.
  for (const route of apiRoutes()) {
    const withBody = route.method === 'POST' && route.resource === '/notifications';
    api.root
      .resourceForPath(route.resource)
      .addMethod(route.method, new apigw.LambdaIntegration(props.functions[route.target].lambda), {
        apiKeyRequired: true,
        ...(withBody ? { requestValidator: validator, requestModels: { 'application/json': requestModel } } : {}),
      });
  }

  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-APIG3',
      reason: 'WAF is optional here: one server-side caller, API key plus usage-plan throttling guard the API.',
    },
    {
      id: 'AwsSolutions-APIG4',
      reason: 'The only caller is the upstream system, authenticated by its API key (x-api-key) on a usage plan.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason: 'No end users, so no Cognito user pool: the upstream system authenticates with an API key.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level logging role uses AWS's AmazonAPIGatewayPushToCloudWatchLogs policy, made for it.",
    },
  );
  const apiKey = new apigw.ApiKey(stack, 'UpstreamApiKey', {
    description: `Key the upstream system sends as x-api-key (${config.stage})`,
  });
  const usagePlan = api.addUsagePlan('UsagePlan', {
    name: `wachap-notifications-${config.stage}`,
    throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
    apiStages: [{ api, stage: api.deploymentStage }],
  });
  usagePlan.addApiKey(apiKey);
  return { api, apiKey };
}
