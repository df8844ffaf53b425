// Sample bundles (issue 9) end to end: for every client type × language the zip comes from the admin CLI
// (`app sample`) or, for one language per client type, from the console's Download sample page in Chromium; it is
// unzipped into a temp dir and started with `bash bootstrap.sh` on a free PORT; Chromium then drives the sample
// through cozeauth's login and consent (or device) page to "Authorization Successful" as alice, presses Refresh
// (web, pkce) and checks the tokens on /v1/users/me; a JWT sample's tokens are checked the same way. Afterwards the
// sample's secret (web) or key (jwt) is deleted and its next token request must fail with invalid_client, shown
// on the sample's error page. Also: the minted secrets and keys are listed with labels, nothing secret is in the
// database, and bad input is refused.
//
// SAMPLES_LANGS=python,go limits the languages (default: all four; under CI all four run, none skips).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';

import { browserSkipReason, screenshot, signIn, useBrowser } from './lib/browser.mjs';
import { freePort, isCI, run, skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, sleep } from './lib/util.mjs';

const ALL_LANGS = ['python', 'javascript', 'go', 'java'];
const TYPES = ['web', 'pkce', 'device', 'jwt'];
const CLI_TYPE = { web: 'web', pkce: 'pkce', device: 'device', jwt: 'jwt' };
// The language whose bundle of each client type comes from the console (when selected).
const CONSOLE_LANG = { web: 'python', pkce: 'javascript', device: 'go', jwt: 'java' };
const LANG_LABEL = { python: 'Python', javascript: 'JavaScript (Node.js)', go: 'Go', java: 'Java' };
const NICKNAME = 'Alice Sample';
const READY_MS = 180_000; // go run and javac compile first; the machine may be busy
const CONCURRENCY = Number(process.env.SAMPLES_CONCURRENCY || 4);

function selectedLangs() {
  const raw = process.env.SAMPLES_LANGS;
  if (!raw) return ALL_LANGS;
  const langs = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const l of langs) if (!ALL_LANGS.includes(l)) throw new Error(`SAMPLES_LANGS: unknown language ${l}`);
  if (isCI && langs.length !== ALL_LANGS.length) throw new Error('under CI every sample language must run; unset SAMPLES_LANGS');
  return langs;
}
const LANGS = selectedLangs();

// runtimeMissing says what a language's bootstrap needs that is not installed (false if nothing). Under CI a
// missing runtime is an error (scripts/test.sh installs them), locally the language skips.
const RUNTIME = { python: [['python3', '--version']], javascript: [['node', '--version']], go: [['go', 'version']], java: [['java', '-version'], ['javac', '-version']] };
function runtimeMissing(lang) {
  for (const [cmd, ...args] of RUNTIME[lang]) {
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.error || r.status !== 0) {
      if (isCI) throw new Error(`${cmd} is missing: the ${lang} samples cannot run; CI must not skip`);
      return `${cmd} is not installed`;
    }
  }
  return false;
}

// ── zip ──

// readZip parses a zip (stored or deflated entries) into [{ name, mode, data }] in central-directory order.
export function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  assert.ok(eocd >= 0, 'not a zip: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'bad central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const ext = buf.readUInt32LE(p + 38);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + csize);
    const data = method === 8 ? inflateRawSync(raw) : method === 0 ? Buffer.from(raw) : assert.fail(`method ${method}`);
    out.push({ name, mode: (ext >>> 16) & 0o7777, data });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

// unpack checks a bundle's layout and writes it into a new temp dir; it returns the dir and the config.
async function unpack(buf, lang) {
  const entries = readZip(buf);
  const names = entries.map((e) => e.name);
  for (const want of ['coze_oauth_config.json', 'README.md', 'bootstrap.sh', 'bootstrap.ps1']) {
    assert.ok(names.includes(want), `the ${lang} zip lacks ${want}: ${names}`);
  }
  for (const e of entries) {
    assert.ok(!e.name.includes('/') && !e.name.includes('\\'), `${e.name} is not at the top level`);
    if (e.name.endsWith('.sh')) assert.equal(e.mode, 0o755, `${e.name} mode ${e.mode.toString(8)}`);
  }
  const dir = await mkdtemp(join(tmpdir(), `cozeauth-sample-${lang}-`));
  for (const e of entries) {
    await writeFile(join(dir, e.name), e.data);
    await chmod(join(dir, e.name), e.mode || 0o644);
  }
  const cfg = JSON.parse(entries.find((e) => e.name === 'coze_oauth_config.json').data.toString('utf8'));
  return { dir, cfg };
}

// ── sample processes ──

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

