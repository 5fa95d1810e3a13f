// The upstream contract's paths and answers through the local API door: the API under /v1 (202 with a Location the
// caller can read back), the unversioned POST /notifications kept for existing callers with a Deprecation header and
// its successor's Link, the operator routes under /v1 only, and honest idempotency (the same request is a repeat,
// another request under the same key is refused with 422 and writes nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eStack, malianPhone, notificationRequest, startE2eStack } from '../support/local-stack.js';

let e2e: E2eStack;
let nextPhone = 700;
const newPhone = () => malianPhone(nextPhone++);

beforeAll(async () => {
  e2e = await startE2eStack();
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
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
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
