// The whole system on one machine: real AWS-compatible engines, the WaChap sandbox, and the same
// handlers behind an API Gateway door, a Lambda Invoke door, SQS event sources (the send lanes, the callback queue)
// and the schedules. Only endpoints and configuration differ from AWS.

import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FUNCTIONS, scheduledFunctions } from '../functions/catalog.js';
import { ensureTable } from '../shared/adapters/dynamodb/ensure-table.js';
import { callbackSecretName, DEFAULT_CALLBACK_CALLER } from '../shared/adapters/secrets/callback-secrets.js';
import {
  CALLBACK_BATCH_SIZE,
  CALLBACK_DISPATCHER_MAX_CONCURRENCY,
  PRIORITY_SEND_BATCH_SIZE,
  SEND_BATCH_SIZE,
} from '../shared/adapters/sqs/queue-settings.js';
import { queueNameOf } from '../shared/adapters/sqs/send-queue.js';
import type { WaChapInstance } from '../shared/domain/wachap-instances.js';
import { DEFAULT_USAGE_PLAN, type UsagePlan } from '../shared/http/usage-plan.js';
import { recordAwsCalls } from '../shared/observability/aws-calls.js';
import { HEALTH_CHECK_SCHEDULE, PROVIDER_PROBE_SCHEDULE, RETRY_SWEEP_SCHEDULE } from '../shared/schedules.js';
import { LOCAL_API_KEY_ID } from './aws-events.js';
import { type LocalCaller, startApiGateway } from './doors/api-gateway.js';
import { startLambdaInvoke } from './doors/lambda-invoke.js';
import { type DynamoDbEngine, type RunningDynamoDb, startDynamoDb } from './engines/dynamodb.js';
import { type RunningSecretsManager, startSecretsManager } from './engines/secrets-manager.js';
import { type RunningSes, startSes } from './engines/ses.js';
import { createCallbackQueues, createSendQueues, type RunningSqs, startSqs } from './engines/sqs.js';
import { startEventSource } from './event-source.js';
import { type FunctionName, type FunctionRegistry, loadFunctions } from './functions.js';
import { startSchedules } from './schedules.js';
import { startWaChapSandbox, type WaChapSandbox } from './wachap-sandbox.js';

