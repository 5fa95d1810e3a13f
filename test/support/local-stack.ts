// The whole local stack for an end-to-end test file, on free ports, and the few ways a caller or an
// operator reaches it: the HTTP API, the Lambda Invoke API, the table, the queues, SES and the sandbox.
// One stack per file: the handlers are module singletons that read process.env when first imported.

import { Sha256 } from '@aws-crypto/sha256-js';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { type StoredEmail, storedEmails } from '../../local/engines/ses.js';
import { DEFAULT_LOCAL_OPTIONS, type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';
import type { SandboxMessage, SandboxState } from '../../local/wachap-sandbox.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { dynamoDbStore, type Store } from '../../shared/adapters/dynamodb/store.js';
import type { Notification } from '../../shared/domain/notification.js';
import type { WaChapInstance } from '../../shared/domain/wachap-instances.js';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'e2e', secretAccessKey: 'e2e' };

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: {
    id?: string;
    status?: string;
    /** A problem document's (RFC 9457) members, on a refusal. */
    code?: string;
    detail?: string;
    errors?: { path: string; message: string }[];
    /** Deprecated members of a refusal, kept for one release. */
    error?: string;
    message?: string;
    details?: { path: string; message: string }[];
  };
}

export interface PostOptions {
  /** The x-api-key header: the stack's key by default, another string, or null to leave it out. */
  apiKey?: string | null;
  headers?: Record<string, string>;
  /** Sent as is instead of the JSON of the notification. */
  rawBody?: string;
  /** Where to POST: /v1/notifications unless given (e.g. the deprecated unversioned /notifications). */
  path?: string;
}

export interface SignedRequestOptions {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** The local stack's principal (local/local) unless given. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  service?: string;
  /** When the request is signed (now by default): a past one is an expired signature. */
  signingDate?: Date;
}

/**
 * A request signed as an AWS client signs it (SigV4 with @smithy/signature-v4, the AWS SDK's signer): every header
 * but the unsignable ones, the path encoded once more, the query string, the body's hash. Sent with fetch.
 */
export async function signedRequest(url: string, options: SignedRequestOptions = {}): Promise<Response> {
  const target = new URL(url);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of target.searchParams) {
    const previous = query[name];
    query[name] = previous === undefined ? value : [previous, value].flat();
  }
  const signer = new SignatureV4({
    credentials: options.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'execute-api',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: options.method ?? 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query,
      headers: { host: target.host, ...options.headers },
      ...(options.body === undefined ? {} : { body: options.body }),
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const { host: _fetchSetsIt, ...headers } = signed.headers as Record<string, string>;
  return fetch(url, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  });
}

export interface InvokeAnswer<T> {
  statusCode: number | undefined;
  functionError: string | undefined;
  payload: T;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
}

export interface E2eStack {
  stack: LocalStack;
  /** The table as an operator reads it. */
  store: Store;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
  /** POST /v1/notifications as curl would: JSON, x-api-key. */
  post(notification: unknown, options?: PostOptions): Promise<ApiAnswer>;
  /** An operator's request to the API (`path` with its query string), signed as an AWS client signs it. */
  signed(path: string, options?: SignedRequestOptions): Promise<Response>;
  /** A synchronous Lambda Invoke through the stack's Invoke door. */
  invoke<T = unknown>(functionName: string, payload?: unknown): Promise<InvokeAnswer<T>>;
  getNotification(id: string): Promise<Notification | undefined>;
  /** The stored item exactly as DynamoDB returns it. */
  rawItem(pk: string): Promise<Record<string, AttributeValue> | undefined>;
  putRawItem(item: Record<string, AttributeValue>): Promise<void>;
  /** Notification records in the table (counters, cooldowns and idempotency keys left out). */
  countNotifications(): Promise<number>;
  /** What an operator does to retry now (the original's prochaine_tentative edit): nextAttemptAt moved to the past. */
  makeDue(id: string, at?: Date): Promise<void>;
  queueDepth(queueUrl: string): Promise<QueueDepth>;
  /** The sandbox's control API: mode (with `instanceId`: that instance's only), Retry-After, invalid numbers… */
  configureSandbox(patch: Partial<SandboxState> & { instanceId?: string }): Promise<SandboxState>;
  /** The sandbox's inbox API: accepted messages and the number of /send calls. */
  inbox(): Promise<{ messages: SandboxMessage[]; requests: number }>;
  emails(): Promise<StoredEmail[]>;
  stop(): Promise<void>;
}

