// Test helper: headless Chromium (Debian's /usr/bin/chromium through playwright-core) for the browser steps of
// the OAuth flows: sign in, consent, device verification, and catching the redirect to a client's redirect URI.
//
//   import { useBrowser, signIn, catchRedirect } from './lib/browser.mjs';
//   const browser = useBrowser();                 // before: launch; after: close
//   const context = await browser.newContext();   // one fresh context (cookie jar) per test
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

import { isCI, repoRoot } from './server.mjs';

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const artifactsDir = join(repoRoot, 'e2e', 'artifacts');

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// browserSkipReason is false when Chromium exists, otherwise a reason for { skip }. Under CI a missing
// Chromium is an error, never a skip (scripts/test.sh installs it there).
export function browserSkipReason() {
  if (existsSync(chromiumPath)) return false;
  if (isCI) throw new Error(`Chromium not found at ${chromiumPath} (set CHROMIUM_PATH); CI must not skip`);
  return `Chromium not found at ${chromiumPath}; install it with: apt-get install chromium`;
}

// useBrowser registers before/after hooks in the current suite: Chromium is launched before its tests and
// closed after them. newContext() gives a fresh context (no cookies) with English pages.
export function useBrowser() {
  const handle = {
    browser: null,
    async newContext(opts = {}) {
      const context = await handle.browser.newContext({ locale: 'en-US', ...opts });
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(10_000);
      return context;
    },
  };
  before(async () => {
    handle.browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: LAUNCH_ARGS });
  });
  after(async () => {
    await handle.browser?.close();
  });
  return handle;
}

// signIn fills the login form the browser is on and submits it.
export async function signIn(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// catchRedirect intercepts every request in context to redirectURI (same origin and path, any query) and answers
// it with a small page, so no server needs to listen there. It resolves to the first such URL (a URL object).
export async function catchRedirect(context, redirectURI) {
  const target = new URL(redirectURI);
  let resolveURL;
  const caught = new Promise((r) => (resolveURL = r));
  await context.route(
    (url) => url.origin === target.origin && url.pathname === target.pathname,
    async (route) => {
      resolveURL(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>callback</title>ok' });
    },
  );
  return caught;
}

// withTimeout rejects when p does not settle within ms.
export function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

// screenshot saves a full-page PNG under e2e/artifacts/ (gitignored), for the README.
export async function screenshot(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true });
}
