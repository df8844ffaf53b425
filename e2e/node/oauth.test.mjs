// OAuth end-to-end tests: every flow of the official @coze/api SDK (web with a client secret, PKCE S256 and
// plain, device code with polling, JWT with and without an account) against a real `cozeauth serve`, with the
// browser steps (sign in, consent, device verification) done in headless Chromium. Apps, users, workspaces and
// keys are made by the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import {
  CozeAPI,
  getDeviceCode,
  getDeviceToken,
  getJWTToken,
  getPKCEAuthenticationUrl,
  getPKCEOAuthToken,
  getWebAuthenticationUrl,
  getWebOAuthToken,
  refreshOAuthToken,
} from '@coze/api';

import { browserSkipReason, catchRedirect, screenshot, signIn, useBrowser, withTimeout } from './lib/browser.mjs';
import { freePort, isCI, skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject, sleep } from './lib/util.mjs';

const AUTHORIZE_PATH = '/api/permission/oauth2/authorize';
const now = () => Math.floor(Date.now() / 1000);

// assertOAuthError checks an SDK rejection carrying the WIRE.md §3.5 OAuth error body and returns it.
function assertOAuthError(err, code, status, what) {
  const where = `${what}: ${err?.constructor?.name} ${err?.message} ${JSON.stringify(err?.rawError)}`;
  assert.equal(err.status, status, `HTTP status, ${where}`);
  assert.equal(err.rawError?.error, code, `error, ${where}`);
  assert.equal(err.rawError?.error_code, code, `error_code, ${where}`);
  assert.equal(typeof err.rawError?.error_message, 'string', `error_message, ${where}`);
  assert.notEqual(err.rawError.error_message, '', `error_message must be non-empty, ${where}`);
  assert.equal(err.rawError.code, undefined, `no code in an OAuth error, ${where}`);
  assert.equal(err.rawError.msg, undefined, `no msg in an OAuth error, ${where}`);
}

// assertToken checks a token response (WIRE.md §3.4): an opaque access token (not pat_), expires_in an absolute
// Unix time about ttl seconds ahead, and a refresh token unless it is a JWT grant.
function assertToken(tok, { ttl = 900, refresh = true } = {}, what = 'token') {
  const where = `${what}: ${JSON.stringify(tok)}`;
  assert.equal(typeof tok.access_token, 'string', where);
  assert.ok(tok.access_token.length >= 20, where);
  assert.ok(!tok.access_token.startsWith('pat_'), `access tokens must not start with pat_, ${where}`);
  assert.ok(Number.isInteger(tok.expires_in), `expires_in must be an integer, ${where}`);
  assert.ok(Math.abs(tok.expires_in - (now() + ttl)) <= 60, `expires_in must be absolute, about now+${ttl}, ${where}`);
  if (refresh) {
    assert.equal(typeof tok.refresh_token, 'string', where);
    assert.notEqual(tok.refresh_token, '', where);
    assert.notEqual(tok.refresh_token, tok.access_token, where);
  } else {
    assert.equal(tok.refresh_token, undefined, `no refresh_token for this grant, ${where}`);
  }
}

// postJSON POSTs JSON with fetch and returns { status, body }.
async function postJSON(url, token, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

// ── shared fixture: alice with workspaces Alpha (bot1) and Beta (bot2); bob and carol with no workspaces ──

function useFixture(srv) {
  const fx = { users: {}, ws: {}, bots: {} };
  before(async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      const u = await srv.admin(['user', 'create', '--username', name, '--password-stdin'], { input: `${PASSWORD}\n` });
      assert.equal(typeof u.user_id, 'string', JSON.stringify(u));
      assert.equal(typeof u.account_id, 'string', `user create must print account_id: ${JSON.stringify(u)}`);
      fx.users[name] = u;
    }
    fx.ws.alpha = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
    fx.ws.beta = (await srv.admin(['workspace', 'create', '--name', 'Beta', '--owner', 'alice'])).workspace_id;
    fx.bots.alpha = (await srv.admin(['resource', 'create', '--workspace', fx.ws.alpha, '--type', 'bot'])).resource_id;
    fx.bots.beta = (await srv.admin(['resource', 'create', '--workspace', fx.ws.beta, '--type', 'bot'])).resource_id;
  });
  return fx;
}

