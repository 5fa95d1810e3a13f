// The email channel against real engines (DynamoDB, and aws-ses-v2-local behind a door that can throttle or reject
// as SES does): the sender's fallback for a number not on WhatsApp, SES's failures classified, two workers racing on
// one record across the two channels, and the near-expiry fallback while the provider circuit is open, by the sweep.
import { SESClient } from '@aws-sdk/client-ses';
import { ulid } from 'ulid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storedEmails } from '../../local/engines/ses.js';
import { emailChannel } from '../../shared/adapters/ses/email-channel.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import type { SendOutcome } from '../../shared/adapters/wachap/client.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import type { SendMessage } from '../../shared/application/ports.js';
import { ProviderCircuit } from '../../shared/application/provider-circuit.js';
import { runRetrySweep } from '../../shared/application/retry-sweep.js';
import { type SenderDependencies, sendNotification } from '../../shared/application/send-notification.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/domain/backoff.js';
import { type ChannelPolicy, DEFAULT_EMAIL_FALLBACK_CATEGORIES } from '../../shared/domain/channel-policy.js';
import type { Notification } from '../../shared/domain/notification.js';
import { closeCircuit, isCircuitOpen, WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { silentLog } from '../../shared/observability/logger.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { type SesDoor, startSesDoor } from '../support/ses-door.js';

const MINUTE = 60_000;
const FROM = 'notifications@ts-aircargo.local';
const CHANNELS: ChannelPolicy = {
  enabled: ['whatsapp', 'email'],
  emailFallbackCategories: DEFAULT_EMAIL_FALLBACK_CATEGORIES,
  fallbackBeforeExpiryMs: 2 * MINUTE,
};
const NOT_ON_WHATSAPP: SendOutcome = {
  ok: false,
  error: { type: 'application_error', message: 'Invalid number: not registered on WhatsApp' },
  durationMs: 40,
};
const DELIVERED: SendOutcome = { ok: true, messageId: '3EB0-OK', httpStatus: 200, durationMs: 40 };

let engines: TestEngines;
let door: SesDoor;
let ses: SESClient;
let now = Date.now();
let wachapAnswer: SendOutcome = DELIVERED;
let wachapCalls: string[] = [];
let queued: Array<{ message: SendMessage; delaySeconds?: number | undefined }> = [];
let addressNumber = 0;

const clock = () => new Date(now);
const newAddress = () => `client-${Date.now()}-${addressNumber++}@example.com`;
const emailsTo = async (address: string) =>
  (await storedEmails(engines.ses!.endpoint)).filter((email) => email.destination.to.includes(address));

beforeAll(async () => {
  [engines, door] = await Promise.all([startTestEngines({ ses: true }), startSesDoor()]);
  door.forwardTo(engines.ses!.endpoint);
  // Few SDK tries, so that a throttled send gives up quickly (the SDK retries Throttling by itself first).
  ses = new SESClient({ endpoint: door.url, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
});
afterAll(async () => {
  ses?.destroy();
  await Promise.all([engines?.stop(), door?.close()]);
});
beforeEach(async () => {
  now = Date.now();
  wachapAnswer = DELIVERED;
  wachapCalls = [];
  queued = [];
  door.throttle(false);
  door.refuse(false);
  const state = await engines.store.getProviderState(WACHAP_PROVIDER);
  if (isCircuitOpen(state)) {
    await engines.store.putProviderState(WACHAP_PROVIDER, closeCircuit(state, clock()), state!.version);
  }
});

/** A sender on the real store and SES; WhatsApp answers `wachapAnswer` (after `wachapDelayMs`). */
function sender(overrides: Partial<SenderDependencies> = {}, wachapDelayMs = 0): SenderDependencies {
  return {
    store: engines.store,
    channels: {
      whatsapp: whatsAppChannel({
        send: async ({ phone }) => {
          await new Promise((resolve) => setTimeout(resolve, wachapDelayMs));
          wachapCalls.push(phone);
          return wachapAnswer;
        },
      }),
      email: emailChannel(new SesMailer(ses, FROM)),
    },
    queue: {
      enqueue: async (message, options) => {
        queued.push({ message, delaySeconds: options.delaySeconds });
      },
    },
    circuit: new ProviderCircuit({ store: engines.store, clock, log: silentLog, cacheMs: 0 }),
    log: silentLog,
    clock,
    random: () => 0.5,
    newClaimToken: ulid,
    policy: {
      retry: DEFAULT_RETRY_POLICY,
      providerHoldMs: 30 * MINUTE,
      claimLeaseMs: 2 * MINUTE,
      recordBackoffMs: [0, 0],
      channels: CHANNELS,
    },
    ...overrides,
  };
}

async function stored(overrides: Partial<Notification> & { email?: string } = {}): Promise<Notification> {
  const { email, ...rest } = overrides;
  const n = makeNotification({
    recipient: { phone: '+22370123456', name: 'Awa', ...(email ? { email } : {}) },
    nextAttemptAt: new Date(now - 1000).toISOString(),
    createdAt: new Date(now - 1000).toISOString(),
    maxAttempts: 10,
    ...rest,
  });
  await engines.store.create(n);
  return n;
}

const openCircuit = () =>
  new ProviderCircuit({ store: engines.store, clock, log: silentLog, cacheMs: 0 }).open({
    reason: 'HTTP 401: Unauthorized: token expired',
    errorType: 'http_error',
    recommendation: 'Renew the token.',
  });

describe('the sender falls back to email', () => {
  it('for a number not on WhatsApp: the local SES has the French email, the record says email / sent', async () => {
    const address = newAddress();
    const n = await stored({ email: address });
    wachapAnswer = NOT_ON_WHATSAPP;

    expect(await sendNotification({ id: n.id }, sender())).toBe('sent');

    const after = (await engines.store.get(n.id))!;
    expect(after).toMatchObject({ status: 'sent', channel: 'email', attempts: 2 });
    expect(after.externalMessageId).toBeTruthy();
    expect(after.history.map((h) => h.channel)).toEqual(['whatsapp', 'email']);
    expect(wachapCalls).toHaveLength(1);
    const emails = await emailsTo(address);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: FROM, subject: n.title });
    expect(emails[0]?.body.text).toContain(n.message);
    expect(emails[0]?.body.text).toContain('Message envoyé par TS Air Cargo');
  });

  it('retries SES throttling on email with the backoff (never back to WhatsApp), then delivers once', async () => {
    const address = newAddress();
    const n = await stored({ email: address });
    wachapAnswer = NOT_ON_WHATSAPP;
    door.throttle(true);

    expect(await sendNotification({ id: n.id }, sender())).toBe('failed');
    const throttled = (await engines.store.get(n.id))!;
    expect(throttled).toMatchObject({ status: 'failed', channel: 'email', reason: 'temporary_error' });
    expect(throttled.lastError).toMatchObject({ type: 'Throttling', classification: 'temporary' });
    expect(Date.parse(throttled.nextAttemptAt!)).toBeGreaterThan(now);

    door.throttle(false);
    now = Date.parse(throttled.nextAttemptAt!) + 1000;
    expect(await sendNotification({ id: n.id }, sender())).toBe('sent');
    expect((await engines.store.get(n.id))!).toMatchObject({ status: 'sent', channel: 'email' });
    expect(wachapCalls).toHaveLength(1);
    expect(await emailsTo(address)).toHaveLength(1);
  });

  it("takes SES's rejection as permanent, the recipient's", async () => {
    const address = newAddress();
    const n = await stored({ email: address });
    wachapAnswer = NOT_ON_WHATSAPP;
    door.refuse(true);

    expect(await sendNotification({ id: n.id }, sender())).toBe('permanent_failure');
    const after = (await engines.store.get(n.id))!;
    expect(after).toMatchObject({ status: 'permanent_failure', channel: 'email', reason: 'permanent_error' });
    expect(after.lastError).toMatchObject({ type: 'MessageRejected', scope: 'recipient' });
    expect(await emailsTo(address)).toEqual([]);
  });

  it('never for a category not allowed to, nor without an address', async () => {
    wachapAnswer = NOT_ON_WHATSAPP;
    const general = await stored({ email: newAddress(), category: 'information_generale' });
    const noAddress = await stored();
    for (const n of [general, noAddress]) {
      expect(await sendNotification({ id: n.id }, sender())).toBe('permanent_failure');
      expect((await engines.store.get(n.id))!).toMatchObject({ channel: 'whatsapp', status: 'permanent_failure' });
    }
  });
});

describe('two workers racing on one record across channels', () => {
  it('deliver it exactly once: one goes to WhatsApp on a stale closed circuit, the other falls back to email', async () => {
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const address = newAddress();
      // Near its expiry, with an address: a sender that sees the circuit open moves it to email.
      const n = await stored({ email: address, expiresAt: new Date(now + MINUTE).toISOString() });
      // Worker A read the circuit closed a moment ago and trusts that read; then the circuit opened.
      const staleCircuit = new ProviderCircuit({ store: engines.store, clock, log: silentLog, cacheMs: 60 * MINUTE });
      await staleCircuit.isOpen();
      await openCircuit();
      const callsBefore = wachapCalls.length;

      // A starts later and later, so that the rounds meet every order: A claims first, B switches first, A loads
      // the record B switched (and then claims it on email, or finds it claimed or sent).
      const results = await Promise.all([
        new Promise((resolve) => setTimeout(resolve, round * 4)).then(() =>
          sendNotification({ id: n.id }, sender({ circuit: staleCircuit }, 5)),
        ),
        sendNotification({ id: n.id }, sender()),
      ]);

      const after = (await engines.store.get(n.id))!;
      const byWhatsApp = wachapCalls.length - callsBefore;
      const byEmail = (await emailsTo(address)).length;
      expect(byWhatsApp + byEmail, `round ${round}: ${results.join(', ')}`).toBe(1);
      expect(after.status).toBe('sent');
      expect(after.channel).toBe(byEmail === 1 ? 'email' : 'whatsapp');
      const state = await engines.store.getProviderState(WACHAP_PROVIDER);
      await engines.store.putProviderState(WACHAP_PROVIDER, closeCircuit(state, clock()), state!.version);
    }
  });
});

