// The whole system on AWS: table, send queues and their DLQ, the callback queue and its DLQ, the API in front of
// ingest, the functions of the catalog, three schedules, the WaChap, admin-contacts and callers' callback secrets, SES
// permission, the alarms that page someone and the dashboard.
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { API_VERSION_PATH, type FunctionName, scheduledFunctions } from '../functions/catalog.js';
import {
  DUE_AT_ATTRIBUTE,
  DUE_INDEX_NAME,
  DUE_SHARD_ATTRIBUTE,
  PARTITION_KEY,
  STATUS_AT_ATTRIBUTE,
  STATUS_INDEX_NAME,
  STATUS_INDEX_PROJECTED,
  STATUS_SHARD_ATTRIBUTE,
  TTL_ATTRIBUTE,
} from '../shared/adapters/dynamodb/table.js';
import { ADMIN_CONTACTS_PLACEHOLDER } from '../shared/adapters/secrets/admin-contacts.js';
import {
  CALLBACK_BATCH_SIZE,
  CALLBACK_DISPATCHER_MAX_CONCURRENCY,
  CALLBACK_QUEUE_MAX_RECEIVE_COUNT,
  CALLBACK_QUEUE_VISIBILITY_SECONDS,
  PRIORITY_SEND_BATCH_SIZE,
  SEND_BATCH_SIZE,
  SEND_DLQ_RETENTION_SECONDS,
  SEND_QUEUE_MAX_RECEIVE_COUNT,
  SEND_QUEUE_VISIBILITY_SECONDS,
  SENDER_TIMEOUT_SECONDS,
} from '../shared/adapters/sqs/queue-settings.js';
import { SERVICE_NAME } from '../shared/observability/logger.js';
import { addAlarms } from './alarms.js';
import { addNotificationApi, flattenedReference } from './api.js';
import { addCallbackSecret, callbackSecretPrefix, callbackSecretsArn } from './callback-secrets.js';
import type { NotificationConfig } from './config.js';
import { addDashboard, dashboardUrl } from './dashboard.js';
import { pascalCase } from './names.js';
import { NotificationFunction } from './notification-function.js';
import { addOperationsPage, type OperationsPage } from './operations-page.js';

export interface NotificationStackProps extends StackProps {
  config: NotificationConfig;
}

export const SENDER_TIMEOUT = Duration.seconds(SENDER_TIMEOUT_SECONDS);
/** AWS's advice for an SQS event source: visibility timeout at least 6 × the function timeout. */
export const SEND_QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(SEND_QUEUE_VISIBILITY_SECONDS);
export const SEND_MAX_RECEIVES = SEND_QUEUE_MAX_RECEIVE_COUNT;
/**
 * How often WaChap is checked while the circuit is open: each 1-minute tick keeps checking every interval within
 * its own invocation until the next tick, so recovery is seen within about 10 s. Probes are spaced by the interval
 * less a quarter (7.5 s), so a tick EventBridge delivers a little early still probes, while an invocation running a
 * few seconds behind another (a duplicate delivery) mostly skips the probes the other has just made.
 */
export const PROVIDER_PROBE_INTERVAL = Duration.seconds(10);