async function createApp(srv, type, name, extra = []) {
  const out = await srv.admin(['app', 'create', '--owner', 'alice', '--type', type, '--name', name,
    '--permission', 'Workspace.list', '--permission', 'Bot.chat', ...extra]);
  assert.equal(typeof out.app_id, 'string', JSON.stringify(out));
  assert.equal(typeof out.client_id, 'string', JSON.stringify(out));
  if (type === 'web') assert.equal(typeof out.client_secret, 'string', JSON.stringify(out));
  return out;
}

const bot = (id) => ({ type: 'bot', id });

function authzCheck(srv, token, body) {
  return postJSON(`${srv.baseURL}/api/cozeauth/v1/authz/check`, token, body);
}

// assertWorks checks an access token on users.me, workspaces.list and the authz check: it acts as user, lists
// exactly the workspaces in `workspaces` (IDs), and may chat with the bots in `bots` but not those in `deniedBots`.
async function assertWorks(srv, token, { user, workspaces, bots = [], deniedBots = [] }, what) {
  const api = new CozeAPI({ token, baseURL: srv.baseURL });
  const me = await api.users.me();
  assert.equal(me.user_id, user.user_id, `${what}: users.me ${JSON.stringify(me)}`);
  if (workspaces) {
    const data = await api.workspaces.list();
    assert.deepEqual(data.workspaces.map((w) => w.id).sort(), [...workspaces].sort(), `${what}: ${JSON.stringify(data)}`);
    assert.equal(data.total_count, workspaces.length, `${what}: ${JSON.stringify(data)}`);
  }
  for (const id of bots) {
    const res = await authzCheck(srv, token, { permission: 'Bot.chat', resource: bot(id) });
    assert.equal(res.status, 200, `${what}: Bot.chat on ${id}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.data?.allowed, true, `${what}: Bot.chat on ${id}: ${JSON.stringify(res.body)}`);
  }
  for (const id of deniedBots) {
    const res = await authzCheck(srv, token, { permission: 'Bot.chat', resource: bot(id) });
    assert.equal(res.status, 403, `${what}: Bot.chat on ${id} must be denied: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 4101, `${what}: Bot.chat on ${id}: ${JSON.stringify(res.body)}`);
  }
}

// ── JWT: no browser ──

