// Every failure the WaChap sandbox can produce, end to end: the notification is posted over HTTP,
// the real sender meets the failure, and the record ends in the state and with the next attempt
// the rules promise (provider trouble holds without burning an attempt; blips back off; bad numbers stop).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxState } from '../../local/wachap-sandbox.js';
import type { Notification } from '../../shared/domain/notification.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';

const MINUTE = 60_000;
/** PROVIDER_HOLD_SECONDS' default: how long a held notification waits before it is looked at again. */
const PROVIDER_HOLD_MS = 30 * MINUTE;

let e2e: E2eStack;
let nextPhone = 10;

beforeAll(async () => {
  e2e = await startE2eStack();
});
afterAll(async () => {
  await e2e?.stop();
});
beforeEach(async () => {
  await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [], retryAfterSeconds: 60 });
  // A provider failure opens the shared circuit; each test starts with it closed, as an operator would.
  const closed = await e2e.invoke<{ circuit: { status: string } }>('provider-probe', { action: 'close' });
  expect(closed.payload.circuit.status).toBe('healthy');
  // Closing releases what the last test held: let it go out (WaChap is healthy) before this test breaks WaChap
  // again, or its failure would open the circuit under this test's notification.
  await waitFor(
    async () => {
      const lanes = await Promise.all([e2e.queueDepth(e2e.stack.queueUrl), e2e.queueDepth(e2e.stack.priorityQueueUrl)]);
      return lanes.every((lane) => lane.visible + lane.inFlight === 0);
    },
    10_000,
    'the released notifications to be sent',
  );
});

/** Posts a notification with the sandbox in `state` and returns its record once the attempt is recorded. */
async function sendThrough(state: Partial<SandboxState>, phone = malianPhone(nextPhone++)): Promise<Notification> {
  await e2e.configureSandbox(state);
  const accepted = await e2e.post(notificationRequest(phone));
  expect(accepted.status).toBe(202);
  return waitForOutcome(e2e, accepted.body.id!);
}

/** Milliseconds between the failure and the next attempt it scheduled. */
const waitAfterFailure = (n: Notification): number => Date.parse(n.nextAttemptAt!) - Date.parse(n.lastError!.at);

describe('provider failures hold the notification without using an attempt', () => {
  it.each([
    ['disconnected', 'application_error', undefined, /disconnected/i],
    ['token_expired', 'http_error', 401, /token expired/i],
    ['subscription_expired', 'application_error', undefined, /subscription expired/i],
  ] as const)(
    '%s: failed, provider_unavailable, 0 attempts, retried after the hold',
    async (mode, type, httpStatus, text) => {
      const n = await sendThrough({ mode });

      expect(n).toMatchObject({ status: 'failed', reason: 'provider_unavailable', attempts: 0 });
      expect(n.lastError).toMatchObject({ type, scope: 'provider', reason: 'provider_unavailable' });
      expect(n.lastError?.message).toMatch(text);
      if (httpStatus) expect(n.lastError?.httpStatus).toBe(httpStatus);
      expect(waitAfterFailure(n)).toBe(PROVIDER_HOLD_MS);
      expect(n.history).toEqual([expect.objectContaining({ outcome: 'held', errorType: type })]);
      expect(n.externalMessageId).toBeUndefined();
    },
  );
});

describe('temporary failures use an attempt and back off', () => {
  it("rate_limited with Retry-After 3600: failed, 1 attempt, next attempt in exactly the provider's hour", async () => {
    const n = await sendThrough({ mode: 'rate_limited', retryAfterSeconds: 3600 });

    expect(n).toMatchObject({ status: 'failed', reason: 'temporary_error', attempts: 1 });
    expect(n.lastError).toMatchObject({ httpStatus: 429, classification: 'temporary', scope: 'transient' });
    // The backoff's 30 min ± 10 % is shorter than the provider's Retry-After, which wins.
    expect(waitAfterFailure(n)).toBe(60 * MINUTE);
    expect(Date.parse(n.nextAttemptAt!) - Date.now()).toBeGreaterThan(59 * MINUTE);
  });

  it('unavailable (503): failed, 1 attempt, next attempt in 30 min ± 10 %', async () => {
    const n = await sendThrough({ mode: 'unavailable' });

    expect(n).toMatchObject({ status: 'failed', reason: 'temporary_error', attempts: 1 });
    expect(n.lastError).toMatchObject({ type: 'http_error', httpStatus: 503, classification: 'temporary' });
    expect(waitAfterFailure(n)).toBeGreaterThanOrEqual(27 * MINUTE);
    expect(waitAfterFailure(n)).toBeLessThanOrEqual(33 * MINUTE);
  });

  it('slow past the client timeout: failed, timeout, temporary', async () => {
    const n = await sendThrough({ mode: 'slow', slowMs: 5_000 });

    expect(n).toMatchObject({ status: 'failed', reason: 'temporary_error', attempts: 1 });
    expect(n.lastError).toMatchObject({ type: 'timeout', classification: 'temporary', scope: 'transient' });
    expect(waitAfterFailure(n)).toBeGreaterThanOrEqual(27 * MINUTE);
    expect(waitAfterFailure(n)).toBeLessThanOrEqual(33 * MINUTE);
    // The timeout fired at the client's 1 s, not at the sandbox's 5 s.
    expect(n.history.at(-1)?.durationMs).toBeLessThan(3_000);
  });

  it('an HTML body on HTTP 200: failed, invalid_response, temporary', async () => {
    const n = await sendThrough({ mode: 'error_body' });

    expect(n).toMatchObject({ status: 'failed', reason: 'temporary_error', attempts: 1 });
    expect(n.lastError).toMatchObject({ type: 'invalid_response', httpStatus: 200, classification: 'temporary' });
    expect(waitAfterFailure(n)).toBeGreaterThanOrEqual(27 * MINUTE);
    expect(waitAfterFailure(n)).toBeLessThanOrEqual(33 * MINUTE);
  });
});

describe('a number WhatsApp does not know', () => {
  it('ends in permanent_failure (permanent_error) with no next attempt, while other numbers still go', async () => {
    const invalid = malianPhone(90);
    const n = await sendThrough({ invalidNumbers: [invalid] }, invalid);

    expect(n).toMatchObject({ status: 'permanent_failure', reason: 'permanent_error', attempts: 1 });
    expect(n.lastError).toMatchObject({ type: 'application_error', classification: 'permanent', scope: 'recipient' });
    expect(n.nextAttemptAt).toBeUndefined();

    const other = await sendThrough({}, malianPhone(91));
    expect(other.status).toBe('sent');
    const { messages } = await e2e.inbox();
    expect(messages.map((m) => m.to)).not.toContain(invalid.slice(1));
  });
});
