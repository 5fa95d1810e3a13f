// The operations page in a real browser: Debian's Chromium driven by playwright-core (no browser can be downloaded
// here, and none is bundled), for the end-to-end test and the screenshots script.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium, or an error that says how to get it: the page's tests never skip for want of a browser. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: the operations page is tested in a real browser. Install Debian's ` +
        'package (sudo apt-get install -y chromium; .ci/run does) or point CHROMIUM_PATH at a Chromium binary.',
    );
  }
  // --no-sandbox: CI runs as root in a container, where Chromium's own sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

/** Opens the page served by the local door and signs in with what it prefills (local / local, us-east-1). */
export async function signInLocally(page: Page, apiUrl: string): Promise<void> {
  await page.goto(`${apiUrl}/ops/`);
  await page.locator('#static-form').waitFor();
  await page.locator('#static-form button[type=submit]').click();
  await page.locator('#dashboard').waitFor();
}
