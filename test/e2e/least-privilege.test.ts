// Least privilege derived from what the functions really call. Every path of every function is
// driven through the local stack's doors while each AWS call is recorded as its IAM action and the
// function that made it; then each role of the synthesized CDK stack must grant exactly that: no
// call its role refuses (an AccessDenied in AWS, possibly swallowed as a warning), no grant left
// unused. Only grants that no SDK middleware sees, or that no door provokes, are listed by hand, each
// with its reason.
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../local/engines/secrets-manager.js';
import { storedEmails } from '../../local/engines/ses.js';
import { FUNCTION_NAMES, type FunctionName } from '../../local/functions.js';
import { DEFAULT_LOCAL_OPTIONS, LOCAL_CALLBACK_SECRET, LOCAL_CALLBACK_SECRET_PREFIX } from '../../local/stack.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { CircuitReport } from '../../shared/application/provider-circuit.js';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { observeAwsCalls } from '../../shared/observability/aws-calls.js';
import { type CallbackReceiver, startCallbackReceiver } from '../support/callback-receiver.js';
import { FULL_CONTEXT, grantedActions, removeSyntheses, synthesize } from '../support/cdk-stack.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';
import { type SesDoor, startSesDoor } from '../support/ses-door.js';

const unseen = (functions: readonly FunctionName[], why: string) => (action: string) => ({ action, functions, why });

/** Grants that no SDK middleware can see, or that no door provokes at will; with the reason for each. */
const UNSEEN_GRANTS = [
  ...['logs:CreateLogStream', 'logs:PutLogEvents'].map(
    unseen(FUNCTION_NAMES, "the Lambda service ships the function's logs with its role"),
  ),
  ...['xray:PutTraceSegments', 'xray:PutTelemetryRecords'].map(
    unseen(FUNCTION_NAMES, "active tracing: Lambda's X-Ray daemon sends the segments with the function's role"),
  ),
  ...['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'].map(
    unseen(
      ['sender', 'callback-dispatcher'],
      "CDK's SqsEventSource grants it for Lambda's poller; the local poller (sqs-consumer) never calls it",
    ),
  ),
  ...['dynamodb:GetItem'].map(
    unseen(
      ['retry-sweep'],
      'read again only after losing a conditional write to another worker: a race no door provokes',
    ),
  ),
  ...['dynamodb:DeleteItem'].map(
    unseen(
      ['ingest'],
      'gives an idempotency key back after a notification id collision (two equal ULIDs), which no door provokes; ' +
        'the store test covers it',
    ),
  ),
];

const ADMIN_PHONE = malianPhone(99);
const ADMIN_EMAIL = 'ops-least-privilege@example.com';
/** What the sandbox expects. */
const WACHAP = DEFAULT_LOCAL_OPTIONS.wachap;
/** The WaChap answer held back while the test deletes the record being sent, and the client's patience. */
const SLOW_ANSWER_MS = 3_000;

const used = new Map<FunctionName, Set<string>>(FUNCTION_NAMES.map((name) => [name, new Set<string>()]));
const unattributed = new Set<string>();
let stopRecording: () => void;
let sesDoor: SesDoor;
let secretsManager: RunningSecretsManager;
let receiver: CallbackReceiver;
let e2e: E2eStack;
let nextPhone = 0;