describe('near its expiry while the provider circuit is open', () => {
  it('is held until the fallback instant at the latest, then the sweep queues it and the sender sends it by email', async () => {
    const address = newAddress();
    const n = await stored({ email: address, category: 'otp', expiresAt: new Date(now + 10 * MINUTE).toISOString() });
    await openCircuit();

    expect(await sendNotification({ id: n.id }, sender())).toBe('held');
    const held = (await engines.store.get(n.id))!;
    // Held until 2 minutes before its expiry, not for the 30-minute hold; and the queue brings it back then.
    expect(held.nextAttemptAt).toBe(new Date(now + 8 * MINUTE).toISOString());
    expect(queued).toEqual([{ message: { id: n.id }, delaySeconds: 8 * 60 + 1 }]);

    now += 8 * MINUTE;
    const swept: string[] = [];
    const summary = await runRetrySweep(
      { dryRun: false, verbose: false, limit: 100, maxRetries: 10, configuredMaxRetries: 10 },
      {
        store: engines.store,
        queue: {
          enqueueMany: async (tickets) => {
            swept.push(...tickets.map((t) => t.id));
            return { queued: [...tickets], failed: [] };
          },
        },
        log: silentLog,
        clock,
        queueLeaseMs: 20 * MINUTE,
        writeConcurrency: 4,
      },
    );
    expect(summary.queued).toBeGreaterThanOrEqual(1);
    expect(swept).toContain(n.id);

    expect(await sendNotification({ id: n.id }, sender())).toBe('sent');
    const after = (await engines.store.get(n.id))!;
    expect(after).toMatchObject({ status: 'sent', channel: 'email' });
    expect(wachapCalls).toEqual([]);
    expect(await emailsTo(address)).toHaveLength(1);
  });
});
