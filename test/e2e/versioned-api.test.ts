// The upstream contract's paths and answers through the local API door: the API under /v1 (202 with a Location the
// caller can read back), the unversioned POST /notifications kept for existing callers with a Deprecation header and
// its successor's Link, the operator routes under /v1 only, and honest idempotency (the same request is a repeat,
// another request under the same key is refused with 422 and writes nothing, a key whose first request is still in
// flight is a 409 with Retry-After, keys are per caller), and the RateLimit-* headers of the limit closest to running out.
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_API_KEY_ID } from '../../local/aws-events.js';
import { DEFAULT_USAGE_PLAN } from '../../shared/http/usage-plan.js';
import { makeNotification } from '../support/fixtures.js';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack } from '../support/local-stack.js';

let e2e: E2eStack;
let nextPhone = 700;
const newPhone = () => malianPhone(nextPhone++);

/** A second upstream system, with its own key. */
const BOUTIQUE_KEY = 'e2e-boutique-key';

beforeAll(async () => {
  e2e = await startE2eStack({
    extraCallers: [{ apiKey: BOUTIQUE_KEY, apiKeyId: 'boutique', usagePlan: DEFAULT_USAGE_PLAN }],
  });
});
afterAll(async () => {
  await e2e?.stop();
});

describe('POST /v1/notifications', () => {
  it('answers 202 with a Location the operator reads back, and links.self to the same place', async () => {
    const accepted = await e2e.post(notificationRequest(newPhone()));

    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location');
    expect(location).toBe(`/v1/notifications/${accepted.body.id}`);
    expect(accepted.body).toEqual({ id: accepted.body.id, status: 'pending', links: { self: location } });
    expect(accepted.headers.get('deprecation')).toBeNull();
    const read = await e2e.signed(location!);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: accepted.body.id });
  });
});

describe('POST /notifications (unversioned, deprecated)', () => {
  it('still accepts, saying since when it is deprecated (RFC 9745) and where its successor is', async () => {
    const accepted = await e2e.post(notificationRequest(newPhone()), { path: '/notifications' });

    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('deprecation')).toBe(`@${Date.parse('2026-11-30T00:00:00Z') / 1000}`);
    expect(accepted.headers.get('link')).toBe('</v1/notifications>; rel="successor-version"');
    expect(accepted.headers.get('location')).toBe(`/v1/notifications/${accepted.body.id}`);
  });

  it.each([
    ['GET', '/notifications/01KB8Z4N6Q0000000000000000'],
    ['GET', '/notifications?status=failed'],
    ['GET', '/notifications/export.csv'],
    ['POST', '/notifications/01KB8Z4N6Q0000000000000000/cancel'],
    ['POST', '/notifications/retry'],
  ])('serves no operator route outside /v1: a signed %s %s is no route (403)', async (method, path) => {
    const response = await e2e.signed(path, { method });
    expect(response.status).toBe(403);
  });
});

