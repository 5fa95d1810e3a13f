// The operators' routes through the local doors only, signed as a real AWS client signs (SigV4, the local
// credentials), as API Gateway's IAM authorization will check them on AWS: read one, list by status page by page,
// cancel (also against a message already waiting on the queue), re-drive one and in bulk (dry run first), export as
// CSV read back by a CSV parser, and 403 for anything not signed by a known principal, the upstream's key included.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/domain/notification.js';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  type SignedRequestOptions,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';

const OPERATOR_ARN = 'arn:aws:iam::000000000000:user/local';
const EXPORT_HEADER = [
  'id',
  'createdAt',
  'status',
  'reason',
  'attempts',
  'category',
  'priority',
  'phone',
  'name',
  'lastErrorType',
  'lastErrorMessage',
  'lastErrorHttpStatus',
  'nextAttemptAt',
  'sentAt',
];
/** A ULID no notification has. */
const UNKNOWN_ID = '01KB8Z4N6Q0000000000000000';

let e2e: E2eStack;
let nextPhone = 200;
const newPhone = () => malianPhone(nextPhone++);

beforeAll(async () => {
  // WaChap may take 2.5 s (slow mode) without the sender giving up: long enough to act while an attempt is in flight.
  e2e = await startE2eStack({ env: { WACHAP_TIMEOUT_MS: '6000' } });
});
afterAll(async () => {
  await e2e?.stop();
});
beforeEach(async () => {
  await e2e.configureSandbox({ mode: 'healthy', invalidNumbers: [] });
});

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A signed operator request and its JSON answer. */
async function call<T = Record<string, unknown>>(path: string, options: SignedRequestOptions = {}): Promise<Answer<T>> {
  const response = await e2e.signed(path, options);
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** A signed POST with a JSON body (or none). */
const postSigned = <T = Record<string, unknown>>(path: string, body?: unknown) =>
  call<T>(path, {
    method: 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });

type View = Record<string, unknown> & { id: string; status: string; operatorActions?: Record<string, unknown>[] };
const show = (id: string) => call<View>(`/v1/notifications/${id}`);

async function accepted(request: Record<string, unknown>): Promise<string> {
  const answer = await e2e.post(request);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body.id!;
}

const settled = (n: Notification) => n.status !== 'pending' && n.inFlight === undefined;
const failedOnce = (n: Notification) => n.status === 'failed' && n.inFlight === undefined;

/** Notifications that failed once (WaChap answering 503), left failed and due in 30 minutes. */
async function failedNotifications(count: number, overrides: Record<string, unknown>): Promise<string[]> {
  await e2e.configureSandbox({ mode: 'unavailable' });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await accepted(notificationRequest(newPhone(), overrides)));
  for (const id of ids) await waitForOutcome(e2e, id, failedOnce);
  await e2e.configureSandbox({ mode: 'healthy' });
  return ids;
}

/** Notifications WaChap refused for good (an invalid number): permanent_failure, reason permanent_error. */
async function permanentFailures(count: number, overrides: Record<string, unknown>): Promise<string[]> {
  const phones = Array.from({ length: count }, newPhone);
  await e2e.configureSandbox({ invalidNumbers: phones });
  const ids: string[] = [];
  for (const phone of phones) ids.push(await accepted(notificationRequest(phone, overrides)));
  for (const id of ids) expect((await waitForOutcome(e2e, id, settled)).status).toBe('permanent_failure');
  await e2e.configureSandbox({ invalidNumbers: [] });
  return ids;
}

const sentTo = async (phone: string) => (await e2e.inbox()).messages.some((m) => m.to === phone.slice(1));

describe('GET /v1/notifications/{id}', () => {
  it('shows the notification as operators need it, and nothing internal', async () => {
    const phone = newPhone();
    const id = await accepted(notificationRequest(phone));
    await waitForOutcome(e2e, id, (n) => n.status === 'sent');

    const answer = await show(id.toLowerCase());

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id,
      status: 'sent',
      attempts: 1,
      maxAttempts: 10,
      category: 'colis_arrive',
      priority: 'normal',
      title: 'Votre colis est arrivé',
      message: notificationRequest(phone).message,
      recipient: { phone, name: 'Awa Traoré' },
      externalMessageId: expect.any(String),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      sentAt: expect.any(String),
      history: [expect.objectContaining({ outcome: 'sent' })],
      inFlight: false,
    });
    for (const internal of ['version', 'dueShard', 'queuedAt', 'statusShard', 'statusAt', 'pk', 'ttl', 'token']) {
      expect(Object.keys(answer.body), internal).not.toContain(internal);
    }
  });

  it('answers 404 for an unknown id and 400 for what is not an id', async () => {
    expect(await show(UNKNOWN_ID)).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const invalid = await show('counter%23all');
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'validation_error', errors: [{ path: 'id' }] });
  });
});