describe('oauth: JWT grant with @coze/api getJWTToken', { skip: skipReason(), timeout: 60_000 }, () => {
  // api.coze.cn is what the JS quickstart hard-codes as aud; --dev would add it too.
  const srv = useServer({ args: ['--jwt-audience', 'api.coze.cn'] });
  const fx = useFixture(srv);
  const app = {};
  let aud;

  before(async () => {
    aud = `127.0.0.1:${srv.port}`;
    Object.assign(app, await createApp(srv, 'jwt', 'Service bot'));
    const key = await srv.admin(['app', 'gen-key', '--app', app.app_id]);
    assert.equal(typeof key.public_key_id, 'string', JSON.stringify(key));
    assert.match(key.private_key, /^-----BEGIN PRIVATE KEY-----/, 'gen-key prints a PKCS#8 private key');
    app.keyid = key.public_key_id;
    app.privateKey = key.private_key;
    assert.notDeepEqual(await srv.admin(['app', 'authorize', '--app', app.app_id, '--user', 'alice']), {}); // prints the changed object
    assert.notDeepEqual(
      await srv.admin(['app', 'authorize', '--app', app.app_id, '--user', 'bob', '--workspaces', 'all']),
      {},
    ); // prints the changed object
  });

  const jwt = (extra = {}) =>
    getJWTToken({ baseURL: srv.baseURL, appId: app.client_id, aud, keyid: app.keyid, privateKey: app.privateKey, ...extra });

  it('issues a token for the owner account (no accountId) that works on users.me, workspaces and authz', async () => {
    const tok = await jwt();
    assertToken(tok, { refresh: false }, 'JWT');
    await assertWorks(srv, tok.access_token, {
      user: fx.users.alice,
      workspaces: [fx.ws.alpha, fx.ws.beta],
      bots: [fx.bots.alpha, fx.bots.beta],
    }, 'JWT owner');
  });

  it('accepts aud api.coze.cn (the JS quickstart) and takes the lifetime from durationSeconds', async () => {
    const tok = await jwt({ aud: 'api.coze.cn', durationSeconds: 3600 });
    assertToken(tok, { ttl: 3600, refresh: false }, 'JWT aud api.coze.cn');
    await assertWorks(srv, tok.access_token, { user: fx.users.alice }, 'JWT aud api.coze.cn');
  });

  it('with accountId acts in that account once it authorized the app (account/{id}/token)', async () => {
    const tok = await jwt({ accountId: fx.users.bob.account_id });
    assertToken(tok, { refresh: false }, 'JWT bob');
    await assertWorks(srv, tok.access_token, { user: fx.users.bob, workspaces: [], deniedBots: [fx.bots.alpha] }, 'JWT bob');
  });

  it('with accountId of an account that did not authorize the app: invalid_grant', async () => {
    const err = await expectReject(jwt({ accountId: fx.users.carol.account_id }));
    assertOAuthError(err, 'invalid_grant', 400, 'JWT carol');
  });

  it('scope.account_permission narrows the token', async () => {
    const scope = {
      account_permission: { permission_list: ['Workspace.list'] },
      attribute_constraint: { connector_bot_chat_attribute: { bot_id_list: [] } },
    };
    const tok = await jwt({ scope });
    await assertWorks(srv, tok.access_token, {
      user: fx.users.alice,
      workspaces: [fx.ws.alpha, fx.ws.beta],
      deniedBots: [fx.bots.alpha],
    }, 'JWT scoped to Workspace.list');
  });

  it('a wrong key ID is invalid_client (401)', async () => {
    const err = await expectReject(jwt({ keyid: 'no-such-key' }));
    assertOAuthError(err, 'invalid_client', 401, 'unknown kid');
  });

  it('deactivating the app stops its tokens', async () => {
    const other = await createApp(srv, 'jwt', 'Doomed service');
    const key = await srv.admin(['app', 'gen-key', '--app', other.app_id]);
    await srv.admin(['app', 'authorize', '--app', other.app_id, '--user', 'alice']);
    const tok = await getJWTToken({
      baseURL: srv.baseURL, appId: other.client_id, aud, keyid: key.public_key_id, privateKey: key.private_key,
    });
    await assertWorks(srv, tok.access_token, { user: fx.users.alice }, 'before deactivation');
    assert.notDeepEqual(await srv.admin(['app', 'deactivate', '--app', other.app_id]), {}); // prints the changed object
    await eventually(3000, async () => {
      const res = await fetch(`${srv.baseURL}/v1/users/me`, { headers: { authorization: `Bearer ${tok.access_token}` } });
      await res.arrayBuffer();
      assert.equal(res.status, 401, 'a deactivated app’s token must be rejected');
    });
  });
});

// ── browser flows ──

// pagesMissing: the browser pages must answer; while they are not wired in yet (GET /login is 404) the browser
// tests skip locally and fail under CI.
async function pagesMissing(srv) {
  const res = await fetch(`${srv.baseURL}/login`);
  await res.arrayBuffer();
  if (res.status !== 404) return false;
  if (isCI) throw new Error('GET /login answers 404: the browser pages are not served; CI must not skip');
  return 'the browser pages are not served yet (GET /login is 404)';
}