describe('Idempotency-Key through the door', () => {
  it('answers the same request again with 200 and the first answer, key order and spacing aside', async () => {
    const phone = newPhone();
    const key = `e2e-same-${phone}`;
    const first = await e2e.post(notificationRequest(phone, { idempotencyKey: key }));
    const { recipient, category, title, message } = notificationRequest(phone);
    const reordered = `{"message":${JSON.stringify(message)}, "title":${JSON.stringify(title)},
      "category":"${category}", "recipient":{"name":${JSON.stringify(recipient.name)},"phone":"${phone}"}}`;

    const again = await e2e.post(undefined, { rawBody: reordered, headers: { 'idempotency-key': key } });

    expect(first.status).toBe(202);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
  });

  it('answers 409 with Retry-After while the first request under the key is still writing, then the first answer', async () => {
    const phone = newPhone();
    const key = `e2e-in-flight-${phone}`;
    // The first request's claim, as it stands between its two writes (ingest's own order: claim, then notification).
    const first = makeNotification({
      idempotencyKey: key,
      caller: LOCAL_API_KEY_ID,
      createdAt: new Date().toISOString(),
    });
    await DynamoDBDocumentClient.from(e2e.dynamodb).send(
      new PutCommand({
        TableName: e2e.stack.tableName,
        Item: {
          pk: `callerkey#${LOCAL_API_KEY_ID}#${key}`,
          notificationId: first.id,
          notification: first,
          ttl: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    const before = await e2e.countNotifications();

    const meanwhile = await e2e.post(notificationRequest(phone, { idempotencyKey: key }));

    expect(meanwhile.status).toBe(409);
    expect(meanwhile.headers.get('content-type')).toBe('application/problem+json');
    expect(meanwhile.body).toMatchObject({ status: 409, code: 'idempotent_request_in_flight' });
    const retryAfter = Number(meanwhile.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(await e2e.countNotifications()).toBe(before);
  });

  it("keeps each caller's keys its own: another caller's equal key is another notification", async () => {
    const phone = newPhone();
    const key = `e2e-per-caller-${phone}`;
    const request = notificationRequest(phone, { idempotencyKey: key });

    const ours = await e2e.post(request);
    const theirs = await e2e.post(request, { apiKey: BOUTIQUE_KEY });
    const oursAgain = await e2e.post(request);
    const theirsAgain = await e2e.post(request, { apiKey: BOUTIQUE_KEY });

    expect([ours.status, theirs.status, oursAgain.status, theirsAgain.status]).toEqual([202, 202, 200, 200]);
    expect(theirs.body.id).not.toBe(ours.body.id);
    expect(oursAgain.body.id).toBe(ours.body.id);
    expect(theirsAgain.body.id).toBe(theirs.body.id);
    expect((await e2e.getNotification(theirs.body.id!))?.caller).toBe('boutique');
  });
});

describe('RateLimit headers', () => {
  it("tell the caller where it stands against the limit closest to running out: the recipient's for its category", async () => {
    const phone = newPhone();
    const otp = () => e2e.post(notificationRequest(phone, { category: 'otp', message: 'Code 4321' }));

    const first = await otp();
    const second = await otp();

    expect(first.status).toBe(202);
    expect(first.headers.get('ratelimit-limit')).toBe('5');
    expect(first.headers.get('ratelimit-remaining')).toBe('4');
    expect(second.headers.get('ratelimit-remaining')).toBe('3');
    const reset = Number(second.headers.get('ratelimit-reset'));
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(600);
  });

  it("tell it of the plan's daily quota when that is closer to running out", async () => {
    const tight = await startE2eStack({
      extraCallers: [{ apiKey: 'tight', apiKeyId: 'tight', usagePlan: { ...DEFAULT_USAGE_PLAN, dailyQuota: 3 } }],
    });
    try {
      const answer = await tight.post(notificationRequest(newPhone()), { apiKey: 'tight' });

      expect(answer.status).toBe(202);
      expect(answer.headers.get('ratelimit-limit')).toBe('3');
      expect(answer.headers.get('ratelimit-remaining')).toBe('2');
      expect(Number(answer.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(86_400);
    } finally {
      await tight.stop();
    }
  });

  it('refuses the same key with another body: 422 idempotency_key_reused naming the key, nothing written', async () => {
    const phone = newPhone();
    const key = `e2e-reused-${phone}`;
    const first = await e2e.post(notificationRequest(phone), { headers: { 'idempotency-key': key } });
    const before = await e2e.countNotifications();

    const reused = await e2e.post(notificationRequest(phone, { message: 'Un autre message', idempotencyKey: key }));

    expect(first.status).toBe(202);
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(reused.body).toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
      errors: [{ path: 'idempotencyKey', message: expect.stringContaining('another request') }],
    });
    expect(await e2e.countNotifications()).toBe(before);
    expect((await e2e.getNotification(first.body.id!))?.message).toBe(notificationRequest(phone).message);
  });
});
