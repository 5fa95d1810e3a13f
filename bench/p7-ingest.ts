// P7: what the API door costs. Notifications accepted per second through the local stack's API Gateway door and
// the real ingest function, against a bare node:http handler on the same engines that does one PutItem and one
// SendMessage per request: the same callers (16 at a time), alternating rounds, the median of 5 rounds each (the
// machine is shared: a round another process slows is one of five). A third path, the same bare handler taking a
// slot in a per-recipient counter first (the conditional UpdateItem the recipient limits require, then the PutItem
// and the SendMessage, one after another as the ingest must), tells the door's own cost apart from that of the third
// round trip: every call here runs in this one process, engines included, so a round trip costs its CPU time
// whatever its latency would be on AWS.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { mapWithConcurrency } from '../shared/application/concurrency.js';
import { startE2eStack } from '../test/support/local-stack.js';
import { round } from './capacity.js';
import { benchPhone, median } from './stand-ins.js';

export interface P7Result {
  p7IngestRatio: number;
  p7DoorPerSecond: number;
  p7BarePerSecond: number;
  /** The bare handler with the recipient counter's UpdateItem before its PutItem and SendMessage. */
  p7BareThreeCallsPerSecond: number;
  /** Door ÷ the three-call bare handler: what the door, the HTTP edge and the use case cost beyond the calls. */
  p7DoorVsThreeCallsRatio: number;
}

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

export async function runP7(options: { quick?: boolean } = {}): Promise<P7Result> {
  const perRound = options.quick ? 50 : 300;
  const rounds = options.quick ? 1 : 5;
  const e2e = await startE2eStack();
  const dynamodb = new DynamoDBClient({
    endpoint: e2e.stack.urls.dynamodb,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  const sqs = new SQSClient({
    endpoint: e2e.stack.urls.sqs,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  const { QueueUrl: bareQueue } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-bare-${Date.now()}` }));
  // The bare handler: with `counted`, a slot in the recipient's window first, as acquireRecipientSlot takes it.
  const bareHandler = (counted: boolean) => async (request: IncomingMessage, response: ServerResponse) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        recipient: { phone: string };
        message: string;
      };
      const id = ulid();
      if (counted) {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: e2e.stack.tableName,
            Key: { pk: { S: `bench-count#${body.recipient.phone}` } },
            UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
            ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':one': { N: '1' },
              ':max': { N: '20' },
              ':ttl': { N: String(Math.floor(Date.now() / 1000) + 3600) },
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
      }
      await dynamodb.send(
        new PutItemCommand({
          TableName: e2e.stack.tableName,
          Item: {
            pk: { S: `bench#${id}` },
            phone: { S: body.recipient.phone },
            message: { S: body.message },
            createdAt: { S: new Date().toISOString() },
          },
        }),
      );
      await sqs.send(new SendMessageCommand({ QueueUrl: bareQueue, MessageBody: JSON.stringify({ id }) }));
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id }));
    } catch (error) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: String(error) }));
    }
  };
  const bare = createServer(bareHandler(false));
  const bareThree = createServer(bareHandler(true));
  const urlOf = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/notifications`;
  };
  const bareUrl = await urlOf(bare);
  const bareThreeUrl = await urlOf(bareThree);
  let phone = 0;
  const rate = async (post: (body: unknown) => Promise<number>) => {
    const started = performance.now();
    await mapWithConcurrency(
      Array.from({ length: perRound }, () => phone++),
      16,
      async (i) => {
        const status = await post({
          recipient: { phone: benchPhone(6_000_000, i) },
          category: 'colis_arrive',
          message: `Votre colis ${i} est arrivé à Bamako.`,
        });
        if (status !== 202) throw new Error(`P7: HTTP ${status}`);
      },
    );
    return perRound / ((performance.now() - started) / 1000);
  };
  const door = (body: unknown) => e2e.post(body).then((answer) => answer.status);
  const direct = (url: string) => (body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (answer) => {
      await answer.arrayBuffer();
      return answer.status;
    });
  try {
    // Warm both paths (connections, the ingest's cold start) before measuring.
    await rate(door);
    await rate(direct(bareUrl));
    await rate(direct(bareThreeUrl));
    const doorRates: number[] = [];
    const bareRates: number[] = [];
    const bareThreeRates: number[] = [];
    for (let i = 0; i < rounds; i++) {
      doorRates.push(await rate(door));
      bareRates.push(await rate(direct(bareUrl)));
      bareThreeRates.push(await rate(direct(bareThreeUrl)));
    }
    const doorPerSecond = median(doorRates);
    const barePerSecond = median(bareRates);
    const bareThreePerSecond = median(bareThreeRates);
    return {
      p7IngestRatio: round(doorPerSecond / barePerSecond),
      p7DoorPerSecond: round(doorPerSecond, 1),
      p7BarePerSecond: round(barePerSecond, 1),
      p7BareThreeCallsPerSecond: round(bareThreePerSecond, 1),
      p7DoorVsThreeCallsRatio: round(doorPerSecond / bareThreePerSecond),
    };
  } finally {
    for (const server of [bare, bareThree]) {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    }
    dynamodb.destroy();
    sqs.destroy();
    await e2e.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP7({ quick: false }));
