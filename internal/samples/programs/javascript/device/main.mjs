// Coze OAuth sample: a device or command-line app (device authorization grant, RFC 8628). Run: node main.mjs
//
// Start -> POST {coze_api_base}/api/permission/oauth2/device/code gives a device code, a user code and a verification
// URI. The page shows the link and the code; you open it (on any device), sign in, enter the code and approve.
// Meanwhile this program polls the token endpoint with the device code every `interval` seconds
// (authorization_pending: keep waiting; slow_down: wait 5 s longer; expired_token / access_denied: stop), then calls
// GET /v1/users/me.
import { setTimeout as sleep } from 'node:timers/promises';

import * as cs from './coze_sample.mjs';

const cfg = cs.loadConfig('device');

// The device flow in progress: one at a time; pressing Start again abandons the previous one.
const flow = {
  generation: 0,
  device: null, // the device code response
  state: 'idle', // idle | pending | done | failed
  message: ['device.waiting'], // text key and its argument
  error: null, // the SampleError when failed
  result: null, // { token, user } when done (and after refreshes)
};

function update(generation, state, message, error = null) {
  if (generation !== flow.generation) return false; // replaced by a newer Start
  Object.assign(flow, { state, message, error });
  return true;
}

// poll asks the token endpoint until the user approves or refuses, or the code expires (RFC 8628 section 3.5).
async function poll(generation, device) {
  let interval = Number.isInteger(device.interval) && device.interval > 0 ? device.interval : 5;
  // expires_in is an absolute Unix time on cozeauth; a small number would be a lifetime in seconds.
  let expiresAt = device.expires_in;
  if (!Number.isInteger(expiresAt) || expiresAt < 1e9) {
    expiresAt = Date.now() / 1000 + (Number.isInteger(expiresAt) && expiresAt > 0 ? expiresAt : 600);
  }
  while (generation === flow.generation) {
    try {
      const token = await cs.requestToken(cfg, {
        client_id: cfg.client_id,
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
      });
      const user = await cs.usersMe(cfg, token.access_token);
      if (generation === flow.generation) flow.result = { token, user };
      update(generation, 'done', ['device.done']);
      return;
    } catch (e) {
      if (!(e instanceof cs.SampleError)) e = new cs.SampleError(String(e && e.message));
      if (e.code === 'authorization_pending') {
        if (!update(generation, 'pending', ['device.waiting'])) return;
      } else if (e.code === 'slow_down') {
        interval += 5;
        if (!update(generation, 'pending', ['device.slow_down', interval])) return;
      } else if (e.code === 'expired_token') {
        update(generation, 'failed', ['device.expired'], e);
        return;
      } else if (e.code === 'access_denied') {
        update(generation, 'failed', ['device.denied'], e);
        return;
      } else {
        update(generation, 'failed', ['device.failed', e.message], e);
        return;
      }
    }
    if (Date.now() / 1000 > expiresAt + 60) { // the server should have said expired_token by now
      update(generation, 'failed', ['device.expired'], new cs.SampleError('expired_token'));
      return;
    }
    await sleep(interval * 1000);
  }
}

const messageText = (lang, [key, arg]) => cs.t(lang, key, arg);

async function start() {
  const { body: device } = await cs.callAPI('POST', `${cfg.coze_api_base}/api/permission/oauth2/device/code`, { client_id: cfg.client_id });
  for (const key of ['device_code', 'user_code', 'verification_uri']) {
    if (typeof device[key] !== 'string' || !device[key]) throw new cs.SampleError(`the device code response has no ${key}`);
  }
  flow.generation += 1;
  Object.assign(flow, { device, state: 'pending', message: ['device.waiting'], error: null });
  poll(flow.generation, device); // runs in the background; it never rejects
  return cs.redirect('/device');
}

const DEVICE_JS = `
(function () {
  var status = document.getElementById('status');
  function tick() {
    fetch('/status', {cache: 'no-store'}).then(function (r) { return r.json(); }).then(function (s) {
      status.textContent = s.message;
      if (s.state === 'done' || s.state === 'failed') { location.href = '/result'; return; }
      setTimeout(tick, 1000);
    }, function () { status.textContent = status.getAttribute('data-lost'); setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
`;

function devicePage(req) {
  if (!flow.device) return cs.redirect('/');
  if (flow.state === 'done' || flow.state === 'failed') return cs.redirect('/result');
  const { lang } = req;
  const link = `${flow.device.verification_uri}?${new URLSearchParams({ user_code: flow.device.user_code })}`;
  const body = `<h1>${cs.esc(cs.t(lang, 'title'))}</h1><p>${cs.esc(cs.t(lang, 'device.open'))}</p>` +
    `<p><a id="verification-uri" href="${cs.esc(link)}" target="_blank" rel="noopener">${cs.esc(link)}</a></p>` +
    `<p>${cs.esc(cs.t(lang, 'device.code') + cs.t(lang, 'colon'))}</p><p class="usercode" id="user-code">${cs.esc(flow.device.user_code)}</p>` +
    `<p class="status" id="status" role="status" data-lost="${cs.esc(cs.t(lang, 'device.lost'))}">${cs.esc(messageText(lang, flow.message))}</p>`;
  return cs.html(cs.page(lang, body, DEVICE_JS));
}

async function refresh() {
  if (!flow.result) return cs.redirect('/');
  const token = await cs.requestToken(cfg, {
    client_id: cfg.client_id,
    grant_type: 'refresh_token',
    refresh_token: flow.result.token.refresh_token || '',
  });
  flow.result = { token, user: await cs.usersMe(cfg, token.access_token) };
  return cs.redirect('/result');
}

function result(req) {
  if (flow.state === 'failed') return cs.failure(req, flow.error, messageText(req.lang, flow.message));
  if (flow.state !== 'done' || !flow.result) return cs.redirect(flow.state === 'pending' ? '/device' : '/');
  return cs.html(cs.successPage(req.lang, flow.result.token, flow.result.user));
}

cs.serve({
  'GET /': async (req) => cs.html(cs.startPage(req.lang, cfg, cs.t(req.lang, 'start'))),
  'POST /start': start,
  'GET /device': async (req) => devicePage(req),
  'GET /status': async (req) => cs.json({ state: flow.state, message: messageText(req.lang, flow.message) }),
  'POST /refresh': refresh,
  'GET /result': async (req) => result(req),
});
