// End to end through the public doors: a caller's HTTP request reaches WhatsApp (the sandbox)
// exactly once; the API door refuses what API Gateway refuses; the Invoke door answers as Lambda does.
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitForOutcome,
} from '../support/local-stack.js';

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack();
});
afterAll(async () => {
  await e2e?.stop();
});

describe('POST /v1/notifications, the happy path', () => {
  it('delivers a notification once and records it as sent with the provider id', async () => {
    const phone = malianPhone(1);
    const accepted = await e2e.post(notificationRequest(phone, { message: 'Votre colis TS-4242 est arrivé.' }));
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      status: 'pending',
      links: { self: `/v1/notifications/${accepted.body.id}` },
    });

    const stored = await waitForOutcome(e2e, accepted.body.id!);
    const { messages } = await e2e.inbox();
    const delivered = messages.filter((m) => m.to === phone.slice(1));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.message).toBe('*Votre colis est arrivé*\nVotre colis TS-4242 est arrivé.');
    expect(stored).toMatchObject({ status: 'sent', attempts: 1, externalMessageId: delivered[0]!.id });
    expect(stored.sentAt).toBeDefined();
    expect(stored.nextAttemptAt).toBeUndefined();
    expect(stored.history).toEqual([expect.objectContaining({ outcome: 'sent' })]);
  });
});

describe('POST /notifications, refused requests', () => {
  it.each([
    ['without an API key', null],
    ['with a wrong API key', 'not-the-key'],
  ])('answers 403 %s and writes nothing', async (_case, apiKey) => {
    const before = await e2e.countNotifications();
    const requestsBefore = (await e2e.inbox()).requests;

    const answer = await e2e.post(notificationRequest(malianPhone(2)), { apiKey });

    expect(answer).toMatchObject({ status: 403, body: { status: 403, code: 'invalid_api_key', detail: 'Forbidden' } });
    expect(await e2e.countNotifications()).toBe(before);
    expect((await e2e.inbox()).requests).toBe(requestsBefore);
  });

  it('answers 400 naming each invalid field and writes nothing', async () => {
    const before = await e2e.countNotifications();

    const answer = await e2e.post({ recipient: { phone: '+22370123456' }, category: 'Colis Arrivé', message: '' });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'validation_error', detail: expect.stringContaining('category') });
    expect(answer.body.errors?.map((d) => d.path).sort()).toEqual(['category', 'message']);
    expect(answer.body.errors?.every((d) => d.message.length > 0)).toBe(true);
    expect(await e2e.countNotifications()).toBe(before);
  });

  it('answers 400 for a phone number that does not exist, and for a body that is not JSON', async () => {
    const badPhone = await e2e.post(notificationRequest('12345'));
    expect(badPhone.status).toBe(400);
    expect(badPhone.body).toMatchObject({
      code: 'validation_error',
      errors: [{ path: 'recipient.phone', message: expect.stringContaining('phone number') }],
    });

    const notJson = await e2e.post(undefined, { rawBody: '{"recipient": ' });
    expect(notJson).toMatchObject({
      status: 400,
      body: { status: 400, code: 'malformed_json', detail: 'the body is not valid JSON' },
    });
  });
});

describe('the Lambda Invoke door', () => {
  it('answers StatusCode 200 with the function result as the JSON payload', async () => {
    const sweep = await e2e.invoke<SweepSummary>('retry-sweep', { dryRun: true });
    expect(sweep.statusCode).toBe(200);
    expect(sweep.functionError).toBeUndefined();
    expect(sweep.payload).toMatchObject({ dryRun: true, found: 0, queued: 0, maxRetries: 10, limit: 500 });

    const health = await e2e.invoke<HealthReport>('health-check', { dryRun: true });
    expect(health.statusCode).toBe(200);
    expect(health.payload).toMatchObject({ dryRun: true, dlqDepth: 0, alerts: [] });
  });

  it('accepts a function ARN as the function name', async () => {
    const answer = await e2e.invoke<SweepSummary>('arn:aws:lambda:us-east-1:000000000000:function:retry-sweep', {
      dryRun: true,
    });
    expect(answer).toMatchObject({ statusCode: 200, payload: { dryRun: true } });
  });

  it('answers a bad payload with a validation result, not a function error', async () => {
    const answer = await e2e.invoke('retry-sweep', { dryRun: 'yes', limit: 0 });
    expect(answer.statusCode).toBe(200);
    expect(answer.functionError).toBeUndefined();
    expect(answer.payload).toMatchObject({ statusCode: 400, error: 'validation_error' });
  });

  it('throws ResourceNotFoundException for an unknown function', async () => {
    await expect(e2e.invoke('no-such-function')).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("reports a function's exception as FunctionError 'Unhandled' with its error type", async () => {
    // The sender only takes SQS events; anything else is an error of the function, as on AWS.
    const answer = await e2e.invoke<{ errorType: string; errorMessage: string }>('sender', { hello: 'world' });
    expect(answer.statusCode).toBe(200);
    expect(answer.functionError).toBe('Unhandled');
    expect(answer.payload.errorType).toBe('UnexpectedBatchTypeError');
    expect(answer.payload.errorMessage).toEqual(expect.any(String));
  });

  it('runs an Event (asynchronous) invoke: StatusCode 202 and the function still runs', async () => {
    // A due notification that only a sweep can pick up: accepted while the provider was refusing, then made due.
    await e2e.configureSandbox({ mode: 'unavailable' });
    const phone = malianPhone(3);
    const { body } = await e2e.post(notificationRequest(phone));
    await waitForOutcome(e2e, body.id!);
    await e2e.configureSandbox({ mode: 'healthy' });
    await e2e.makeDue(body.id!);

    const client = new LambdaClient({
      endpoint: e2e.stack.urls.lambda,
      region: 'us-east-1',
      credentials: { accessKeyId: 'e2e', secretAccessKey: 'e2e' },
    });
    try {
      const result = await client.send(
        new InvokeCommand({
          FunctionName: 'retry-sweep',
          InvocationType: 'Event',
          Payload: new TextEncoder().encode('{}'),
        }),
      );
      expect(result.StatusCode).toBe(202);
    } finally {
      client.destroy();
    }
    const sent = await waitForOutcome(e2e, body.id!, (n) => n.status === 'sent');
    expect(sent.attempts).toBe(2);
    expect((await e2e.inbox()).messages.filter((m) => m.to === phone.slice(1))).toHaveLength(1);
  });
});
