import { chromium, type Browser, type Page } from 'playwright-core';

/** Headless Chromium from the system package (`apt-get install chromium`); never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    timeout: 30_000,
  });
}

/**
 * Opens `pageUrl` (the dashboard, `http://host/<path>`), which the guard refuses with the sign-in page, posts `token`
 * through its form (POST /<path>/sign-in: an HttpOnly cookie, never a URL) and waits for the dashboard it lands on.
 */
export async function signIn(page: Page, pageUrl: string, token: string): Promise<void> {
  await page.goto(pageUrl);
  await page.fill('form input[name="token"]', token);
  const [landed] = await Promise.all([
    page.waitForNavigation({ url: (url) => !url.pathname.endsWith('/sign-in'), timeout: 15_000 }),
    page.click('form button[type="submit"]'),
  ]);
  if (landed?.status() !== 200) throw new Error(`sign-in landed on ${page.url()} with status ${landed?.status()}: ${await page.title()}`);
}
