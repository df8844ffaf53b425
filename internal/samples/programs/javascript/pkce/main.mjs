// Coze OAuth sample: a single-page or native app (authorization code + PKCE, no secret). Run: node main.mjs
//
// Start -> a fresh random code_verifier is kept in memory and its S256 challenge goes with the authorization request
// to {coze_www_base}/api/permission/oauth2/authorize; after sign-in and consent the server redirects to
// http://127.0.0.1:PORT/callback, and this program exchanges the code together with the code_verifier (RFC 7636),
// calls GET /v1/users/me, and can refresh the token. A PKCE app has no client secret.
import { createHash } from 'node:crypto';

import * as cs from './coze_sample.mjs';

const cfg = cs.loadConfig('pkce');
const store = new cs.Store();

// s256 is BASE64URL(SHA256(ASCII(code_verifier))) without padding (RFC 7636 section 4.2).
const s256 = (verifier) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

async function start() {
  const state = cs.randomString();
  const verifier = cs.randomString(48); // 64 characters of [A-Za-z0-9_-]
  store.addState(state, verifier);
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.client_id,
    redirect_uri: cs.redirectURI(),
    state,
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  });
  return cs.redirect(`${cfg.coze_www_base}/api/permission/oauth2/authorize?${query}`);
}

async function callback(req) {
  const { found, extra: verifier } = store.takeState(req.arg('state'));
  if (!found) throw new cs.SampleError(cs.t(req.lang, 'err.state'));
  if (req.arg('error')) {
    throw new cs.SampleError(req.arg('error_description') || req.arg('error_message') || req.arg('error'), req.arg('error'), req.arg('logid'));
  }
  const code = req.arg('code');
  if (!code) throw new cs.SampleError(cs.t(req.lang, 'err.no_code'));
  const token = await cs.requestToken(cfg, {
    client_id: cfg.client_id,
    grant_type: 'authorization_code',
    code,
    redirect_uri: cs.redirectURI(),
    code_verifier: verifier,
  });
  store.result = { token, user: await cs.usersMe(cfg, token.access_token) };
  return cs.redirect('/result'); // a reload of /result cannot replay the one-time code
}

async function refresh() {
  if (!store.result) return cs.redirect('/');
  const token = await cs.requestToken(cfg, {
    client_id: cfg.client_id,
    grant_type: 'refresh_token',
    refresh_token: store.result.token.refresh_token || '',
  });
  store.result = { token, user: await cs.usersMe(cfg, token.access_token) };
  return cs.redirect('/result');
}

cs.serve({
  'GET /': async (req) => cs.html(cs.startPage(req.lang, cfg, cs.t(req.lang, 'start'),
    [[cs.t(req.lang, 'redirect_uri'), `<code>${cs.esc(cs.redirectURI())}</code>`]])),
  'POST /start': start,
  'GET /callback': callback,
  'POST /refresh': refresh,
  'GET /result': async (req) => (store.result
    ? cs.html(cs.successPage(req.lang, store.result.token, store.result.user)) : cs.redirect('/')),
});