beforeAll(async () => {
  stopRecording = observeAwsCalls(({ caller, action }) => {
    const actions = used.get(caller as FunctionName);
    if (actions) actions.add(action);
    else unattributed.add(`${caller ?? '(no function)'} → ${action}`);
  });
  sesDoor = await startSesDoor();
  // The WaChap credentials come from a secret, as in AWS, so reading it is recorded too.
  secretsManager = await startSecretsManager();
  const secretArn = secretsManager.putSecret('wachap-notifications/e2e/wachap-credentials', JSON.stringify(WACHAP));
  // And so do the admin's contacts: the alerting functions read them, as in AWS, from a secret of their own.
  const contactsArn = secretsManager.putSecret(
    'wachap-notifications/e2e/admin-contacts',
    JSON.stringify({ email: ADMIN_EMAIL, phone: ADMIN_PHONE }),
  );
  // And the callers' callback secrets: the dispatcher reads them, as in AWS, by the caller's name under the prefix.
  for (const caller of ['local-key', 'default']) {
    secretsManager.putSecret(`${LOCAL_CALLBACK_SECRET_PREFIX}${caller}`, LOCAL_CALLBACK_SECRET);
  }
  receiver = await startCallbackReceiver();
  e2e = await startE2eStack({
    env: {
      // Retries after 1 s, given up 3 s after the emission: the dispatcher's every path within the test.
      CALLBACK_RETRY_BASE_SECONDS: '1',
      CALLBACK_RETRY_WINDOW_SECONDS: '3',
      AWS_ENDPOINT_URL_SES: sesDoor.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      WACHAP_SECRET_ARN: secretArn,
      WACHAP_TIMEOUT_MS: String(2 * SLOW_ANSWER_MS),
      ALERT_HOURLY_FAILURE_THRESHOLD: '2',
      ALERT_WHATSAPP_ENABLED: 'true',
      ADMIN_CONTACTS_SECRET_ARN: contactsArn,
    },
  });
  sesDoor.forwardTo(e2e.stack.urls.ses);
});
afterAll(async () => {
  stopRecording?.();
  await e2e?.stop();
  await sesDoor?.close();
  await secretsManager?.stop();
  await receiver?.close();
  removeSyntheses();
});

const newPhone = () => malianPhone(nextPhone++);

async function post(phone: string, overrides: Record<string, unknown> = {}, headers = {}): Promise<string> {
  const answer = await e2e.post(notificationRequest(phone, overrides), { headers });
  expect(answer.status).toBe(202);
  return answer.body.id!;
}

const failedOnce = (n: Notification) => n.status === 'failed' && !n.inFlight;
/** A notification asking for status callbacks, to a receiver that takes them. */
const withCallbacks = (overrides: Record<string, unknown> = {}) => ({ callbackUrl: receiver.url('ok'), ...overrides });

async function probe(payload: object): Promise<CircuitReport> {
  const answer = await e2e.invoke<CircuitReport>('provider-probe', payload);
  expect(answer.functionError, JSON.stringify(answer.payload)).toBeUndefined();
  return answer.payload;
}

async function healthCheck(): Promise<HealthReport> {
  const answer = await e2e.invoke<HealthReport>('health-check', {});
  expect(answer.functionError, JSON.stringify(answer.payload)).toBeUndefined();
  return answer.payload;
}

