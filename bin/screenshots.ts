// `npm run screenshots`: the operations page as the README shows it, docs/ops-desktop.png and docs/ops-phone.png,
// taken in headless Chromium (Debian's, as the end-to-end test) against a local stack given something to show:
// sent notifications, failures of each kind, and notifications held behind an open provider circuit.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Notification } from '../shared/domain/notification.js';
import { malianPhone, notificationRequest, startE2eStack, waitForOutcome } from '../test/support/local-stack.js';
import { launchChromium, signInLocally } from '../test/support/operations-page.js';

const DOCS = resolve(import.meta.dirname, '../docs');
const settled = (n: Notification) => n.status !== 'pending' && n.inFlight === undefined;

const browser = await launchChromium();
const e2e = await startE2eStack();
try {
  let phone = 0;
  const send = async (overrides: Record<string, unknown> = {}) => {
    const answer = await e2e.post(notificationRequest(malianPhone(phone++), overrides));
    return waitForOutcome(e2e, answer.body.id!, settled);
  };
  for (const category of ['colis_arrive', 'colis_arrive', 'lot_ferme', 'colis_livre', 'otp']) await send({ category });
  await e2e.configureSandbox({ invalidNumbers: [malianPhone(phone).slice(1)] });
  await send({ category: 'colis_livre' });
  await e2e.configureSandbox({ invalidNumbers: [], mode: 'unavailable' });
  await send({ category: 'lot_ferme' });
  await send();
  // A disconnected instance is everyone's problem: the circuit opens and what follows is held.
  await e2e.configureSandbox({ mode: 'disconnected' });
  for (let i = 0; i < 3; i++) await send({ category: i === 0 ? 'otp' : 'colis_arrive' });

  mkdirSync(DOCS, { recursive: true });
  for (const [name, viewport] of [
    ['ops-desktop.png', { width: 1280, height: 900 }],
    ['ops-phone.png', { width: 390, height: 844 }],
  ] as const) {
    const context = await browser.newContext({
      viewport,
      deviceScaleFactor: 1,
      locale: 'fr-FR',
      timezoneId: 'Africa/Bamako',
    });
    const page = await context.newPage();
    await signInLocally(page, e2e.stack.urls.api);
    await page.locator('#held tbody tr[data-id]').first().waitFor();
    await page.screenshot({ path: resolve(DOCS, name), fullPage: true });
    await context.close();
    console.log(`docs/${name}`);
  }
} finally {
  await browser.close();
  await e2e.stop();
}
