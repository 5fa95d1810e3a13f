import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import { type App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { FUNCTION_NAMES, FUNCTIONS, PROVIDER_PROBE_TIMEOUT_SECONDS } from '../../functions/catalog.js';
import { parseNotificationConfig, StackConfigError } from '../../lib/config.js';
import type { HandlerName } from '../../lib/notification-function.js';
import { type NotificationStack, PROVIDER_PROBE_INTERVAL } from '../../lib/notification-stack.js';
import { rateToMs } from '../../local/schedules.js';
import {
  DUE_AT_ATTRIBUTE,
  DUE_INDEX_NAME,
  DUE_SHARD_ATTRIBUTE,
  PARTITION_KEY,
  STATUS_AT_ATTRIBUTE,
  STATUS_INDEX_NAME,
  STATUS_SHARD_ATTRIBUTE,
  TTL_ATTRIBUTE,
} from '../../shared/adapters/dynamodb/table.js';
import { RELEASE_STOP_MARGIN_MS } from '../../shared/application/release-held.js';
import { OPS_FILES } from '../../shared/http/operations-page.js';
import {
  HEALTH_CHECK_SCHEDULE,
  PROVIDER_PROBE_PERIOD_SECONDS,
  PROVIDER_PROBE_SCHEDULE,
  RETRY_SWEEP_SCHEDULE,
} from '../../shared/schedules.js';
import {
  cdkJson,
  FULL_CONTEXT,
  grantedActions,
  removeSyntheses,
  roleStatements,
  synthesize,
  VALIDATE_FLAG,
} from '../support/cdk-stack.js';

afterAll(removeSyntheses);

describe('NotificationStack', () => {
  let stack: NotificationStack;
  let app: App;
  let template: Template;
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const functionId = (name: HandlerName) => logicalId(stack.functions[name].lambda);
  const roleId = (name: HandlerName) => {
    const role = stack.functions[name].lambda.role;
    if (!role) throw new Error(`${name} has no role`);
    return logicalId(role);
  };
  const functionProperties = (name: HandlerName) =>
    template.toJSON().Resources[functionId(name)].Properties as {
      Timeout: number;
      Environment: { Variables: Record<string, unknown> };
    };
  const statementsOf = (name: HandlerName) => roleStatements(stack, template, name);
  /** The functions that read the core settings: all but the contract's, which answers a document it carries. */
  const coreReaders = (): HandlerName[] =>
    (Object.keys(stack.functions) as HandlerName[]).filter((name) => name !== 'api-docs');
  const actionsOf = (name: HandlerName) => grantedActions(stack, template, name);

  beforeAll(() => {
    ({ app, stack, template } = synthesize());
  });

  describe('table', () => {
    it('is on-demand, encrypted, point-in-time recoverable, expires records by ttl and survives stack deletion', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        }),
      });
    });

    it("has the sparse due-work index (keys only) and the status index (keys and the lists' filters), each keyed by shard and time", () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: DUE_SHARD_ATTRIBUTE, AttributeType: 'S' },
          { AttributeName: DUE_AT_ATTRIBUTE, AttributeType: 'S' },
          { AttributeName: STATUS_SHARD_ATTRIBUTE, AttributeType: 'S' },
          { AttributeName: STATUS_AT_ATTRIBUTE, AttributeType: 'S' },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: DUE_INDEX_NAME,
            KeySchema: [
              { AttributeName: DUE_SHARD_ATTRIBUTE, KeyType: 'HASH' },
              { AttributeName: DUE_AT_ATTRIBUTE, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          {
            IndexName: STATUS_INDEX_NAME,
            KeySchema: [
              { AttributeName: STATUS_SHARD_ATTRIBUTE, KeyType: 'HASH' },
              { AttributeName: STATUS_AT_ATTRIBUTE, KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: ['category', 'recipient', 'reason', 'attempts', 'expiresAt'],
            },
          },
        ],
      });
    });

    it('passes the retention to every function that reads the core settings as RETENTION_DAYS', () => {
      for (const name of coreReaders()) {
        expect(functionProperties(name).Environment.Variables.RETENTION_DAYS).toBe('90');
      }
    });
  });

  describe('send queue', () => {
    it('is encrypted, hides a message for at least 6 sender timeouts and dead-letters after 5 receives', () => {
      const queue = template.toJSON().Resources[logicalId(stack.sendQueue)].Properties;
      expect(queue.SqsManagedSseEnabled).toBe(true);
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionProperties('sender').Timeout);
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.sendDlq), 'Arn'] },
        maxReceiveCount: 5,
      });
    });

    it('keeps dead letters 14 days, encrypted', () => {
      const dlq = template.toJSON().Resources[logicalId(stack.sendDlq)].Properties;
      expect(dlq).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    });

    it('refuses non-TLS requests on both queues', () => {
      for (const queue of [stack.sendQueue, stack.sendDlq]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('API', () => {
    it('requires the API key on POST /v1/notifications (and its unversioned alias), and IAM authorization on every other method but the contract', () => {
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'notifications' });
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        ApiKeyRequired: true,
        RequestValidatorId: Match.anyValue(),
        Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
      });
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
      // POST /v1/notifications and its deprecated alias POST /notifications, both validated.
      const keyed = methods.filter((method) => method.Properties.ApiKeyRequired);
      expect(keyed.length).toBe(2);
      expect(keyed.every((method) => method.Properties.RequestValidatorId !== undefined)).toBe(true);
      // No method is open but GET /v1/openapi.json (test/cdk/api-contract.test.ts) and the operations page's files
      // (test/cdk/operations-page.test.ts): the upstream's key or an IAM principal's signature
      // (test/cdk/operator-api.test.ts).
      const pageFunction = logicalId(stack.operationsPage.pageFunction);
      const open = methods.filter(
        (m) => m.Properties.ApiKeyRequired !== true && m.Properties.AuthorizationType !== 'AWS_IAM',
      );
      const integrations = open.map((m) => [m.Properties.HttpMethod, JSON.stringify(m.Properties.Integration)]);
      expect(integrations).toHaveLength(3);
      expect(integrations.filter(([, integration]) => integration?.includes(functionId('api-docs')))).toEqual([
        ['GET', expect.any(String)],
      ]);
      expect(integrations.filter(([, integration]) => integration?.includes(pageFunction))).toEqual([
        ['GET', expect.any(String)],
        ['GET', expect.any(String)],
      ]);
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'HEADER' });
    });

    it("describes the body with the model derived from the schema, and leaves judging it to the function's schema, which names the field", () => {
      template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: false,
        ValidateRequestParameters: true,
      });
      template.hasResourceProperties('AWS::ApiGateway::Model', {
        ContentType: 'application/json',
        Schema: Match.objectLike({ type: 'object' }),
      });
    });

    it('hands the body to the function as raw bytes, so that bytes that are not UTF-8 reach its check', () => {
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'] });
    });

    it('throttles through a usage plan holding the upstream key', () => {
      template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: 10, BurstLimit: 20 },
        ApiStages: [Match.objectLike({ ApiId: Match.anyValue(), Stage: Match.anyValue() })],
      });
      template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
      template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    });

    it('writes JSON access logs, with execution errors, metrics and tracing', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'test',
        AccessLogSetting: {
          DestinationArn: Match.anyValue(),
          Format: Match.serializedJson(
            Match.objectLike({ requestId: '$context.requestId', apiKeyId: '$context.identity.apiKeyId' }),
          ),
        },
        MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR', MetricsEnabled: true, DataTraceEnabled: false })],
        TracingEnabled: true,
      });
    });
  });

  describe('functions', () => {
    it("are the catalog's, nodejs22.x on arm64, traced, logging to a one-month log group", () => {
      // And the operations page's file server, which is not the catalog's (test/cdk/operations-page.test.ts).
      template.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length + 1);
      expect(Object.keys(stack.functions).sort()).toEqual([...FUNCTION_NAMES].sort());
      for (const name of Object.keys(stack.functions) as HandlerName[]) {
        const fn = stack.functions[name];
        template.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: Match.absent(),
          Handler: 'index.handler',
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: { Ref: logicalId(fn.logGroup) } },
          Role: { 'Fn::GetAtt': [roleId(name), 'Arn'] },
        });
        expect(template.toJSON().Resources[logicalId(fn.logGroup)].Properties.RetentionInDays).toBe(30);
      }
    });

    it("set no variable their function does not read (the catalog's schema, Node and Powertools)", () => {
      const keysOf = (schema: z.ZodType): string[] => {
        const def = (schema as unknown as { def: { type: string; left?: z.ZodType; right?: z.ZodType } }).def;
        if (def.type === 'intersection') return [...keysOf(def.left!), ...keysOf(def.right!)];
        return Object.keys((schema as z.ZodObject).shape);
      };
      for (const name of FUNCTION_NAMES) {
        const read = new Set([
          ...keysOf(FUNCTIONS[name].environment),
          'NODE_OPTIONS',
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_LOG_LEVEL',
        ]);
        const set = Object.keys(functionProperties(name).Environment.Variables);
        expect(
          set.filter((variable) => !read.has(variable)),
          name,
        ).toEqual([]);
      }
    });

    it('give the sender 60 s, and the provider probe its watch of a minute plus its release margin (70 s)', () => {
      expect(functionProperties('sender').Timeout).toBe(60);
      expect(functionProperties('provider-probe').Timeout).toBe(70);
      expect(PROVIDER_PROBE_TIMEOUT_SECONDS * 1000).toBe(rateToMs(PROVIDER_PROBE_SCHEDULE) + RELEASE_STOP_MARGIN_MS);
    });

    it('get exactly the environment each needs', () => {
      const common = [
        'NODE_OPTIONS',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_LOG_LEVEL',
        'MAX_RETRIES',
        'RETENTION_DAYS',
        'DEFAULT_COUNTRY',
        'STAGE',
        'TABLE_NAME',
      ];
      const wachap = ['WACHAP_SECRET_ARN', 'WACHAP_BASE_URL', 'WACHAP_TIMEOUT_MS'];
      const sendQueues = ['SEND_QUEUE_URL', 'PRIORITY_SEND_QUEUE_URL'];
      const expected: Record<HandlerName, string[]> = {
        ingest: [...common, ...sendQueues, 'CRITICAL_CATEGORIES'],
        'operator-read': common,
        // It reads no setting: the log settings only.
        'api-docs': ['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL'],
        'operator-actions': [...common, ...sendQueues, 'CALLBACK_QUEUE_URL'],
        sender: [
          ...common,
          ...sendQueues,
          'CALLBACK_QUEUE_URL',
          ...wachap,
          'SENDER_MAX_CONCURRENCY',
          'PRIORITY_SENDER_MAX_CONCURRENCY',
          'WACHAP_MAX_SENDS_PER_SECOND',
          'PRIORITY_SENDS_PER_SECOND',
          // The email fallback's policy; EMAIL_FROM only with emailFrom (see SES).
          'EMAIL_FALLBACK_CATEGORIES',
          'EMAIL_FALLBACK_BEFORE_EXPIRY_SECONDS',
        ],
        'retry-sweep': [...common, ...sendQueues, 'CALLBACK_QUEUE_URL'],
        'health-check': [
          ...common,
          'SEND_DLQ_URL',
          ...wachap,
          'ALERT_SYSTEM_ENABLED',
          'ALERT_EMAIL_ENABLED',
          'ALERT_WHATSAPP_ENABLED',
          'ADMIN_CONTACTS_SECRET_ARN',
          'ALERT_FROM_EMAIL',
          'ALERT_HOURLY_FAILURE_THRESHOLD',
          'ALERT_DAILY_PERMANENT_THRESHOLD',
          'ALERT_FAILURE_RATE_THRESHOLD',
          'ALERT_FAILURE_RATE_MIN_ATTEMPTS',
          'ALERT_FAILED_OTP_THRESHOLD',
          'ALERT_WHATSAPP_FAILURE_THRESHOLD',
          'OPERATIONS_PAGE_URL',
        ],
        'provider-probe': [
          ...common,
          ...sendQueues,
          ...wachap,
          'ALERT_SYSTEM_ENABLED',
          'ALERT_EMAIL_ENABLED',
          'ADMIN_CONTACTS_SECRET_ARN',
          'ALERT_FROM_EMAIL',
          'PROVIDER_PROBE_INTERVAL_SECONDS',
          'OPERATIONS_PAGE_URL',
        ],
        'callback-dispatcher': [
          ...common,
          'CALLBACK_QUEUE_URL',
          'CALLBACK_DLQ_URL',
          'CALLBACK_SECRET_PREFIX',
          'CALLBACK_URLS',
        ],
      };
      for (const [name, variables] of Object.entries(expected)) {
        const environment = functionProperties(name as HandlerName).Environment.Variables;
        expect(Object.keys(environment).sort(), name).toEqual([...variables].sort());
        expect(environment.POWERTOOLS_SERVICE_NAME).toBe('wachap-notifications');
        // The commands the alerts print (npm run circuit -- --stage <stage> …) reach this stage's stack.
        if (coreReaders().includes(name as HandlerName)) expect(environment.STAGE, name).toBe('test');
      }
    });

    it("pace the sender with WaChap's rate, split over the event source's maximum concurrency", () => {
      expect(functionProperties('sender').Environment.Variables).toMatchObject({
        SENDER_MAX_CONCURRENCY: '3',
        WACHAP_MAX_SENDS_PER_SECOND: '8',
      });
    });

    it('let the provider probe check WaChap at every 1-minute tick, alerting the admin by email', () => {
      const environment = functionProperties('provider-probe').Environment.Variables;
      expect(environment).toMatchObject({
        SEND_QUEUE_URL: { Ref: logicalId(stack.sendQueue) },
        ALERT_SYSTEM_ENABLED: 'true',
        ALERT_EMAIL_ENABLED: 'true',
        ADMIN_CONTACTS_SECRET_ARN: { Ref: logicalId(stack.adminContactsSecret) },
        ALERT_FROM_EMAIL: 'alerts@example.com',
        PROVIDER_PROBE_INTERVAL_SECONDS: String(PROVIDER_PROBE_INTERVAL.toSeconds()),
      });
      // Well below the schedule's period: a tick checks every interval until the next one (recovery seen within
      // about 10 s), and a tick arriving a little early is not skipped.
      expect(PROVIDER_PROBE_SCHEDULE).toBe('rate(1 minute)');
      expect(PROVIDER_PROBE_PERIOD_SECONDS * 1000).toBe(rateToMs(PROVIDER_PROBE_SCHEDULE));
      expect(Number(environment.PROVIDER_PROBE_INTERVAL_SECONDS)).toBe(10);
    });
  });

  describe('sender event sources', () => {
    it('take batches of 10 from the standard lane and 1 from the priority lane, report partial failures and cap concurrency from configuration', () => {
      for (const [queue, batchSize] of [
        [stack.sendQueue, 10],
        // One OTP per invocation: a burst is shared by the lane's instances at once.
        [stack.prioritySendQueue, 1],
      ] as const) {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: functionId('sender') },
          EventSourceArn: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] },
          BatchSize: batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
      }
      // And the callback dispatcher's (below).
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    });

    it("cap each lane's concurrency at exactly the sender's setting for that lane", () => {
      const variables = functionProperties('sender').Environment.Variables;
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
      const concurrencyOf = (queue: IConstruct) =>
        String(
          mappings.find((m) => JSON.stringify(m.Properties.EventSourceArn).includes(logicalId(queue)))?.Properties
            .ScalingConfig.MaximumConcurrency,
        );
      expect(concurrencyOf(stack.sendQueue)).toBe(variables.SENDER_MAX_CONCURRENCY);
      expect(concurrencyOf(stack.prioritySendQueue)).toBe(variables.PRIORITY_SENDER_MAX_CONCURRENCY);
      expect(variables.SENDER_MAX_CONCURRENCY).toBe('3');
    });

    it('send both lanes to the one DLQ', () => {
      for (const queue of [stack.sendQueue, stack.prioritySendQueue]) {
        const properties = template.toJSON().Resources[logicalId(queue)].Properties;
        expect(properties.RedrivePolicy).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.sendDlq), 'Arn'] },
          maxReceiveCount: 5,
        });
      }
    });
  });

  describe('status callbacks', () => {
    it('are queued by the functions whose moves a caller hears of, and by no other', () => {
      const queueRef = { Ref: logicalId(stack.callbackQueue) };
      for (const name of ['sender', 'retry-sweep', 'operator-actions', 'callback-dispatcher'] as const) {
        expect(functionProperties(name).Environment.Variables.CALLBACK_QUEUE_URL, name).toEqual(queueRef);
      }
      // The probe only releases held notifications; ingest creates them: neither makes a callback.
      for (const name of ['ingest', 'operator-read', 'health-check', 'provider-probe'] as const) {
        expect(functionProperties(name).Environment.Variables.CALLBACK_QUEUE_URL, name).toBeUndefined();
        const sendsToCallbacks = statementsOf(name).some((statement) =>
          JSON.stringify(statement.Resource).includes(logicalId(stack.callbackQueue)),
        );
        expect(sendsToCallbacks, name).toBe(false);
      }
    });

    it('are dispatched from their queue in batches of 10, partial failures reported, into a DLQ of their own', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionId('callback-dispatcher') },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.callbackQueue), 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
      const properties = template.toJSON().Resources[logicalId(stack.callbackQueue)].Properties;
      expect(properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.callbackDlq), 'Arn'] },
        maxReceiveCount: 5,
      });
      // Six times the dispatcher's timeout, as AWS advises for an event source.
      expect(properties.VisibilityTimeout).toBe(6 * functionProperties('callback-dispatcher').Timeout);
      expect(functionProperties('callback-dispatcher').Environment.Variables.CALLBACK_URLS).toBe('public-https');
    });

    it("let the dispatcher read the callers' secrets under the stage's prefix, and no other secret", () => {
      const reads = statementsOf('callback-dispatcher').filter((statement) =>
        [statement.Action].flat().includes('secretsmanager:GetSecretValue'),
      );
      expect(reads).toHaveLength(1);
      expect(JSON.stringify(reads[0]!.Resource)).toContain(':secret:wachap-notifications/test/callbacks/*');
      expect(functionProperties('callback-dispatcher').Environment.Variables.CALLBACK_SECRET_PREFIX).toBe(
        'wachap-notifications/test/callbacks/',
      );
    });

    it("create the upstream caller's secret, named after its API key's id, generated as base64, its ARN an output", () => {
      const apiKey = Object.keys(template.findResources('AWS::ApiGateway::ApiKey'))[0]!;
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: { 'Fn::Join': ['', ['wachap-notifications/test/callbacks/', { Ref: apiKey }]] },
        GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 32 },
        SecretString: Match.absent(),
      });
      expect(Object.keys(template.toJSON().Outputs)).toContain('UpstreamApiKeyCallbackSecretArn');
    });
  });

  describe('schedules', () => {
    const expected = [
      ['rate(30 minutes)', 'retry-sweep'],
      ['rate(1 hour)', 'health-check'],
      ['rate(1 minute)', 'provider-probe'],
    ] as const;

    it('are the shared schedules', () => {
      expect([RETRY_SWEEP_SCHEDULE, HEALTH_CHECK_SCHEDULE, PROVIDER_PROBE_SCHEDULE]).toEqual(
        expected.map(([expression]) => expression),
      );
    });

    it('are exactly three rules, each triggering one function', () => {
      const rules = Object.values(template.findResources('AWS::Events::Rule')).map((rule) => ({
        expression: rule.Properties.ScheduleExpression,
        state: rule.Properties.State,
        targets: (rule.Properties.Targets as { Arn: unknown }[]).map((target) => target.Arn),
      }));
      const byExpression = (a: { expression: string }, b: { expression: string }) =>
        a.expression.localeCompare(b.expression);
      expect(rules.sort(byExpression)).toEqual(
        expected
          .map(([expression, name]) => ({
            expression,
            state: 'ENABLED',
            targets: [{ 'Fn::GetAtt': [functionId(name), 'Arn'] }],
          }))
          .sort(byExpression),
      );
    });

    it('let EventBridge invoke each scheduled function', () => {
      for (const [, name] of expected) {
        template.hasResourceProperties('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [functionId(name), 'Arn'] },
          Principal: 'events.amazonaws.com',
        });
      }
    });
  });

  describe('WaChap secret', () => {
    it('exists as a generated placeholder, never a value in the template', () => {
      // Three secrets: the WaChap credentials, the admin contacts and the upstream caller's callback secret.
      template.resourceCountIs('AWS::SecretsManager::Secret', 3);
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        SecretString: Match.absent(),
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'accessToken' }),
      });
    });

    it('reaches functions as an ARN only: no environment variable holds a credential', () => {
      const secretRef = { Ref: logicalId(stack.wachapSecret) };
      expect(functionProperties('sender').Environment.Variables.WACHAP_SECRET_ARN).toEqual(secretRef);
      expect(functionProperties('health-check').Environment.Variables.WACHAP_SECRET_ARN).toEqual(secretRef);
      expect(functionProperties('provider-probe').Environment.Variables.WACHAP_SECRET_ARN).toEqual(secretRef);
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        const names = Object.keys(fn.Properties.Environment?.Variables ?? {});
        // CALLBACK_SECRET_PREFIX names where the callers' secrets are, as an ARN does.
        expect(names.filter((name) => /TOKEN|INSTANCE_ID|PASSWORD|SECRET(?!_ARN|_PREFIX)/.test(name))).toEqual([]);
      }
    });
  });

  describe('admin contacts', () => {
    const secretReads = (name: HandlerName) =>
      statementsOf(name)
        .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
        .flatMap((statement) => [statement.Resource].flat());

    it('are a secret of their own, created as a generated placeholder: no contact in the template', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: 'wachap-notifications/test/admin-contacts',
        SecretString: Match.absent(),
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: JSON.stringify({ email: 'SET-AFTER-DEPLOY', phone: 'SET-AFTER-DEPLOY' }),
        }),
      });
    });

    it('reach the alerting functions only, as an ARN, with read access to that secret', () => {
      const secretRef = { Ref: logicalId(stack.adminContactsSecret) };
      for (const name of ['health-check', 'provider-probe'] as const) {
        expect(functionProperties(name).Environment.Variables.ADMIN_CONTACTS_SECRET_ARN, name).toEqual(secretRef);
        expect(secretReads(name), name).toContainEqual(secretRef);
      }
      for (const name of ['ingest', 'sender', 'retry-sweep'] as const) {
        expect(functionProperties(name).Environment.Variables.ADMIN_CONTACTS_SECRET_ARN, name).toBeUndefined();
        expect(secretReads(name), name).not.toContainEqual(secretRef);
      }
    });

    it('are in no function environment and nowhere in the template', () => {
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        const names = Object.keys(fn.Properties.Environment?.Variables ?? {});
        expect(names.filter((name) => /^ADMIN_(EMAIL|PHONE)$/.test(name))).toEqual([]);
      }
      // Every string of the template that holds an address: the sender (and its SES identity), the alarm
      // subscription and the recipient pattern, all given in context for that purpose; and no phone number at all.
      const strings: string[] = [];
      const collect = (value: unknown): void => {
        if (typeof value === 'string') strings.push(value);
        else if (Array.isArray(value)) value.forEach(collect);
        else if (value && typeof value === 'object') Object.values(value).forEach(collect);
      };
      collect(template.toJSON());
      // An address has something before its @ (the dashboard's Logs Insights query says @timestamp).
      const addresses = new Set(strings.flatMap((text) => text.match(/[^\s"'@:/]+@[\w.*-]+/g) ?? []));
      expect([...addresses].sort()).toEqual(['*@example.com', 'alerts@example.com', 'oncall@example.com']);
      expect(strings.filter((text) => /\+?223\d{8}/.test(text))).toEqual([]);
    });

    it('refuse the old adminEmail and adminPhone context keys, saying where the contacts go now', () => {
      const parse = () =>
        parseNotificationConfig({ ...FULL_CONTEXT, adminEmail: 'admin@example.com', adminPhone: '+22370123456' });
      expect(parse).toThrow(StackConfigError);
      expect(parse).toThrow(/-c adminEmail: no longer read: the admin contacts live in the admin-contacts secret/);
      expect(parse).toThrow(/-c adminPhone: no longer read: .*alertWhatsappEnabled=true/);
    });

    it('are filled in after deploy with the command of the AdminContactsSecretArn output', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
      expect(outputs.AdminContactsSecretArn?.Value).toEqual({ Ref: logicalId(stack.adminContactsSecret) });
      expect(outputs.AdminContactsSecretArn?.Description).toMatch(
        /^aws secretsmanager put-secret-value --secret-id <arn> --secret-string '\{"email":"\.\.\.","phone":"\+223\.\.\."\}'$/,
      );
    });
  });

  describe('SES', () => {
    const sesStatementsOf = (name: HandlerName) =>
      statementsOf(name).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('ses:')));

    it.each(['health-check', 'provider-probe'] as const)(
      'lets %s send only from the configured identity, and only to alertRecipients (ses:Recipients)',
      (name) => {
        expect(sesStatementsOf(name)).toEqual([
          {
            Effect: 'Allow',
            Action: 'ses:SendEmail',
            Resource: 'arn:aws:ses:eu-west-1:123456789012:identity/alerts@example.com',
            // Every To/Cc/Bcc address must match a pattern, and a request without recipients matches nothing.
            Condition: {
              'ForAllValues:StringLike': { 'ses:Recipients': ['*@example.com'] },
              Null: { 'ses:Recipients': 'false' },
            },
          },
        ]);
      },
    );

    it('lists every configured recipient in the condition, each domain in lower case', () => {
      const { stack: other, template: otherTemplate } = synthesize({
        ...FULL_CONTEXT,
        alertRecipients: 'Ops.Admin@Example.COM, *@*.example.org,*@example.net',
      });
      const [statement] = roleStatements(other, otherTemplate, 'health-check').filter(
        (candidate) => candidate.Action === 'ses:SendEmail',
      );
      expect((statement as { Condition?: unknown }).Condition).toEqual({
        'ForAllValues:StringLike': { 'ses:Recipients': ['Ops.Admin@example.com', '*@*.example.org', '*@example.net'] },
        Null: { 'ses:Recipients': 'false' },
      });
    });

    it('lets no other function send (the sender neither, without emailFrom: no email channel)', () => {
      for (const name of ['ingest', 'sender', 'retry-sweep'] as const) expect(sesStatementsOf(name)).toEqual([]);
      expect(functionProperties('sender').Environment.Variables.EMAIL_FROM).toBeUndefined();
    });

    it('with emailFrom, lets the sender send notification emails from that address only, through the one identity', () => {
      const { stack: other, template: otherTemplate } = synthesize({
        ...FULL_CONTEXT,
        emailFrom: 'notifications@example.com',
        sesIdentity: 'example.com',
        emailFallbackCategories: 'otp,colis_arrive',
      });
      const senderSes = roleStatements(other, otherTemplate, 'sender').filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('ses:')),
      );
      // Its recipients are the customers (any address): the from-address is what narrows it.
      expect(senderSes).toEqual([
        {
          Effect: 'Allow',
          Action: 'ses:SendEmail',
          Resource: 'arn:aws:ses:eu-west-1:123456789012:identity/example.com',
          Condition: { StringEquals: { 'ses:FromAddress': 'notifications@example.com' } },
        },
      ]);
      const senderId = other.getLogicalId(other.functions.sender.lambda.node.defaultChild as CfnResource);
      expect(otherTemplate.toJSON().Resources[senderId].Properties.Environment.Variables).toMatchObject({
        EMAIL_FROM: 'notifications@example.com',
        EMAIL_FALLBACK_CATEGORIES: 'otp,colis_arrive',
        EMAIL_FALLBACK_BEFORE_EXPIRY_SECONDS: '120',
      });
    });

    it('refuses an emailFrom the SES identity does not cover', () => {
      expect(() => parseNotificationConfig({ ...FULL_CONTEXT, emailFrom: 'notifications@other.example' })).toThrow(
        /sesIdentity: must be emailFrom \(notifications@other.example\) or its domain/,
      );
    });
  });

  describe('alarms', () => {
    it('are one per function and seven more, each notifying the encrypted alarm topic', () => {
      // The two DLQs, the priority lane, the API's 5xx, the failure rate, the backlog's age, the provider circuit.
      template.resourceCountIs('AWS::CloudWatch::Alarm', FUNCTION_NAMES.length + 7);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.AlarmActions).toHaveLength(1);
      }
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      // alarmEmail's, given for the purpose; the admin subscribes with the AlarmTopicArn output's command.
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    });

    it('fire when the priority lane (OTPs) holds a message over a minute', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.prioritySendQueue), 'QueueName'] } }],
      });
    });

    it('fire when the DLQ holds a message, the sender fails, or the API answers 5xx', () => {
      const atLeastOnce = { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' };
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...atLeastOnce,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.sendDlq), 'QueueName'] } }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...atLeastOnce,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.callbackDlq), 'QueueName'] } }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...atLeastOnce,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId('sender') } }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...atLeastOnce,
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
      });
    });
  });

  describe('IAM', () => {
    const platform = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
    const secretRead = ['secretsmanager:GetSecretValue'];
    const queueConsume = [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueUrl',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ];
    // What each function calls, as test/e2e/least-privilege.test.ts records it on every path.
    const expected: Record<HandlerName, string[]> = {
      ingest: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:SendMessage'],
      'operator-read': ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
      'operator-actions': [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'sqs:SendMessage',
      ],
      // Its logs and traces only: it answers a document it carries.
      'api-docs': [],
      'callback-dispatcher': [
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        ...queueConsume,
        'sqs:SendMessage',
        ...secretRead,
      ],
      sender: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        ...queueConsume,
        'sqs:SendMessage',
        ...secretRead,
      ],
      'retry-sweep': [
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'sqs:SendMessage',
      ],
      'health-check': [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'sqs:GetQueueAttributes',
        'ses:SendEmail',
        ...secretRead,
      ],
      'provider-probe': [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'sqs:SendMessage',
        'ses:SendEmail',
        ...secretRead,
      ],
    };

    it.each(Object.entries(expected))('gives %s exactly its actions, none with a wildcard', (name, actions) => {
      const granted = actionsOf(name as HandlerName);
      expect([...granted].sort()).toEqual([...actions, ...platform].sort());
      expect([...granted].filter((action) => action.includes('*'))).toEqual([]);
    });

    it('allows Query only on the due index (and the health check on the status index), never on the table', () => {
      const indexArn = (index: string) => ({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] }, `/index/${index}`]],
      });
      const queried = (name: 'health-check' | 'provider-probe') =>
        statementsOf(name)
          .filter((statement) => [statement.Action].flat().includes('dynamodb:Query'))
          .flatMap((statement) => [statement.Resource].flat());
      expect(queried('provider-probe')).toEqual([indexArn(DUE_INDEX_NAME)]);
      // The health check's alerts list the notifications they concern, through the status index.
      expect(queried('health-check')).toEqual([indexArn(DUE_INDEX_NAME), indexArn(STATUS_INDEX_NAME)]);
    });

    it('lets the retry sweep Query the due index and the status index (a raised --max-retries), never the table', () => {
      const indexArn = (index: string) => ({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] }, `/index/${index}`]],
      });
      const queries = statementsOf('retry-sweep').filter((statement) =>
        [statement.Action].flat().includes('dynamodb:Query'),
      );
      expect(queries.flatMap((statement) => [statement.Resource].flat())).toEqual([
        indexArn(DUE_INDEX_NAME),
        indexArn(STATUS_INDEX_NAME),
      ]);
    });

    it('attaches no managed policies to the function roles', () => {
      for (const name of Object.keys(stack.functions) as HandlerName[]) {
        expect(template.toJSON().Resources[roleId(name)].Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('checks', () => {
    it('leaves no cdk-nag AwsSolutions finding (error or warning) unacknowledged', () => {
      const report = new AwsSolutionsChecks(app).validateScope(app);
      expect(report.violations.map((violation) => [violation.ruleName, violation.severity])).toEqual([]);
    });

    it('raises no CDK errors or warnings on any construct', () => {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
      expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    });

    it('gives every acknowledged finding a reason', () => {
      const acknowledgements = stack.node
        .findAll()
        .flatMap((construct) => construct.node.metadata)
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
      expect(acknowledgements.length).toBeGreaterThan(0);
      for (const [id, reason] of acknowledgements) expect(reason.length, id).toBeGreaterThan(20);
    });

    it('treats CloudFormation validation findings as errors, in cdk.json and in this app', () => {
      expect(cdkJson.context[VALIDATE_FLAG]).toBe(true);
      expect(app.node.tryGetContext(VALIDATE_FLAG)).toBe(true);
    });
  });

  describe('outputs', () => {
    it('name what an operator needs', () => {
      const outputs = Object.keys(template.toJSON().Outputs);
      expect(outputs).toEqual(
        expect.arrayContaining([
          'ApiUrl',
          'ApiKeyId',
          'RetrySweepFunctionName',
          'HealthCheckFunctionName',
          'ProviderProbeFunctionName',
          'SendQueueUrl',
          'SendDlqUrl',
          'CallbackDlqUrl',
          'UpstreamApiKeyCallbackSecretArn',
          'TableName',
          'WaChapSecretArn',
          'AdminContactsSecretArn',
          'AlarmTopicArn',
        ]),
      );
    });
  });
});

describe('NotificationStack without alert contacts', () => {
  it('turns email alerts off and grants no SES permission', () => {
    const { stack, template } = synthesize({ stage: 'dev' });
    expect(stack.stackName).toBe('WaChapNotifications-dev');
    const healthCheck = stack.functions['health-check'].lambda.node.defaultChild as CfnResource;
    const environment = template.toJSON().Resources[stack.getLogicalId(healthCheck)].Properties.Environment.Variables;
    expect(environment).toMatchObject({ ALERT_EMAIL_ENABLED: 'false', ALERT_WHATSAPP_ENABLED: 'false' });
    expect(environment.ADMIN_EMAIL).toBeUndefined();
    // No alert channel: nothing reads who the admin is.
    expect(environment.ADMIN_CONTACTS_SECRET_ARN).toBeUndefined();
    const probe = stack.functions['provider-probe'].lambda.node.defaultChild as CfnResource;
    const probeEnvironment = template.toJSON().Resources[stack.getLogicalId(probe)].Properties.Environment.Variables;
    expect(probeEnvironment).toMatchObject({ ALERT_EMAIL_ENABLED: 'false' });
    expect(probeEnvironment.ADMIN_EMAIL).toBeUndefined();
    expect(probeEnvironment.ALERT_FROM_EMAIL).toBeUndefined();
    expect(probeEnvironment.ADMIN_CONTACTS_SECRET_ARN).toBeUndefined();
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('ses:');
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
    const sender = stack.functions.sender.lambda.node.defaultChild as CfnResource;
    expect(template.toJSON().Resources[stack.getLogicalId(sender)].Properties.Environment.Variables).toMatchObject({
      SENDER_MAX_CONCURRENCY: '2',
      WACHAP_MAX_SENDS_PER_SECOND: '5',
    });
  });
});

describe('stack configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseNotificationConfig({});
    expect(config).toMatchObject({
      stage: 'dev',
      senderMaxConcurrency: 2,
      wachapMaxSendsPerSecond: 5,
      apiRateLimit: 10,
      apiBurstLimit: 20,
      retentionDays: 90,
      alertEmailEnabled: false,
      alertWhatsappEnabled: false,
    });
  });

  it("refuses the stage 'local', the local stack's name in the operator commands", () => {
    expect(() => parseNotificationConfig({ stage: 'local' })).toThrow(/-c stage: 'local' names the local stack/);
  });

  it('reads -c strings as numbers, booleans and lists', () => {
    const config = parseNotificationConfig({
      senderMaxConcurrency: '4',
      wachapMaxSendsPerSecond: '2.5',
      alertSystemEnabled: 'false',
      alertWhatsappEnabled: 'yes',
      alertRecipients: ' ops@example.com ,*@example.org,, ops@example.com',
    });
    expect(config).toMatchObject({
      senderMaxConcurrency: 4,
      wachapMaxSendsPerSecond: 2.5,
      alertSystemEnabled: false,
      alertWhatsappEnabled: true,
      alertRecipients: ['ops@example.com', '*@example.org'],
    });
  });

  it('names every bad key in one error', () => {
    const parse = () =>
      parseNotificationConfig({
        stage: 'Prod!',
        alertFromEmail: 'not-an-email',
        senderMaxConcurrency: '1',
        wachapBaseUrl: 'http://x',
      });
    expect(parse).toThrow(StackConfigError);
    expect(parse).toThrow(/-c stage:[\s\S]*-c alertFromEmail:[\s\S]*-c senderMaxConcurrency:[\s\S]*-c wachapBaseUrl:/);
  });

  it.each(['0', '-1', '1001', 'fast'])('refuses wachapMaxSendsPerSecond=%s', (value) => {
    expect(() => parseNotificationConfig({ wachapMaxSendsPerSecond: value })).toThrow(/-c wachapMaxSendsPerSecond:/);
  });

  it('accepts wachapMaxSendsPerSecond up to 1000', () => {
    expect(parseNotificationConfig({ wachapMaxSendsPerSecond: 1000 }).wachapMaxSendsPerSecond).toBe(1000);
  });

  it('refuses email alerts without a sender or without recipients, and an SES identity that does not cover the sender', () => {
    expect(() => parseNotificationConfig({ alertEmailEnabled: 'true', alertRecipients: '*@example.com' })).toThrow(
      /-c alertEmailEnabled: email alerts need alertFromEmail/,
    );
    // alertFromEmail turns email alerts on, and they need to know whom SES may send to.
    expect(() => parseNotificationConfig({ alertFromEmail: 'alerts@example.com' })).toThrow(
      /-c alertRecipients: email alerts need the addresses SES may send them to/,
    );
    expect(parseNotificationConfig({ alertFromEmail: 'alerts@example.com', alertEmailEnabled: 'false' })).toMatchObject(
      { alertEmailEnabled: false },
    );
    const sender = { alertFromEmail: 'alerts@example.com', alertRecipients: '*@example.com' };
    expect(() => parseNotificationConfig({ ...sender, sesIdentity: 'other.org' })).toThrow(/sesIdentity/);
    expect(parseNotificationConfig({ ...sender, sesIdentity: 'example.com' }).sesIdentity).toBe('example.com');
  });

  it.each(['*', '*@*', 'ops', 'a*@example.com', '*@localhost', 'ops@example.com;x@evil.example'])(
    'refuses alertRecipients=%j, which would not restrict SES or is no address',
    (entry) => {
      expect(() => parseNotificationConfig({ alertFromEmail: 'alerts@example.com', alertRecipients: entry })).toThrow(
        /-c alertRecipients\.0: each entry must be an address \(ops@example.com\) or a \*@domain pattern/,
      );
    },
  );
});

