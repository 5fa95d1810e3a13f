// Builds the adapters a function needs from its validated configuration, once per cold start.
// Endpoints come from the standard AWS_ENDPOINT_URL_<SERVICE> variables, so the local stack runs
// the same code with no local-only branch.
// Every client reports its calls (observability/aws-calls): nothing listens in Lambda; the tests
// listen to derive each function's role from what it really calls.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { notificationDocumentClient } from './adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from './adapters/dynamodb/store.js';
import { type AdminContactsConfig, adminContactsLoader } from './adapters/secrets/admin-contacts.js';
import { callbackSecretsLoader } from './adapters/secrets/callback-secrets.js';
import { SqsCallbackQueue } from './adapters/sqs/callback-queue.js';
import { SqsSendQueue } from './adapters/sqs/send-queue.js';
import { createWaChapClient, type WaChapClient } from './adapters/wachap/client.js';
import { type CredentialSource, credentialsLoader, instancesLoader } from './adapters/wachap/credentials.js';
import { type WaChapInstances, wachapInstances } from './adapters/wachap/instances.js';
import type { AdminContactsSource, CallbackSecrets } from './application/ports.js';
import { recordAwsCalls } from './observability/aws-calls.js';
import type { Log } from './observability/logger.js';

/** The table's adapters (notifications, counters, cooldowns, provider states) for one function. */
export function notificationStore(config: { TABLE_NAME: string; RETENTION_DAYS: number }, log?: Log): Store {
  return dynamoDbStore({
    client: notificationDocumentClient(recordAwsCalls(new DynamoDBClient({}))),
    tableName: config.TABLE_NAME,
    retentionDays: config.RETENTION_DAYS,
    ...(log ? { log } : {}),
  });
}

// The endpoint, not the queue URL's host, decides where requests go: in AWS both are the regional
// endpoint; locally the queue URLs name a host (sqs.<region>.localhost) that DNS does not know.
export const sqsClient = (): SQSClient => recordAwsCalls(new SQSClient({ useQueueUrlAsEndpoint: false }));

/** Both send queues, each notification to its lane. */
export const sendQueue = (config: { SEND_QUEUE_URL: string; PRIORITY_SEND_QUEUE_URL: string }): SqsSendQueue =>
  new SqsSendQueue({
    client: sqsClient(),
    queueUrl: config.SEND_QUEUE_URL,
    priorityQueueUrl: config.PRIORITY_SEND_QUEUE_URL,
  });
/**
 * The callback queue: the movers' way to hand over status callbacks (none without CALLBACK_QUEUE_URL: that function
 * emits no callbacks), and the dispatcher's, with its DLQ, to retry and give up.
 */
export function callbackQueue(queueUrl: string, dlqUrl?: string): SqsCallbackQueue;
export function callbackQueue(queueUrl: string | undefined): SqsCallbackQueue | undefined;
export function callbackQueue(queueUrl: string | undefined, dlqUrl?: string): SqsCallbackQueue | undefined {
  return queueUrl ? new SqsCallbackQueue({ client: sqsClient(), queueUrl, ...(dlqUrl ? { dlqUrl } : {}) }) : undefined;
}

export const sesClient = (): SESClient => recordAwsCalls(new SESClient({}));
export const secretsManagerClient = (): SecretsManagerClient => recordAwsCalls(new SecretsManagerClient({}));

/** A Secrets Manager client built on first use: a function configured without a secret (locally) never builds one. */
function lazySecretsManagerClient(): () => SecretsManagerClient {
  let client: SecretsManagerClient | undefined;
  return () => {
    client ??= secretsManagerClient();
    return client;
  };
}

export function wachapClient(
  config: CredentialSource & { WACHAP_BASE_URL: string; WACHAP_TIMEOUT_MS: number },
  log: Log,
): WaChapClient {
  return createWaChapClient({
    baseUrl: config.WACHAP_BASE_URL,
    timeoutMs: config.WACHAP_TIMEOUT_MS,
    // The secret is re-read after WACHAP_SECRET_MAX_AGE_SECONDS, and at once when WaChap refuses the token.
    credentials: credentialsLoader(config, lazySecretsManagerClient(), log),
    log,
  });
}

/** Every configured WaChap instance, each with its client; the list from the secret in AWS, WACHAP_INSTANCES locally. */
export function wachapInstancesOf(
  config: CredentialSource & {
    WACHAP_BASE_URL: string;
    WACHAP_TIMEOUT_MS: number;
    WACHAP_FAILOVER: Record<string, string>;
  },
  log: Log,
): WaChapInstances {
  return wachapInstances({
    baseUrl: config.WACHAP_BASE_URL,
    timeoutMs: config.WACHAP_TIMEOUT_MS,
    load: instancesLoader(config, lazySecretsManagerClient(), log),
    failover: config.WACHAP_FAILOVER,
    log,
  });
}

/** Who the alerts go to: the admin-contacts secret (re-read after its max age), or ADMIN_EMAIL / ADMIN_PHONE locally. */
export function adminContacts(config: AdminContactsConfig, log: Log): AdminContactsSource {
  let secrets: SecretsManagerClient | undefined;
  return adminContactsLoader(
    config,
    () => {
      secrets ??= secretsManagerClient();
      return secrets;
    },
    log,
  );
}

/** The callers' signing secrets, each re-read after CALLBACK_SECRET_MAX_AGE_SECONDS. */
export function callbackSecrets(config: {
  CALLBACK_SECRET_PREFIX: string;
  CALLBACK_SECRET_MAX_AGE_SECONDS: number;
}): CallbackSecrets {
  let secrets: SecretsManagerClient | undefined;
  return callbackSecretsLoader(config, () => {
    secrets ??= secretsManagerClient();
    return secrets;
  });
}
