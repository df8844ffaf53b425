// Shared plumbing of the Coze OAuth sample programs (Node 18+, standard library only).
//
// main.mjs holds the OAuth steps of one client type; this file holds what every type needs: reading
// coze_oauth_config.json, calling the API host with JSON (global fetch), the English/Chinese pages, and a small
// local web server (node:http). It is a sample for trying an OAuth app out on your own machine, not a library.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Node 18 marks the global fetch as experimental and says so on stderr; that notice would only confuse a sample's
// user. Every other warning is still printed.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'ExperimentalWarning' && /fetch/i.test(w.message)) return;
  process.stderr.write(`${w.name}: ${w.message}\n`);
});

const HERE = dirname(fileURLToPath(import.meta.url));
const CONFIG_FILE = 'coze_oauth_config.json';
const HTTP_TIMEOUT_MS = 20_000; // per request to the API host

// fail prints one line on stderr and exits 1: for mistakes found at start-up.
export function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration

// loadConfig reads coze_oauth_config.json next to this file and checks the keys the client type needs.
export function loadConfig(clientType) {
  const path = join(HERE, CONFIG_FILE);
  let cfg;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e.code === 'ENOENT') fail(`${CONFIG_FILE} not found: put the file downloaded with the sample next to main.mjs (${path})`);
    fail(`${CONFIG_FILE} cannot be read: ${e.message}`);
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) fail(`${CONFIG_FILE} must hold a JSON object`);
  if (!('client_type' in cfg)) fail(`${CONFIG_FILE}: "client_type" is missing (this program is the "${clientType}" sample)`);
  if (cfg.client_type !== clientType) {
    fail(`${CONFIG_FILE}: client_type is ${JSON.stringify(cfg.client_type)}, but this program is the "${clientType}" sample; download the sample for this app again`);
  }
  const need = ['client_id', 'coze_api_base'];
  if (clientType === 'web') need.push('client_secret');
  if (clientType === 'jwt') need.push('private_key', 'public_key_id');
  for (const key of need) {
    if (typeof cfg[key] !== 'string' || !cfg[key].trim()) fail(`${CONFIG_FILE}: "${key}" is missing or empty`);
  }
  if (cfg.coze_www_base !== undefined && cfg.coze_www_base !== null && typeof cfg.coze_www_base !== 'string') {
    fail(`${CONFIG_FILE}: "coze_www_base" must be a string`);
  }
  for (const key of ['coze_api_base', 'coze_www_base']) {
    if (!cfg[key]) continue;
    let url = null;
    try {
      url = new URL(cfg[key]);
    } catch {
      // reported below
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || !url.host) {
      fail(`${CONFIG_FILE}: "${key}" must be an http(s) URL, got ${JSON.stringify(cfg[key])}`);
    }
  }
  cfg.coze_api_base = cfg.coze_api_base.replace(/\/+$/, '');
  cfg.coze_www_base = (cfg.coze_www_base || cfg.coze_api_base).replace(/\/+$/, '');
  return cfg;
}

// port is the local port: env PORT, default 8080.
export function port() {
  const raw = (process.env.PORT || '').trim() || '8080';
  const value = /^\d+$/.test(raw) ? Number(raw) : 0;
  if (!(value >= 1 && value <= 65535)) fail(`PORT must be a number from 1 to 65535, got ${JSON.stringify(raw)}`);
  return value;
}

export const localURL = () => `http://127.0.0.1:${port()}`;

// redirectURI is the redirect URI registered for the app (the download registers http://127.0.0.1:8080/callback).
export const redirectURI = () => `${localURL()}/callback`;

export const randomString = (nbytes = 32) => randomBytes(nbytes).toString('base64url');

// ---------------------------------------------------------------------------------------------------------------
// Calling the API host

// SampleError is a failed call: the server's error_message (or the transport error), its code and the X-Tt-Logid.
export class SampleError extends Error {
  constructor(message, code = '', logid = '') {
    super(message);
    this.code = code;
    this.logid = logid;
  }
}

