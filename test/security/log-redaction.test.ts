// What the functions write to their logs, at DEBUG, while every path runs end to end: success, each
// failure WaChap can produce (token expired and an unknown number included), idempotent repeats,
// refusals with phone numbers in the body, the verbose retry sweep, the health check with its
// WhatsApp alert, the provider probe. The WaChap access token never appears, in any encoding; no
// recipient's number appears unmasked, in any form; and the masked forms do appear (so the capture works).
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsEvent } from '../../local/aws-events.js';
import type { SandboxState } from '../../local/wachap-sandbox.js';
import { maskPhone } from '../../shared/domain/phone.js';
import { type CapturedOutput, captureOutput } from '../support/capture-output.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';

/** Distinctive, and different once URL- or form-encoded. */
const TOKEN = 'Zq9-SeCrEt/tok+en=42~Xw7';
const INSTANCE_ID = 'SECINST4242ABCD';
const ADMIN_PHONE = '+22370129990';

let e2e: E2eStack;
let stopped = false;
let output: CapturedOutput;
let captured = '';
/** Every phone number the traffic carried, as E.164. */
const phones = new Set<string>([ADMIN_PHONE]);
/** The forms some of them were written in (national, spaced…), as sent. */
const writtenForms = new Set<string>();

beforeAll(async () => {
  output = captureOutput({ echo: process.env.E2E_ECHO_LOGS === '1' });
  e2e = await startE2eStack({
    wachap: { instanceId: INSTANCE_ID, accessToken: TOKEN },
    env: {
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      ADMIN_EMAIL: 'ops-security@example.com',
      ALERT_FROM_EMAIL: 'alerts-security@example.com',
      ADMIN_PHONE,
      ALERT_WHATSAPP_ENABLED: 'true',
      ALERT_HOURLY_FAILURE_THRESHOLD: '1',
      ALERT_DAILY_PERMANENT_THRESHOLD: '1',
    },
  });
}, 60_000);

afterAll(async () => {
  try {
    if (!stopped) await e2e?.stop();
  } finally {
    output?.restore();
  }
});

let next = 1;
/** A fresh recipient of the traffic (index 56 is left out: +22370123456 is the example in error messages). */
function phone(): string {
  if (next === 56) next += 1;
  const e164 = malianPhone(next++);
  phones.add(e164);
  return e164;
}

/** Posts a notification for `written` (any form of the number) with the sandbox in `state`; returns its record. */
async function deliver(written: string, state: Partial<SandboxState> = {}) {
  await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [], ...state });
  const answer = await e2e.post(notificationRequest(written, { message: `Colis pour ${written}: arrivé.` }));
  expect(answer.status).toBe(202);
  return waitForOutcome(e2e, answer.body.id!);
}

const closeCircuit = () => e2e.invoke('provider-probe', { action: 'close' });

/** Nothing on the send queue and nothing in flight: every send the traffic started has been recorded. */
const quiet = () =>
  waitFor(
    async () => {
      const depth = await e2e.queueDepth(e2e.stack.queueUrl);
      return depth.visible === 0 && depth.inFlight === 0;
    },
    15_000,
    'the send queue to drain',
  );

/** The greps below mean something only if the traffic ran to its end and its logs were captured. */
const expectCaptured = () => expect(captured.length, 'captured output').toBeGreaterThan(10_000);

/** No captured line contains `text`; a failure shows the lines that do. */
const expectAbsent = (text: string) =>
  expect(
    captured.split('\n').filter((line) => line.includes(text)),
    `lines containing ${text}`,
  ).toEqual([]);

