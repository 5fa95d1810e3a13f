// Small helpers the timing figures share: notifications written as the ingest writes them (without queueing them),
// SQS events as the event source hands them to the sender, and a WaChap stand-in enforcing a ceiling.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { lambdaContext } from '../local/aws-events.js';
import type { Store } from '../shared/adapters/dynamodb/store.js';
import { queueNameOf } from '../shared/adapters/sqs/send-queue.js';
import { ingestNotification } from '../shared/application/ingest.js';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/backoff.js';
import { DEFAULT_RECIPIENT_LIMITS } from '../shared/domain/recipient-limits.js';
import { silentLog } from '../shared/observability/logger.js';

/** Distinct Malian mobile numbers from `base`, so that no per-recipient limit is met. */
export const benchPhone = (base: number, i: number): string => `+2237${String(base + i).padStart(7, '0')}`;

/** A notification accepted by the real ingest into `store`, not queued (the caller hands it to the sender). */
export async function acceptedNotification(store: Store, phone: string): Promise<string> {
  const { id } = await ingestNotification(
    { recipient: { phone }, category: 'colis_arrive', message: 'Votre colis est arrivé à Bamako.' },
    {},
    {
      store,
      recipientCounters: store,
      recipientLimits: DEFAULT_RECIPIENT_LIMITS,
      queue: { enqueue: async () => undefined },
      log: silentLog,
      clock: () => new Date(),
      newId: ulid,
      policy: { maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts, validitySeconds: {} },
      defaultCountry: 'ML',
    },
  );
  return id;
}

/** The event the standard lane's event source hands the sender for these notifications. */
export function sendEvent(queueUrl: string, ids: readonly string[]): SQSEvent {
  const arn = `arn:aws:sqs:us-east-1:000000000000:${queueNameOf(queueUrl)}`;
  const now = String(Date.now());
  return {
    Records: ids.map((id) => ({
      messageId: ulid(),
      receiptHandle: ulid(),
      body: JSON.stringify({ id }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: 'us-east-1',
    })),
  };
}

export const senderContext = (instance: string) => lambdaContext('sender', { instance });

export interface CeilingProxy {
  url: string;
  /** Where accepted calls go (the sandbox's origin), set once it is known. */
  setTarget(origin: string): void;
  /** When each /send call the ceiling let through was answered 2xx. */
  accepted(): number[];
  refused(): number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * WaChap with a ceiling: at most `perSecond` /send calls in any rolling second pass to the target; the others are
 * answered 429 (Retry-After: 1), as a provider's rate limit answers. Other paths pass through.
 */
export async function startCeilingProxy(perSecond: number): Promise<CeilingProxy> {
  let target = '';
  let passed: number[] = [];
  let accepted: number[] = [];
  let refused = 0;
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    try {
      const body = await read(request);
      const isSend = (request.url ?? '').split('?')[0]!.endsWith('/send');
      if (isSend) {
        const now = Date.now();
        passed = passed.filter((at) => at > now - 1000);
        if (passed.length >= perSecond) {
          refused++;
          response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
          response.end(JSON.stringify({ status: 'error', message: 'Too many requests' }));
          return;
        }
        passed.push(now);
      }
      const answer = await fetch(`${target}${request.url}`, {
        method: request.method ?? 'GET',
        headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
        ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body }),
      });
      const text = await answer.text();
      if (isSend && answer.ok) accepted.push(Date.now());
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      response.end(text);
    } catch (error) {
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'error', message: String(error) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (origin) => {
      target = origin;
    },
    accepted: () => [...accepted],
    refused: () => refused,
    reset: () => {
      passed = [];
      accepted = [];
      refused = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
