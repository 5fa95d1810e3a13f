// The callback dispatcher on real engines (fauxqs, the table on DynamoDB's engine, the Secrets Manager fake) against
// receivers that misbehave as real ones do: a 500, one that never answers, a refused connection. Retries travel as
// new, delayed messages on the queue; past 24 h (a virtual clock) the callback is given up, copied to the DLQ and its
// notification marked; garbage never stops a batch; a rotated secret reaches the warm dispatcher after its max age.

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCallbackDispatcherHandler } from '../../functions/callback-dispatcher/create-handler.js';
import { type RunningSecretsManager, startSecretsManager } from '../../local/engines/secrets-manager.js';
import { createCallbackQueues } from '../../local/engines/sqs.js';
import { recordOf } from '../../local/event-source.js';
import { callbackPoster } from '../../shared/adapters/http/callback-transport.js';
import { callbackSecretsLoader } from '../../shared/adapters/secrets/callback-secrets.js';
import { SqsCallbackQueue } from '../../shared/adapters/sqs/callback-queue.js';
import type { CallbackDispatchDependencies } from '../../shared/application/deliver-callback.js';
import type { CallbackMessage } from '../../shared/application/ports.js';
import type { CallbackUrlPolicy } from '../../shared/domain/callback-url-policy.js';
import { callbackEventFor } from '../../shared/domain/callbacks.js';
import type { Notification } from '../../shared/domain/notification.js';
import { createLogger } from '../../shared/observability/logger.js';
import { type CallbackReceiver, closedPort, startCallbackReceiver } from '../support/callback-receiver.js';
import { type CollectingLog, collectingLog } from '../support/collecting-log.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext } from '../support/lambda.js';

const PREFIX = 'wachap-notifications/test/callbacks/';
const SECRET = `whsec_${Buffer.from('integration-callback-secret-1').toString('base64')}`;
const ROTATED = `whsec_${Buffer.from('integration-callback-secret-2').toString('base64')}`;
const CALLER = 'key-upstream-1';
const HOUR = 3_600_000;
const T0 = new Date('2026-03-01T08:00:00Z');

let engines: TestEngines;
let secretsManager: RunningSecretsManager;
let receiver: CallbackReceiver;
let sqs: SQSClient;
let secretsClient: SecretsManagerClient;
let queues: { callbackQueueUrl: string; callbackDlqUrl: string };
let log: CollectingLog;
/** The dispatcher's clock: the wall clock unless a test moves it. */
let offsetMs = 0;

type Handler = (event: { Records: ReturnType<typeof recordOf>[] }, context: unknown) => Promise<SQSBatchResponse>;

/** A warm dispatcher, wired as handler.ts wires it, with this file's clock and log. */
function dispatcher(options: { policy?: CallbackUrlPolicy; secretMaxAgeSeconds?: number; timeoutMs?: number } = {}) {
  const queue = new SqsCallbackQueue({
    client: sqs,
    queueUrl: queues.callbackQueueUrl,
    dlqUrl: queues.callbackDlqUrl,
  });
  const retries: { message: CallbackMessage; delaySeconds: number }[] = [];
  const deps: CallbackDispatchDependencies = {
    // The real queue, watched: what each retry asked SQS for.
    queue: {
      retry: async (message, delaySeconds) => {
        retries.push({ message, delaySeconds });
        await queue.retry(message, delaySeconds);
      },
      deadLetter: (body) => queue.deadLetter(body),
    },
    secrets: callbackSecretsLoader(
      { CALLBACK_SECRET_PREFIX: PREFIX, CALLBACK_SECRET_MAX_AGE_SECONDS: options.secretMaxAgeSeconds ?? 300 },
      () => secretsClient,
    ),
    post: callbackPoster({
      policy: options.policy ?? 'any',
      timeoutMs: options.timeoutMs ?? 500,
      userAgent: 'wachap-notifications-callbacks/test',
    }),
    marks: engines.store,
    log,
    clock: () => new Date(Date.now() + offsetMs),
    // Short first steps, so that a retry comes back within the test (SQS delays count in whole seconds).
    retry: { baseSeconds: 1, windowSeconds: 24 * 3600 },
  };
  const handler = createCallbackDispatcherHandler(createLogger('callback-dispatcher'), deps) as unknown as Handler;
  return { handler, retries };
}

