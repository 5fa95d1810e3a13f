// The whole system on AWS: table, send queue and its DLQ, the API in front of ingest, five functions,
// three schedules, the WaChap secret, SES permission and the alarms that page someone.
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DUE_AT_ATTRIBUTE,
  DUE_INDEX_NAME,
  DUE_SHARD_ATTRIBUTE,
  PARTITION_KEY,
  TTL_ATTRIBUTE,
} from '../shared/adapters/dynamodb/table.js';
import {
  SEND_BATCH_SIZE,
  SEND_DLQ_RETENTION_SECONDS,
  SEND_QUEUE_MAX_RECEIVE_COUNT,
  SEND_QUEUE_VISIBILITY_SECONDS,
  SENDER_TIMEOUT_SECONDS,
} from '../shared/adapters/sqs/queue-settings.js';
import { SERVICE_NAME } from '../shared/observability/logger.js';
import { HEALTH_CHECK_SCHEDULE, PROVIDER_PROBE_SCHEDULE, RETRY_SWEEP_SCHEDULE } from '../shared/schedules.js';
import type { NotificationConfig } from './config.js';
import { type HandlerName, NotificationFunction } from './notification-function.js';

export interface NotificationStackProps extends StackProps {
  config: NotificationConfig;
}

export const SENDER_TIMEOUT = Duration.seconds(SENDER_TIMEOUT_SECONDS);
/** AWS's advice for an SQS event source: visibility timeout at least 6 × the function timeout. */
export const SEND_QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(SEND_QUEUE_VISIBILITY_SECONDS);
export const SEND_MAX_RECEIVES = SEND_QUEUE_MAX_RECEIVE_COUNT;
/**
 * The least time between two WaChap probes while the circuit is open. Half the 1-minute schedule,
 * so that every tick probes even when EventBridge delivers it some seconds early or late (at 60 s
 * an early tick would be skipped and recovery seen only ~2 minutes later), while a duplicate or
 * retried delivery of the same tick still does not probe twice.
 */
export const PROVIDER_PROBE_INTERVAL = Duration.seconds(30);

export class NotificationStack extends Stack {
  readonly table: dynamodb.Table;
  readonly sendQueue: sqs.Queue;
  readonly sendDlq: sqs.Queue;
  readonly api: apigw.RestApi;
  readonly wachapSecret: secretsmanager.Secret;
  readonly functions: Readonly<Record<HandlerName, NotificationFunction>>;