// callAPI sends a JSON request and resolves to { body, logid }. bearer === undefined sends no Authorization header.
// OAuth errors come as {"error", "error_code", "error_message"} with a 4xx status; other Coze APIs answer
// {"code": non-zero, "msg"}. Both reject with a SampleError carrying the server's message and log ID.
export async function callAPI(method, url, body, bearer) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
  let res;
  let text;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (e) {
    const cause = e.cause ? ` (${e.cause.code || e.cause.message})` : '';
    throw new SampleError(`cannot reach ${url}: ${e.message}${cause}`);
  }
  let logid = res.headers.get('x-tt-logid') || '';
  let payload = null;
  try {
    payload = JSON.parse(text);
  } catch {
    // reported below
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new SampleError(`${url} answered HTTP ${res.status} without a JSON object`, '', logid);
  }
  let code = payload.error_code || payload.error || '';
  const envelopeCode = payload.code;
  const envelopeFailed = envelopeCode !== undefined && envelopeCode !== null && envelopeCode !== 0;
  if (res.status >= 400 || code || envelopeFailed) {
    const message = payload.error_message || payload.error_description || payload.msg || code || `HTTP ${res.status}`;
    if (!code && envelopeFailed) code = String(envelopeCode);
    if (!logid && payload.detail && typeof payload.detail === 'object') logid = payload.detail.logid || '';
    throw new SampleError(String(message), String(code), logid);
  }
  return { body: payload, logid };
}

export const tokenURL = (cfg) => `${cfg.coze_api_base}/api/permission/oauth2/token`;

// requestToken POSTs to the token endpoint and checks the answer has an access token and an expiry.
export async function requestToken(cfg, body, bearer) {
  const { body: token, logid } = await callAPI('POST', tokenURL(cfg), body, bearer);
  if (typeof token.access_token !== 'string' || !Number.isInteger(token.expires_in)) {
    throw new SampleError('the token endpoint answered without access_token/expires_in', '', logid);
  }
  return token;
}

// usersMe calls GET /v1/users/me with the new access token: {user_id, user_name, nick_name, ...}.
export async function usersMe(cfg, accessToken) {
  const { body } = await callAPI('GET', `${cfg.coze_api_base}/v1/users/me`, undefined, accessToken);
  return body.data && typeof body.data === 'object' ? body.data : {};
}

// ---------------------------------------------------------------------------------------------------------------
// Texts (English and Simplified Chinese) and pages

const TEXTS = {
  en: {
    'title': 'Coze OAuth sample',
    'type.web': 'Web application (client secret)',
    'type.pkce': 'Single-page or native app (PKCE)',
    'type.device': 'Device or command line (device code)',
    'type.jwt': 'Service application (JWT)',
    'intro.web': 'Sign in on the authorization server, approve the app, and this program exchanges the code with its client secret.',
    'intro.pkce': 'Sign in on the authorization server, approve the app, and this program exchanges the code with its PKCE code verifier (no secret).',
    'intro.device': 'This program asks for a device code; you open the link, enter the code and approve, while it polls for the token.',
    'intro.jwt': "This program signs a JWT with the app's private key and exchanges it for an access token. No user signs in.",
    'client_type': 'Client type',
    'client_id': 'Client ID',
    'api_base': 'API base',
    'redirect_uri': 'Redirect URI',
    'start': 'Start authorization',
    'get_token': 'Get token',
    'success': 'Authorization Successful',
    'issued': 'Token issued',
    'failed': 'Authorization failed',
    'user_name': 'User name',
    'user_id': 'User ID',
    'access_token': 'Access token',
    'expires_at': 'Expires at',
    'refresh_token': 'Refresh token',
    'refresh': 'Refresh token',
    'new_token': 'New token',
    'copy': 'Copy',
    'copied': 'Copied',
    'logid': 'Log ID',
    'error_code': 'Error code',
    'colon': ': ',
    'again': 'Start again',
    'trial': "The token is for trying the app out only. Keep it secret; it lives only in this program's memory.",
    'device.open': 'Open this link, sign in and enter the code:',
    'device.code': 'User code',
    'device.waiting': 'Waiting for you to approve on the verification page…',
    'device.slow_down': 'The server asked to poll more slowly: now every %s s.',
    'device.expired': 'The device code expired before it was approved. Start again.',
    'device.denied': 'The request was refused on the verification page.',
    'device.done': 'Approved. Loading the result…',
    'device.failed': 'Polling stopped: %s',
    'device.lost': 'This program lost contact with the page; reload it.',
    'err.state': 'The state parameter does not match the request this program started (start again).',
    'err.no_code': 'The callback carries neither a code nor an error.',
  },
  zh: {
    'title': '扣子 OAuth 示例',
    'type.web': 'Web 后端应用（客户端密钥）',
    'type.pkce': '单页或移动应用（PKCE）',
    'type.device': '设备或命令行（设备码）',
    'type.jwt': '服务类应用（JWT）',
    'intro.web': '在授权服务器登录并同意授权后，本程序用客户端密钥换取令牌。',
    'intro.pkce': '在授权服务器登录并同意授权后，本程序用 PKCE code verifier 换取令牌（无需密钥）。',
    'intro.device': '本程序申请设备码；请打开链接、输入用户码并同意授权，程序会轮询获取令牌。',
    'intro.jwt': '本程序用应用私钥签名 JWT 并换取访问令牌，无需用户登录。',
    'client_type': '客户端类型',
    'client_id': '客户端 ID',
    'api_base': 'API 地址',
    'redirect_uri': '重定向 URL',
    'start': '开始授权',
    'get_token': '获取令牌',
    'success': '授权成功',
    'issued': '令牌已签发',
    'failed': '授权失败',
    'user_name': '用户昵称',
    'user_id': '用户 ID',
    'access_token': '访问令牌',
    'expires_at': '过期时间',
    'refresh_token': '刷新令牌',
    'refresh': '刷新令牌',
    'new_token': '获取新令牌',
    'copy': '复制',
    'copied': '已复制',
    'logid': '日志 ID',
    'error_code': '错误码',
    'colon': '：',
    'again': '重新开始',
    'trial': '该令牌仅供体验使用，请勿泄露；它只保存在本程序的内存中。',
    'device.open': '打开以下链接，登录并输入用户码：',
    'device.code': '用户码',
    'device.waiting': '等待你在验证页面上同意授权…',
    'device.slow_down': '服务器要求降低轮询频率：现在每 %s 秒一次。',
    'device.expired': '设备码在授权前已过期，请重新开始。',
    'device.denied': '授权请求在验证页面上被拒绝。',
    'device.done': '已同意授权，正在加载结果…',
    'device.failed': '已停止轮询：%s',
    'device.lost': '本程序与页面失去联系，请刷新页面。',
    'err.state': 'state 参数与本程序发起的请求不一致（请重新开始）。',
    'err.no_code': '回调中既没有 code 也没有 error。',
  },
};

