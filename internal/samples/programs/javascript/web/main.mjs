// Coze OAuth sample: a web application (authorization code + client secret). Run: node main.mjs
//
// Start -> the browser goes to {coze_www_base}/api/permission/oauth2/authorize; after sign-in and consent the server
// redirects to http://127.0.0.1:PORT/callback?code=...&state=...; this program exchanges the code for tokens with its
// client secret (Authorization: Bearer <client_secret>), calls GET /v1/users/me, and can refresh the token.
import * as cs from './coze_sample.mjs';

const cfg = cs.loadConfig('web');
const store = new cs.Store();

async function start() {
  const state = cs.randomString();
  store.addState(state);
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.client_id,
    redirect_uri: cs.redirectURI(),
    state,
  });
  return cs.redirect(`${cfg.coze_www_base}/api/permission/oauth2/authorize?${query}`);
}

async function callback(req) {
  if (!store.takeState(req.arg('state')).found) throw new cs.SampleError(cs.t(req.lang, 'err.state'));
  if (req.arg('error')) {
    // Denied consent (or another refusal): the server says why in error_description.
    throw new cs.SampleError(req.arg('error_description') || req.arg('error_message') || req.arg('error'), req.arg('error'), req.arg('logid'));
  }
  const code = req.arg('code');
  if (!code) throw new cs.SampleError(cs.t(req.lang, 'err.no_code'));
  const token = await cs.requestToken(cfg, {
    client_id: cfg.client_id,
    grant_type: 'authorization_code',
    code,
    redirect_uri: cs.redirectURI(),
  }, cfg.client_secret);
  store.result = { token, user: await cs.usersMe(cfg, token.access_token) };
  return cs.redirect('/result'); // a reload of /result cannot replay the one-time code
}

async function refresh() {
  if (!store.result) return cs.redirect('/');
  const token = await cs.requestToken(cfg, {
    client_id: cfg.client_id,
    grant_type: 'refresh_token',
    refresh_token: store.result.token.refresh_token || '',
  }, cfg.client_secret);
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