export class NotificationStack extends Stack {
  readonly table: dynamodb.Table;
  readonly sendQueue: sqs.Queue;
  readonly prioritySendQueue: sqs.Queue;
  readonly sendDlq: sqs.Queue;
  /** Status callbacks waiting for the dispatcher; its DLQ holds those given up on (and unreadable ones). */
  readonly callbackQueue: sqs.Queue;
  readonly callbackDlq: sqs.Queue;
  readonly api: apigw.RestApi;
  readonly wachapSecret: secretsmanager.Secret;
  /** Who the alerts go to, {"email", "phone"}: kept out of the template like the WaChap credentials. */
  readonly adminContactsSecret: secretsmanager.Secret;
  readonly functions: { readonly [N in FunctionName]: NotificationFunction<N> };
  /** The operators' web page (GET /ops) and its Cognito sign-in. */
  readonly operationsPage: OperationsPage;

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
    // Sparse: only records awaiting an attempt carry dueShard, so the sweep reads due work and nothing else. Keys
    // only: a write that keeps the due time (a claim) costs the index nothing; the sweep reads the items it points at.
    this.table.addGlobalSecondaryIndex({
      indexName: DUE_INDEX_NAME,
      partitionKey: { name: DUE_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DUE_AT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Every notification by status (sharded: hot-key safe) and creation, so operators list by Query, never Scan.
    // It carries what the lists filter on, which only a status change changes; a page reads its items.
    this.table.addGlobalSecondaryIndex({
      indexName: STATUS_INDEX_NAME,
      partitionKey: { name: STATUS_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATUS_AT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: STATUS_INDEX_PROJECTED,
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
    // The priority lane: OTPs and critical categories, with an event source of its own, so that no backlog of
    // ordinary notifications stands in front of them.
    this.prioritySendQueue = new sqs.Queue(this, 'PrioritySendQueue', {
      visibilityTimeout: SEND_QUEUE_VISIBILITY_TIMEOUT,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.sendDlq, maxReceiveCount: SEND_MAX_RECEIVES },
    });

    // ── Callback queue: the movers hand status callbacks over, the dispatcher POSTs them ────────
    this.callbackDlq = new sqs.Queue(this, 'CallbackDlq', {
      retentionPeriod: Duration.seconds(SEND_DLQ_RETENTION_SECONDS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.callbackQueue = new sqs.Queue(this, 'CallbackQueue', {
      visibilityTimeout: Duration.seconds(CALLBACK_QUEUE_VISIBILITY_SECONDS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Only a message whose next step the dispatcher could not queue is received again: a receiver's failures are
      // retried as new messages, and the dispatcher puts what it gives up on in the DLQ itself.
      deadLetterQueue: { queue: this.callbackDlq, maxReceiveCount: CALLBACK_QUEUE_MAX_RECEIVE_COUNT },
    });

    // ── WaChap credentials: the operator fills them after deploy (see the WaChapSecretArn output) ─
    this.wachapSecret = new secretsmanager.Secret(this, 'WaChapCredentials', {
      secretName: `wachap-notifications/${config.stage}/wachap-credentials`,
      description:
        'WaChap credentials as JSON {"instanceId": "...", "accessToken": "..."} (one instance), or several instances ' +
        '{"instances": [{"name", "instanceId", "accessToken", "prefixes", "default", "role"}, ...]}; replace the placeholder after deploy',
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

    // ── The admin's contacts: the operator fills them after deploy (see the AdminContactsSecretArn output) ──
    // Not context: an address or phone given at synth would sit in the template and the functions' configuration.
    this.adminContactsSecret = new secretsmanager.Secret(this, 'AdminContacts', {
      secretName: `wachap-notifications/${config.stage}/admin-contacts`,
      description:
        'Who gets the alerts, as JSON {"email": "...", "phone": "+223..."}; replace the placeholder after deploy',
      // A placeholder of the right shape (the functions report it as not filled in); no contact in the template.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ email: ADMIN_CONTACTS_PLACEHOLDER, phone: ADMIN_CONTACTS_PLACEHOLDER }),
        generateStringKey: 'placeholder',
        excludePunctuation: true,
      },
    });
    Validations.of(this.adminContactsSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'It holds who the admin is, not a credential: it changes when the admin does, there is nothing to rotate.',
    });

    const sendQueues = { standard: this.sendQueue, priority: this.prioritySendQueue };

    // ── Functions ────────────────────────────────────────────────────────────────────────────
    // Each role grants exactly what its function calls: test/e2e/least-privilege.test.ts records the
    // calls of every path and fails on any difference.
    const commonEnvironment = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
      MAX_RETRIES: String(config.maxRetries),
      RETENTION_DAYS: String(config.retentionDays),
      DEFAULT_COUNTRY: config.defaultCountry,
      // The commands an alert prints (npm run circuit -- --stage <stage> …) reach this stack.
      STAGE: config.stage,
    };
    const wachapEnvironment = {
      WACHAP_BASE_URL: config.wachapBaseUrl,
      WACHAP_TIMEOUT_MS: config.wachapTimeoutMs,
      // Which instance may stand in for which; the instances themselves are in the secret, with their tokens.
      WACHAP_FAILOVER: config.wachapFailover,
    };
    // Construct ids from the catalog's names (retry-sweep → RetrySweep): the logical ids deployed stacks know.
    const notificationFunction = <N extends FunctionName>(
      name: N,
      environment: Partial<typeof commonEnvironment> = commonEnvironment,
    ) =>
      new NotificationFunction<N>(this, pascalCase(name), {
        name,
        memorySize: 512,
        environment,
        logRemovalPolicy: transient,
      });

    const ingest = notificationFunction('ingest')
      // DeleteItem: an idempotency key is given back if its notification's id collides with another's.
      // UpdateItem: the per-recipient counters (a conditional ADD per acceptance).
      .useTable(this.table, {
        table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      })
      .sendsTo(sendQueues)
      .setEnvironment({
        CRITICAL_CATEGORIES: config.criticalCategories.join(','),
        RECIPIENT_LIMITS: config.recipientLimits,
      });

    // The operators' routes (IAM authorization): reads through the status index, and actions that are conditional
    // writes of one notification, a re-drive queued on its lane.
    // BatchGetItem: a list page reads the items the status index points at (it projects keys and filters only).
    const operatorRead = notificationFunction('operator-read').useTable(this.table, {
      table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      statusIndex: ['dynamodb:Query'],
    });
    const operatorActions = notificationFunction('operator-actions')
      .useTable(this.table, {
        table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'],
        statusIndex: ['dynamodb:Query'],
      })
      .sendsTo(sendQueues)
      .emitsCallbacksTo(this.callbackQueue);

    // The contract (GET /v1/openapi.json, no credentials): a document built into its bundle. It reads no setting and
    // touches nothing: its role grants its logs only.
    const apiDocs = notificationFunction('api-docs', {
      POWERTOOLS_SERVICE_NAME: commonEnvironment.POWERTOOLS_SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: commonEnvironment.POWERTOOLS_LOG_LEVEL,
    });

    const sender = notificationFunction('sender')
      .useTable(this.table, { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] })
      .sendsTo(sendQueues)
      .emitsCallbacksTo(this.callbackQueue)
      .useWaChapSecret(this.wachapSecret)
      .setEnvironment({
        ...wachapEnvironment,
        // Each sender paces itself to its lane's rate divided by its lane's maximum concurrency, so these must be
        // the event sources' maximum concurrencies below: one value feeds both.
        SENDER_MAX_CONCURRENCY: config.senderMaxConcurrency,
        PRIORITY_SENDER_MAX_CONCURRENCY: config.prioritySenderMaxConcurrency,
        WACHAP_MAX_SENDS_PER_SECOND: config.wachapMaxSendsPerSecond,
        PRIORITY_SENDS_PER_SECOND: config.prioritySendsPerSecond,
        EMAIL_FALLBACK_CATEGORIES: config.emailFallbackCategories.join(','),
        EMAIL_FALLBACK_BEFORE_EXPIRY_SECONDS: config.emailFallbackBeforeExpirySeconds,
      });
    // The email channel (the fallback when WhatsApp cannot take a notification): only with an address to send from.
    if (config.emailFrom && config.sesIdentity) {
      sender.sendNotificationEmailsFrom(config.emailFrom, this.sesIdentityArn(config.sesIdentity));
    }
    // Caps parallel senders per lane, which is what keeps us under WaChap's rate limit.
    for (const [queue, maxConcurrency, batchSize] of [
      [this.sendQueue, config.senderMaxConcurrency, SEND_BATCH_SIZE],
      [this.prioritySendQueue, config.prioritySenderMaxConcurrency, PRIORITY_SEND_BATCH_SIZE],
    ] as const) {
      sender.lambda.addEventSource(
        new SqsEventSource(queue, { batchSize, reportBatchItemFailures: true, maxConcurrency }),
      );
    }

    const retrySweep = notificationFunction('retry-sweep')
      // UpdateItem: the hourly counters of what it exhausts or expires. The status index: a run with a raised
      // --max-retries finds the max_retries_exceeded notifications it re-drives there. BatchGetItem: the items both
      // indexes point at (they project keys, and the status index what lists filter on).
      .useTable(this.table, {
        table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        dueIndex: ['dynamodb:Query'],
        statusIndex: ['dynamodb:Query'],
      })
      .sendsTo(sendQueues)
      .emitsCallbacksTo(this.callbackQueue);

    const healthCheck = notificationFunction('health-check')
      .useTable(this.table, {
        table: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        dueIndex: ['dynamodb:Query'],
        // The alerts list up to 10 of the failed or held notifications they concern.
        statusIndex: ['dynamodb:Query'],
      })
      .useQueue('SEND_DLQ_URL', this.sendDlq, ['sqs:GetQueueAttributes'])
      .useWaChapSecret(this.wachapSecret)
      .setEnvironment({
        ...wachapEnvironment,
        ALERT_SYSTEM_ENABLED: config.alertSystemEnabled,
        ALERT_EMAIL_ENABLED: config.alertEmailEnabled,
        ALERT_WHATSAPP_ENABLED: config.alertWhatsappEnabled,
        ALERT_HOURLY_FAILURE_THRESHOLD: config.alertHourlyFailureThreshold,
        ALERT_DAILY_PERMANENT_THRESHOLD: config.alertDailyPermanentThreshold,
        ALERT_FAILURE_RATE_THRESHOLD: config.alertFailureRateThreshold,
        ALERT_FAILURE_RATE_MIN_ATTEMPTS: config.alertFailureRateMinAttempts,
        ALERT_FAILED_OTP_THRESHOLD: config.alertFailedOtpThreshold,
        ALERT_WHATSAPP_FAILURE_THRESHOLD: config.alertWhatsappFailureThreshold,
      });

    // Closes the provider circuit once WaChap answers again and releases the held notifications;
    // emails the admin (cooldown-limited) while it stays open. Operators invoke it too (npm run circuit).
    const providerProbe = notificationFunction('provider-probe')
      .useTable(this.table, {
        // BatchGetItem: the held notifications the due index (keys only) points at.
        table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        dueIndex: ['dynamodb:Query'],
      })
      .sendsTo(sendQueues)
      .useWaChapSecret(this.wachapSecret)
      .setEnvironment({
        ...wachapEnvironment,
        ALERT_SYSTEM_ENABLED: config.alertSystemEnabled,
        ALERT_EMAIL_ENABLED: config.alertEmailEnabled,
        PROVIDER_PROBE_INTERVAL_SECONDS: PROVIDER_PROBE_INTERVAL.toSeconds(),
      });

    // The status callbacks: each signed with its caller's secret and POSTed, retried as new messages on its queue,
    // given up into the DLQ (SendMessage on both); the notification of one given up is marked (GetItem, UpdateItem).
    // The provider probe emits none: releasing held notifications is no move a caller hears of.
    const callbackSecrets = callbackSecretsArn(this, config.stage);
    const callbackDispatcher = notificationFunction('callback-dispatcher')
      .useTable(this.table, { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] })
      .useQueue('CALLBACK_QUEUE_URL', this.callbackQueue, ['sqs:SendMessage'])
      .useQueue('CALLBACK_DLQ_URL', this.callbackDlq, ['sqs:SendMessage'])
      .useCallbackSecrets(callbackSecretPrefix(config.stage), callbackSecrets)
      // Explicit, although the default: in AWS a callback goes only over https, only to public addresses.
      .setEnvironment({ CALLBACK_URLS: 'public-https' });
    callbackDispatcher.lambda.addEventSource(
      new SqsEventSource(this.callbackQueue, {
        batchSize: CALLBACK_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: CALLBACK_DISPATCHER_MAX_CONCURRENCY,
      }),
    );
    Validations.of(callbackDispatcher.lambda.role!).acknowledge({
      // cdk-nag names the wildcard resource as the template has it.
      id: `AwsSolutions-IAM5[Resource::${flattenedReference(this.resolve(callbackSecrets))}]`,
      reason:
        "One secret per upstream caller, named <prefix><API key id>: the dispatcher reads the caller's under the " +
        'prefix, and nothing else; a caller added later needs no change to this role.',
    });

    // Who the alerts go to is read from the secret by the functions that address them, and only by those: the health
    // check (email and WhatsApp) and the probe (email only: its WhatsApp would go through the broken provider).
    const alerting = config.alertSystemEnabled;
    if (alerting && (config.alertEmailEnabled || config.alertWhatsappEnabled)) {
      healthCheck.useAdminContactsSecret(this.adminContactsSecret);
    }
    if (alerting && config.alertEmailEnabled) providerProbe.useAdminContactsSecret(this.adminContactsSecret);

    if (config.alertEmailEnabled && config.alertFromEmail && config.sesIdentity && config.alertRecipients) {
      const identityArn = this.sesIdentityArn(config.sesIdentity);
      // SES may send only to alertRecipients (ses:Recipients): a compromised function cannot mail anyone else.
      healthCheck.sendEmailFrom(config.alertFromEmail, identityArn, config.alertRecipients);
      providerProbe.sendEmailFrom(config.alertFromEmail, identityArn, config.alertRecipients);
    }

    this.functions = {
      ingest,
      'operator-read': operatorRead,
      'operator-actions': operatorActions,
      'api-docs': apiDocs,
      sender,
      'retry-sweep': retrySweep,
      'health-check': healthCheck,
      'provider-probe': providerProbe,
      'callback-dispatcher': callbackDispatcher,
    };

    // ── Schedules ────────────────────────────────────────────────────────────────────────────
    for (const { name, trigger } of scheduledFunctions()) {
      new events.Rule(this, `${pascalCase(name)}Schedule`, {
        description: trigger.description,
        schedule: events.Schedule.expression(trigger.expression),
        targets: [new targets.LambdaFunction(this.functions[name].lambda, { retryAttempts: trigger.retryAttempts })],
      });
    }

    // ── API and alarms (in this stack's scope: the logical ids deployed stacks know) ────────────
    const { api, apiKeys, operatorPolicy } = addNotificationApi(this, {
      config,
      functions: this.functions,
      logRemovalPolicy: transient,
    });
    this.api = api;
    // Each upstream caller's signing secret, named after its key's id (what its notifications record as caller).
    for (const { apiKey } of apiKeys) addCallbackSecret(this, apiKey, { stage: config.stage });
    this.operationsPage = addOperationsPage(this, { config, api, operatorPolicy, removalPolicy: transient });
    // Every alert links the operations page. Built from the API's id and the stage's name, not from api.url: that
    // names the deployment, which depends on the methods, which depend on the functions (a cycle).
    const operationsPageUrl = `https://${api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${config.stage}/ops/`;
    healthCheck.setEnvironment({ OPERATIONS_PAGE_URL: operationsPageUrl });
    providerProbe.setEnvironment({ OPERATIONS_PAGE_URL: operationsPageUrl });
    const { topic: alarmTopic, alarms } = addAlarms(this, {
      config,
      keyRemovalPolicy: transient,
      sendDlq: this.sendDlq,
      callbackDlq: this.callbackDlq,
      prioritySendQueue: this.prioritySendQueue,
      functions: this.functions,
      api,
    });
    const dashboard = addDashboard(this, {
      stage: config.stage,
      alarms,
      sendDlq: this.sendDlq,
      failureLogGroups: [sender.logGroup, retrySweep.logGroup],
    });

    // ── Outputs ──────────────────────────────────────────────────────────────────────────────
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output(
      'ApiUrl',
      this.api.urlForPath(`${API_VERSION_PATH}/notifications`),
      'POST notifications here with the x-api-key header; operators call the routes under it signed (SigV4)',
    );
    output(
      'OperatorPolicyArn',
      operatorPolicy.managedPolicyArn,
      "Attach to an operator's user or role: execute-api:Invoke on the operator routes (read, list, export, cancel, retry)",
    );
    output('IngestFunctionName', ingest.lambda.functionName, 'Behind POST /notifications');
    output('OperatorReadFunctionName', operatorRead.lambda.functionName, 'Behind the operator routes that read');
    output('OperatorActionsFunctionName', operatorActions.lambda.functionName, 'Behind cancel and re-drive');
    output(
      'ApiKeyId',
      apiKeys[0]!.apiKey.keyId,
      'aws apigateway get-api-key --include-value --api-key <id> shows the key to give upstream',
    );
    for (const { name, apiKey: key } of apiKeys.slice(1)) {
      output(
        `${pascalCase(name)}ApiKeyId`,
        key.keyId,
        `aws apigateway get-api-key --include-value --api-key <id> shows the key to give ${name}`,
      );
    }
    output('RetrySweepFunctionName', retrySweep.lambda.functionName, 'Invoke to sweep due notifications now');
    output('HealthCheckFunctionName', healthCheck.lambda.functionName, 'Invoke to run the health check now');
    output(
      'ProviderProbeFunctionName',
      providerProbe.lambda.functionName,
      'Provider circuit: npm run circuit -- --function-name <name> (status, probe, open, close)',
    );
    output('SendQueueUrl', this.sendQueue.queueUrl, 'Send queue');
    output('SendDlqUrl', this.sendDlq.queueUrl, 'Send dead-letter queue');
    output(
      'CallbackDlqUrl',
      this.callbackDlq.queueUrl,
      'Status callbacks given up on after 24 h (and unreadable ones); a DLQ redrive to the callback queue retries them',
    );
    output('TableName', this.table.tableName, 'Notifications table');
    output(
      'WaChapSecretArn',
      this.wachapSecret.secretArn,
      'aws secretsmanager put-secret-value --secret-id <arn> --secret-string \'{"instanceId":"...","accessToken":"..."}\' ' +
        '(several instances: \'{"instances":[{"name":"china","instanceId":"...","accessToken":"...","prefixes":["+86"]},' +
        '{"name":"mali","instanceId":"...","accessToken":"...","default":true}]}\', README: WaChap instances)',
    );
    output(
      'AdminContactsSecretArn',
      this.adminContactsSecret.secretArn,
      'aws secretsmanager put-secret-value --secret-id <arn> --secret-string \'{"email":"...","phone":"+223..."}\'',
    );
    output(
      'DashboardUrl',
      dashboardUrl(this.region, dashboard.dashboardName),
      'The CloudWatch dashboard: sends and failures, latencies, backlog, circuit, DLQ, alarms, latest failures',
    );
    output(
      'AlarmTopicArn',
      alarmTopic.topicArn,
      'Alarm notifications: aws sns subscribe --topic-arn <arn> --protocol email --notification-endpoint <admin email>',
    );
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
}
