// One status callback off the callback queue: sign it with its caller's secret (Standard Webhooks), POST it, and on
// anything but a 2xx schedule the next try as a new message (never a Lambda waiting), until the retry window that
// began at its emission ends: then it goes to the callback DLQ and its notification is marked, so operators see it.
// A message that is not one of ours goes to the DLQ at once, with a log saying why: never a crash loop.
import { Webhook } from 'standardwebhooks';
import { type CallbackRetryPolicy, nextCallbackAttempt } from '../domain/callbacks.js';
import { maskPhonesInText } from '../domain/phone.js';
import type { Log } from '../observability/logger.js';
import {
  type CallbackExhaustedMarks,
  type CallbackMessage,
  type CallbackPoster,
  type CallbackRetryQueue,
  type CallbackSecrets,
  callbackMessageSchema,
  MAX_QUEUE_DELAY_SECONDS,
} from './ports.js';

export interface CallbackDispatchDependencies {
  queue: CallbackRetryQueue;
  secrets: CallbackSecrets;
  post: CallbackPoster;
  marks: CallbackExhaustedMarks;
  log: Log;
  clock: () => Date;
  retry: CallbackRetryPolicy;
}

export type CallbackDispatchResult = 'delivered' | 'deferred' | 'retrying' | 'exhausted' | 'discarded';

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * Handles one message body. Throws only when the queue itself cannot take the next step (a retry or a DLQ copy not
 * sent): the message then comes back after its visibility timeout, and SQS moves it to the DLQ after its receives.
 */
export async function deliverCallback(
  body: string,
  deps: CallbackDispatchDependencies,
): Promise<CallbackDispatchResult> {
  const message = parseMessage(body);
  if (!message.ok) {
    deps.log.error('unreadable callback message sent to the callback DLQ', { problems: message.problems });
    await deps.queue.deadLetter(body);
    return 'discarded';
  }
  let current = message.value;
  const now = deps.clock();
  const ids = { notificationId: current.event.data.id, eventId: current.id, eventType: current.event.type };
  if (current.exhausted) {
    // A copy from the DLQ sent back by an operator (a DLQ redrive): a new window of retries, from now.
    const { exhausted: _exhausted, notBefore: _notBefore, ...rest } = current;
    current = { ...rest, emittedAt: now.toISOString(), attempts: 0 };
    deps.log.info('exhausted callback re-driven: retrying for a new window', ids);
  }
  if (current.notBefore !== undefined && Date.parse(current.notBefore) > now.getTime()) {
    // Its next try is more than SQS's longest delay away: back on the queue for what remains, at most 15 minutes.
    await deps.queue.retry(current, Math.min(secondsUntil(current.notBefore, now), MAX_QUEUE_DELAY_SECONDS));
    return 'deferred';
  }

  const attempts = current.attempts + 1;
  const outcome = await attempt(current, now, deps);
  if (outcome.ok) {
    deps.log.info('callback delivered', { ...ids, attempts, status: outcome.status });
    return 'delivered';
  }

  const next = nextCallbackAttempt({
    emittedAt: new Date(current.emittedAt),
    failedAttempts: attempts,
    now,
    policy: deps.retry,
  });
  if ('at' in next) {
    const { notBefore: _notBefore, ...rest } = current;
    const delay = secondsUntil(next.at.toISOString(), now);
    const retried: CallbackMessage = {
      ...rest,
      attempts,
      ...(delay > MAX_QUEUE_DELAY_SECONDS ? { notBefore: next.at.toISOString() } : {}),
    };
    await deps.queue.retry(retried, Math.min(delay, MAX_QUEUE_DELAY_SECONDS));
    deps.log.warn('callback not delivered; retry scheduled', {
      ...ids,
      attempts,
      error: outcome.message,
      nextAttemptAt: next.at.toISOString(),
    });
    return 'retrying';
  }

  const at = now.toISOString();
  const { notBefore: _notBefore, ...rest } = current;
  await deps.queue.deadLetter(JSON.stringify({ ...rest, attempts, exhausted: { at, lastError: outcome.message } }));
  // Logged before the mark: an operator reading the logs learns of it even if the mark cannot be written.
  deps.log.error('callback given up after its retry window; copy in the callback DLQ', {
    ...ids,
    attempts,
    error: outcome.message,
    emittedAt: current.emittedAt,
  });
  try {
    const marked = await deps.marks.markCallbackExhausted(current.event.data.id, {
      eventId: current.id,
      type: current.event.type,
      at,
      attempts,
      lastError: outcome.message,
    });
    if (!marked) deps.log.warn('notification of an exhausted callback not found; not marked', ids);
  } catch (error) {
    deps.log.warn('notification of an exhausted callback not marked', { ...ids, error: describe(error) });
  }
  return 'exhausted';
}

/** One try: the caller's secret, a fresh signature (receivers refuse a timestamp 5 minutes old), the POST. */
async function attempt(
  message: CallbackMessage,
  now: Date,
  deps: CallbackDispatchDependencies,
): Promise<{ ok: true; status: number } | { ok: false; message: string }> {
  let secret: string;
  try {
    secret = await deps.secrets(message.target.caller);
  } catch (error) {
    // Ours, not the receiver's: logged as an error (an operator must create or fix the secret); retried all the same.
    deps.log.error('callback secret unusable', { eventId: message.id, error: describe(error) });
    return { ok: false, message: 'signing secret unavailable' };
  }
  const payload = JSON.stringify(message.event);
  const headers = {
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(message.id, now, payload),
  };
  const outcome = await deps.post({ url: message.target.url, headers, body: payload });
  return outcome.ok ? outcome : { ok: false, message: `${outcome.type}: ${outcome.message}` };
}

const secondsUntil = (instant: string, now: Date): number =>
  Math.max(0, Math.ceil((Date.parse(instant) - now.getTime()) / 1000));

function parseMessage(body: string): { ok: true; value: CallbackMessage } | { ok: false; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problems: ['(body): not JSON'] };
  }
  const parsed = callbackMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  // Paths and zod's messages only: the values (a URL, a phone in a field) stay out of the logs.
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) =>
      maskPhonesInText(`${issue.path.join('.') || '(body)'}: ${issue.message}`),
    ),
  };
}