// The paths run in order, on one stack: the last test compares what all of them called.
describe('every path of every function', () => {
  const ids: Record<'expiring' | 'retried' | 'exhausted', string> = { expiring: '', retried: '', exhausted: '' };

  it('ingest accepts, replays an idempotent request, and the sender delivers', async () => {
    const phone = newPhone();
    const headers = { 'Idempotency-Key': 'least-privilege-1' };
    const id = await post(phone, {}, headers);
    expect((await waitForOutcome(e2e, id)).status).toBe('sent');

    const replay = await e2e.post(notificationRequest(phone), { headers });
    expect(replay).toMatchObject({ status: 200, body: { id } });
  });

  it('the sender records temporary and permanent failures', async () => {
    await e2e.configureSandbox({ mode: 'unavailable' });
    ids.expiring = await post(newPhone(), withCallbacks({ ttlSeconds: 10 }));
    ids.retried = await post(newPhone(), withCallbacks());
    ids.exhausted = await post(newPhone(), withCallbacks());
    for (const id of Object.values(ids)) expect(await waitForOutcome(e2e, id, failedOnce)).toBeDefined();

    const invalid = newPhone();
    await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [invalid] });
    expect((await waitForOutcome(e2e, await post(invalid))).status).toBe('permanent_failure');
  });

  it('the sender falls back to email (SES) for a number not on WhatsApp', async () => {
    const invalid = newPhone();
    await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [invalid.slice(1)] });
    const id = await post(invalid, { recipient: { phone: invalid, email: 'fallback@example.com' } });
    expect(await waitForOutcome(e2e, id, (n) => n.status === 'sent')).toMatchObject({ channel: 'email' });
    await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [] });
  });

  it('the sender hands an accepted send to the queue when its record cannot be written', async () => {
    // WaChap holds its answer; meanwhile the record disappears (an operator's delete), so recording the
    // accepted send fails, and the sender queues the outcome instead of letting the sweep resend it.
    await e2e.configureSandbox({ mode: 'slow', slowMs: SLOW_ANSWER_MS });
    const phone = newPhone();
    const id = await post(phone);
    await waitFor(
      async () => (await e2e.inbox()).messages.some((m) => m.to === phone.slice(1)),
      10_000,
      'WaChap to receive the message',
    );
    await e2e.dynamodb.send(new DeleteItemCommand({ TableName: e2e.stack.tableName, Key: { pk: { S: id } } }));

    await waitFor(() => used.get('sender')?.has('sqs:SendMessage'), 15_000, 'the sender to queue the accepted send');
    await e2e.configureSandbox({ mode: 'healthy' });
  });

  it('the retry sweep queues due work, then exhausts and expires what is past its limits', async () => {
    await e2e.makeDue(ids.retried);
    const queued = await e2e.invoke<SweepSummary>('retry-sweep', {});
    expect(queued.payload).toMatchObject({ found: 1, queued: 1 });
    expect((await waitForOutcome(e2e, ids.retried, (n) => n.status === 'sent')).attempts).toBe(2);

    // Only a notification past its validity is expired: wait for that moment.
    const expiring = (await e2e.getNotification(ids.expiring))!;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiring.expiresAt!) - Date.now())));
    await e2e.makeDue(ids.expiring);
    await e2e.makeDue(ids.exhausted);
    // Its own limit used up, as a sender that died on the last attempt leaves it: only that makes the sweep give up
    // (a lowered maxRetries leaves it for a later run).
    await e2e.dynamodb.send(
      new UpdateItemCommand({
        TableName: e2e.stack.tableName,
        Key: { pk: { S: ids.exhausted } },
        UpdateExpression: 'SET attempts = maxAttempts',
      }),
    );
    const settled = await e2e.invoke<SweepSummary>('retry-sweep', {});
    // These two are what feed the hourly counters (UpdateItem) from the sweep.
    expect(settled.payload).toMatchObject({ found: 2, expired: 1, exhausted: 1 });
  });

  it('a provider outage opens the circuit; the probe alerts, then closes it and releases the backlog', async () => {
    await e2e.configureSandbox({ mode: 'token_expired' });
    const held = [await post(newPhone()), await post(newPhone())];
    for (const id of held) {
      await waitForOutcome(e2e, id, (n) => failedOnce(n) && n.reason === 'provider_unavailable');
    }

    // The alert email is refused, so the alert's cooldown is given back; then it goes, then it waits.
    sesDoor.refuse(true);
    expect(await probe({ action: 'probe' })).toMatchObject({ probed: true, alert: 'failed' });
    sesDoor.refuse(false);
    expect(await probe({ action: 'probe' })).toMatchObject({ alert: 'sent' });
    expect(await probe({ action: 'probe' })).toMatchObject({ alert: 'cooldown' });

    await e2e.configureSandbox({ mode: 'healthy' });
    expect(await probe({ action: 'probe' })).toMatchObject({ probed: true, circuit: { status: 'healthy' } });
    for (const id of held) expect((await waitForOutcome(e2e, id, (n) => n.status === 'sent')).attempts).toBe(1);
  });

  it('the health check reads the DLQ, alerts by email and WhatsApp, and keeps its cooldowns', async () => {
    // No channel reaches the admin: the cooldowns are given back for the next run.
    sesDoor.refuse(true);
    await e2e.configureSandbox({ mode: 'unavailable' });
    const unheard = await healthCheck();
    expect(unheard.dlqDepth).toBe(0);
    expect(unheard.alerts).toContainEqual(
      expect.objectContaining({ kind: 'failure_burst', email: 'failed', whatsapp: 'failed' }),
    );

    sesDoor.refuse(false);
    await e2e.configureSandbox({ mode: 'healthy' });
    const heard = await healthCheck();
    expect(heard.alerts).toContainEqual(
      expect.objectContaining({ kind: 'failure_burst', email: 'sent', whatsapp: 'sent' }),
    );
    expect((await e2e.inbox()).messages.map((m) => m.to)).toContain(ADMIN_PHONE.slice(1));
    const emails = await storedEmails(e2e.stack.urls.ses);
    expect(emails.some((email) => email.destination.to.includes(ADMIN_EMAIL))).toBe(true);

    const quiet = await healthCheck();
    expect(quiet.alerts.every((a) => a.email === 'cooldown')).toBe(true);
  });

  it('the operators read, list, export, cancel and re-drive through the IAM routes, signed', async () => {
    const ok = async (path: string, options: Parameters<E2eStack['signed']>[1] = {}) => {
      const response = await e2e.signed(path, options);
      expect(response.status, `${options.method ?? 'GET'} ${path}: ${await response.clone().text()}`).toBe(200);
      return response;
    };
    const act = (path: string, body?: unknown) =>
      ok(path, {
        method: 'POST',
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    // Reads: one notification, a list by status (the status index), an export page.
    await ok(`/v1/notifications/${ids.exhausted}`);
    await ok('/v1/notifications?status=permanent_failure,expired&limit=10');
    await ok('/v1/notifications/export.csv?status=permanent_failure,expired');
    // Cancel a notification still waiting for its time; re-drive one, then every expired one (dry run first).
    const waiting = await post(newPhone(), withCallbacks({ sendAt: new Date(Date.now() + 60_000).toISOString() }));
    await act(`/v1/notifications/${waiting}/cancel`, { reason: 'least privilege' });
    await act(`/v1/notifications/${ids.exhausted}/retry`);
    await act('/v1/notifications/retry', { status: 'expired', dryRun: true });
    await act('/v1/notifications/retry', { status: 'expired' });
    for (const id of [ids.exhausted, ids.expiring]) {
      expect((await waitForOutcome(e2e, id, (n) => n.status === 'sent')).status).toBe('sent');
    }
  });

  it('the callback dispatcher signs with its secret, retries a failing receiver, then gives up and marks it', async () => {
    receiver.setDefault('ok');
    receiver.script(500, 500, 500, 500, 500);
    const id = await post(newPhone(), { callbackUrl: receiver.url('failing') });
    await waitForOutcome(e2e, id, (n) => (n.callbackExhausted?.length ?? 0) > 0, 15_000);
    expect(used.get('callback-dispatcher')).toEqual(
      new Set([
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessage',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ]),
    );
  });

  it('gives each role exactly the actions its function called, apart from the grants listed as unseen', () => {
    // With the email channel configured, as the local stack has it (EMAIL_FROM): the sender's SES grant is checked too.
    const { stack, template } = synthesize({
      ...FULL_CONTEXT,
      emailFrom: 'notifications@example.com',
      sesIdentity: 'example.com',
    });
    const problems = [...unattributed].map((call) => `an AWS call made outside any function: ${call}`);
    for (const name of FUNCTION_NAMES) {
      const granted = grantedActions(stack, template, name);
      const listed = new Set(UNSEEN_GRANTS.filter((g) => g.functions.includes(name)).map((g) => g.action));
      for (const action of used.get(name)!) {
        if (!granted.has(action)) problems.push(`${name} calls ${action}, which its role does not grant`);
      }
      for (const action of granted) {
        if (!used.get(name)!.has(action) && !listed.has(action)) {
          problems.push(`${name} is granted ${action} but never called it`);
        }
      }
      for (const action of listed) {
        if (!granted.has(action)) problems.push(`${name}: ${action} is listed as unseen but not granted`);
      }
    }
    const recorded = FUNCTION_NAMES.map((name) => `${name}: ${[...used.get(name)!].sort().join(', ')}`);
    expect(problems, `recorded calls:\n${recorded.join('\n')}`).toEqual([]);
  });
});