/** A stored, sent notification asking for callbacks, and its callback queued as the sender queues it. */
async function sentWithCallback(url: string, overrides: Partial<Notification> = {}): Promise<Notification> {
  const n = makeNotification({
    status: 'sent',
    attempts: 1,
    sentAt: new Date().toISOString(),
    callbackUrl: url,
    caller: CALLER,
    ...overrides,
  });
  const { nextAttemptAt: _due, ...stored } = n;
  await engines.store.create(stored as Notification);
  const callback = callbackEventFor(stored as Notification)!;
  await new SqsCallbackQueue({
    client: sqs,
    queueUrl: queues.callbackQueueUrl,
    clock: () => new Date(Date.now() + offsetMs),
  }).enqueue(callback, { url, caller: CALLER });
  return stored as Notification;
}

async function receive(queueUrl: string, waitSeconds = 3): Promise<Message[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      VisibilityTimeout: 30,
      AttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
}

/** One poll of the callback queue into the dispatcher, deleting what it did not report as failed (the event source). */
async function dispatchOnce(
  handler: Handler,
  waitSeconds = 3,
): Promise<{ messages: Message[]; response?: SQSBatchResponse }> {
  const messages = await receive(queues.callbackQueueUrl, waitSeconds);
  if (messages.length === 0) return { messages };
  const response = await handler(
    { Records: messages.map((m) => recordOf(m, 'arn:aws:sqs:us-east-1:000000000000:callbacks', 'us-east-1')) },
    lambdaContext('callback-dispatcher'),
  );
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of messages.filter((m) => !failed.has(m.MessageId!))) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.callbackQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
  }
  return { messages, response };
}

const bodyOf = (m: Message) =>
  JSON.parse(m.Body!) as CallbackMessage & { exhausted?: { at: string; lastError: string } };