describe('GET /v1/notifications', () => {
  it('lists by status and category, newest first, every notification once across the pages', async () => {
    const ids = await failedNotifications(7, { category: 'liste_e2e' });

    const pages: View[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `status=failed&category=liste_e2e&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Answer<{ items: View[]; nextCursor: string | null }> = await call(`/v1/notifications?${query}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      pages.push(page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < 10);

    const listed = pages.flat();
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(listed.map((n) => n.id).sort()).toEqual([...ids].sort());
    expect(listed.every((n) => n.status === 'failed' && n.category === 'liste_e2e')).toBe(true);
    const created = listed.map((n) => n.createdAt as string);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('filters by phone written as ingest accepts it, and by statuses and dates', async () => {
    const phone = newPhone();
    const before = new Date().toISOString();
    const [id] = await failedNotifications(1, { category: 'filtre_e2e', recipient: { phone } });
    // 0022370… is +22370…: the filter normalises the number as ingest does.
    const byPhone = await call<{ items: View[] }>(`/v1/notifications?status=failed,sent&phone=00${phone.slice(1)}`);
    expect(byPhone.body.items.map((n) => n.id)).toEqual([id]);

    const since = await call<{ items: View[] }>(
      `/v1/notifications?category=filtre_e2e&from=${encodeURIComponent(before)}&to=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(since.body.items.map((n) => n.id)).toEqual([id]);
    const none = await call(`/v1/notifications?status=sent&category=filtre_e2e`);
    expect(none).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });

  it('refuses a bad filter with a 400 naming it', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['status=lost', 'status.0'],
      ['phone=12', 'phone'],
      ['from=hier', 'from'],
      ['colour=red', 'colour'],
      ['cursor=not-a-cursor', 'cursor'],
    ]) {
      const answer = await call<{ code: string; errors: { path: string }[] }>(`/v1/notifications?${query}`);
      expect(answer.status, query).toBe(400);
      expect(
        answer.body.errors.map((d) => d.path),
        query,
      ).toContain(field);
    }
  });
});

describe('POST /v1/notifications/{id}/cancel', () => {
  it('cancels a failed notification, recording who and why; a terminal one is a 409', async () => {
    const [id] = await failedNotifications(1, { category: 'annule_e2e' });

    const cancelled = await postSigned<View>(`/v1/notifications/${id}/cancel`, {
      reason: 'Le client a annulé la commande',
    });

    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({
      id,
      status: 'cancelled',
      reason: 'cancelled_by_operator',
      operatorActions: [
        {
          action: 'cancel',
          by: OPERATOR_ARN,
          reason: 'Le client a annulé la commande',
          from: 'failed',
          at: expect.any(String),
        },
      ],
    });
    expect((await show(id!)).body.status).toBe('cancelled');

    const again = await postSigned(`/v1/notifications/${id}/cancel`);
    expect(again).toMatchObject({
      status: 409,
      body: { code: 'conflict', notificationStatus: 'cancelled', inFlight: false },
    });
    expect(await postSigned(`/v1/notifications/${id}/retry`)).toMatchObject({
      status: 409,
      body: { code: 'conflict', notificationStatus: 'cancelled' },
    });
    expect(await postSigned(`/v1/notifications/${UNKNOWN_ID}/cancel`)).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
  });

  it('wins over the message already waiting on the queue: the notification is never sent', async () => {
    const phone = newPhone();
    const sendAt = new Date(Date.now() + 4_000);
    const id = await accepted(notificationRequest(phone, { sendAt: sendAt.toISOString() }));
    // Its message waits on the queue (DelaySeconds) until sendAt.
    expect((await show(id)).body).toMatchObject({ status: 'pending', inFlight: false });

    const cancelled = await postSigned<View>(`/v1/notifications/${id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', reason: 'cancelled_by_operator' } });

    // The message comes out of its delay, the sender reads the record, finds it cancelled and lets it go.
    await new Promise((resolve) => setTimeout(resolve, sendAt.getTime() + 2_000 - Date.now()));
    await waitFor(
      async () => {
        const depth = await e2e.queueDepth(e2e.stack.queueUrl);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      10_000,
      'the standard queue to be empty',
    );
    expect(await sentTo(phone)).toBe(false);
    expect((await show(id)).body).toMatchObject({ status: 'cancelled', attempts: 0, history: [] });
  });

  it('refuses while an attempt is in flight (409); the attempt then ends as WaChap answers', async () => {
    await e2e.configureSandbox({ mode: 'slow', slowMs: 2_500 });
    const phone = newPhone();
    const id = await accepted(notificationRequest(phone));
    await waitFor(async () => (await show(id)).body.inFlight === true, 5_000, 'the attempt to be in flight');

    const refused = await postSigned(`/v1/notifications/${id}/cancel`);

    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'conflict', notificationStatus: 'pending', inFlight: true },
    });
    expect(JSON.stringify((await show(id)).body)).not.toMatch(/token|leaseUntil/);
    expect((await waitForOutcome(e2e, id, settled, 10_000)).status).toBe('sent');
  });
});

describe('POST /v1/notifications/{id}/retry', () => {
  it('re-drives a permanent failure with a fresh attempt budget once its number is fixed, recording why', async () => {
    const [id] = await permanentFailures(1, { category: 'relance_e2e' });
    const before = (await show(id!)).body;
    expect(before).toMatchObject({ status: 'permanent_failure', reason: 'permanent_error', attempts: 1 });

    const redriven = await postSigned<View>(`/v1/notifications/${id}/retry`, { reason: 'Numéro corrigé en amont' });

    expect(redriven.status, JSON.stringify(redriven.body)).toBe(200);
    expect(redriven.body).toMatchObject({ id, attempts: 1, maxAttempts: 11 });
    expect(['failed', 'pending', 'sent']).toContain(redriven.body.status);
    expect(redriven.body.operatorActions).toEqual([
      expect.objectContaining({
        action: 'redrive',
        by: OPERATOR_ARN,
        reason: 'Numéro corrigé en amont',
        from: 'permanent_failure',
      }),
    ]);
    // Queued on its lane at once: no sweep needed.
    const sent = await waitForOutcome(e2e, id!, (n) => n.status === 'sent');
    expect(sent.attempts).toBe(2);
    expect(sent.history.map((h) => h.outcome)).toEqual(['permanent_failure', 'sent']);
    expect(await postSigned(`/v1/notifications/${id}/retry`)).toMatchObject({
      status: 409,
      body: { code: 'conflict', notificationStatus: 'sent', inFlight: false },
    });
  });

  it('sends a failed notification now instead of at its next attempt', async () => {
    const [id] = await failedNotifications(1, { category: 'relance_e2e' });
    const due = Date.parse((await show(id!)).body.nextAttemptAt as string);
    expect(due).toBeGreaterThan(Date.now() + 60_000);

    expect((await postSigned(`/v1/notifications/${id}/retry`)).status).toBe(200);

    expect((await waitForOutcome(e2e, id!, (n) => n.status === 'sent')).attempts).toBe(2);
  });
});

describe('POST /v1/notifications/retry', () => {
  it('counts the matches in a dry run without changing them, then re-drives every one, page by page', async () => {
    const batch = await permanentFailures(3, { category: 'lot_e2e' });
    const [elsewhere] = await permanentFailures(1, { category: 'autre_lot_e2e' });
    const filter = { status: 'permanent_failure', reason: 'permanent_error', category: 'lot_e2e' };

    const dryRun = await postSigned(`/v1/notifications/retry`, { ...filter, dryRun: true });

    expect(dryRun).toMatchObject({ status: 200, body: { dryRun: true, matched: 3, redriven: 0, nextCursor: null } });
    for (const id of batch) expect((await show(id)).body.status).toBe('permanent_failure');

    let redriven = 0;
    let calls = 0;
    let cursor: string | null = null;
    do {
      const page: Answer<{ redriven: number; nextCursor: string | null; dryRun: boolean }> = await postSigned(
        `/v1/notifications/retry`,
        { ...filter, limit: 2, note: 'Numéros corrigés en amont', ...(cursor ? { cursor } : {}) },
      );
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.dryRun).toBe(false);
      redriven += page.body.redriven;
      cursor = page.body.nextCursor;
      calls++;
    } while (cursor && calls < 5);

    expect(redriven).toBe(3);
    expect(calls).toBeGreaterThanOrEqual(2);
    for (const id of batch) expect((await waitForOutcome(e2e, id, (n) => n.status === 'sent')).attempts).toBe(2);
    expect((await show(elsewhere!)).body.status).toBe('permanent_failure');
  });

  it('refuses a filter it cannot re-drive, naming the field', async () => {
    const answer = await postSigned<{ errors: { path: string }[] }>(`/v1/notifications/retry`, { status: 'sent' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((d) => d.path)).toEqual(['status']);
  });
});

describe('GET /v1/notifications/export.csv', () => {
  const NAMES = ['Awa "Maman" Traoré, Bamako', 'Ségou\nMopti', '李小龙 😀', 'Ousmane'];

  it('exports RFC 4180 CSV a CSV parser reads back exactly, page by page, the header on the first only', async () => {
    const from = new Date().toISOString();
    const phones = NAMES.map(newPhone);
    // The last one's number is refused: its row carries WaChap's error.
    await e2e.configureSandbox({ invalidNumbers: [phones[3]!] });
    const ids: string[] = [];
    for (const [i, name] of NAMES.entries()) {
      ids.push(
        await accepted(
          notificationRequest(phones[i]!, { category: 'export_e2e', recipient: { phone: phones[i], name } }),
        ),
      );
    }
    for (const id of ids) await waitForOutcome(e2e, id, settled);

    const first = await e2e.signed(
      `/v1/notifications/export.csv?category=export_e2e&from=${encodeURIComponent(from)}&limit=3`,
    );
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const firstText = await first.text();
    expect(firstText).toContain('\r\n');
    const next = first.headers.get('x-next-cursor');
    expect(next).toBeTruthy();
    const link = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')?.[1];
    expect(link).toBeDefined();
    // The link is relative to the page's address; it carries the same filters and the cursor.
    const nextUrl = new URL(link!, `${e2e.stack.urls.api}/v1/notifications/export.csv`);
    expect(nextUrl.searchParams.get('cursor')).toBe(next);
    const second = await e2e.signed(`${nextUrl.pathname}${nextUrl.search}`);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-next-cursor')).toBeNull();
    const secondText = await second.text();

    const [header, ...firstRows] = parse(firstText) as string[][];
    expect(header).toEqual(EXPORT_HEADER);
    const secondRows = parse(secondText) as string[][];
    expect(secondRows[0]).not.toEqual(EXPORT_HEADER);
    const rows = [...firstRows, ...secondRows].map((row) => Object.fromEntries(header!.map((c, i) => [c, row[i]])));
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());

    for (const [i, id] of ids.entries()) {
      const row = rows.find((r) => r.id === id)!;
      const stored = (await e2e.getNotification(id))!;
      expect(row).toMatchObject({
        name: NAMES[i],
        phone: phones[i],
        category: 'export_e2e',
        priority: 'normal',
        status: stored.status,
        attempts: String(stored.attempts),
        createdAt: stored.createdAt,
        sentAt: stored.sentAt ?? '',
        reason: stored.reason ?? '',
        lastErrorType: stored.lastError?.type ?? '',
        lastErrorMessage: stored.lastError?.message ?? '',
        lastErrorHttpStatus: stored.lastError?.httpStatus === undefined ? '' : String(stored.lastError.httpStatus),
      });
    }
    expect(rows.find((r) => r.id === ids[3])).toMatchObject({ status: 'permanent_failure', reason: 'permanent_error' });
    expect(rows.find((r) => r.id === ids[3])!.lastErrorType).not.toBe('');

    // Without a limit: one page of everything that matched, header first.
    const whole = await e2e.signed(`/v1/notifications/export.csv?category=export_e2e&status=sent,permanent_failure`);
    expect(whole.headers.get('x-next-cursor')).toBeNull();
    expect((parse(await whole.text(), { columns: true }) as unknown[]).length).toBe(4);
  });
});

describe('authorization', () => {
  /** Every operator route, on a pending notification that must stay as it is. */
  const routes = (id: string): [string, string, string?][] => [
    ['GET', `/v1/notifications/${id}`],
    ['GET', '/v1/notifications?status=pending'],
    ['GET', '/v1/notifications/export.csv?status=pending'],
    ['POST', `/v1/notifications/${id}/cancel`],
    ['POST', `/v1/notifications/${id}/retry`],
    ['POST', '/v1/notifications/retry', JSON.stringify({ status: 'failed', dryRun: true })],
  ];
  let id: string;

  beforeAll(async () => {
    // Pending for a minute (its message waits on the queue): any change made by a refused request would show.
    id = await accepted(notificationRequest(newPhone(), { sendAt: new Date(Date.now() + 60_000).toISOString() }));
  });

  it('refuses the upstream API key on every operator route (403), as API Gateway does', async () => {
    for (const [method, path, body] of routes(id)) {
      const response = await fetch(`${e2e.stack.urls.api}${path}`, {
        method,
        headers: { 'x-api-key': e2e.stack.apiKey, 'content-type': 'application/json' },
        ...(body ? { body } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.json()).toMatchObject({
        status: 403,
        code: 'missing_authentication_token',
        detail: 'Missing Authentication Token',
      });
    }
    expect((await e2e.getNotification(id))?.status).toBe('pending');
  });

  it('refuses a request signed with a wrong secret, an unknown key or a stale date (403)', async () => {
    const cases: [SignedRequestOptions, RegExp][] = [
      [{ credentials: { accessKeyId: 'local', secretAccessKey: 'guess' } }, /^The request signature we calculated/],
      [{ credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'local' } }, /^The security token included/],
      [{ signingDate: new Date(Date.now() - 10 * 60_000) }, /^Signature expired: /],
      [{ region: 'eu-west-1' }, /^Credential should be scoped to a valid region/],
    ];
    for (const [method, path, body] of routes(id)) {
      for (const [options, message] of cases) {
        const response = await e2e.signed(path, {
          method,
          ...options,
          ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
        });
        expect(response.status, `${method} ${path} ${message}`).toBe(403);
        expect(((await response.json()) as { detail: string }).detail).toMatch(message);
      }
    }
    expect((await e2e.getNotification(id))?.status).toBe('pending');
  });

  it('leaves POST /notifications to the API key: a signature alone does not open it', async () => {
    const response = await e2e.signed('/v1/notifications', {
      method: 'POST',
      body: JSON.stringify(notificationRequest(newPhone())),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ status: 403, code: 'invalid_api_key', detail: 'Forbidden' });
  });

  const curl = spawnSync('curl', ['--version']).status === 0;
  it.skipIf(!curl)('works with curl --aws-sigv4 and the local credentials, as the README shows', async () => {
    // Asynchronously: the door answering curl runs in this process.
    const run = async (...args: string[]) =>
      (await promisify(execFile)('curl', ['-s', ...args], { encoding: 'utf8' })).stdout;
    const sigv4 = ['--aws-sigv4', 'aws:amz:us-east-1:execute-api'];
    const curlJson = async (...args: string[]) => {
      const lines = (await run('-w', '\n%{http_code}', ...sigv4, '--user', 'local:local', ...args))
        .trimEnd()
        .split('\n');
      return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) };
    };
    const api = e2e.stack.urls.api;
    expect(await curlJson(`${api}/v1/notifications/${id}`)).toMatchObject({
      status: 200,
      body: { id, status: 'pending' },
    });
    // As AWS does, the door signs the query string sorted and encoded; curl 7.x signs it as written, so the README
    // writes it that way: names in order, the comma as %2C.
    const listed = await curlJson(`${api}/v1/notifications?limit=5&status=pending%2Cfailed`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items.map((n: { id: string }) => n.id)).toContain(id);
    const cancelled = await curlJson(
      '-X',
      'POST',
      '-H',
      'content-type: application/json',
      '-d',
      '{"reason":"curl"}',
      `${api}/v1/notifications/${id}/cancel`,
    );
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    // And a wrong secret is refused.
    const wrong = await run(...sigv4, '--user', 'local:nope', `${api}/v1/notifications/${id}`);
    expect(JSON.parse(wrong).message).toMatch(/^The request signature we calculated/);
  });
});

describe('GET /v1/notifications/counts', () => {
  it('counts the notifications of each status created since `from`, each below its cap', async () => {
    const from = new Date().toISOString();
    const sent = await accepted(notificationRequest(newPhone()));
    await waitForOutcome(e2e, sent, (n) => n.status === 'sent');
    const failed = await failedNotifications(2, { category: 'comptes_e2e' });

    const answer = await call<{ counts: Record<string, { count: number; capped: boolean }>; cap: number }>(
      `/v1/notifications/counts?from=${encodeURIComponent(from)}`,
    );

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ cap: 10_000, from });
    expect(answer.body.counts).toEqual({
      pending: { count: 0, capped: false },
      sent: { count: 1, capped: false },
      failed: { count: failed.length, capped: false },
      permanent_failure: { count: 0, capped: false },
      cancelled: { count: 0, capped: false },
      expired: { count: 0, capped: false },
    });
  });

  it('counts only the statuses named, and refuses a bad value naming it', async () => {
    const answer = await call<{ counts: Record<string, unknown> }>('/v1/notifications/counts?status=sent%2Cexpired');
    expect(Object.keys(answer.body.counts).sort()).toEqual(['expired', 'sent']);

    const refused = await call('/v1/notifications/counts?status=lost');
    expect(refused).toMatchObject({ status: 400, body: { code: 'validation_error', errors: [{ path: 'status.0' }] } });
    const reversed = await call('/v1/notifications/counts?from=2026-11-28T00:00:00Z&to=2026-11-27T00:00:00Z');
    expect(reversed).toMatchObject({ status: 400, body: { errors: [{ path: 'from' }] } });
  });
});

