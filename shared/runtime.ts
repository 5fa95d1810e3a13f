// Builds the adapters a function needs from its validated configuration, once per cold start: here the table and the
// queues, which every function uses; Secrets Manager's (runtime-secrets.ts) and SES's (runtime-ses.ts) apart, so that
// a function that builds neither does not carry their SDK clients in its bundle (esbuild keeps an imported client).
// Endpoints come from the standard AWS_ENDPOINT_URL_<SERVICE> variables, so the local stack runs
// the same code with no local-only branch.
// Every client reports its calls (observability/aws-calls): nothing listens in Lambda; the tests
// listen to derive each function's role from what it really calls.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { notificationDocumentClient } from './adapters/dynamodb/items.js';
import { DynamoDbRateSchedule } from './adapters/dynamodb/rate-schedule.js';
import { dynamoDbStore, type Store } from './adapters/dynamodb/store.js';
import { SqsCallbackQueue } from './adapters/sqs/callback-queue.js';
import { SqsSendQueue } from './adapters/sqs/send-queue.js';
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

/** WaChap's rates, shared by every sender: one item per instance and lane in the table (rate-schedule.ts). */
export const rateSchedule = (config: { TABLE_NAME: string }): DynamoDbRateSchedule =>
  new DynamoDbRateSchedule({
    client: notificationDocumentClient(recordAwsCalls(new DynamoDBClient({}))),
    tableName: config.TABLE_NAME,
  });

// The endpoint, not the queue URL's host, decides where requests go: in AWS both are the regional
// endpoint; locally the queue URLs name a host (sqs.<region>.localhost) that DNS does not know.
// cacheMiddleware: the client resolves its middleware stack once per command type instead of on every send (about a
// tenth of a SendMessage's CPU time, on every accepted notification); nothing adds middleware after the first send
// (recordAwsCalls adds its own here, before any). The table's DocumentClient cannot: lib-dynamodb refuses the option.
export const sqsClient = (): SQSClient =>
  recordAwsCalls(new SQSClient({ useQueueUrlAsEndpoint: false, cacheMiddleware: true }));

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
