import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AwsCall,
  callingAs,
  iamActionOf,
  observeAwsCalls,
  recordAwsCalls,
} from '../../shared/observability/aws-calls.js';
import { sqsClient } from '../../shared/runtime.js';

const offline = { region: 'us-east-1', credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' } };
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/send';

/** A client that answers every command with an empty result, without a network. */
function answering<C extends DynamoDBClient | SQSClient>(client: C): C {
  (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
    () => async () => ({ output: { $metadata: {} }, response: {} }),
    { step: 'build', name: 'answerOffline' },
  );
  return client;
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function listen(): AwsCall[] {
  const calls: AwsCall[] = [];
  stop = observeAwsCalls((call) => calls.push(call));
  return calls;
}

describe('iamActionOf', () => {
  it.each([
    ['DynamoDBClient', 'UpdateItemCommand', 'dynamodb:UpdateItem'],
    ['DynamoDBClient', 'BatchGetItemCommand', 'dynamodb:BatchGetItem'],
    ['SQSClient', 'SendMessageCommand', 'sqs:SendMessage'],
    ['SQSClient', 'SendMessageBatchCommand', 'sqs:SendMessage'],
    ['SQSClient', 'DeleteMessageBatchCommand', 'sqs:DeleteMessage'],
    ['SQSClient', 'ChangeMessageVisibilityBatchCommand', 'sqs:ChangeMessageVisibility'],
    ['SESClient', 'SendEmailCommand', 'ses:SendEmail'],
    ['SecretsManagerClient', 'GetSecretValueCommand', 'secretsmanager:GetSecretValue'],
    ['LambdaClient', 'InvokeCommand', 'lambda:InvokeFunction'],
    ['KinesisClient', 'PutRecordCommand', 'unknown-client(KinesisClient):PutRecord'],
  ])('maps %s %s to %s', (client, command, action) => {
    expect(iamActionOf(client, command)).toBe(action);
  });
});

describe('recordAwsCalls', () => {
  it('reports DocumentClient commands as the base action, attributed to the function running them', async () => {
    const calls = listen();
    const documents = DynamoDBDocumentClient.from(answering(recordAwsCalls(new DynamoDBClient(offline))));

    await callingAs('retry-sweep', () =>
      documents.send(new UpdateCommand({ TableName: 't', Key: { pk: 'c' }, UpdateExpression: 'SET a = :a' })),
    );
    await documents.send(new BatchGetCommand({ RequestItems: { t: { Keys: [{ pk: 'c' }] } } }));

    expect(calls).toEqual([
      { caller: 'retry-sweep', action: 'dynamodb:UpdateItem' },
      { caller: undefined, action: 'dynamodb:BatchGetItem' },
    ]);
  });

  it('attributes every call of a client given a caller to that caller', async () => {
    const calls = listen();
    const poller = answering(recordAwsCalls(new SQSClient(offline), { caller: 'sender' }));

    await callingAs('ingest', () => poller.send(new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: [] })));

    expect(calls).toEqual([{ caller: 'sender', action: 'sqs:SendMessage' }]);
  });

  it('reports nothing once the listener has stopped', async () => {
    const calls = listen();
    stop?.();
    const sqs = answering(recordAwsCalls(new SQSClient(offline)));

    await sqs.send(new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: [] }));

    expect(calls).toEqual([]);
  });

  it('reports every call of a client that resolves its middleware once per command type (the SQS clients)', async () => {
    expect(sqsClient().config.cacheMiddleware).toBe(true);
    const calls = listen();
    const sqs = answering(recordAwsCalls(new SQSClient({ ...offline, cacheMiddleware: true, md5: false })));
    const send = () => sqs.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: '{}' }));

    await callingAs('ingest', send);
    await callingAs('retry-sweep', send);
    await callingAs('sender', () => sqs.send(new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: [] })));

    expect(calls).toEqual([
      { caller: 'ingest', action: 'sqs:SendMessage' },
      { caller: 'retry-sweep', action: 'sqs:SendMessage' },
      { caller: 'sender', action: 'sqs:SendMessage' },
    ]);
  });
});