export interface LocalStackOptions {
  /** `secretsManager`: the callers' callback secrets (a free port unless given). */
  ports: {
    api: number;
    lambda: number;
    dynamodb: number;
    sqs: number;
    ses: number;
    wachap: number;
    secretsManager?: number;
  };
  apiKey: string;
  /** The upstream key's usage plan, enforced by the local door as API Gateway enforces it (the deployed defaults). */
  usagePlan?: UsagePlan;
  /** More upstream callers, each with its own key, key id and plan (a deployment's `apiCallers`). */
  extraCallers?: readonly LocalCaller[];
  tableName: string;
  /** Keep DynamoDB's data in this directory between runs (the table is the source of truth). */
  persistDir?: string;
  dynamoDbEngine?: DynamoDbEngine | 'auto';
  /** A WaChap-compatible server to use instead of the sandbox. */
  wachapBaseUrl?: string;
  /**
   * The one instance's credentials, or several instances (`instances`, as WACHAP_INSTANCES lists them, which then
   * wins): the functions get the list, the sandbox plays each instance.
   */
  wachap: { instanceId: string; accessToken: string; timeoutMs?: number; instances?: readonly WaChapInstance[] };
  schedules: { retrySweep: string; healthCheck: string; providerProbe?: string; enabled: boolean };
  senderMaxConcurrency: number;
  /** The priority lane's pollers (its event source's maximum concurrency); 2 as deployed by default. */
  prioritySenderMaxConcurrency?: number;
  /** The send queue's visibility timeout (the deployed one by default); tests shorten it to see redrives. */
  sendQueueVisibilitySeconds?: number;
  /** Long-poll wait of the event source, in seconds (Lambda's is 20). */
  pollWaitSeconds?: number;
  /** Extra environment for the functions (thresholds, admin contacts, ...). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface LocalStack {
  urls: {
    api: string;
    lambda: string;
    dynamodb: string;
    sqs: string;
    ses: string;
    wachap: string;
    secretsManager: string;
  };
  engine: DynamoDbEngine;
  queueUrl: string;
  priorityQueueUrl: string;
  dlqUrl: string;
  callbackQueueUrl: string;
  callbackDlqUrl: string;
  /** The local callers' signing secret (the local API key's, and the `default` one): what a receiver verifies with. */
  callbackSecret: string;
  apiKey: string;
  tableName: string;
  sandbox: WaChapSandbox | undefined;
  functions: FunctionRegistry;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const DEFAULT_LOCAL_OPTIONS: LocalStackOptions = {
  ports: { api: 3000, lambda: 3001, dynamodb: 8000, sqs: 9324, ses: 8005, wachap: 3100, secretsManager: 8006 },
  apiKey: 'local-dev-key',
  tableName: 'notifications',
  wachap: { instanceId: 'LOCAL0000001', accessToken: 'local-access-token' },
  schedules: {
    retrySweep: RETRY_SWEEP_SCHEDULE,
    healthCheck: HEALTH_CHECK_SCHEDULE,
    providerProbe: PROVIDER_PROBE_SCHEDULE,
    enabled: true,
  },
  senderMaxConcurrency: 2,
};

const REGION = 'us-east-1';
/** Where the callers' callback secrets live, as in AWS: `<prefix><API key id>`. */
export const LOCAL_CALLBACK_SECRET_PREFIX = 'wachap-notifications/local/callbacks/';
/**
 * The local callers' signing secret, fixed so that a receiver on a laptop can verify without asking (it is printed
 * on `npm start`): Standard Webhooks' whsec_ and base64 of 27 bytes.
 */
export const LOCAL_CALLBACK_SECRET = 'whsec_bG9jYWwtY2FsbGJhY2tzLXNlY3JldC0wMDAx';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const stoppers: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    for (const fn of stoppers.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const engineLog = {
      debug() {},
      info: (m: string) => log(m),
      warn: (m: string) => log(m),
      error: (m: string) => log(m),
    };
    const started = await Promise.allSettled([
      startDynamoDb({
        engine: options.dynamoDbEngine ?? 'auto',
        port: options.ports.dynamodb,
        ...(options.persistDir ? { persistDir: join(options.persistDir, 'dynamodb') } : {}),
        log: engineLog,
      }),
      startSqs({ port: options.ports.sqs }),
      startSes({ port: options.ports.ses }),
      startSecretsManager({ port: options.ports.secretsManager ?? 0, region: REGION }),
      options.wachapBaseUrl
        ? undefined
        : startWaChapSandbox({
            port: options.ports.wachap,
            instanceId: options.wachap.instanceId,
            accessToken: options.wachap.accessToken,
            ...(options.wachap.instances ? { instances: options.wachap.instances } : {}),
            log,
          }),
    ]);
    // Whatever did start is stopped again if something else could not.
    for (const result of started) {
      const value = result.status === 'fulfilled' ? result.value : undefined;
      if (value && 'stop' in value) stoppers.push(() => value.stop());
      if (value && 'close' in value) stoppers.push(() => value.close());
    }
    const failure = started.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
    const [dynamodb, sqs, ses, secretsManager, sandbox] = started.map(
      (r) => (r as PromiseFulfilledResult<unknown>).value,
    ) as [RunningDynamoDb, RunningSqs, RunningSes, RunningSecretsManager, WaChapSandbox | undefined];
    // The local API key's caller, and the one of a notification without a caller, share the local secret.
    for (const caller of [LOCAL_API_KEY_ID, DEFAULT_CALLBACK_CALLER]) {
      secretsManager.putSecret(callbackSecretName(LOCAL_CALLBACK_SECRET_PREFIX, caller), LOCAL_CALLBACK_SECRET);
    }

    const dynamoClient = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: REGION, credentials: CREDENTIALS });
    const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: CREDENTIALS });
    stoppers.push(
      () => dynamoClient.destroy(),
      () => sqsClient.destroy(),
    );
    await ensureTable(dynamoClient, options.tableName);
    const { queueUrl, priorityQueueUrl, dlqUrl } = await createSendQueues(
      sqsClient,
      options.sendQueueVisibilitySeconds ? { visibilityTimeoutSeconds: options.sendQueueVisibilitySeconds } : {},
    );
    const { callbackQueueUrl, callbackDlqUrl } = await createCallbackQueues(sqsClient);
    const arnOf = async (url: string) => {
      const { Attributes } = await sqsClient.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      return Attributes?.QueueArn ?? `arn:aws:sqs:${REGION}:000000000000:${queueNameOf(url)}`;
    };
    const prioritySenders = options.prioritySenderMaxConcurrency ?? 2;

    const wachapUrl = options.wachapBaseUrl ?? sandbox!.url;
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SES: ses.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      TABLE_NAME: options.tableName,
      SEND_QUEUE_URL: queueUrl,
      PRIORITY_SEND_QUEUE_URL: priorityQueueUrl,
      SEND_DLQ_URL: dlqUrl,
      CALLBACK_QUEUE_URL: callbackQueueUrl,
      CALLBACK_DLQ_URL: callbackDlqUrl,
      CALLBACK_SECRET_PREFIX: LOCAL_CALLBACK_SECRET_PREFIX,
      // The receivers of a laptop listen on 127.0.0.1 over http; in AWS only https to public addresses.
      CALLBACK_URLS: 'any',
      WACHAP_BASE_URL: wachapUrl,
      WACHAP_INSTANCE_ID: options.wachap.instanceId,
      WACHAP_ACCESS_TOKEN: options.wachap.accessToken,
      ...(options.wachap.instances ? { WACHAP_INSTANCES: JSON.stringify(options.wachap.instances) } : {}),
      ...(options.wachap.timeoutMs ? { WACHAP_TIMEOUT_MS: String(options.wachap.timeoutMs) } : {}),
      ADMIN_EMAIL: 'admin@ts-aircargo.local',
      ALERT_FROM_EMAIL: 'alerts@ts-aircargo.local',
      // The sender's email channel (the fallback when WhatsApp cannot take a notification), into the local SES.
      EMAIL_FROM: 'notifications@ts-aircargo.local',
      // The sender paces itself to its share of WaChap's rate: one share per poller of its lane.
      SENDER_MAX_CONCURRENCY: String(options.senderMaxConcurrency),
      PRIORITY_SENDER_MAX_CONCURRENCY: String(prioritySenders),
      // No CloudWatch here to read them: the EMF lines would only crowd the logs. POWERTOOLS_METRICS_DISABLED=false
      // in the shell shows them.
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...options.env,
    };
    const functions = await loadFunctions(env);

    const [api, lambda] = await Promise.all([
      startApiGateway({
        port: options.ports.api,
        callers: [
          { apiKey: options.apiKey, apiKeyId: LOCAL_API_KEY_ID, usagePlan: options.usagePlan ?? DEFAULT_USAGE_PLAN },
          ...(options.extraCallers ?? []),
        ],
        functions,
      }),
      startLambdaInvoke({ port: options.ports.lambda, functions }),
    ]);
    stoppers.push(
      () => api.close(),
      () => lambda.close(),
    );
    // On AWS the event source mapping polls and deletes messages with the sender's role: its calls
    // are the sender's, and its own client keeps them apart from the stack's setup calls.
    const pollerSqs = recordAwsCalls(
      new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: CREDENTIALS }),
      { caller: 'sender' },
    );
    stoppers.push(() => pollerSqs.destroy());
    // One event source per lane, as deployed: the priority lane's pollers never wait behind the standard backlog.
    for (const [url, maxConcurrency, batchSize] of [
      [queueUrl, options.senderMaxConcurrency, SEND_BATCH_SIZE],
      [priorityQueueUrl, prioritySenders, PRIORITY_SEND_BATCH_SIZE],
    ] as const) {
      const source = startEventSource({
        sqs: pollerSqs,
        queueUrl: url,
        queueArn: await arnOf(url),
        handler: functions.sender,
        maxConcurrency,
        batchSize,
        waitTimeSeconds: options.pollWaitSeconds ?? 20,
        onError: (error) => log(`event source: ${error.message}`),
      });
      stoppers.push(() => source.stop());
    }
    // The callback queue's event source, polling with the dispatcher's role as Lambda's would.
    const dispatcherSqs = recordAwsCalls(
      new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: CREDENTIALS }),
      { caller: 'callback-dispatcher' },
    );
    stoppers.push(() => dispatcherSqs.destroy());
    const callbackSource = startEventSource({
      functionName: 'callback-dispatcher',
      sqs: dispatcherSqs,
      queueUrl: callbackQueueUrl,
      queueArn: await arnOf(callbackQueueUrl),
      handler: functions['callback-dispatcher'],
      maxConcurrency: CALLBACK_DISPATCHER_MAX_CONCURRENCY,
      batchSize: CALLBACK_BATCH_SIZE,
      waitTimeSeconds: options.pollWaitSeconds ?? 20,
      onError: (error) => log(`callback event source: ${error.message}`),
    });
    stoppers.push(() => callbackSource.stop());
    if (options.schedules.enabled) {
      // The catalog's rules, at their deployed rates unless the options say otherwise.
      const rates: Partial<Record<FunctionName, string | undefined>> = {
        'retry-sweep': options.schedules.retrySweep,
        'health-check': options.schedules.healthCheck,
        'provider-probe': options.schedules.providerProbe,
      };
      const schedules = startSchedules(
        scheduledFunctions().map(({ name, trigger }) => ({
          name,
          expression: rates[name] ?? trigger.expression,
          handler: functions[name],
          timeoutMs: FUNCTIONS[name].timeoutSeconds * 1000,
        })),
        (name, error) => log(`schedule ${name} failed: ${String(error)}`),
      );
      stoppers.push(() => schedules.stop());
    }

    return {
      urls: {
        api: api.url,
        lambda: lambda.url,
        dynamodb: dynamodb.endpoint,
        sqs: sqs.endpoint,
        ses: ses.endpoint,
        wachap: sandbox?.origin ?? wachapUrl,
        secretsManager: secretsManager.endpoint,
      },
      engine: dynamodb.engine,
      queueUrl,
      priorityQueueUrl,
      dlqUrl,
      callbackQueueUrl,
      callbackDlqUrl,
      callbackSecret: LOCAL_CALLBACK_SECRET,
      apiKey: options.apiKey,
      tableName: options.tableName,
      sandbox,
      functions,
      env,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