describe('the provider circuit over HTTP: GET and POST /v1/provider/circuit', () => {
  type Report = { action: string; circuit: { status: string; forced?: boolean; reason?: string } | null };

  it('shows the circuit, forces it open with a reason, and closes it again', async () => {
    try {
      const status = await call<Report>('/v1/provider/circuit');
      expect(status).toMatchObject({ status: 200, body: { action: 'status' } });

      const opened = await postSigned<Report>('/v1/provider/circuit', { action: 'open', reason: 'maintenance WaChap' });
      expect(opened.status).toBe(200);
      expect(opened.body.circuit).toMatchObject({ status: 'unavailable', forced: true });
      expect(opened.body.circuit?.reason).toContain('maintenance WaChap');
      // A forced circuit holds: a probe of a healthy WaChap does not close it.
      const probed = await postSigned<Report>('/v1/provider/circuit', { action: 'probe' });
      expect(probed.body).toMatchObject({ action: 'probe', probed: true, circuit: { status: 'unavailable' } });
    } finally {
      const closed = await postSigned<Report>('/v1/provider/circuit', { action: 'close' });
      expect(closed.body).toMatchObject({ action: 'close', circuit: { status: 'healthy' } });
    }
    expect((await call<Report>('/v1/provider/circuit')).body.circuit).toMatchObject({ status: 'healthy' });
  });

  it('refuses an unknown action or a reason with anything but open, naming the field, and changes nothing', async () => {
    const unknown = await postSigned('/v1/provider/circuit', { action: 'explode' });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'validation_error', errors: [{ path: 'action' }] } });
    const reasonWithClose = await postSigned('/v1/provider/circuit', { action: 'close', reason: 'why not' });
    expect(reasonWithClose.status).toBe(400);
    expect(JSON.stringify(reasonWithClose.body)).toContain('reason');
    expect((await call<Report>('/v1/provider/circuit')).body.circuit?.status ?? 'healthy').toBe('healthy');
  });

  it('is an operator route: unsigned, or with the API key only, it is refused', async () => {
    for (const headers of [{}, { 'x-api-key': e2e.stack.apiKey }] as Record<string, string>[]) {
      const response = await fetch(`${e2e.stack.urls.api}/v1/provider/circuit`, { headers });
      expect(response.status).toBe(403);
    }
  });
});