export interface E2eStackOptions {
  env?: Record<string, string>;
  sendQueueVisibilitySeconds?: number;
  /** WaChap credentials for the functions and the sandbox (the local defaults otherwise). */
  wachap?: { instanceId?: string; accessToken?: string; instances?: readonly WaChapInstance[] };
  /** Run the stack's schedules (the deployed rates); off by default, the tests invoke what they need. */
  schedules?: boolean;
  /** More upstream callers, each with its key and usage plan. */
  extraCallers?: LocalStackOptions['extraCallers'];
  /**
   * The stack key's usage plan. By default one no test reaches (floods, fuzzing and benches post hundreds of requests
   * a second): the tests about the plan give their callers the plan they are about.
   */
  usagePlan?: LocalStackOptions['usagePlan'];
}

const UNREACHED_PLAN = { rateLimit: 100_000, burstLimit: 100_000, dailyQuota: 100_000_000 };

export async function startE2eStack(options: E2eStackOptions = {}): Promise<E2eStack> {
  const stackOptions: LocalStackOptions = {
    ...DEFAULT_LOCAL_OPTIONS,
    ports: { api: 0, lambda: 0, dynamodb: 0, sqs: 0, ses: 0, wachap: 0 },
    dynamoDbEngine: 'dynalite',
    schedules: { ...DEFAULT_LOCAL_OPTIONS.schedules, enabled: options.schedules ?? false },
    pollWaitSeconds: 1,
    wachap: { ...DEFAULT_LOCAL_OPTIONS.wachap, timeoutMs: 1000, ...options.wachap },
    ...(options.sendQueueVisibilitySeconds ? { sendQueueVisibilitySeconds: options.sendQueueVisibilitySeconds } : {}),
    ...(options.extraCallers ? { extraCallers: options.extraCallers } : {}),
    usagePlan: options.usagePlan ?? UNREACHED_PLAN,
    // The failures these tests provoke are logged at ERROR; E2E_LOG_LEVEL=ERROR shows them when debugging.
    // The provider circuit is read fresh on every send, so a test that closes it sees it closed at once.
    env: { POWERTOOLS_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'SILENT', CIRCUIT_CACHE_SECONDS: '0', ...options.env },
  };
  const stack = await startLocalStack(stackOptions);
  const dynamodb = new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: REGION, credentials: CREDENTIALS });
  const sqs = new SQSClient({
    endpoint: stack.urls.sqs,
    region: REGION,
    credentials: CREDENTIALS,
    // The queue URLs name sqs.<region>.localhost, which DNS does not know: the endpoint decides.
    useQueueUrlAsEndpoint: false,
  });
  const lambda = new LambdaClient({ endpoint: stack.urls.lambda, region: REGION, credentials: CREDENTIALS });
  const store = dynamoDbStore({ client: notificationDocumentClient(dynamodb), tableName: stack.tableName });
  const key = (pk: string) => ({ pk: { S: pk } });

  const sandboxCall = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${stack.urls.wachap}${path}`, init);
    const body = (await response.json()) as T;
    if (!response.ok) throw new Error(`sandbox ${path} answered ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };

  return {
    stack,
    store,
    sqs,
    dynamodb,

    async post(notification, postOptions = {}) {
      const apiKey = postOptions.apiKey === undefined ? stack.apiKey : postOptions.apiKey;
      const response = await fetch(`${stack.urls.api}${postOptions.path ?? '/v1/notifications'}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(apiKey === null ? {} : { 'x-api-key': apiKey }),
          ...postOptions.headers,
        },
        body: postOptions.rawBody ?? JSON.stringify(notification),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as ApiAnswer['body'],
      };
    },

    signed: (path, signedOptions) => signedRequest(`${stack.urls.api}${path}`, signedOptions),

    async invoke<T>(functionName: string, payload: unknown = {}) {
      const result = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
      );
      const text = result.Payload ? new TextDecoder().decode(result.Payload) : '';
      return {
        statusCode: result.StatusCode,
        functionError: result.FunctionError,
        payload: (text === '' ? undefined : JSON.parse(text)) as T,
      };
    },

    getNotification: (id) => store.get(id),

    async rawItem(pk) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({ TableName: stack.tableName, Key: key(pk), ConsistentRead: true }),
      );
      return Item;
    },

    async putRawItem(item) {
      await dynamodb.send(new PutItemCommand({ TableName: stack.tableName, Item: item }));
    },

    async countNotifications() {
      let count = 0;
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({
            TableName: stack.tableName,
            // Only notifications carry both an id and a channel; the other item kinds share the table.
            FilterExpression: 'attribute_exists(#id) AND attribute_exists(#channel)',
            ExpressionAttributeNames: { '#id': 'id', '#channel': 'channel' },
            Select: 'COUNT',
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        count += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return count;
    },

    async makeDue(id, at = new Date(Date.now() - 60_000)) {
      // Only records awaiting an attempt carry dueShard, so the edit alone puts the record back on the due index.
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: stack.tableName,
          Key: key(id),
          UpdateExpression: 'SET #next = :at',
          ConditionExpression: '#status = :failed AND attribute_exists(#shard)',
          ExpressionAttributeNames: { '#next': 'nextAttemptAt', '#status': 'status', '#shard': 'dueShard' },
          ExpressionAttributeValues: { ':at': { S: at.toISOString() }, ':failed': { S: 'failed' } },
        }),
      );
    },

    async queueDepth(queueUrl) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    },

    configureSandbox: (patch) =>
      sandboxCall<SandboxState>('/_sandbox/mode', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      }),

    inbox: () => sandboxCall<{ messages: SandboxMessage[]; requests: number }>('/_sandbox/inbox'),

    emails: () => storedEmails(stack.urls.ses),

    async stop() {
      lambda.destroy();
      sqs.destroy();
      dynamodb.destroy();
      await stack.stop();
    },
  };
}

/**
 * Polls `probe` until it returns a truthy value, and returns that value. On timeout the error
 * names what was awaited and the last value seen, so a failing test says where it stopped.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** Waits until the notification has left `pending` (and any in-flight attempt) and returns it. */
export async function waitForOutcome(
  e2e: Pick<E2eStack, 'getNotification'>,
  id: string,
  accept: (n: Notification) => boolean = (n) => n.status !== 'pending' && n.inFlight === undefined,
  timeoutMs = 10_000,
): Promise<Notification> {
  return waitFor(
    async () => {
      const n = await e2e.getNotification(id);
      return n && accept(n) ? n : undefined;
    },
    timeoutMs,
    `notification ${id}`,
  );
}

/** A valid notification request for `phone`; override what the test is about. */
export const notificationRequest = (phone: string, overrides: Record<string, unknown> = {}) => ({
  recipient: { phone, name: 'Awa Traoré' },
  category: 'colis_arrive',
  title: 'Votre colis est arrivé',
  message: 'Bonjour Awa, votre colis 42 vous attend au point relais de Bamako.',
  ...overrides,
});

/** Twenty-odd distinct valid Malian mobile numbers: +22370123400, +22370123401, … */
export const malianPhone = (index: number): string => `+2237012${String(3400 + index)}`;