describe('oauth: browser flows with @coze/api and headless Chromium', {
  skip: skipReason() || browserSkipReason(),
  timeout: 180_000,
}, () => {
  const srv = useServer();
  const fx = useFixture(srv);
  const browser = useBrowser();
  const apps = {};
  let redirectURI;
  let missing = false;

  before(async () => {
    missing = await pagesMissing(srv);
    redirectURI = `http://127.0.0.1:${await freePort()}/callback`; // nothing listens: the route answers
    // One app per flow keeps each flow's consent independent (cozeauth keeps one grant per app, account and user;
    // tokens keep the scope granted when they were issued).
    const redirect = ['--redirect-uri', redirectURI];
    apps.web = await createApp(srv, 'web', 'Web backend', redirect);
    apps.webWs = await createApp(srv, 'web', 'Web backend (one workspace)', redirect);
    apps.webRegrant = await createApp(srv, 'web', 'Web backend (consented twice)', redirect);
    apps['pkce-S256'] = await createApp(srv, 'pkce', 'Single page', redirect);
    apps['pkce-plain'] = await createApp(srv, 'pkce', 'Single page (plain)', redirect);
    apps.device = await createApp(srv, 'device', 'Terminal tool');
    apps.deviceWs = await createApp(srv, 'device', 'Terminal tool (one workspace)');
    apps.deviceDeny = await createApp(srv, 'device', 'Terminal tool (refused)');
  });

  // authorizeInBrowser opens url in a fresh context, signs alice in, optionally picks the workspaces, clicks
  // button ('Authorize' or 'Cancel') and resolves to the URL the browser was redirected to.
  async function authorizeInBrowser(url, { button = 'Authorize', shots = false, selected } = {}) {
    const context = await browser.newContext();
    try {
      const caught = catchRedirect(context, redirectURI);
      const page = await context.newPage();
      await page.goto(url);
      assert.equal(new URL(page.url()).pathname, '/login', `not signed in: the authorize URL must lead to /login, at ${page.url()}`);
      if (shots) await screenshot(page, 'login');
      await signIn(page, 'alice', PASSWORD);
      await page.getByRole('button', { name: 'Authorize' }).waitFor();
      assert.equal(new URL(page.url()).pathname, new URL(url).pathname, `after sign-in the browser is back on the consent page, at ${page.url()}`);
      if (selected) {
        await page.getByLabel('Selected workspaces', { exact: true }).check();
        for (const name of selected) await page.getByLabel(name, { exact: true }).check();
      }
      if (shots) await screenshot(page, 'consent');
      await page.getByRole('button', { name: button }).click();
      return await withTimeout(caught, 10_000, `redirect to ${redirectURI}`);
    } finally {
      await context.close();
    }
  }

  function codeFrom(redirected, state) {
    assert.equal(redirected.origin + redirected.pathname, redirectURI, redirected.href);
    assert.equal(redirected.searchParams.get('error'), null, redirected.href);
    assert.equal(redirected.searchParams.get('state'), state, `state must be echoed: ${redirected.href}`);
    const code = redirected.searchParams.get('code');
    assert.ok(code, `no code in ${redirected.href}`);
    return code;
  }

  it('web: authorize in the browser, exchange with the client secret, refresh (secret required)', async (t) => {
    if (missing) return t.skip(missing);
    const state = 'web-state-1';
    const url = getWebAuthenticationUrl({ baseURL: srv.baseURL, clientId: apps.web.client_id, redirectUrl: redirectURI, state });
    assert.ok(url.startsWith(srv.baseURL + AUTHORIZE_PATH + '?'), `same origin for the browser (WIRE.md §1.2): ${url}`);
    const code = codeFrom(await authorizeInBrowser(url, { shots: true }), state);

    const cfg = { baseURL: srv.baseURL, clientId: apps.web.client_id, redirectUrl: redirectURI };
    const tok = await getWebOAuthToken({ ...cfg, code, clientSecret: apps.web.client_secret });
    assertToken(tok, {}, 'web');
    const all = { user: fx.users.alice, workspaces: [fx.ws.alpha, fx.ws.beta], bots: [fx.bots.alpha, fx.bots.beta] };
    await assertWorks(srv, tok.access_token, all, 'web');

    // Refresh of a confidential client requires its secret (cozeauth policy, WIRE.md top).
    const noSecret = await expectReject(refreshOAuthToken({ baseURL: srv.baseURL, clientId: apps.web.client_id, refreshToken: tok.refresh_token }));
    assert.equal(noSecret.rawError?.error, 'invalid_client', `refresh without the secret: ${JSON.stringify(noSecret.rawError)}`);
    assert.equal(noSecret.status, 401, `refresh without the secret: ${JSON.stringify(noSecret.rawError)}`);

    const fresh = await refreshOAuthToken({
      baseURL: srv.baseURL, clientId: apps.web.client_id, refreshToken: tok.refresh_token, clientSecret: apps.web.client_secret,
    });
    assertToken(fresh, {}, 'web refresh');
    assert.notEqual(fresh.access_token, tok.access_token);
    assert.notEqual(fresh.refresh_token, tok.refresh_token, 'refresh tokens rotate');
    await assertWorks(srv, fresh.access_token, all, 'web refreshed');

    // The code is single-use, and its second use revokes what the first issued (refreshed tokens included).
    const reuse = await expectReject(getWebOAuthToken({ ...cfg, code, clientSecret: apps.web.client_secret }));
    assertOAuthError(reuse, 'invalid_grant', 400, 'code reuse');
    await eventually(3000, async () => {
      const err = await expectReject(new CozeAPI({ token: fresh.access_token, baseURL: srv.baseURL }).users.me());
      assert.equal(err.status, 401, `after code reuse the issued tokens must be revoked: ${err.message}`);
    });
  });

  it('web: Cancel on the consent page redirects with error=access_denied', async (t) => {
    if (missing) return t.skip(missing);
    const state = 'web-cancel';
    const url = getWebAuthenticationUrl({ baseURL: srv.baseURL, clientId: apps.web.client_id, redirectUrl: redirectURI, state });
    const redirected = await authorizeInBrowser(url, { button: 'Cancel' });
    assert.equal(redirected.origin + redirected.pathname, redirectURI, redirected.href);
    assert.equal(redirected.searchParams.get('error'), 'access_denied', redirected.href);
    assert.equal(redirected.searchParams.get('state'), state, redirected.href);
    assert.equal(redirected.searchParams.get('code'), null, redirected.href);
  });

  it('web, workspace variant (workspace_id/{id}/authorize): the grant is limited to that workspace', async (t) => {
    if (missing) return t.skip(missing);
    const state = 'web-ws';
    const cfg = { baseURL: srv.baseURL, clientId: apps.webWs.client_id, redirectUrl: redirectURI };
    const url = getWebAuthenticationUrl({ ...cfg, state, workspaceId: fx.ws.alpha });
    assert.ok(url.startsWith(`${srv.baseURL}/api/permission/oauth2/workspace_id/${fx.ws.alpha}/authorize?`), url);
    const code = codeFrom(await authorizeInBrowser(url), state);
    const tok = await getWebOAuthToken({ ...cfg, code, clientSecret: apps.webWs.client_secret });
    assertToken(tok, {}, 'web workspace variant');
    await assertWorks(srv, tok.access_token, {
      user: fx.users.alice, workspaces: [fx.ws.alpha], bots: [fx.bots.alpha], deniedBots: [fx.bots.beta],
    }, 'web workspace variant');
  });

  // cozeauth keeps one grant per (app, account, user) and updates it on every consent; tokens keep the scope they
  // were issued with, so a later, wider consent must not widen a token from the workspace variant (limited to Alpha).
  it('a token keeps the workspaces consented when it was issued, after a later wider consent', async (t) => {
    if (missing) return t.skip(missing);
    const cfg = { baseURL: srv.baseURL, clientId: apps.webRegrant.client_id, redirectUrl: redirectURI };
    const narrowURL = getWebAuthenticationUrl({ ...cfg, state: 'narrow', workspaceId: fx.ws.alpha });
    const narrow = await getWebOAuthToken({ ...cfg, code: codeFrom(await authorizeInBrowser(narrowURL), 'narrow'),
      clientSecret: apps.webRegrant.client_secret });
    const limited = { user: fx.users.alice, workspaces: [fx.ws.alpha], bots: [fx.bots.alpha], deniedBots: [fx.bots.beta] };
    await assertWorks(srv, narrow.access_token, limited, 'before the second consent');
    const wideURL = getWebAuthenticationUrl({ ...cfg, state: 'wide' });
    const wide = await getWebOAuthToken({ ...cfg, code: codeFrom(await authorizeInBrowser(wideURL), 'wide'),
      clientSecret: apps.webRegrant.client_secret });
    await assertWorks(srv, wide.access_token, { user: fx.users.alice, bots: [fx.bots.alpha, fx.bots.beta] }, 'wide');
    await sleep(500); // past the revision poll, in case the grant is cached
    await assertWorks(srv, narrow.access_token, limited, 'the first token after the second consent');
  });

  for (const method of ['S256', 'plain']) {
    it(`PKCE ${method}: authorize, exchange with the verifier, refresh without a secret`, async (t) => {
      if (missing) return t.skip(missing);
      const app = apps[`pkce-${method}`];
      const state = `pkce-${method}`;
      const { url, codeVerifier } = await getPKCEAuthenticationUrl({
        baseURL: srv.baseURL, clientId: app.client_id, redirectUrl: redirectURI, state, code_challenge_method: method,
      });
      assert.ok(url.startsWith(srv.baseURL + AUTHORIZE_PATH + '?'), url);
      // The JS SDK always sends an S256 challenge, labelled with the method given (WIRE.md §5).
      assert.equal(new URL(url).searchParams.get('code_challenge_method'), method, url);
      // plain: pick the workspaces too, so the grant is narrower than the app's declaration.
      const selected = method === 'plain' ? ['Beta'] : undefined;
      const code = codeFrom(await authorizeInBrowser(url, { selected }), state);

      const tok = await getPKCEOAuthToken({
        baseURL: srv.baseURL, clientId: app.client_id, redirectUrl: redirectURI, code, codeVerifier,
      });
      assertToken(tok, {}, `PKCE ${method}`);
      const expect = selected
        ? { user: fx.users.alice, workspaces: [fx.ws.beta], bots: [fx.bots.beta], deniedBots: [fx.bots.alpha] }
        : { user: fx.users.alice, workspaces: [fx.ws.alpha, fx.ws.beta], bots: [fx.bots.alpha, fx.bots.beta] };
      await assertWorks(srv, tok.access_token, expect, `PKCE ${method}`);

      const fresh = await refreshOAuthToken({ baseURL: srv.baseURL, clientId: app.client_id, refreshToken: tok.refresh_token });
      assertToken(fresh, {}, `PKCE ${method} refresh`);
      assert.notEqual(fresh.refresh_token, tok.refresh_token, 'refresh tokens rotate');
      await assertWorks(srv, fresh.access_token, expect, `PKCE ${method} refreshed`);
    });
  }

  it('PKCE: a wrong verifier is invalid_grant', async (t) => {
    if (missing) return t.skip(missing);
    const app = apps['pkce-S256'];
    const { url } = await getPKCEAuthenticationUrl({ baseURL: srv.baseURL, clientId: app.client_id, redirectUrl: redirectURI });
    const code = codeFrom(await authorizeInBrowser(url), null); // state defaults to empty: not echoed
    const err = await expectReject(getPKCEOAuthToken({
      baseURL: srv.baseURL, clientId: app.client_id, redirectUrl: redirectURI, code, codeVerifier: 'f'.repeat(64),
    }));
    assertOAuthError(err, 'invalid_grant', 400, 'PKCE mismatch');
  });

  // The device tests run concurrently: each waits at least one 5 s poll interval of the SDK.
  describe('device code', { concurrency: true }, () => {
    // deviceInBrowser opens verification_uri?user_code=…, signs alice in, checks the prefilled code, clicks
    // Continue, then button on the device consent page; it resolves to the text of the final page.
    async function deviceInBrowser(dc, button, shots) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${dc.verification_uri}?user_code=${encodeURIComponent(dc.user_code)}`);
        await signIn(page, 'alice', PASSWORD);
        const input = page.getByLabel('User code');
        await input.waitFor();
        assert.equal(await input.inputValue(), dc.user_code, 'the user code is prefilled from ?user_code=');
        if (shots) await screenshot(page, 'device');
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('button', { name: button }).waitFor();
        if (shots) await screenshot(page, 'device-consent');
        await page.getByRole('button', { name: button }).click();
        await page.getByRole('heading', { name: /^(Device connected|Request refused)$/ }).waitFor();
        const text = await page.locator('main').innerText();
        if (shots) await screenshot(page, 'device-done');
        return text;
      } finally {
        await context.close();
      }
    }

    async function deviceCode(app, workspaceId) {
      const dc = await getDeviceCode({ baseURL: srv.baseURL, clientId: app.client_id, workspaceId });
      for (const k of ['device_code', 'user_code', 'verification_uri']) assert.equal(typeof dc[k], 'string', JSON.stringify(dc));
      assert.match(dc.user_code, /^[A-Z0-9-]+$/, `URL-safe user code: ${JSON.stringify(dc)}`);
      assert.ok(dc.verification_uri.startsWith(srv.baseURL + '/'), `verification_uri on the same origin: ${JSON.stringify(dc)}`);
      assert.ok(!/[?#]/.test(dc.verification_uri), `verification_uri has no query: ${JSON.stringify(dc)}`);
      assert.ok(Number.isInteger(dc.expires_in) && dc.expires_in > now(), `expires_in absolute: ${JSON.stringify(dc)}`);
      assert.equal(dc.interval, 5, JSON.stringify(dc));
      return dc;
    }

    it('device: the user approves on the verification page while getDeviceToken polls', async (t) => {
      if (missing) return t.skip(missing);
      const app = apps.device;
      const dc = await deviceCode(app);
      const polling = getDeviceToken({ baseURL: srv.baseURL, clientId: app.client_id, deviceCode: dc.device_code, poll: true });
      polling.catch(() => {}); // awaited below; avoid an unhandled rejection while the browser runs
      const text = await deviceInBrowser(dc, 'Authorize', true);
      assert.match(text, /Device connected/, text);
      const tok = await withTimeout(polling, 20_000, 'getDeviceToken poll');
      assertToken(tok, {}, 'device');
      const all = { user: fx.users.alice, workspaces: [fx.ws.alpha, fx.ws.beta], bots: [fx.bots.alpha] };
      await assertWorks(srv, tok.access_token, all, 'device');
      const fresh = await refreshOAuthToken({ baseURL: srv.baseURL, clientId: app.client_id, refreshToken: tok.refresh_token });
      assertToken(fresh, {}, 'device refresh');
      await assertWorks(srv, fresh.access_token, all, 'device refreshed');
    });

    it('device, workspace variant (workspace_id/{id}/device/code): the token is limited to that workspace', async (t) => {
      if (missing) return t.skip(missing);
      const app = apps.deviceWs;
      const dc = await deviceCode(app, fx.ws.beta);
      const polling = getDeviceToken({ baseURL: srv.baseURL, clientId: app.client_id, deviceCode: dc.device_code, poll: true });
      polling.catch(() => {});
      const text = await deviceInBrowser(dc, 'Authorize', false);
      assert.match(text, /Device connected/, text);
      const tok = await withTimeout(polling, 20_000, 'getDeviceToken poll');
      assertToken(tok, {}, 'device workspace variant');
      await assertWorks(srv, tok.access_token, {
        user: fx.users.alice, workspaces: [fx.ws.beta], bots: [fx.bots.beta], deniedBots: [fx.bots.alpha],
      }, 'device workspace variant');
    });

    it('device: the user refuses, and the poll rejects with access_denied', async (t) => {
      if (missing) return t.skip(missing);
      const app = apps.deviceDeny;
      const dc = await deviceCode(app);
      const polling = getDeviceToken({ baseURL: srv.baseURL, clientId: app.client_id, deviceCode: dc.device_code, poll: true });
      polling.catch(() => {});
      const text = await deviceInBrowser(dc, 'Cancel', false);
      assert.match(text, /Request refused/, text);
      const err = await expectReject(withTimeout(polling, 20_000, 'getDeviceToken poll'));
      assertOAuthError(err, 'access_denied', 400, 'denied device');
    });
  });
});