// pickLang is zh when the highest-weighted language of Accept-Language is Chinese, else en.
export function pickLang(acceptLanguage) {
  let best = 'en';
  let bestQ = -1;
  for (const part of String(acceptLanguage || '').split(',')) {
    const bits = part.trim().split(';');
    const tag = bits[0].trim().toLowerCase();
    if (!tag) continue;
    let q = 1;
    for (const bit of bits.slice(1)) {
      const b = bit.trim();
      if (b.startsWith('q=')) {
        q = Number(b.slice(2));
        if (Number.isNaN(q)) q = 0;
      }
    }
    if (q > bestQ) {
      bestQ = q;
      best = tag === 'zh' || tag.startsWith('zh-') ? 'zh' : 'en';
    }
  }
  return best;
}

// t looks a text up; arg replaces %s.
export function t(lang, key, arg) {
  const text = (TEXTS[lang] || TEXTS.en)[key] || TEXTS.en[key];
  return arg === undefined ? text : text.replace('%s', String(arg));
}

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// formatExpiry shows expires_in (an absolute Unix time in seconds) as local time with its UTC offset.
export function formatExpiry(expiresIn) {
  const d = new Date(Number(expiresIn) * 1000);
  if (Number.isNaN(d.getTime())) return String(expiresIn);
  const p2 = (n) => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}` +
    ` (UTC${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)})`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif;
 background:#f4f5f7;color:#1f2329}
main{max-width:760px;margin:40px auto;padding:28px 32px;background:#fff;border-radius:10px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:24px;margin:0 0 16px}
h1.ok{color:#127a3f}
h1.bad{color:#b42318}
.sub{color:#646a73;margin:0 0 20px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;margin:0 0 20px}
dt{color:#646a73}
dd{margin:0;min-width:0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.token{display:flex;gap:8px;align-items:flex-start}
.token code{flex:1;background:#f4f5f7;padding:4px 8px;border-radius:4px}
button,.button{display:inline-block;border:0;border-radius:6px;padding:9px 18px;font-family:inherit;font-size:15px;
 line-height:1.4;vertical-align:middle;cursor:pointer;background:#4d53e8;color:#fff;text-decoration:none}
button.small{padding:3px 10px;font-size:13px;background:#e4e6eb;color:#1f2329}
.button.plain{background:#e4e6eb;color:#1f2329}
form{display:inline;margin:0 8px 0 0}
.usercode{font-size:28px;letter-spacing:3px;font-weight:600}
.status{padding:10px 12px;background:#f4f5f7;border-radius:6px}
.error{padding:10px 12px;background:#fef3f2;border:1px solid #fecdca;border-radius:6px;color:#b42318}
.note{color:#646a73;font-size:13px;margin-top:24px}
`;

