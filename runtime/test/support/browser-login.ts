/**
 * The browser step of an OAuth sign-in, done the way a user would: Debian's Chromium (headless, driven by
 * playwright-core) opens the authorization URL a client printed, the user submits the realm's login form,
 * and the browser follows the redirect to the client's loopback callback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Signs `username` in at `authorizationUrl`; resolves with the callback URL the browser landed on. */
export async function browserLogin(authorizationUrl: string, username: string, password = username): Promise<URL> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'chromium-login-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    // A busy machine: each step may wait on the realm, the client's callback server and the gateway.
    page.setDefaultTimeout(90_000);
    const callbackOrigin = new URL(callbackOf(authorizationUrl)).origin;
    await page.goto(authorizationUrl);
    // The login form, then (for clients that send prompt=consent) the consent screen, then the callback.
    for (let step = 0; step < 3 && new URL(page.url()).origin !== callbackOrigin; step++) {
      if ((await page.locator('input[name=username]').count()) > 0) {
        await page.fill('input[name=username]', username);
        await page.fill('input[name=password]', password);
      }
      const before = page.url();
      await Promise.all([page.waitForURL((url) => url.href !== before, { waitUntil: 'load' }), page.click('button')]);
    }
    if (new URL(page.url()).origin !== callbackOrigin) throw new Error(`sign-in stopped at ${page.url()}: ${await page.content()}`);
    return new URL(page.url());
  } finally {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

function callbackOf(authorizationUrl: string): string {
  const redirect = new URL(authorizationUrl).searchParams.get('redirect_uri');
  if (!redirect) throw new Error(`no redirect_uri in ${authorizationUrl}`);
  return redirect;
}