  constructor(scope: Construct, id: string, props: NotificationStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Data is always kept; logs and the alarm key only outlive a production stack.
    const transient = config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // ── Store ────────────────────────────────────────────────────────────────────────────────
    this.table = new dynamodb.Table(this, 'Notifications', {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Terminal records carry ttl = terminal time + RETENTION_DAYS; DynamoDB deletes them after.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: config.stage === 'prod',
    });
    // Sparse: only records awaiting an attempt carry dueShard, so the sweep reads due work and nothing else.
    this.table.addGlobalSecondaryIndex({
      indexName: DUE_INDEX_NAME,
      partitionKey: { name: DUE_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DUE_AT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    // ── Send queue (the fast path; the table stays the source of truth) ─────────────────────
    this.sendDlq = new sqs.Queue(this, 'SendDlq', {
      retentionPeriod: Duration.seconds(SEND_DLQ_RETENTION_SECONDS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.sendQueue = new sqs.Queue(this, 'SendQueue', {
      visibilityTimeout: SEND_QUEUE_VISIBILITY_TIMEOUT,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.sendDlq, maxReceiveCount: SEND_MAX_RECEIVES },
    });

    // ── WaChap credentials: the operator fills them after deploy (see the WaChapSecretArn output) ─
    this.wachapSecret = new secretsmanager.Secret(this, 'WaChapCredentials', {
      secretName: `wachap-notifications/${config.stage}/wachap-credentials`,
      description:
        'WaChap credentials as JSON {"instanceId": "...", "accessToken": "..."}; replace the placeholder after deploy',
      // A placeholder of the right shape; the real token never appears in the template.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ instanceId: 'SET-AFTER-DEPLOY' }),
        generateStringKey: 'accessToken',
        excludePunctuation: true,
      },
    });
    Validations.of(this.wachapSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'WaChap issues and rotates its access tokens in the WaChap dashboard; no API lets a Lambda rotate them.',
    });

    // ── Functions ────────────────────────────────────────────────────────────────────────────
    // Each role grants exactly what its function calls: test/e2e/least-privilege.test.ts records the
    // calls of every path and fails on any difference.
    const commonEnvironment = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
      MAX_RETRIES: String(config.maxRetries),
      RETENTION_DAYS: String(config.retentionDays),
      DEFAULT_COUNTRY: config.defaultCountry,
    };
    const wachapEnvironment = {
      WACHAP_BASE_URL: config.wachapBaseUrl,
      WACHAP_TIMEOUT_MS: config.wachapTimeoutMs,
    };
    const notificationFunction = (id: string, handler: HandlerName, description: string, timeout: Duration) =>
      new NotificationFunction(this, id, {
        handler,
        description,
        timeout,
        memorySize: 512,
        environment: commonEnvironment,
        logRemovalPolicy: transient,
      });

    const ingest = notificationFunction(
      'Ingest',
      'ingest',
      'Accepts a notification and enqueues it',
      Duration.seconds(10),
    )
      // DeleteItem: an idempotency key is given back if its notification's id collides with another's.
      .useTable(this.table, { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] })
      .useQueue('SEND_QUEUE_URL', this.sendQueue, ['sqs:SendMessage']);

    const sender = notificationFunction('Sender', 'sender', 'Sends queued notifications through WaChap', SENDER_TIMEOUT)
      .useTable(this.table, { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] })
      .useQueue('SEND_QUEUE_URL', this.sendQueue, ['sqs:SendMessage'])
      .useWaChapSecret(this.wachapSecret)
      .setEnvironment({
        ...wachapEnvironment,
        // Each sender paces itself to WACHAP_MAX_SENDS_PER_SECOND / SENDER_MAX_CONCURRENCY, so the
        // latter must be the event source's maximum concurrency below: one value feeds both.
        SENDER_MAX_CONCURRENCY: config.senderMaxConcurrency,
        WACHAP_MAX_SENDS_PER_SECOND: config.wachapMaxSendsPerSecond,
      });
    sender.lambda.addEventSource(
      new SqsEventSource(this.sendQueue, {
        batchSize: SEND_BATCH_SIZE,
        reportBatchItemFailures: true,
        // Caps parallel senders, which is what keeps us under WaChap's rate limit.
        maxConcurrency: config.senderMaxConcurrency,
      }),
    );

    const retrySweep = notificationFunction(
      'RetrySweep',
      'retry-sweep',
      'Enqueues notifications whose next attempt is due',
      Duration.minutes(5),
    )
      // UpdateItem: the hourly counters of what it exhausts or expires.
      .useTable(this.table, {
        table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        dueIndex: ['dynamodb:Query'],
      })
      .useQueue('SEND_QUEUE_URL', this.sendQueue, ['sqs:SendMessage']);

    const healthCheck = notificationFunction(
      'HealthCheck',
      'health-check',
      'Checks failure counters, DLQ depth and backlog; alerts the admin',
      Duration.seconds(60),
    )
      .useTable(this.table, {
        table: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        dueIndex: ['dynamodb:Query'],
      })
      .useQueue('SEND_DLQ_URL', this.sendDlq, ['sqs:GetQueueAttributes'])
      .useWaChapSecret(this.wachapSecret)
      .setEnvironment({
        ...wachapEnvironment,
        ALERT_SYSTEM_ENABLED: config.alertSystemEnabled,
        ALERT_EMAIL_ENABLED: config.alertEmailEnabled,
        ALERT_WHATSAPP_ENABLED: config.alertWhatsappEnabled,
        ADMIN_EMAIL: config.adminEmail,
        ADMIN_PHONE: config.adminPhone,
        ALERT_HOURLY_FAILURE_THRESHOLD: config.alertHourlyFailureThreshold,
        ALERT_DAILY_PERMANENT_THRESHOLD: config.alertDailyPermanentThreshold,
        ALERT_FAILURE_RATE_THRESHOLD: config.alertFailureRateThreshold,
        ALERT_FAILURE_RATE_MIN_ATTEMPTS: config.alertFailureRateMinAttempts,
      });

    // Closes the provider circuit once WaChap answers again and releases the held notifications;
    // emails the admin (cooldown-limited) while it stays open. Operators invoke it too (npm run circuit).
    const providerProbe = notificationFunction(
      'ProviderProbe',
      'provider-probe',
      'Probes WaChap while the provider circuit is open; closes it and releases held notifications',
      Duration.seconds(60),
    )
      .useTable(this.table, {
        table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        dueIndex: ['dynamodb:Query'],
      })
      .useQueue('SEND_QUEUE_URL', this.sendQueue, ['sqs:SendMessage'])
      .useWaChapSecret(this.wachapSecret)
      .setEnvironment({
        ...wachapEnvironment,
        ALERT_SYSTEM_ENABLED: config.alertSystemEnabled,
        ALERT_EMAIL_ENABLED: config.alertEmailEnabled,
        ADMIN_EMAIL: config.adminEmail,
        PROVIDER_PROBE_INTERVAL_SECONDS: PROVIDER_PROBE_INTERVAL.toSeconds(),
      });

    if (config.alertEmailEnabled && config.alertFromEmail && config.sesIdentity) {
      const identityArn = this.sesIdentityArn(config.sesIdentity);
      healthCheck.sendEmailFrom(config.alertFromEmail, identityArn);
      providerProbe.sendEmailFrom(config.alertFromEmail, identityArn);
    }

    this.functions = {
      ingest,
      sender,
      'retry-sweep': retrySweep,
      'health-check': healthCheck,
      'provider-probe': providerProbe,
    };

    // ── Schedules ────────────────────────────────────────────────────────────────────────────
    new events.Rule(this, 'RetrySweepSchedule', {
      description: 'Sends what is due, including records whose enqueue was lost',
      schedule: events.Schedule.expression(RETRY_SWEEP_SCHEDULE),
      targets: [new targets.LambdaFunction(retrySweep.lambda, { retryAttempts: 2 })],
    });
    new events.Rule(this, 'HealthCheckSchedule', {
      description: 'Hourly health check and admin alerts',
      schedule: events.Schedule.expression(HEALTH_CHECK_SCHEDULE),
      targets: [new targets.LambdaFunction(healthCheck.lambda, { retryAttempts: 2 })],
    });
    new events.Rule(this, 'ProviderProbeSchedule', {
      description: 'Every minute: probes WaChap while the provider circuit is open (a no-op while it is closed)',
      schedule: events.Schedule.expression(PROVIDER_PROBE_SCHEDULE),
      // The next tick comes within a minute: a lost one is not worth a late retry.
      targets: [new targets.LambdaFunction(providerProbe.lambda, { retryAttempts: 0 })],
    });

    // ── API ──────────────────────────────────────────────────────────────────────────────────
    this.api = this.notificationApi(config, ingest, transient);
    const apiKey = new apigw.ApiKey(this, 'UpstreamApiKey', {
      description: `Key the upstream system sends as x-api-key (${config.stage})`,
    });
    const usagePlan = this.api.addUsagePlan('UsagePlan', {
      name: `wachap-notifications-${config.stage}`,
      throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    usagePlan.addApiKey(apiKey);

    // ── Alarms ───────────────────────────────────────────────────────────────────────────────
    const alarmTopic = this.alarmTopic(config, transient);
    const alarmAction = new SnsAction(alarmTopic);
    const fiveMinutes = Duration.minutes(5);
    const alarms = [
      new cloudwatch.Alarm(this, 'SendDlqNotEmpty', {
        alarmDescription: 'A notification message failed 5 receives and sits in the send DLQ',
        metric: this.sendDlq.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'SenderErrors', {
        alarmDescription: 'The sender function failed (crash or timeout), not a single notification',
        metric: sender.lambda.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'Api5xx', {
        alarmDescription: 'The notifications API answered 5xx',
        metric: this.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of alarms) alarm.addAlarmAction(alarmAction);

    // ── Outputs ──────────────────────────────────────────────────────────────────────────────
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.api.urlForPath('/notifications'), 'POST notifications here with the x-api-key header');
    output(
      'ApiKeyId',
      apiKey.keyId,
      'aws apigateway get-api-key --include-value --api-key <id> shows the key to give upstream',
    );
    output('RetrySweepFunctionName', retrySweep.lambda.functionName, 'Invoke to sweep due notifications now');
    output('HealthCheckFunctionName', healthCheck.lambda.functionName, 'Invoke to run the health check now');
    output(
      'ProviderProbeFunctionName',
      providerProbe.lambda.functionName,
      'Provider circuit: npm run circuit -- --function-name <name> (status, probe, open, close)',
    );
    output('SendQueueUrl', this.sendQueue.queueUrl, 'Send queue');
    output('SendDlqUrl', this.sendDlq.queueUrl, 'Send dead-letter queue');
    output('TableName', this.table.tableName, 'Notifications table');
    output(
      'WaChapSecretArn',
      this.wachapSecret.secretArn,
      'aws secretsmanager put-secret-value --secret-id <arn> --secret-string \'{"instanceId":"...","accessToken":"..."}\'',
    );
    output('AlarmTopicArn', alarmTopic.topicArn, 'Alarm notifications');
  }

  /** SES authorises sending against the identity: arn:aws:ses:<region>:<account>:identity/<email or domain>. */
  private sesIdentityArn(identity: string): string {
    return this.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: identity,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private notificationApi(
    config: NotificationConfig,
    ingest: NotificationFunction,
    logRemovalPolicy: RemovalPolicy,
  ): apigw.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy,
    });
    const api = new apigw.RestApi(this, 'Api', {
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
    // apiKeyRequired: a missing or wrong x-api-key is answered 403 by API Gateway; ingest never runs.
    api.root.addResource('notifications').addMethod('POST', new apigw.LambdaIntegration(ingest.lambda), {
      apiKeyRequired: true,
      requestValidator: validator,
      requestModels: { 'application/json': requestModel },
    });

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
    return api;
  }

  private alarmTopic(config: NotificationConfig, keyRemovalPolicy: RemovalPolicy): sns.Topic {
    // CloudWatch cannot publish to a topic under the AWS-managed SNS key, hence a key of our own.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the notifications alarm topic',
      enableKeyRotation: true,
      removalPolicy: keyRemovalPolicy,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `WaChap notifications alarms (${config.stage})`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.adminEmail) topic.addSubscription(new EmailSubscription(config.adminEmail));
    return topic;
  }
}
