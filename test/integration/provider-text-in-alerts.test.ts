// A WaChap error text with CR/LF, from the provider's answer to the admin's alerts, through the real handlers and
// engines: the sender opens the provider circuit with WaChap's own words as the reason, then the health check and
// the provider probe alert the admin by email (local SES) and WhatsApp (the same WaChap). The injected
// "\r\nBcc: x@evil.example" must reach neither a subject nor any header, nor add a line to the WhatsApp alert.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { storedEmails } from '../../local/engines/ses.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { KEY_PREFIX, PARTITION_KEY } from '../../shared/adapters/dynamodb/table.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { CircuitReport } from '../../shared/application/provider-circuit.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { LOCAL_CREDENTIALS, startTestEngines, type TestEngines } from '../support/engines.js';
import { makeNotification } from '../support/fixtures.js';
import { lambdaContext, sqsEvent } from '../support/lambda.js';

const ADMIN_EMAIL = 'ops-hygiene@ts-aircargo.com';
const ADMIN_PHONE = '+22370702150';
const EVIL = 'x@evil.example';
const INJECTED = `Unauthorized: token expired\r\nBcc: ${EVIL}\r\nX-Injected: yes`;
const CREDENTIALS = { WACHAP_INSTANCE_ID: '609ACF283XXXX', WACHAP_ACCESS_TOKEN: 'secret-token-646116c7' };

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;

let engines: TestEngines;
let wachap: Server;
let wachapUrl: string;
/** The messages WaChap was asked to send (the admin's WhatsApp alerts among them). */
const wachapMessages: string[] = [];

/** A WaChap that refuses every call with HTTP 401 and an error text carrying CR/LF and a would-be header. */
async function startRefusingWaChap(): Promise<void> {
  wachap = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      if (body) wachapMessages.push((JSON.parse(body) as { message: string }).message);
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'error', message: INJECTED }));
    });
  });
  await new Promise<void>((resolve) => wachap.listen(0, '127.0.0.1', resolve));
  wachapUrl = `http://127.0.0.1:${(wachap.address() as AddressInfo).port}`;
}

async function load<E, R>(name: 'sender' | 'health-check' | 'provider-probe'): Promise<Handler<E, R>> {
  vi.resetModules();
  const env = {
    ...engines.env,
    ...CREDENTIALS,
    WACHAP_BASE_URL: wachapUrl,
    WACHAP_TIMEOUT_MS: '2000',
    CIRCUIT_CACHE_SECONDS: '0',
    ADMIN_EMAIL,
    ADMIN_PHONE,
    ALERT_FROM_EMAIL: 'alerts@ts-aircargo.com',
    ALERT_WHATSAPP_ENABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  const imports = {
    sender: () => import('../../functions/sender/handler.js'),
    'health-check': () => import('../../functions/health-check/handler.js'),
    'provider-probe': () => import('../../functions/provider-probe/handler.js'),
  };
  return ((await imports[name]()) as unknown as { handler: Handler<E, R> }).handler;
}

const emails = async () => storedEmails(engines.ses!.endpoint);

/** What a header-injection would leave behind: a line break in the subject, or another recipient. */
function expectNoInjection(email: Awaited<ReturnType<typeof emails>>[number]) {
  expect(email.subject).not.toMatch(CONTROL);
  expect(email.subject).toContain(`Unauthorized: token expired Bcc: ${EVIL} X-Injected: yes`);
  expect(email.destination).toEqual({ to: [ADMIN_EMAIL], cc: [], bcc: [] });
  expect(email.from).toBe('alerts@ts-aircargo.com');
}

beforeAll(async () => {
  [engines] = await Promise.all([startTestEngines({ ses: true }), startRefusingWaChap()]);
  // Prepare: the sender meets the refusal, and opens the provider circuit with WaChap's words as its reason.
  const sender = await load<ReturnType<typeof sqsEvent>, SQSBatchResponse>('sender');
  const notification = makeNotification({ nextAttemptAt: new Date(Date.now() - 1000).toISOString() });
  await engines.store.create(notification);
  await sender(sqsEvent([JSON.stringify({ id: notification.id })]), lambdaContext('sender'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([
    engines?.stop(),
    new Promise<void>((resolve) => {
      wachap?.closeAllConnections();
      wachap ? wachap.close(() => resolve()) : resolve();
    }),
  ]);
});

describe('a WaChap error text with CR/LF on its way to the admin', () => {
  it('is stored as the provider said it (the precondition: the circuit is open with the raw text)', async () => {
    const state = await engines.store.getProviderState(WACHAP_PROVIDER);
    expect(state).toMatchObject({ status: 'unavailable' });
    expect(state?.reason).toContain(`\r\nBcc: ${EVIL}`);
  });

  it('reaches the health check email subject on one line, with no other recipient and no header of its own', async () => {
    const health = await load<unknown, HealthReport>('health-check');

    const report = await health({}, lambdaContext('health-check'));

    expect(report.alerts).toContainEqual(expect.objectContaining({ kind: 'provider_unavailable', email: 'sent' }));
    const sent = (await emails()).filter((email) => email.destination.to.includes(ADMIN_EMAIL));
    expect(sent).toHaveLength(1);
    expectNoInjection(sent[0]!);
    const everyone = (await emails()).flatMap((e) => [...e.destination.to, ...e.destination.cc, ...e.destination.bcc]);
    expect(everyone).not.toContain(EVIL);
  });

  it('adds no line to the WhatsApp alert: the would-be header stays inside the summary line', () => {
    const alert = wachapMessages.find((message) => message.startsWith('🔴'));
    expect(alert, 'the health check tried the WhatsApp alert').toBeDefined();
    expect(alert).not.toMatch(/\r/);
    expect(alert!.split('\n').filter((line) => /^(Bcc|X-Injected):/i.test(line.trim()))).toEqual([]);
    expect(alert).toContain(`Unauthorized: token expired Bcc: ${EVIL} X-Injected: yes`);
  });

  it('reaches the provider probe email subject on one line too', async () => {
    // The health check's alert holds the cooldown of this kind: give it back, so that the probe alerts.
    const dynamo = new DynamoDBClient({
      endpoint: engines.dynamodb.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    await notificationDocumentClient(dynamo).send(
      new DeleteCommand({
        TableName: engines.tableName,
        Key: { [PARTITION_KEY]: `${KEY_PREFIX.alert}provider_unavailable` },
      }),
    );
    dynamo.destroy();
    const probe = await load<unknown, CircuitReport>('provider-probe');

    const report = await probe({ action: 'probe' }, lambdaContext('provider-probe'));

    expect(report).toMatchObject({ probed: true, alert: 'sent' });
    const sent = (await emails()).filter((email) => email.destination.to.includes(ADMIN_EMAIL));
    expect(sent).toHaveLength(2);
    expectNoInjection(sent[1]!);
  });
});
