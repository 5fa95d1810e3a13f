// Faults no local engine produces on demand, made with aws-sdk-client-mock on the one client they concern;
// everything else in these tests is real (DynamoDB, the use cases). A partially failed SendMessageBatch, and
// SES throttling while the WhatsApp alert must still go out.
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { SqsSendQueue } from '../../shared/adapters/sqs/send-queue.js';
import { runHealthCheck } from '../../shared/application/health-check.js';
import type { DeliveryChannel } from '../../shared/application/ports.js';
import { ProviderCircuit, runCircuitCommand } from '../../shared/application/provider-circuit.js';
import { DEFAULT_HEALTH_THRESHOLDS } from '../../shared/domain/health.js';
import { silentLog } from '../../shared/observability/logger.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';

let engines: TestEngines;
// Only these two clients are stubbed (the engines' own clients stay real).
const sqsClient = new SQSClient({ region: 'us-east-1' });
const sesClient = new SESClient({ region: 'us-east-1' });
const sqs = mockClient(sqsClient);
const ses = mockClient(sesClient);

beforeAll(async () => {
  engines = await startTestEngines();
});
afterAll(async () => {
  sqs.restore();
  ses.restore();
  await engines?.stop();
});
afterEach(() => {
  sqs.reset();
  ses.reset();
});

describe('a SendMessageBatch that SQS answers with some entries failed', () => {
  it('reports exactly the refused ids, and the release tries each refused one again', async () => {
    // Prepare: SQS accepts the first entry of every batch and refuses the others (as it does for a throttled
    // or oversized entry: HTTP 200 with `Failed`).
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.slice(0, 1).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: input.Entries.slice(1).map((e) => ({ Id: e.Id, Code: 'Throttled', SenderFault: false })),
    }));
    const queue = new SqsSendQueue({ client: sqsClient, queueUrl: 'https://sqs/q' });
    const now = new Date();
    const held = [0, 1, 2].map(() =>
      makeNotification({
        status: 'failed',
        reason: 'provider_unavailable',
        nextAttemptAt: new Date(now.getTime() + 60_000).toISOString(),
        history: [{ at: now.toISOString(), outcome: 'held', errorType: 'circuit_open', durationMs: 0 }],
      }),
    );
    for (const n of held) await engines.store.create(n);
    await new ProviderCircuit({ store: engines.store, clock: () => now, log: silentLog, cacheMs: 0 }).open({
      reason: 'HTTP 401',
      errorType: 'http_error',
      recommendation: 'Renew the token.',
    });

    // Act
    const direct = await queue.enqueueMany(held);
    const report = await runCircuitCommand(
      { action: 'close' },
      {
        store: engines.store,
        queue,
        provider: { checkConnection: async () => ({ ok: true }) },
        log: silentLog,
        clock: () => now,
        settings: { probeIntervalMs: 60_000, holdMs: 30 * 60_000, alertsEnabled: false, cooldownMs: 3_600_000 },
      },
    );

    // Assess
    expect({ queued: direct.queued.map((n) => n.id), failed: direct.failed.map((n) => n.id) }).toEqual({
      queued: [held[0]!.id],
      failed: [held[1]!.id, held[2]!.id],
    });
    // Each message is tried three times (at once, after 100 ms and 500 ms): the first of each batch goes through.
    expect(report.released).toBe(3);
    expect(report.releaseFailed ?? 0).toBe(0);
  });
});

describe('SES throttling during an alert', () => {
  it('still sends the WhatsApp alert, reports the email as failed, and gives the cooldown back', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling' }));
    const whatsapp: string[] = [];
    const channel: DeliveryChannel = {
      deliver: async (n) => {
        whatsapp.push(n.message);
        return { ok: true, durationMs: 1 };
      },
    };
    await engines.store.incrementCounters(new Date(), { attempts: 40, temporaryFailures: 30, sent: 10 });

    const report = await runHealthCheck(false, {
      store: engines.store,
      queue: { dlqDepth: async () => 0 },
      mailer: new SesMailer(sesClient, 'alerts@example.com'),
      whatsapp: channel,
      log: silentLog,
      clock: () => new Date(),
      settings: {
        systemEnabled: true,
        emailEnabled: true,
        whatsappEnabled: true,
        adminEmail: 'admin@example.com',
        adminPhone: '+22370702150',
        cooldownMs: 3_600_000,
        thresholds: DEFAULT_HEALTH_THRESHOLDS,
        backlogCap: 100,
      },
    });

    const burst = report.alerts.find((a) => a.kind === 'failure_burst');
    expect(burst).toMatchObject({ email: 'failed', whatsapp: 'sent' });
    expect(burst?.errors?.join(' ')).toMatch(/email: Maximum sending rate exceeded/);
    expect(whatsapp).toHaveLength(1);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    // The admin heard of it (by WhatsApp): the cooldown holds, the next run does not repeat it.
    expect(await engines.store.acquireAlertCooldown('failure_burst', new Date(), 3_600_000)).toBe(false);
  });
});