beforeAll(async () => {
  [engines, secretsManager, receiver] = await Promise.all([
    startTestEngines(),
    startSecretsManager(),
    startCallbackReceiver(),
  ]);
  sqs = new SQSClient({
    endpoint: engines.sqs.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  secretsClient = new SecretsManagerClient({
    endpoint: secretsManager.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  queues = await createCallbackQueues(sqs, { name: `callbacks-${Date.now()}` });
  secretsManager.putSecret(`${PREFIX}${CALLER}`, SECRET);
});
afterAll(async () => {
  sqs?.destroy();
  secretsClient?.destroy();
  await Promise.all([engines?.stop(), secretsManager?.stop(), receiver?.close()]);
});
beforeEach(async () => {
  log = collectingLog();
  offsetMs = 0;
  receiver.setDefault('ok');
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.callbackQueueUrl }));
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.callbackDlqUrl }));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the callback dispatcher', () => {
  it("POSTs the event signed with its caller's secret, as JSON, naming the system", async () => {
    const { handler } = dispatcher();
    const n = await sentWithCallback(receiver.url('signed'));

    const { response } = await dispatchOnce(handler);

    expect(response?.batchItemFailures).toEqual([]);
    const got = receiver.received().filter((r) => r.path === '/hooks/signed');
    expect(got).toHaveLength(1);
    const [request] = got;
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toContain('wachap-notifications');
    expect(request!.headers['webhook-id']).toBe(`${n.id}.v${n.version}`);
    const event = new Webhook(SECRET).verify(request!.body, request!.headers as Record<string, string>);
    expect(event).toMatchObject({ type: 'notification.sent', data: { id: n.id, status: 'sent' } });
    expect(() => new Webhook(ROTATED).verify(request!.body, request!.headers as Record<string, string>)).toThrow();
  });

  it.each([
    ['a 500', 500 as const],
    ['a receiver that never answers (the 5 s timeout, here 500 ms)', 'hang' as const],
  ])('retries after %s as a new delayed message, with the same webhook-id', async (_case, failure) => {
    const { handler, retries } = dispatcher();
    const name = `retry-${String(failure)}`;
    const n = await sentWithCallback(receiver.url(name));
    receiver.script(failure);

    await dispatchOnce(handler);
    const retried = await dispatchOnce(handler);

    expect(retries).toEqual([
      { message: expect.objectContaining({ id: `${n.id}.v${n.version}`, attempts: 1 }), delaySeconds: 1 },
    ]);
    expect(retried.messages).toHaveLength(1);
    const got = receiver.received().filter((r) => r.path === `/hooks/${name}`);
    expect(got.map((r) => r.answered)).toEqual([failure, 'ok']);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([`${n.id}.v${n.version}`]));
    // Each try is signed afresh (a receiver refuses a timestamp 5 minutes old), and both verify.
    for (const r of got)
      expect(() => new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    expect(log.messages('warn')).toContain('callback not delivered; retry scheduled');
  });

  it('retries a refused connection', async () => {
    const { handler, retries } = dispatcher();
    const n = await sentWithCallback(`http://127.0.0.1:${await closedPort()}/hooks`);

    const { response } = await dispatchOnce(handler);

    expect(response?.batchItemFailures).toEqual([]);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.message).toMatchObject({ id: `${n.id}.v${n.version}`, attempts: 1 });
    expect(log.text()).toContain('network: ECONNREFUSED');
  });

  it('refuses at connect time a host that resolves to a private address under public-https (DNS rebinding)', async () => {
    const { handler, retries } = dispatcher({ policy: 'public-https' });
    // A name, not a literal: only the resolution tells, and it says 127.0.0.1.
    await sentWithCallback('https://localhost:9/hooks');
    const before = receiver.received().length;

    await dispatchOnce(handler);

    expect(retries).toHaveLength(1);
    expect(log.text()).toContain('refused_address');
    expect(receiver.received()).toHaveLength(before);
  });

  it('gives up once 24 h have passed since the emission: a copy in the DLQ, the notification marked, an error logged', async () => {
    const { handler, retries } = dispatcher();
    const n = await sentWithCallback(receiver.url('gone'));
    receiver.script(500);
    // The dispatcher meets it 24 h after its emission, as after a day of retries.
    offsetMs = 24 * HOUR;

    await dispatchOnce(handler);

    expect(retries).toEqual([]);
    const [copy] = await receive(queues.callbackDlqUrl);
    expect(bodyOf(copy!)).toMatchObject({
      id: `${n.id}.v${n.version}`,
      attempts: 1,
      exhausted: { lastError: 'http_status: HTTP 500' },
    });
    const marked = await engines.store.get(n.id);
    expect(marked?.callbackExhausted).toEqual([
      {
        eventId: `${n.id}.v${n.version}`,
        type: 'notification.sent',
        at: expect.any(String),
        attempts: 1,
        lastError: 'http_status: HTTP 500',
      },
    ]);
    // The mark is a write like any other: a mover holding the older version must read again, not erase it.
    expect(marked?.version).toBe(n.version + 1);
    expect(marked?.status).toBe('sent');
    expect(log.messages('error')).toContain('callback given up after its retry window; copy in the callback DLQ');
    expect(log.text()).toContain(n.id);
  });

  it('starts a new window for a DLQ copy an operator sends back to the queue', async () => {
    const { handler } = dispatcher();
    const n = await sentWithCallback(receiver.url('redriven'));
    receiver.script(500);
    offsetMs = 24 * HOUR;
    await dispatchOnce(handler);
    const [copy] = await receive(queues.callbackDlqUrl);

    // An operator's DLQ redrive: the copy goes back to the callback queue as it is.
    await new SqsCallbackQueue({ client: sqs, queueUrl: queues.callbackQueueUrl }).retry(bodyOf(copy!), 0);
    const { response } = await dispatchOnce(handler);

    expect(response?.batchItemFailures).toEqual([]);
    expect(
      receiver
        .received()
        .filter((r) => r.path === '/hooks/redriven')
        .map((r) => r.answered),
    ).toEqual([500, 'ok']);
    expect(log.messages('info')).toContain('exhausted callback re-driven: retrying for a new window');
    expect((await engines.store.get(n.id))?.callbackExhausted).toHaveLength(1);
  });

  it('sends a message whose next try is hours away back with what remains of SQS’s 15 minutes at most', async () => {
    const { handler, retries } = dispatcher();
    const n = await sentWithCallback(receiver.url('later'));
    const [queued] = await receive(queues.callbackQueueUrl);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queues.callbackQueueUrl, ReceiptHandle: queued!.ReceiptHandle! }),
    );
    const waiting = { ...bodyOf(queued!), attempts: 9, notBefore: new Date(Date.now() + 2 * HOUR).toISOString() };
    await new SqsCallbackQueue({ client: sqs, queueUrl: queues.callbackQueueUrl }).retry(waiting, 0);

    await dispatchOnce(handler);

    expect(retries).toEqual([
      { message: expect.objectContaining({ id: `${n.id}.v${n.version}`, attempts: 9 }), delaySeconds: 900 },
    ]);
    expect(receiver.received().filter((r) => r.path === '/hooks/later')).toEqual([]);
  });

  it('puts an unreadable message in the DLQ and goes on with the rest of the batch', async () => {
    const { handler } = dispatcher();
    const n = await sentWithCallback(receiver.url('batch'));
    const raw = new SqsCallbackQueue({ client: sqs, queueUrl: queues.callbackQueueUrl });
    await raw.retry({ id: 'x' } as unknown as CallbackMessage, 0);
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.callbackQueueUrl, MessageBody: 'not json at all' }));

    // All three may not come in one receive: poll until the queue is empty.
    const responses: SQSBatchResponse[] = [];
    for (let round = 0; round < 5; round++) {
      const { messages, response } = await dispatchOnce(handler, 1);
      if (response) responses.push(response);
      if (messages.length === 0) break;
    }

    expect(responses.flatMap((r) => r.batchItemFailures)).toEqual([]);
    expect(receiver.received().filter((r) => r.path === '/hooks/batch')).toHaveLength(1);
    expect(receiver.ids()).toContain(`${n.id}.v${n.version}`);
    const dead = await receive(queues.callbackDlqUrl);
    expect(dead.map((m) => m.Body).sort()).toEqual(['not json at all', JSON.stringify({ id: 'x' })].sort());
    expect(
      log.messages('error').filter((m) => m === 'unreadable callback message sent to the callback DLQ'),
    ).toHaveLength(2);
  });

  it('picks up a secret rotated while warm once its max age has passed', async () => {
    const rotating = 'key-rotating';
    secretsManager.putSecret(`${PREFIX}${rotating}`, SECRET);
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const { handler } = dispatcher({ secretMaxAgeSeconds: 60 });
    const signedWith = async (name: string): Promise<string> => {
      const n = makeNotification({ status: 'sent', callbackUrl: receiver.url(name), caller: rotating, attempts: 1 });
      const { nextAttemptAt: _due, ...stored } = n;
      await new SqsCallbackQueue({ client: sqs, queueUrl: queues.callbackQueueUrl }).enqueue(
        callbackEventFor(stored as Notification)!,
        { url: receiver.url(name), caller: rotating },
      );
      await dispatchOnce(handler);
      const [request] = receiver.received().filter((r) => r.path === `/hooks/${name}`);
      // Verified as of the signing instant: the fake clock is the dispatcher's, the library reads Date.now().
      for (const [secret, label] of [
        [SECRET, 'old'],
        [ROTATED, 'new'],
      ] as const) {
        try {
          new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>);
          return label;
        } catch {}
      }
      return 'none';
    };

    expect(await signedWith('rotate-0')).toBe('old');
    secretsManager.putSecret(`${PREFIX}${rotating}`, ROTATED);
    vi.setSystemTime(T0.getTime() + 59_000);
    const within = await signedWith('rotate-1');
    vi.setSystemTime(T0.getTime() + 61_000);
    const past = await signedWith('rotate-2');

    expect([within, past]).toEqual(['old', 'new']);
    expect(secretsManager.reads(`${PREFIX}${rotating}`)).toBe(2);
  });
});
