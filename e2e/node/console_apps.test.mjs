// Console end-to-end tests of the OAuth app pages: a person creates each kind of app in headless Chromium, adds a
// client secret and generates a key pair, authorizes the web app through the consent page, uses the token with the
// official @coze/api SDK, revokes it under "Authorized apps" (then it gets 4100 within a second), and looks at the
// workspaces page. Users and workspaces are made by the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { AuthenticationError, CozeAPI, getWebAuthenticationUrl, getWebOAuthToken } from '@coze/api';

import { browserSkipReason, catchRedirect, screenshot, signIn, useBrowser, withTimeout } from './lib/browser.mjs';
import { freePort, skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject, sleep } from './lib/util.mjs';

const skip = skipReason() || browserSkipReason();

describe('web console: OAuth apps, authorized apps, workspaces', { skip }, () => {
  const srv = useServer();
  const browser = useBrowser();
  const fx = {};

  before(async () => {
    await srv.admin(['user', 'create', '--username', 'alice', '--password-stdin'], { input: `${PASSWORD}\n` });
    fx.alpha = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
    fx.redirectURI = `http://127.0.0.1:${await freePort()}/callback`; // nothing listens: a route answers
  });

  async function signedIn() {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    await page.goto(`${srv.baseURL}/console`);
    await signIn(page, 'alice', PASSWORD);
    await page.waitForURL(`${srv.baseURL}/console`);
    return { context, page };
  }

  // createApp goes through "Create app" and submits the form; it returns the response of the POST.
  async function createApp(page, { name, type, redirect, perms = [], shot }) {
    await page.getByRole('link', { name: 'OAuth apps', exact: true }).click();
    await page.waitForURL(`${srv.baseURL}/console/apps`);
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.waitForURL(/\/console\/apps\/new/);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('radiogroup', { name: 'Client type' }).getByLabel(type, { exact: true }).check();
    const uris = page.getByLabel('Redirect URIs', { exact: true });
    if (redirect) await uris.fill(redirect);
    else assert.equal(await uris.isVisible(), false, `${type}: redirect URIs are hidden`);
    for (const p of perms) await page.getByLabel(p, { exact: true }).check();
    if (shot) await screenshot(page, shot);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/console/apps'),
      page.getByRole('button', { name: 'Create', exact: true }).click(),
    ]);
    return resp;
  }

  it('creates each kind of app, adds a secret, generates a key, authorizes and revokes', async () => {
    const { context, page } = await signedIn();
    try {
      // Web backend: the first client secret is shown once.
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname.endsWith('/secret')),
        createApp(page, {
          name: 'e2e web', type: 'Web backend', redirect: fx.redirectURI, perms: ['Workspace.list'], shot: 'console-app-create',
        }),
      ]);
      assert.equal(resp.status(), 200);
      assert.equal(resp.headers()['cache-control'], 'no-store');
      const secretInput = page.getByLabel('Client secret', { exact: true });
      const secret = await secretInput.inputValue();
      assert.match(secret, /^czs_/);
      assert.equal(await secretInput.getAttribute('readonly'), '');
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
      const clientID = (await page.locator('dl.facts dd code').first().textContent()).trim();
      await screenshot(page, 'console-app-secret');

      // The app page lists it masked; "Add secret" shows a second one once.
      await page.getByRole('link', { name: 'Back to the app' }).click();
      await page.getByRole('heading', { name: 'App e2e web' }).waitFor();
      assert.ok(!(await page.content()).includes(secret), 'the app page shows the secret');
      await page.getByText(`czs_…${secret.slice(-4)}`).waitFor();
      await page.getByRole('button', { name: 'Add secret' }).click();
      const second = await page.getByLabel('Client secret', { exact: true }).inputValue();
      assert.match(second, /^czs_/);
      assert.notEqual(second, secret);
      await page.getByRole('link', { name: 'Back to the app' }).click();
      await page.getByText(`czs_…${second.slice(-4)}`).waitFor();
      await screenshot(page, 'console-app-web');

      // The other kinds.
      for (const [name, type, redirect] of [
        ['e2e spa', 'Single-page or native app', fx.redirectURI],
        ['e2e tv', 'TV, device or command line', null],
        ['e2e service', 'Service', null],
      ]) {
        const r = await createApp(page, { name, type, redirect });
        assert.equal(r.status(), 303, `${type}: ${r.status()}`);
        await page.getByRole('heading', { name: `App ${name}` }).waitFor();
        await page.getByText('App created.').waitFor();
      }

      // Service: generate a key pair (the private key is shown once), then authorize it for my account.
      await page.getByRole('button', { name: 'Generate key pair' }).click();
      const key = await page.getByLabel('Private key', { exact: true }).inputValue();
      assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
      await page.getByRole('button', { name: 'Download' }).waitFor();
      await screenshot(page, 'console-app-key');
      await page.getByRole('link', { name: 'Back to the app' }).click();
      assert.ok(!(await page.content()).includes('PRIVATE KEY-----'), 'the app page shows the private key');
      assert.equal(await page.getByRole('button', { name: /^Delete key / }).count(), 1);
      await page.getByRole('button', { name: 'Authorize for my account' }).click();
      await page.getByText('The app is authorized for your personal account.').waitFor();
      await screenshot(page, 'console-app-service');

      await page.getByRole('link', { name: 'OAuth apps', exact: true }).click();
      for (const n of ['e2e web', 'e2e spa', 'e2e tv', 'e2e service']) await page.getByRole('link', { name: n, exact: true }).waitFor();
      await screenshot(page, 'console-apps');

      // Authorize the web app through the consent page; exchange the code with the secret.
      const caught = catchRedirect(context, fx.redirectURI);
      const state = 'console-e2e';
      await page.goto(getWebAuthenticationUrl({ baseURL: srv.baseURL, clientId: clientID, redirectUrl: fx.redirectURI, state }));
      await page.getByRole('button', { name: 'Authorize' }).click();
      const redirected = await withTimeout(caught, 10_000, 'redirect after consent');
      await page.waitForURL((u) => u.href.startsWith(fx.redirectURI)); // let the navigation finish before the next
      assert.equal(redirected.searchParams.get('state'), state, redirected.href);
      const code = redirected.searchParams.get('code');
      assert.ok(code, redirected.href);
      const tok = await getWebOAuthToken({ baseURL: srv.baseURL, clientId: clientID, redirectUrl: fx.redirectURI, code, clientSecret: second });
      const coze = new CozeAPI({ token: tok.access_token, baseURL: srv.baseURL });
      assert.equal((await coze.users.me()).user_name, 'alice');

      // Authorized apps: both grants; revoke the web app's → its token gets 4100 within a second.
      await page.goto(`${srv.baseURL}/console`);
      await page.getByRole('link', { name: 'Authorized apps', exact: true }).click();
      const row = page.getByRole('row').filter({ hasText: 'e2e web' });
      await row.getByText('On your behalf').waitFor();
      await page.getByRole('row').filter({ hasText: 'e2e service' }).getByText('As itself').waitFor();
      await screenshot(page, 'console-authorized');
      await row.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('heading', { name: 'Revoke the authorization of e2e web?' }).waitFor();
      await page.getByRole('button', { name: 'Revoke', exact: true }).click();
      await page.waitForURL(/\/console\/authorized\?done=revoked/);
      const started = Date.now();
      assert.equal(await page.getByRole('row').filter({ hasText: 'e2e web' }).count(), 0);
      const err = await eventually(1000, () => expectReject(coze.users.me()));
      assert.ok(err instanceof AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 4100);
      assert.ok(Date.now() - started < 1500);

      // Workspaces: read-only.
      await page.getByRole('link', { name: 'Workspaces', exact: true }).click();
      const ws = page.getByRole('row').filter({ hasText: 'Alpha' });
      await ws.getByText('Owner', { exact: true }).waitFor();
      await ws.getByText('Personal', { exact: true }).waitFor();
      assert.equal(await page.locator('main form').count(), 0);
      await screenshot(page, 'console-workspaces');
    } finally {
      await context.close();
    }
  });

  it('deactivates, reactivates, deletes its last secret and the app, each after confirmation', async () => {
    const { context, page } = await signedIn();
    try {
      const r = await createApp(page, { name: 'e2e doomed', type: 'Web backend', redirect: fx.redirectURI });
      assert.equal(r.status(), 303);
      await page.getByRole('link', { name: 'Back to the app' }).click();
      await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
      await page.getByRole('heading', { name: 'Deactivate e2e doomed?' }).waitFor();
      await page.getByRole('button', { name: 'Deactivate app' }).click();
      await page.getByText('App deactivated.').waitFor();
      // A deactivated app offers no secret, key or authorize actions, only Reactivate.
      for (const name of ['Add secret', /^Delete secret /]) assert.equal(await page.getByRole('button', { name }).count(), 0, `${name}`);
      await page.getByRole('button', { name: 'Reactivate' }).click();
      await page.getByText('App reactivated.', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Add secret' }).waitFor();
      // Deleting the last secret warns that the app stops getting tokens; Cancel keeps it.
      await page.getByRole('button', { name: /^Delete secret / }).click();
      await page.getByText("is this app's last client secret", { exact: false }).waitFor();
      await page.getByRole('link', { name: 'Cancel' }).click();
      await page.getByRole('button', { name: /^Delete secret / }).click();
      await page.getByRole('button', { name: 'Delete secret', exact: true }).click();
      await page.getByText('Client secret deleted.', { exact: false }).waitFor();
      assert.equal(await page.getByRole('button', { name: /^Delete secret / }).count(), 0);
      await page.getByRole('button', { name: 'Delete app' }).click();
      await page.getByRole('heading', { name: 'Delete e2e doomed?' }).waitFor();
      await page.getByRole('button', { name: 'Delete app' }).click();
      await page.waitForURL(/\/console\/apps\?done=deleted/);
      assert.equal(await page.getByRole('link', { name: 'e2e doomed' }).count(), 0);
    } finally {
      await context.close();
    }
  });

  it('shows a field error and keeps the input; refuses a POST without a CSRF token', async () => {
    const { context, page } = await signedIn();
    try {
      const r = await createApp(page, { name: 'e2e bad', type: 'Web backend', redirect: 'http://evil.example/cb' });
      assert.equal(r.status(), 400);
      await page.getByText('This redirect URI is not allowed', { exact: false }).waitFor();
      assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'e2e bad');
      assert.equal(await page.getByLabel('Redirect URIs', { exact: true }).inputValue(), 'http://evil.example/cb');
      assert.equal(await page.getByLabel('Redirect URIs', { exact: true }).getAttribute('aria-invalid'), 'true');
      await page.getByRole('link', { name: '简体中文' }).click();
      await page.getByRole('radiogroup', { name: '客户端类型' }).waitFor();
      await page.getByRole('link', { name: 'English' }).click();
      const res = await page.request.post(`${srv.baseURL}/console/apps`, {
        form: { name: 'forged', client_type: 'Terminal', account: 'x' }, maxRedirects: 0,
      });
      assert.equal(res.status(), 403);
    } finally {
      await context.close();
    }
  });
});
