// The send queue's dead-letter path, end to end: a message whose processing throws comes back until
// SQS moves it to the DLQ, and the health check then reports it; garbage and unknown ids are
// acknowledged and dropped instead, so they never fill the DLQ.
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../shared/application/health-check.js';
import { type E2eStack, startE2eStack, waitFor } from '../support/local-stack.js';

let e2e: E2eStack;

beforeAll(async () => {
  // A one-second visibility timeout lets the five receives before the DLQ happen within seconds.
  e2e = await startE2eStack({ sendQueueVisibilitySeconds: 1 });
});
afterAll(async () => {
  await e2e?.stop();
});

const send = (body: string) =>
  e2e.sqs.send(new SendMessageCommand({ QueueUrl: e2e.stack.queueUrl, MessageBody: body }));

describe('the dead-letter queue', () => {
  it('receives a poison message, and only it, and the health check raises dead_letters', async () => {
    // Prepare: a notification record an operator's hand edit broke (a status the system does not know).
    const poisonId = ulid();
    const now = new Date().toISOString();
    await e2e.putRawItem({
      pk: { S: poisonId },
      id: { S: poisonId },
      recipient: { M: { phone: { S: '+22370123456' } } },
      category: { S: 'colis_arrive' },
      channel: { S: 'whatsapp' },
      title: { S: 'Colis arrivé' },
      message: { S: 'Votre colis est arrivé.' },
      priority: { S: 'normal' },
      status: { S: 'bogus' },
      attempts: { N: '0' },
      maxAttempts: { N: '10' },
      createdAt: { S: now },
      updatedAt: { S: now },
      history: { L: [] },
      version: { N: '1' },
    });
    await expect(e2e.getNotification(poisonId)).rejects.toThrow(/malformed/);

    // Act: garbage, an id the table does not know, and the poison message.
    const poisonBody = JSON.stringify({ id: poisonId });
    await send('this is not JSON');
    await send(JSON.stringify({ id: 'not-a-ulid', extra: true }));
    await send(JSON.stringify({ id: ulid() }));
    await send(poisonBody);

    // Assess: the main queue drains, the poison message ends in the DLQ, and nothing else does.
    await waitFor(
      async () => {
        const [main, dlq] = await Promise.all([e2e.queueDepth(e2e.stack.queueUrl), e2e.queueDepth(e2e.stack.dlqUrl)]);
        return main.visible + main.inFlight === 0 && dlq.visible >= 1;
      },
      30_000,
      'the poison message in the DLQ and the send queue empty',
      250,
    );
    expect(await e2e.queueDepth(e2e.stack.dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
    const health = await e2e.invoke<HealthReport>('health-check', {});
    expect(health.statusCode).toBe(200);
    expect(health.payload.dlqDepth).toBe(1);
    expect(health.payload.alerts).toContainEqual(
      expect.objectContaining({ kind: 'dead_letters', severity: 'warning', figures: { dlqDepth: 1 } }),
    );

    const { Messages } = await e2e.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: e2e.stack.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages?.map((m) => m.Body)).toEqual([poisonBody]);
    // The redrive policy's maxReceiveCount: the sender saw it five times before SQS gave up.
    expect(Number(Messages?.[0]?.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(5);
    // The sender never got as far as WaChap.
    expect((await e2e.inbox()).requests).toBe(0);
  });
});