// startSample runs `bash bootstrap.sh` in dir with PORT in its own process group and resolves once the sample
// answers GET / with 200. stop() ends the whole group (the runtime the script started included).
async function startSample(dir, port) {
  const child = spawn('bash', ['bootstrap.sh'], {
    cwd: dir, env: { ...process.env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (log += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (log += d));
  let exited = null;
  const exitedP = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; running.delete(child); r(); }));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exitedP;
    clearTimeout(timer);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* the group is gone */ }
  };
  const deadline = Date.now() + READY_MS;
  for (;;) {
    if (exited) throw new Error(`bash bootstrap.sh exited ${JSON.stringify(exited)} before serving; output:\n${log}`);
    try {
      const res = await fetch(base + '/', { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the sample did not serve ${base} within ${READY_MS} ms; output:\n${log}`);
    }
    await sleep(200);
  }
  return { base, log: () => log, stop };
}

// ── the suite ──

describe('samples: every client type × language, from download to "Authorization Successful"', {
  skip: skipReason() || browserSkipReason(),
  timeout: 400_000,
}, () => {
  const srv = useServer({ args: ['--device-poll-interval', '1s'] });
  const chromium = useBrowser();
  // Sign-in hashes a password (argon2id): under a loaded machine and concurrent samples, allow more than the
  // default 10 s per step.
  const browser = {
    async newContext(opts) {
      const c = await chromium.newContext(opts);
      c.setDefaultTimeout(60_000);
      c.setDefaultNavigationTimeout(60_000);
      return c;
    },
  };
  const users = {};
  const apps = {}; // `${type}/${lang}` → app
  const secrets = []; // every client secret and private key a zip held (for the database check)
  const dirs = [];

  const admin = (args, opts) => srv.admin(args, opts);

  before(async () => {
    users.alice = await admin(['user', 'create', '--username', 'alice', '--password-stdin', '--nickname', NICKNAME], { input: `${PASSWORD}\n` });
    users.bob = await admin(['user', 'create', '--username', 'bob', '--password-stdin'], { input: `${PASSWORD}\n` });
    await admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice']);
    // One app per client type × language keeps each sample's consent, secret and key its own.
    for (const type of TYPES) {
      for (const lang of LANGS) {
        const extra = type === 'web' || type === 'pkce' ? ['--redirect-uri', 'https://app.example/cb'] : [];
        const app = await admin(['app', 'create', '--owner', 'alice', '--type', CLI_TYPE[type], '--name', `${type} ${lang}`,
          '--permission', 'Workspace.list', '--permission', 'Bot.chat', ...extra]);
        if (type === 'jwt') assert.notDeepEqual(await admin(['app', 'authorize', '--app', app.app_id, '--user', 'alice']), {}); // prints the changed object
        apps[`${type}/${lang}`] = app;
      }
    }
  });

  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  // usersMe checks token on GET /v1/users/me and returns the user.
  async function usersMe(token, what) {
    const res = await fetch(`${srv.baseURL}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json();
    assert.equal(res.status, 200, `${what}: /v1/users/me ${res.status} ${JSON.stringify(body)}`);
    assert.equal(body.code, 0, `${what}: ${JSON.stringify(body)}`);
    assert.equal(body.data.user_id, users.alice.user_id, `${what}: ${JSON.stringify(body)}`);
    return body.data;
  }

  // cliZip gets a bundle with `app sample` and checks its JSON output.
  async function cliZip(type, lang, app, port) {
    const dir = await mkdtemp(join(tmpdir(), 'cozeauth-zip-'));
    dirs.push(dir);
    const file = join(dir, 'sample.zip');
    const out = await admin(['app', 'sample', '--app', lang === 'go' ? app.client_id : app.app_id, '--lang', lang, '--out', file,
      '--port', String(port), '--public-url', srv.baseURL]);
    const want = ['client_id', 'client_type', 'file'];
    if (type === 'web' || type === 'pkce') want.push('redirect_uri');
    if (type === 'web') want.push('secret_id');
    if (type === 'jwt') want.push('public_key_id');
    assert.deepEqual(Object.keys(out).sort(), want.sort(), JSON.stringify(out));
    assert.equal(out.file, file);
    assert.equal(out.client_type, type);
    assert.equal(out.client_id, app.client_id);
    if (out.redirect_uri) assert.equal(out.redirect_uri, `http://127.0.0.1:${port}/callback`);
    return { buf: await readFile(file), out };
  }

  // consoleZip downloads a bundle from the console in Chromium: the list's Download sample link, the preview,
  // the language, the port, the checked redirect-URI box, Download.
  async function consoleZip(type, lang, app, port) {
    const context = await browser.newContext({ acceptDownloads: true });
    try {
      const page = await context.newPage();
      await page.goto(`${srv.baseURL}/console/apps`);
      await signIn(page, 'alice', PASSWORD);
      await page.getByRole('link', { name: `Download sample of ${type} ${lang}`, exact: true }).click();
      await page.getByRole('heading', { name: `Download sample of ${type} ${lang}` }).waitFor();
      assert.equal(await page.locator('#cfg-client-type').innerText(), type);
      assert.equal(await page.locator('#cfg-client-id').innerText(), app.client_id);
      assert.equal(await page.locator('#cfg-api-base').innerText(), srv.baseURL);
      assert.equal(await page.locator('#cfg-www-base').innerText(), srv.baseURL);
      assert.ok(await page.getByLabel('Python').isChecked(), 'Python is preselected');
      if (type === 'web') assert.match(await page.locator('#cfg-client-secret').innerText(), /a new one is created for this download/);
      if (type === 'jwt') assert.match(await page.locator('#cfg-private-key').innerText(), /a new key pair is created for this download/);
      await page.getByLabel(LANG_LABEL[lang], { exact: true }).check();
      if (type === 'web' || type === 'pkce') {
        assert.equal(await page.locator('#cfg-redirect-uri').innerText(), 'http://127.0.0.1:8080/callback');
        await page.getByLabel('Port', { exact: true }).fill(String(port));
        assert.ok(await page.locator('#register-redirect').isChecked(), 'the redirect URI box is ticked by default');
      }
      if (type === 'web' && lang === LANGS[0]) await screenshot(page, 'console-sample-download');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download', exact: true }).click()]);
      assert.equal(download.suggestedFilename(), `coze_oauth_${type}_${lang}_${app.client_id}.zip`);
      const dir = await mkdtemp(join(tmpdir(), 'cozeauth-zip-'));
      dirs.push(dir);
      const file = join(dir, 'sample.zip');
      await download.saveAs(file);
      return { buf: await readFile(file), out: null };
    } finally {
      await context.close();
    }
  }

  // authorize drives cozeauth's login and consent pages after the sample sent the browser there.
  async function loginAndConsent(page) {
    await page.waitForURL((u) => u.pathname === '/login');
    await signIn(page, 'alice', PASSWORD);
    await page.getByRole('button', { name: 'Authorize' }).click();
  }

  async function successPage(page, what) {
    await page.getByRole('heading', { name: 'Authorization Successful' }).waitFor({ timeout: 30_000 });
    assert.equal((await page.locator('#user-name').innerText()).trim(), NICKNAME, `${what}: #user-name`);
    assert.equal((await page.locator('#user-id').innerText()).trim(), users.alice.user_id, `${what}: #user-id`);
    assert.ok((await page.locator('#expires-at').innerText()).trim(), `${what}: #expires-at`);
    const access = (await page.locator('#access-token').innerText()).trim();
    const refresh = (await page.locator('#refresh-token').innerText()).trim();
    assert.match(access, /^czu_/, `${what}: #access-token`);
    assert.match(refresh, /^czr_/, `${what}: #refresh-token`);
    return { access, refresh };
  }

  async function errorMessage(page, what) {
    await page.getByRole('heading', { name: 'Authorization failed' }).waitFor({ timeout: 30_000 });
    return (await page.locator('#error-message').innerText()).trim();
  }

  // tokenError posts a token request to cozeauth and returns its OAuth error body.
  async function tokenError(body, headers = {}) {
    const res = await fetch(`${srv.baseURL}/api/permission/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
    });
    const out = await res.json();
    assert.equal(res.status, 401, JSON.stringify(out));
    return out;
  }

  function signJWT(cfg, port) {
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const head = b64({ alg: 'RS256', typ: 'JWT', kid: cfg.public_key_id });
    const claims = b64({ iss: cfg.client_id, aud: `127.0.0.1:${port}`, iat: now, exp: now + 600, jti: randomUUID() });
    const sig = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(cfg.private_key).toString('base64url');
    return `${head}.${claims}.${sig}`;
  }

  async function flow(type, lang) {
    const app = apps[`${type}/${lang}`];
    const port = await freePort();
    const fromConsole = (LANGS.includes(CONSOLE_LANG[type]) ? CONSOLE_LANG[type] : LANGS[0]) === lang;
    const { buf, out } = fromConsole ? await consoleZip(type, lang, app, port) : await cliZip(type, lang, app, port);
    const { dir, cfg } = await unpack(buf, lang);
    dirs.push(dir);
    assert.equal(cfg.client_type, type);
    assert.equal(cfg.client_id, app.client_id);
    assert.equal(cfg.coze_api_base, srv.baseURL);
    assert.equal(cfg.coze_www_base, srv.baseURL);
    if (cfg.client_secret) secrets.push(cfg.client_secret);
    if (cfg.private_key) secrets.push(cfg.private_key);

    // The minted secret or key is listed, labelled.
    const label = `sample ${new Date().toISOString().slice(0, 10)}`;
    let secretID;
    let keyID;
    if (type === 'web') {
      const { client_secrets: list } = await admin(['app', 'secrets', '--app', app.app_id]);
      const mine = list.filter((s) => s.label === label);
      assert.equal(mine.length, 1, JSON.stringify(list));
      assert.equal(mine[0].masked, `czs_…${cfg.client_secret.slice(-4)}`);
      if (out) assert.equal(mine[0].secret_id, out.secret_id);
      secretID = mine[0].secret_id;
    }
    if (type === 'jwt') {
      const { public_keys: list } = await admin(['app', 'keys', '--app', app.app_id]);
      const mine = list.find((k) => k.public_key_id === cfg.public_key_id);
      assert.equal(mine?.label, label, JSON.stringify(list));
      keyID = mine.public_key_id;
    }

    const sample = await startSample(dir, port);
    const context = await browser.newContext();
    try {
      assert.match(sample.log(), new RegExp(`Open http://127\\.0\\.0\\.1:${port}`), 'the sample prints where to open it');
      const page = await context.newPage();
      await page.goto(sample.base + '/');
      assert.equal((await page.locator('#client-type').innerText()).trim(), type);
      assert.equal((await page.locator('#client-id').innerText()).trim(), app.client_id);
      await page.locator('#start').click();

      if (type === 'jwt') {
        await page.getByRole('heading', { name: 'Token issued' }).waitFor({ timeout: 30_000 });
        const first = (await page.locator('#access-token').innerText()).trim();
        assert.ok((await page.locator('#expires-at').innerText()).trim(), '#expires-at');
        await usersMe(first, `${lang} jwt`);
        await page.locator('#new-token').click();
        await page.waitForFunction((old) => document.querySelector('#access-token')?.textContent.trim() !== old, first);
        const second = (await page.locator('#access-token').innerText()).trim();
        await usersMe(second, `${lang} jwt (new token)`);
        if (lang === LANGS[0]) await screenshot(page, 'sample-jwt');

        // Deleting the key: the next JWT is refused with invalid_client, and the sample says so.
        assert.notDeepEqual(await admin(['app', 'delete-key', '--app', app.app_id, '--public-key-id', keyID]), {}); // prints the changed object
        const err = await eventually(5000, async () => {
          const e = await tokenError({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', duration_seconds: 900 },
            { authorization: `Bearer ${signJWT(cfg, srv.port)}` });
          assert.equal(e.error, 'invalid_client', JSON.stringify(e));
          return e;
        });
        await page.locator('#new-token').click();
        assert.equal(await errorMessage(page, `${lang} jwt`), err.error_message);
      } else if (type === 'device') {
        const link = page.locator('#verification-uri');
        await link.waitFor({ timeout: 30_000 });
        const userCode = (await page.locator('#user-code').innerText()).trim();
        const href = await link.getAttribute('href');
        assert.ok(href.startsWith(srv.baseURL + '/'), href);
        assert.equal(new URL(href).searchParams.get('user_code'), userCode, href);
        assert.equal((await link.innerText()).trim(), href, 'the link shows its address');
        const verify = await context.newPage();
        await verify.goto(href);
        await signIn(verify, 'alice', PASSWORD);
        const input = verify.getByLabel('User code');
        await input.waitFor();
        assert.equal(await input.inputValue(), userCode);
        await verify.getByRole('button', { name: 'Continue' }).click();
        await verify.getByRole('button', { name: 'Authorize' }).click();
        await verify.getByRole('heading', { name: 'Device connected' }).waitFor();
        const t = await successPage(page, `${lang} device`);
        await usersMe(t.access, `${lang} device`);
      } else {
        await loginAndConsent(page);
        const t = await successPage(page, `${lang} ${type}`);
        await usersMe(t.access, `${lang} ${type}`);
        if (type === 'web' && lang === LANGS[0]) await screenshot(page, 'sample-success');
        await page.locator('#refresh').click();
        await page.waitForFunction((old) => document.querySelector('#access-token')?.textContent.trim() !== old, t.access);
        const t2 = await successPage(page, `${lang} ${type} (refreshed)`);
        assert.notEqual(t2.refresh, t.refresh, 'refresh tokens rotate');
        await usersMe(t2.access, `${lang} ${type} (refreshed)`);

        if (type === 'web') {
          // Deleting the secret: the next refresh is refused with invalid_client, and the sample says so.
          assert.notDeepEqual(await admin(['app', 'delete-secret', '--app', app.app_id, '--secret-id', secretID]), {}); // prints the changed object
          const err = await eventually(5000, async () => {
            const e = await tokenError({ grant_type: 'refresh_token', refresh_token: t2.refresh, client_id: cfg.client_id },
              { authorization: `Bearer ${cfg.client_secret}` }); // WIRE.md §3.2
            assert.equal(e.error, 'invalid_client', JSON.stringify(e));
            return e;
          });
          await page.locator('#refresh').click();
          assert.equal(await errorMessage(page, `${lang} web`), err.error_message);
        }
      }
      for (const s of [cfg.client_secret, cfg.private_key && cfg.private_key.split('\n')[1]]) {
        if (s) assert.ok(!sample.log().includes(s), `the ${lang} ${type} sample printed a secret`);
      }
    } catch (err) {
      err.message += `\n--- ${lang} ${type} sample output ---\n${sample.log()}`;
      throw err;
    } finally {
      await context.close();
      await sample.stop();
    }
  }

  describe('matrix', { concurrency: CONCURRENCY }, () => {
    for (const type of TYPES) {
      for (const lang of ALL_LANGS) {
        const skip = !LANGS.includes(lang) ? `SAMPLES_LANGS leaves out ${lang}` : runtimeMissing(lang);
        it(`${type} × ${lang}`, { skip }, async () => {
          await flow(type, lang);
        });
      }
    }
  });

  it('nothing secret is in the database', async () => {
    assert.ok(secrets.length > 0, 'the matrix collected the zips’ secrets');
    const files = (await readdir(srv.dir)).filter((f) => f.startsWith('cozeauth.db'));
    const blob = Buffer.concat(await Promise.all(files.map((f) => readFile(join(srv.dir, f)))));
    for (const s of secrets) {
      const needle = s.includes('PRIVATE KEY') ? s.split('\n')[1] : s; // a line of the key's base64
      assert.equal(blob.indexOf(needle), -1, `the database holds a plaintext ${s.includes('PRIVATE KEY') ? 'private key' : 'client secret'}`);
    }
  });

  it('bad input: unknown language, unknown app, another user’s app, a deactivated app', async () => {
    const out = join(srv.dir, 'bad.zip');
    const web = apps[`web/${LANGS[0]}`];
    const cases = [
      [['--app', web.app_id, '--lang', 'rust'], /--lang "rust": want python, javascript, go or java/],
      [['--app', '12345', '--lang', 'python'], /no app with ID or client ID "12345"/],
    ];
    const gone = await admin(['app', 'create', '--owner', 'alice', '--type', 'pkce', '--name', 'gone', '--redirect-uri', 'https://a.example/cb']);
    assert.notDeepEqual(await admin(['app', 'deactivate', '--app', gone.app_id]), {}); // prints the changed object
    cases.push([['--app', gone.app_id, '--lang', 'python'], /is deactivated/]);
    for (const [args, want] of cases) {
      const r = await run(['admin', '--db', srv.db, 'app', 'sample', ...args, '--out', out]);
      assert.notEqual(r.code, 0, `app sample ${args.join(' ')} must fail`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }

    const bobs = await admin(['app', 'create', '--owner', 'bob', '--type', 'device', '--name', 'Bob device']);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${srv.baseURL}/login`);
      await signIn(page, 'alice', PASSWORD);
      await page.waitForURL((u) => u.pathname !== '/login');
      let res = await page.goto(`${srv.baseURL}/console/apps/${bobs.app_id}/sample`);
      assert.equal(res.status(), 404, 'another user’s app');
      res = await page.goto(`${srv.baseURL}/console/apps/${gone.app_id}/sample`);
      assert.equal(res.status(), 409, 'a deactivated app');
      assert.match(await page.locator('#sample-refused').innerText(), /This app is deactivated/);
      assert.equal(await page.locator('#download').count(), 0);
      // Unticked and not registered: the page warns before downloading.
      res = await page.goto(`${srv.baseURL}/console/apps/${web.app_id}/sample`);
      assert.equal(res.status(), 200);
      await page.getByLabel('Port', { exact: true }).fill('1');
      await page.locator('#register-redirect').uncheck();
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      assert.match(await page.locator('#sample-will-fail').innerText(), /The sample will fail: http:\/\/127\.0\.0\.1:1\/callback/);
      await page.getByRole('button', { name: 'Download anyway' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
