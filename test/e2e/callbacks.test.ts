// Status callbacks end to end, through the local stack's doors: a caller POSTs a notification with a callbackUrl, and
// its receiver (a node:http server on 127.0.0.1, as a caller's would be) gets each event that matters, signed per
// Standard Webhooks, and verifies it with the library and the local caller's secret. A receiver that fails gets the
// event again, with the same webhook-id; one that keeps failing past the retry window shows on the notification.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationView } from '../../shared/application/operator.js';
import type { CallbackEvent } from '../../shared/http/callback-events.js';
import { type CallbackReceiver, type ReceivedCallback, startCallbackReceiver } from '../support/callback-receiver.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';

/** Retries after 1, 2, 4 s…, given up 8 s after the emission: the production schedule scaled down (30 s, 24 h). */
const RETRY_WINDOW_SECONDS = 8;

let e2e: E2eStack;
let receiver: CallbackReceiver;

beforeAll(async () => {
  receiver = await startCallbackReceiver();
  e2e = await startE2eStack({
    env: { CALLBACK_RETRY_BASE_SECONDS: '1', CALLBACK_RETRY_WINDOW_SECONDS: String(RETRY_WINDOW_SECONDS) },
  });
});
afterAll(async () => {
  await e2e?.stop();
  await receiver?.close();
});

async function post(phone: string, hook: string): Promise<string> {
  const answer = await e2e.post(notificationRequest(phone, { callbackUrl: receiver.url(hook) }));
  expect(answer.status).toBe(202);
  return answer.body.id!;
}

const at = (hook: string) => () => receiver.received().filter((r) => r.path === `/hooks/${hook}`);

/** Verified as a caller verifies: the raw body, the three webhook-* headers, the caller's secret. */
const verified = (request: ReceivedCallback): CallbackEvent =>
  new Webhook(e2e.stack.callbackSecret).verify(
    request.body,
    request.headers as Record<string, string>,
  ) as CallbackEvent;

describe('status callbacks', () => {
  it('tells the receiver a notification was sent, signed with its secret', async () => {
    const id = await post(malianPhone(1), 'sent');
    const stored = await waitForOutcome(e2e, id);
    expect(stored.status).toBe('sent');

    const [request] = await waitFor(() => (at('sent')().length > 0 ? at('sent')() : undefined), 10_000, 'the callback');

    expect(request!.headers['webhook-id']).toBe(`${id}.v${stored.version}`);
    expect(verified(request!)).toEqual({
      type: 'notification.sent',
      timestamp: stored.sentAt,
      data: { id, status: 'sent', category: 'colis_arrive', attempts: 1, sentAt: stored.sentAt },
    });
    // Signed with this caller's secret: another secret does not verify it.
    const other = `whsec_${Buffer.from('not-the-callers-secret-000').toString('base64')}`;
    expect(() => new Webhook(other).verify(request!.body, request!.headers as Record<string, string>)).toThrow();
  });

  it('tells the receiver a notification failed permanently: a number WhatsApp does not know', async () => {
    const phone = malianPhone(2);
    await e2e.configureSandbox({ invalidNumbers: [phone.slice(1)] });
    const id = await post(phone, 'invalid');
    expect((await waitForOutcome(e2e, id)).status).toBe('permanent_failure');

    const [request] = await waitFor(
      () => (at('invalid')().length > 0 ? at('invalid')() : undefined),
      10_000,
      'the callback',
    );

    expect(verified(request!)).toMatchObject({
      type: 'notification.permanent_failure',
      data: {
        id,
        status: 'permanent_failure',
        attempts: 1,
        reason: 'permanent_error',
        error: { classification: 'permanent', scope: 'recipient', reason: 'permanent_error' },
      },
    });
    await e2e.configureSandbox({ invalidNumbers: [] });
  });

  it('sends the event again, with the same webhook-id, to a receiver that failed the first time', async () => {
    receiver.script(500);
    const id = await post(malianPhone(3), 'flaky');

    const requests = await waitFor(() => (at('flaky')().length >= 2 ? at('flaky')() : undefined), 15_000, 'the retry');

    expect(requests.map((r) => r.answered)).toEqual([500, 'ok']);
    expect(requests[0]!.headers['webhook-id']).toBe(requests[1]!.headers['webhook-id']);
    expect(requests.map((r) => verified(r).type)).toEqual(['notification.sent', 'notification.sent']);
    expect(verified(requests[1]!).data.id).toBe(id);
  });

  it('gives up on a receiver that keeps failing: the notification shows it, the callback DLQ holds it', async () => {
    receiver.setDefault(503);
    try {
      const id = await post(malianPhone(4), 'down');

      const view = await waitFor(
        async () => {
          const response = await e2e.signed(`/v1/notifications/${id}`);
          const body = (await response.json()) as NotificationView;
          return body.callbackExhausted?.length ? body : undefined;
        },
        (RETRY_WINDOW_SECONDS + 15) * 1000,
        'the exhausted callback on the notification',
        250,
      );

      expect(view.status).toBe('sent');
      expect(view.callbackExhausted).toEqual([
        expect.objectContaining({ type: 'notification.sent', lastError: 'http_status: HTTP 503' }),
      ]);
      expect(at('down')().length).toBeGreaterThanOrEqual(2);
      const { Messages } = await e2e.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: e2e.stack.callbackDlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      expect(Messages?.map((m) => JSON.parse(m.Body!).id)).toContain(view.callbackExhausted![0]!.eventId);
    } finally {
      receiver.setDefault('ok');
    }
  }, 40_000);

  it('refuses a callbackUrl that is not http(s), naming it, and writes nothing', async () => {
    const before = await e2e.countNotifications();

    const answer = await e2e.post(notificationRequest(malianPhone(5), { callbackUrl: 'ftp://127.0.0.1/hooks' }));

    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.path)).toEqual(['callbackUrl']);
    expect(await e2e.countNotifications()).toBe(before);
  });
});