describe('NotificationStack bundled with esbuild (as `npx cdk synth` does, offline)', () => {
  it('produces minified ESM bundles with the createRequire banner, source maps and the AWS SDK inside', () => {
    const { app, stack, template } = synthesize(FULL_CONTEXT, { bundle: true });
    const assembly = app.synth();
    for (const fn of Object.values(stack.functions)) {
      const cfn = fn.lambda.node.defaultChild as CfnResource;
      // Each bundle is staged as asset.<hash>, the hash being the S3 key the template deploys.
      const s3Key = template.toJSON().Resources[stack.getLogicalId(cfn)].Properties.Code.S3Key as string;
      const assetPath = `asset.${s3Key.replace(/\.zip$/, '')}`;
      const bundle = readFileSync(join(assembly.directory, assetPath, 'index.mjs'), 'utf8');
      expect(
        bundle.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);"),
      ).toBe(true);
      expect(existsSync(join(assembly.directory, assetPath, 'index.mjs.map'))).toBe(true);
      expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//);
      // Minified: a megabyte of SDK and app code on a few very long lines.
      expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
    }
    expect(Object.keys(stack.functions)).toHaveLength(FUNCTION_NAMES.length);
    // The operations page's function carries the page's files as they are written, beside its bundle.
    const page = stack.operationsPage.pageFunction.node.defaultChild as CfnResource;
    const pageKey = template.toJSON().Resources[stack.getLogicalId(page)].Properties.Code.S3Key as string;
    const pageAsset = join(assembly.directory, `asset.${pageKey.replace(/\.zip$/, '')}`);
    expect(existsSync(join(pageAsset, 'index.mjs'))).toBe(true);
    for (const name of Object.keys(OPS_FILES)) {
      expect(readFileSync(join(pageAsset, 'ops', name), 'utf8'), name).toBe(
        readFileSync(new URL(`../../ops/${name}`, import.meta.url), 'utf8'),
      );
    }
  }, 30_000);
});
