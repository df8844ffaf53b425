// CORS end-to-end: a single-page app served from the origin of a registered PKCE app's redirect URI runs the
// PKCE flow and calls the OpenAPI with fetch in headless Chromium, straight against `cozeauth serve`; a page
// from a --cors-origin may call too; pages from any other origin are blocked by the browser, and the console
// is never readable cross-origin.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, describe, it, before } from 'node:test';

import { getPKCEAuthenticationUrl } from '@coze/api';

import { browserSkipReason, signIn, useBrowser, withTimeout } from './lib/browser.mjs';
import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD } from './lib/util.mjs';

// appServer serves a blank app page on a loopback port, as a developer's dev server would (a real server, not
// an intercepted route: Chromium treats pages without an address as public and keeps them off loopback).
async function appServer() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>app</title>app');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

const apps = { spa: await appServer(), listed: await appServer(), other: await appServer() };
const spaOrigin = apps.spa.origin;
const listedOrigin = apps.listed.origin;
const otherOrigin = apps.other.origin;
const redirectURI = `${spaOrigin}/callback`;

// call runs fetch inside the page and returns { ok, status, body, logid } or { blocked: message }.
function call(page, url, init) {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {}
        return { status: res.status, body, logid: res.headers.get('x-tt-logid') };
      } catch (err) {
        return { blocked: String(err) };
      }
    },
    { url, init },
  );
}

const skip = skipReason() || browserSkipReason();

describe('CORS for browser PKCE apps', { skip }, () => {
  const srv = useServer({ args: ['--cors-origin', listedOrigin] });
  const browser = useBrowser();
  const fx = {};

  after(() => Object.values(apps).forEach((a) => a.server.close()));

  before(async () => {
    const alice = await srv.admin(['user', 'create', '--username', 'alice', '--password-stdin'], { input: `${PASSWORD}\n` });
    fx.alice = alice;
    await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice']);
    fx.app = await srv.admin([
      'app', 'create', '--owner', 'alice', '--type', 'pkce', '--name', 'SPA', '--redirect-uri', redirectURI,
      '--permission', 'Workspace.list',
    ]);
    fx.pat = (await srv.admin([
      'pat', 'create', '--user', 'alice', '--name', 'browser', '--days', '30', '--permission', 'Workspace.list', '--workspaces', 'all',
    ])).token;
  });

  it('a page on the PKCE redirect origin exchanges the code and calls the OpenAPI with fetch', async () => {
    const context = await browser.newContext();
    try {
      const { url, codeVerifier } = await getPKCEAuthenticationUrl({
        baseURL: srv.baseURL, clientId: fx.app.client_id, redirectUrl: redirectURI, state: 'spa',
      });
      const page = await context.newPage();
      await page.goto(url);
      await signIn(page, 'alice', PASSWORD);
      await page.getByRole('button', { name: 'Authorize' }).click();
      await withTimeout(page.waitForURL((u) => u.origin === spaOrigin), 10_000, 'redirect to the app');
      const code = new URL(page.url()).searchParams.get('code');
      assert.ok(code, page.url());

      // What coze-js sends from a browser: JSON, an empty bearer, its client user agent header.
      const tok = await call(page, `${srv.baseURL}/api/permission/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ', 'X-Coze-Client-User-Agent': '{"lang":"js"}' },
        body: JSON.stringify({
          client_id: fx.app.client_id, grant_type: 'authorization_code', code, redirect_uri: redirectURI, code_verifier: codeVerifier,
        }),
      });
      assert.equal(tok.blocked, undefined, `token call blocked: ${tok.blocked}`);
      assert.equal(tok.status, 200, JSON.stringify(tok));
      assert.ok(tok.body.access_token?.startsWith('czu_'), JSON.stringify(tok.body));

      const me = await call(page, `${srv.baseURL}/v1/users/me`, {
        headers: { authorization: `Bearer ${tok.body.access_token}`, 'X-Coze-Client-User-Agent': '{"lang":"js"}' },
      });
      assert.equal(me.blocked, undefined, `users/me blocked: ${me.blocked}`);
      assert.equal(me.status, 200, JSON.stringify(me));
      assert.equal(me.body.data.user_id, fx.alice.user_id);
      assert.ok(me.logid, 'X-Tt-Logid must be readable (exposed)');

      // Errors are readable too, with their code.
      const bad = await call(page, `${srv.baseURL}/v1/users/me`, { headers: { authorization: 'Bearer czu_nope' } });
      assert.equal(bad.status, 401, JSON.stringify(bad));
      assert.equal(bad.body.code, 4100);

      // Sign out: revoke the refresh token from the page; the access token of its family stops.
      const rev = await call(page, `${srv.baseURL}/api/permission/oauth2/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: fx.app.client_id, token: tok.body.refresh_token }),
      });
      assert.equal(rev.status, 200, JSON.stringify(rev));
      const after = await call(page, `${srv.baseURL}/v1/users/me`, { headers: { authorization: `Bearer ${tok.body.access_token}` } });
      assert.equal(after.status, 401, JSON.stringify(after));

      // The console is not readable from the app's origin.
      const consolePage = await call(page, `${srv.baseURL}/console`, {});
      assert.ok(consolePage.blocked, `the console answered a cross-origin read: ${JSON.stringify(consolePage).slice(0, 200)}`);
    } finally {
      await context.close();
    }
  });

  it('a page on a --cors-origin calls the OpenAPI', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${listedOrigin}/`);
      const res = await call(page, `${srv.baseURL}/v1/workspaces`, { headers: { authorization: `Bearer ${fx.pat}` } });
      assert.equal(res.blocked, undefined, `blocked: ${res.blocked}`);
      assert.equal(res.status, 200, JSON.stringify(res));
      assert.equal(res.body.data.workspaces.length, 1);
    } finally {
      await context.close();
    }
  });

  it('a page on an unregistered origin is blocked', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${otherOrigin}/`);
      const me = await call(page, `${srv.baseURL}/v1/users/me`, { headers: { authorization: `Bearer ${fx.pat}` } });
      assert.ok(me.blocked, `users/me from ${otherOrigin} was not blocked: ${JSON.stringify(me)}`);
      const tok = await call(page, `${srv.baseURL}/api/permission/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: fx.app.client_id, grant_type: 'refresh_token', refresh_token: 'czr_x' }),
      });
      assert.ok(tok.blocked, `token from ${otherOrigin} was not blocked: ${JSON.stringify(tok)}`);
    } finally {
      await context.close();
    }
  });
});
