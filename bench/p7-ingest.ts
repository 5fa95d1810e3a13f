// P7: what the API door costs. Notifications accepted per second through the local stack's API Gateway door and
// the real ingest function, against a bare node:http handler on the same engines that does one PutItem and one
// SendMessage per request: the same callers (16 at a time), alternating rounds, the median of each.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
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
}

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

export async function runP7(options: { quick?: boolean } = {}): Promise<P7Result> {
  const perRound = options.quick ? 50 : 300;
  const rounds = options.quick ? 1 : 3;
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
  const bare = createServer(async (request, response) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        recipient: { phone: string };
        message: string;
      };
      const id = ulid();
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
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1/notifications`;
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
  const direct = (body: unknown) =>
    fetch(bareUrl, {
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
    await rate(direct);
    const doorRates: number[] = [];
    const bareRates: number[] = [];
    for (let i = 0; i < rounds; i++) {
      doorRates.push(await rate(door));
      bareRates.push(await rate(direct));
    }
    const doorPerSecond = median(doorRates);
    const barePerSecond = median(bareRates);
    return {
      p7IngestRatio: round(doorPerSecond / barePerSecond),
      p7DoorPerSecond: round(doorPerSecond, 1),
      p7BarePerSecond: round(barePerSecond, 1),
    };
  } finally {
    await new Promise<void>((resolve) => {
      bare.closeAllConnections();
      bare.close(() => resolve());
    });
    dynamodb.destroy();
    sqs.destroy();
    await e2e.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runP7({ quick: false }));