const COPY_JS = `
document.querySelectorAll('button[data-copy]').forEach(function (b) {
  b.addEventListener('click', function () {
    var text = document.getElementById(b.getAttribute('data-copy')).textContent;
    var done = function () { var old = b.textContent; b.textContent = b.getAttribute('data-done');
      setTimeout(function () { b.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var area = document.createElement('textarea'); area.value = text; document.body.appendChild(area);
      area.select(); try { document.execCommand('copy'); done(); } catch (e) {} document.body.removeChild(area);
    }
  });
});
`;

// page is a whole self-contained HTML page (inline CSS, optional inline script).
export function page(lang, body, script = '') {
  return `<!doctype html>\n<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${esc(t(lang, 'title'))}</title><style>${CSS}</style></head><body><main>${body}` +
    `<p class="note">${esc(t(lang, 'trial'))}</p></main>${script ? `<script>${script}</script>` : ''}</body></html>\n`;
}

export function buttonForm(action, id, label) {
  return `<form method="post" action="${esc(action)}"><button type="submit" id="${esc(id)}">${esc(label)}</button></form>`;
}

export function definitionList(rows) {
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

export function startPage(lang, cfg, buttonLabel, extraRows = []) {
  const type = cfg.client_type;
  const rows = [
    [t(lang, 'client_type'), `<code id="client-type">${esc(type)}</code> &middot; ${esc(t(lang, `type.${type}`))}`],
    [t(lang, 'client_id'), `<code id="client-id">${esc(cfg.client_id)}</code>`],
    [t(lang, 'api_base'), `<code>${esc(cfg.coze_api_base)}</code>`],
    ...extraRows,
  ];
  return page(lang, `<h1>${esc(t(lang, 'title'))}</h1><p class="sub">${esc(t(lang, `intro.${type}`))}</p>` +
    definitionList(rows) + buttonForm('/start', 'start', buttonLabel));
}

function tokenCell(lang, id, value) {
  return `<div class="token"><code id="${id}">${esc(value)}</code><button type="button" class="small" data-copy="${id}" ` +
    `data-done="${esc(t(lang, 'copied'))}">${esc(t(lang, 'copy'))}</button></div>`;
}

// successPage is the page after a user authorized (web, pkce, device): user info on top, then the tokens.
export function successPage(lang, token, user) {
  const rows = [
    [t(lang, 'user_name'), `<span id="user-name">${esc(user.nick_name || user.user_name || '')}</span>`],
    [t(lang, 'user_id'), `<code id="user-id">${esc(user.user_id || '')}</code>`],
    [t(lang, 'access_token'), tokenCell(lang, 'access-token', token.access_token)],
    [t(lang, 'expires_at'), `<span id="expires-at">${esc(formatExpiry(token.expires_in))}</span>`],
    [t(lang, 'refresh_token'), tokenCell(lang, 'refresh-token', token.refresh_token || '')],
  ];
  return page(lang, `<h1 class="ok">${esc(t(lang, 'success'))}</h1>${definitionList(rows)}` +
    buttonForm('/refresh', 'refresh', t(lang, 'refresh')) +
    `<a class="button plain" href="/">${esc(t(lang, 'again'))}</a>`, COPY_JS);
}

export function jwtTokenPage(lang, token) {
  const rows = [
    [t(lang, 'access_token'), tokenCell(lang, 'access-token', token.access_token)],
    [t(lang, 'expires_at'), `<span id="expires-at">${esc(formatExpiry(token.expires_in))}</span>`],
  ];
  return page(lang, `<h1 class="ok">${esc(t(lang, 'issued'))}</h1>${definitionList(rows)}` +
    buttonForm('/start', 'new-token', t(lang, 'new_token')), COPY_JS);
}

// errorPage shows the server's error_message (or the transport error) and the log ID when there is one.
export function errorPage(lang, message, logid = '', statusLine = '', code = '') {
  let body = `<h1 class="bad">${esc(t(lang, 'failed'))}</h1>`;
  if (statusLine) body += `<p class="status" id="status">${esc(statusLine)}</p>`;
  body += `<p class="error" id="error-message">${esc(message)}</p>`;
  if (code) body += `<p>${esc(t(lang, 'error_code') + t(lang, 'colon'))}<code id="error-code">${esc(code)}</code></p>`;
  if (logid) body += `<p>${esc(t(lang, 'logid') + t(lang, 'colon'))}<code id="logid">${esc(logid)}</code></p>`;
  body += `<p><a class="button" href="/">${esc(t(lang, 'again'))}</a></p>`;
  return page(lang, body);
}

// ---------------------------------------------------------------------------------------------------------------
// Responses and the local web server

export const html = (body, status = 200) => ({ status, body, type: 'text/html; charset=utf-8' });
export const json = (obj) => ({ status: 200, body: JSON.stringify(obj), type: 'application/json; charset=utf-8' });
export const redirect = (location) => ({ status: 303, body: '', type: 'text/plain; charset=utf-8', location });

// failure is an error page for a SampleError: 502 when the server said no or could not be reached.
export const failure = (req, err, statusLine = '') => html(errorPage(req.lang, err.message, err.logid, statusLine, err.code), 502);

// Store is what the program remembers, in memory only: the last result and the pending authorization requests.
export class Store {
  constructor() {
    this.result = null; // { token, user }
    this.pending = new Map(); // state -> { created, extra }
  }

  addState(state, extra) {
    const now = Date.now();
    // Forget requests older than 30 minutes so that an open tab cannot grow this forever.
    for (const [k, v] of this.pending) if (now - v.created > 30 * 60_000) this.pending.delete(k);
    this.pending.set(state, { created: now, extra });
  }

  // takeState returns { found, extra } and forgets the state: each state is good for one callback.
  takeState(state) {
    const entry = state ? this.pending.get(state) : undefined;
    if (entry) this.pending.delete(state);
    return { found: entry !== undefined, extra: entry?.extra };
  }
}

async function readForm(req) {
  if (req.method !== 'POST') return new URLSearchParams();
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 65536) break;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// serve serves routes {"METHOD /path": async handler(req) -> response} on 127.0.0.1:PORT until Ctrl+C.
export function serve(routes) {
  const server = http.createServer((req, res) => {
    handle(routes, req, res).catch((e) => {
      process.stderr.write(`request failed: ${e && e.message}\n`);
      res.destroy();
    });
  });
  server.on('error', (e) => fail(`cannot listen on 127.0.0.1:${port()}: ${e.code || e.message} (set PORT to another port)`));
  server.listen(port(), '127.0.0.1', () => console.log(`Open ${localURL()}`));
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

async function handle(routes, req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  // Only method and path: query strings carry authorization codes and state.
  process.stderr.write(`${req.method} ${url.pathname}\n`);
  const form = await readForm(req);
  const r = {
    method: req.method,
    path: url.pathname,
    lang: pickLang(req.headers['accept-language']),
    arg: (name) => url.searchParams.get(name) ?? form.get(name) ?? '',
  };
  let resp;
  const handler = routes[`${req.method} ${url.pathname}`];
  if (!handler) {
    const known = Object.keys(routes).some((k) => k.endsWith(` ${url.pathname}`));
    resp = { status: known ? 405 : 404, body: known ? 'method not allowed\n' : 'not found\n', type: 'text/plain; charset=utf-8' };
  } else {
    try {
      resp = await handler(r);
    } catch (e) {
      if (e instanceof SampleError) {
        resp = failure(r, e);
      } else { // a bug in the sample: say so on the page, keep serving
        process.stderr.write(`internal error on ${req.method} ${url.pathname}: ${e && e.message}\n`);
        resp = html(errorPage(r.lang, `internal error in the sample program: ${e && e.message}`), 500);
      }
    }
  }
  const headers = {
    'Content-Type': resp.type,
    'Content-Length': Buffer.byteLength(resp.body),
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
  };
  if (resp.location) headers.Location = resp.location;
  res.writeHead(resp.status, headers);
  res.end(req.method === 'HEAD' ? undefined : resp.body);
}
