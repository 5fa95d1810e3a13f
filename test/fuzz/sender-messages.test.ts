// What reaches the sender from the send queue is only an id (and sometimes an accepted outcome).
// Whatever else arrives, garbage is acknowledged (never reported as a batch item failure, so never
// redriven to the DLQ) and never becomes a WaChap call; a real message in the same batch still goes.
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import fc from 'fast-check';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsEvent } from '../../local/aws-events.js';
import { anyJsonText, awkwardString } from '../support/arbitraries.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';

let e2e: E2eStack;
/** Notifications that failed once while WaChap was down: due again only when a test makes them due. */
const failed: { id: string; phone: string }[] = [];
const POOL = 12;

beforeAll(async () => {
  e2e = await startE2eStack();
  await e2e.configureSandbox({ mode: 'unavailable' });
  const phones = Array.from({ length: POOL }, (_, i) => malianPhone(70 + i));
  const answers = await Promise.all(phones.map((phone) => e2e.post(notificationRequest(phone))));
  await Promise.all(answers.map((a) => waitForOutcome(e2e, a.body.id!)));
  failed.push(...answers.map((a, i) => ({ id: a.body.id!, phone: phones[i]! })));
  await e2e.configureSandbox({ mode: 'healthy' });
});
afterAll(async () => {
  await e2e?.stop();
});

async function countItems(): Promise<number> {
  let count = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await e2e.dynamodb.send(
      new ScanCommand({ TableName: e2e.stack.tableName, Select: 'COUNT', ExclusiveStartKey: startKey }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Ids that look like ours but are not: wrong length, lowercase, letters Crockford leaves out. */
const almostId = fc.oneof(
  fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{25}$/),
  fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{27,30}$/),
  fc.stringMatching(/^[0-9a-hjkmnp-tv-z]{26}$/),
  fc.stringMatching(/^[0-9A-Z]{25}[ILOU]$/),
  fc.constant(` ${ulid()}`),
  fc.constant(`${ulid()}\n`),
);
const unknownId = fc.constant(null).map(() => ulid());

/** Every shape a send message can have but ours: text, JSON, near misses, unknown ids, prototype keys. */
function garbage(existingId: () => string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    awkwardString(),
    anyJsonText,
    fc.constantFrom('', ' ', 'null', '{}', '[]', '"id"', '{"id":null}', '{"id":{}}', '{"Id":"x"}'),
    almostId.map((id) => JSON.stringify({ id })),
    fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 })).map((id) => JSON.stringify({ id })),
    // Unknown ids are well formed: acknowledged as missing, and never sent.
    unknownId.map((id) => JSON.stringify({ id })),
    unknownId.map((id) => JSON.stringify({ id, accepted: { at: new Date().toISOString(), durationMs: 5 } })),
    // A real id with anything extra is not our message: discarded, not sent.
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }))
      .filter(([key]) => key !== 'id' && key !== 'accepted')
      .map(([key, value]) => JSON.stringify({ id: existingId(), [key]: value })),
    fc
      .record({ at: fc.oneof(fc.string(), fc.integer()), durationMs: fc.oneof(fc.double(), fc.string()) })
      .map((accepted) => JSON.stringify({ id: existingId(), accepted })),
    fc.constantFrom('__proto__', 'constructor', 'prototype').map((key) => `{"${key}":{"id":"${existingId()}"}}`),
    fc.constantFrom('__proto__', 'constructor').map((key) => `{"id":"${existingId()}","${key}":{"polluted":1}}`),
    fc.integer({ min: 10_000, max: 250_000 }).map((n) => JSON.stringify({ id: 'x'.repeat(n) })),
  );
}

async function invokeSender(bodies: string[]): Promise<SQSBatchResponse> {
  const event = sqsEvent(bodies);
  const answer = await e2e.invoke<SQSBatchResponse>('sender', event);
  expect(answer.functionError, JSON.stringify(answer.payload)?.slice(0, 500)).toBeUndefined();
  expect(answer.statusCode).toBe(200);
  return answer.payload;
}

describe('the sender, given garbage', () => {
  it('acknowledges every record of any batch of garbage, writes nothing and calls WaChap never', async () => {
    const someId = () => failed[0]!.id;
    const requests = (await e2e.inbox()).requests;
    await fc.assert(
      fc.asyncProperty(fc.array(garbage(someId), { minLength: 1, maxLength: 10 }), async (bodies) => {
        const before = await countItems();
        const result = await invokeSender(bodies);
        expect(result).toEqual({ batchItemFailures: [] });
        expect(await countItems()).toBe(before);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 80 },
    );
    expect((await e2e.inbox()).requests).toBe(requests);
    // The record the near misses named was left alone.
    expect(await e2e.getNotification(someId())).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('still sends the one real message of a batch of garbage, once', async () => {
    let next = 1;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          garbage(() => failed[0]!.id),
          { minLength: 0, maxLength: 9 },
        ),
        fc.nat(),
        async (bodies, at) => {
          const real = failed[next++];
          if (!real) return; // the pool is used up (shrinking): nothing left to send
          await e2e.makeDue(real.id);
          const requests = (await e2e.inbox()).requests;
          const batch = [...bodies];
          batch.splice(at % (bodies.length + 1), 0, JSON.stringify({ id: real.id }));

          const result = await invokeSender(batch);

          expect(result).toEqual({ batchItemFailures: [] });
          const sent = await waitForOutcome(e2e, real.id, (n) => n.status === 'sent');
          const inbox = await e2e.inbox();
          expect(inbox.requests).toBe(requests + 1);
          expect(inbox.messages.filter((m) => m.to === real.phone.slice(1))).toEqual([
            expect.objectContaining({ id: sent.externalMessageId }),
          ]);
        },
      ),
      { numRuns: POOL - 1 },
    );
  });
});

describe('the send queue, given garbage', () => {
  /** The characters SQS takes in a message body (the local engine leaves out those beyond the BMP too). */
  const sqsSafe = (text: string) => text !== '' && /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/.test(text);

  it('consumes every garbage message on its first receive: nothing left, nothing in the DLQ, no WaChap call', async () => {
    const requests = (await e2e.inbox()).requests;
    const bodies = fc.sample(
      garbage(() => failed[0]!.id).filter((body) => sqsSafe(body) && body.length < 200_000),
      25,
    );
    for (const body of bodies) {
      await e2e.sqs.send(new SendMessageCommand({ QueueUrl: e2e.stack.queueUrl, MessageBody: body }));
    }
    await waitFor(
      async () => {
        const depth = await e2e.queueDepth(e2e.stack.queueUrl);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      15_000,
      'the send queue to drain',
    );
    expect(await e2e.queueDepth(e2e.stack.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect((await e2e.inbox()).requests).toBe(requests);
  });
});
