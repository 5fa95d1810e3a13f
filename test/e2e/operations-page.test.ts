// The operations page, end to end in headless Chromium against the local stack: it loads from the API door with
// nothing from elsewhere, signs its calls (SigV4 in the page) with the local credentials, shows a notification that
// failed while WaChap was down, re-drives it with a dry run first once WaChap is back, and shows it sent, with its
// history; the provider circuit can be forced from it too. No sleep decides anything: the test polls the page.

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type E2eStack,
  malianPhone,
  notificationRequest,
  startE2eStack,
  waitFor,
  waitForOutcome,
} from '../support/local-stack.js';
import { launchChromium, signInLocally } from '../support/operations-page.js';

let e2e: E2eStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** What the page logged as an error, or threw: a CSP refusal or a script error shows here. */
const pageErrors: string[] = [];

beforeAll(async () => {
  // The browser first: without it the test fails at once, saying how to install it.
  browser = await launchChromium();
  e2e = await startE2eStack();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // Forcing the circuit open and cancelling ask for a confirmation: the operator says yes.
  page.on('dialog', (dialog) => void dialog.accept());
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await e2e?.stop();
});

/** Clicks the page's refresh until `probe` holds on the page (the page polls the API; the test polls the page). */
const untilPageShows = (what: string, probe: () => Promise<boolean>, timeoutMs = 20_000) =>
  waitFor(
    async () => {
      await page.locator('#refresh').click();
      await page.waitForLoadState('networkidle');
      return probe();
    },
    timeoutMs,
    what,
    250,
  );

describe('the operations page', () => {
  it('is served by the API door with its config, and only from its own files', async () => {
    const response = await fetch(`${e2e.stack.urls.api}/ops/config.json`);
    expect(await response.json()).toEqual({ apiBase: '/v1', region: 'us-east-1', auth: 'static' });
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const redirect = await fetch(`${e2e.stack.urls.api}/ops`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/ops/');
  });

  it('signs in, sees a failure appear, re-drives it after a dry run, and sees it sent', async () => {
    await signInLocally(page, e2e.stack.urls.api);
    await expect(page.locator('#circuit-state').getAttribute('data-state')).resolves.toBe('closed');

    // WaChap down (HTTP 503): the notification fails and waits for its next attempt in 30 minutes.
    await e2e.configureSandbox({ mode: 'unavailable' });
    const phone = malianPhone(700);
    const posted = await e2e.post(notificationRequest(phone));
    expect(posted.status).toBe(202);
    const id = posted.body.id!;
    await waitForOutcome(e2e, id, (n) => n.status === 'failed' && n.inFlight === undefined);

    const failureRow = page.locator(`#failures tr[data-id="${id}"]`);
    await untilPageShows('the failure in the latest failures', async () => (await failureRow.count()) === 1);
    await expect(failureRow.locator('[data-field=status]').textContent()).resolves.toBe('failed');
    await expect(failureRow.textContent()).resolves.toContain(phone);
    await expect(page.locator('#counts li[data-status=failed] .n').textContent()).resolves.toBe('1');

    // WaChap fixed: a dry run counts the match and changes nothing; the confirmation re-drives it.
    await e2e.configureSandbox({ mode: 'healthy' });
    await page.locator('#redrive-status').selectOption('failed');
    await page.locator('#redrive-since').selectOption('24');
    await page.locator('#redrive-note').fill('WaChap rétabli');
    await page.locator('#redrive-count').click();
    await page.locator('#redrive-result[data-matched="1"]').waitFor();
    expect((await e2e.getNotification(id))?.status).toBe('failed');
    await page.locator('#redrive-confirm').click();
    await page.locator('#redrive-result[data-redriven="1"]').waitFor();

    // Its detail, refreshed until the page shows it sent, with both attempts in its history.
    await page.locator('#lookup-id').fill(id);
    await page.locator('#lookup-form button[type=submit]').click();
    await page.locator('#detail[open]').waitFor();
    await waitFor(
      async () => {
        await page.locator('#detail-refresh').click();
        await page.waitForLoadState('networkidle');
        return (await page.locator('#detail-status').getAttribute('data-status')) === 'sent';
      },
      20_000,
      'the notification shown as sent',
      250,
    );
    await expect(page.locator('#detail-history tbody tr').count()).resolves.toBe(2);
    await expect(page.locator('#detail-actions').textContent()).resolves.toContain('WaChap rétabli');
    expect((await e2e.inbox()).messages.some((m) => m.to === phone.slice(1))).toBe(true);
    await page.locator('#detail-close').click();
    await untilPageShows(
      'the sent count',
      async () => (await page.locator('#counts li[data-status=sent] .n').textContent()) === '1',
    );
  });

  it('forces the provider circuit open and closes it again', async () => {
    await page.locator('#circuit-reason').fill('maintenance');
    await page.locator('#circuit-open').click();
    await page.locator('#circuit-state[data-state=open]').waitFor();
    await expect(page.locator('#circuit-details').textContent()).resolves.toContain('maintenance');
    await page.locator('#circuit-close').click();
    await page.locator('#circuit-state[data-state=closed]').waitFor();
    expect(
      (await e2e.invoke<{ circuit: { status: string } }>('provider-probe', { action: 'status' })).payload.circuit
        .status,
    ).toBe('healthy');
  });

  it('shows what the API refused: its problem detail', async () => {
    await page.locator('#lookup-id').fill('not-an-id');
    await page.locator('#lookup-form button[type=submit]').click();
    await page.locator('#lookup-problem:not([hidden])').waitFor();
    await expect(page.locator('#lookup-problem').textContent()).resolves.toMatch(/^400 · .*id/);
  });

  it('logged no error and broke no content security rule on the way', () => {
    // The one error Chromium logs by itself: the refused lookup's 400, as a failed resource.
    expect(pageErrors.filter((text) => !/status of 400/.test(text))).toEqual([]);
  });
});