describe('logs of every path, at DEBUG', () => {
  it('runs the traffic', async () => {
    // Success, with the number written four ways.
    const [a, b, c, d] = [phone(), phone(), phone(), phone()];
    const national = b.slice(4);
    const spaced = `+223 ${c.slice(4).match(/../g)!.join(' ')}`;
    const withZeros = `00${d.slice(1)}`;
    writtenForms.add(national).add(spaced).add(withZeros);
    for (const written of [a, national, spaced, withZeros]) expect((await deliver(written)).status).toBe('sent');

    // Idempotent repeat.
    const repeated = phone();
    const request = notificationRequest(repeated, { idempotencyKey: 'security-repeat-1' });
    expect((await e2e.post(request)).status).toBe(202);
    expect((await e2e.post(request)).status).toBe(200);

    // Refusals that carry phone numbers: bad fields, a bad number, an unknown field, a wrong key, bad JSON.
    const refusedPhone = phone();
    const invalidNumber = phone().slice(0, -1);
    writtenForms.add(invalidNumber);
    expect((await e2e.post(notificationRequest(refusedPhone, { category: 'NOT A SLUG', priority: 9 }))).status).toBe(
      400,
    );
    expect((await e2e.post(notificationRequest(invalidNumber))).status).toBe(400);
    expect((await e2e.post({ ...notificationRequest(refusedPhone), backupPhone: phone() })).status).toBe(400);
    // A caller who keys names by number: the number is a field name, and the refusal names that field.
    const keyedByNumber = {
      ...notificationRequest(refusedPhone),
      recipient: { [phone()]: 'Awa', phone: refusedPhone },
    };
    expect((await e2e.post(keyedByNumber)).status).toBe(400);
    expect((await e2e.post(notificationRequest(phone()), { apiKey: 'wrong' })).status).toBe(403);
    expect((await e2e.post(null, { rawBody: `{"recipient":{"phone":"${phone()}"},` })).status).toBe(400);
    expect((await e2e.post(null, { rawBody: '{}', headers: { 'content-type': 'text/plain' } })).status).toBe(415);

    // Every failure mode of the provider, one recipient each; provider trouble opens the circuit: close it.
    for (const mode of [
      'disconnected',
      'token_expired',
      'subscription_expired',
      'rate_limited',
      'unavailable',
      'error_body',
    ] as const) {
      await deliver(phone(), { mode, retryAfterSeconds: 120 });
      await closeCircuit();
    }
    await deliver(phone(), { mode: 'slow', slowMs: 1_500 });
    const unknown = phone();
    expect((await deliver(unknown, { invalidNumbers: [unknown] })).status).toBe('permanent_failure');

    // Held while the circuit is open: a send that never reaches WaChap.
    await e2e.invoke('provider-probe', { action: 'open', reason: 'security test' });
    expect((await deliver(phone())).reason).toBe('provider_unavailable');

    // The provider probe, while WaChap still refuses the token, then healthy.
    await e2e.configureSandbox({ mode: 'token_expired' });
    await e2e.invoke('provider-probe', { action: 'probe' });
    await e2e.invoke('provider-probe', { action: 'status' });
    await e2e.configureSandbox({ mode: 'healthy' });
    await e2e.invoke('provider-probe', { action: 'probe' });
    await e2e.invoke('provider-probe', { action: 'tick' });
    await closeCircuit();
    await e2e.invoke('provider-probe', { action: 'nope' });

    // The verbose retry sweep, dry then real, over everything that failed (once the released ones are sent).
    await quiet();
    const { Items = [] } = await e2e.dynamodb.send(
      new ScanCommand({
        TableName: e2e.stack.tableName,
        FilterExpression: '#status = :failed AND attribute_exists(dueShard)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': { S: 'failed' } },
        ConsistentRead: true,
      }),
    );
    const failedIds = Items.map((item) => item.id!.S!);
    expect(failedIds.length).toBeGreaterThan(3);
    for (const id of failedIds) await e2e.makeDue(id);
    await e2e.invoke('retry-sweep', { dryRun: true, verbose: true });
    await e2e.invoke('retry-sweep', { verbose: true });
    await e2e.invoke('retry-sweep', { verbose: 'yes', limit: 0 });
    await quiet();

    // The health check, dry and real (one failure is enough: an email and a WhatsApp alert to the admin).
    await e2e.invoke('health-check', { dryRun: true });
    const health = await e2e.invoke<{ delivered: { whatsapp: number } }>('health-check', {});
    expect(health.payload.delivered.whatsapp).toBeGreaterThan(0);

    // Garbage for the sender, some of it carrying a number.
    await e2e.invoke(
      'sender',
      sqsEvent(['not json', JSON.stringify({ id: phone() }), JSON.stringify({ phone: phone() })]),
    );

    // Let every in-flight send finish, then stop the stack, so that its last lines are captured too.
    await quiet();
    stopped = true;
    await e2e.stop();
    output.restore();
    captured = output.text();
  }, 60_000);

  it('captured the logs: DEBUG lines, errors, and the masked numbers', () => {
    expectCaptured();
    expect(captured).toContain('"level":"DEBUG"');
    expect(captured).toContain('"level":"ERROR"');
    expect(captured).toContain('Sending WaChap message');
    // The masked form of the first recipient (…3401) and of the admin.
    expect(captured).toContain(maskPhone(malianPhone(1)));
    expect(captured).toContain(`"${maskPhone(ADMIN_PHONE)}"`);
  });

  it('never contains the WaChap access token, in any encoding', () => {
    expectCaptured();
    const encodings = [
      TOKEN,
      encodeURIComponent(TOKEN),
      new URLSearchParams({ t: TOKEN }).toString().slice(2),
      JSON.stringify(TOKEN).slice(1, -1),
      Buffer.from(TOKEN).toString('base64'),
    ];
    for (const form of new Set(encodings)) expectAbsent(form);
    // Nor the part that makes it a secret, should it be cut in two.
    expectAbsent('SeCrEt');
  });

  it('never contains the full WaChap instance id', () => {
    expectCaptured();
    expectAbsent(INSTANCE_ID);
  });

  it('never contains the API key', () => {
    expectCaptured();
    expectAbsent(e2e.stack.apiKey);
  });

  it('never contains a phone number of the traffic unmasked, in any form', () => {
    expectCaptured();
    expect(phones.size).toBeGreaterThan(20);
    for (const e164 of phones) {
      const digits = e164.slice(1);
      const national = digits.slice(3);
      for (const form of [e164, digits, national, `00${digits}`]) expectAbsent(form);
      // Spaced or dashed as people write them.
      const pairs = national.match(/../g)!;
      for (const separator of [' ', '-', '.']) expectAbsent(pairs.join(separator));
    }
    for (const form of writtenForms) expectAbsent(form);
  });
});
