// Foundation end-to-end tests: the official @coze/api SDK and plain fetch against a real `cozeauth serve`,
// with users, workspaces, resources and PATs made by the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { AuthenticationError, CozeAPI, PermissionDeniedError } from '@coze/api';

import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject, sleep } from './lib/util.mjs';

const BOT1_ID = '7400000000000000001'; // given with --id
const UNKNOWN_BOT_ID = '7499999999999999999';

// raw sends one request with fetch and returns { status, headers, body } with body parsed as JSON.
async function raw(baseURL, path, { token, method = 'GET', body, contentType = 'application/json' } = {}) {
  const headers = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(baseURL + path, { method, headers, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    assert.fail(`${method} ${path}: body is not JSON (HTTP ${res.status}): ${text}`);
  }
  return { status: res.status, headers: res.headers, body: json };
}

// assertCozeError checks the OpenAPI error envelope (WIRE §7): matched HTTP status and code, non-empty msg,
// the X-Tt-Logid header, and detail.logid equal to it.
function assertCozeError(res, code, status, what) {
  const where = `${what}: ${JSON.stringify(res.body)}`;
  assert.equal(res.status, status, `HTTP status, ${where}`);
  assert.equal(res.body.code, code, `code, ${where}`);
  assert.equal(typeof res.body.msg, 'string', `msg type, ${where}`);
  assert.notEqual(res.body.msg, '', `msg must be non-empty, ${where}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `content-type, ${where}`);
  const logid = res.headers.get('x-tt-logid');
  assert.ok(logid, `X-Tt-Logid header missing, ${where}`);
  assert.equal(res.body.detail?.logid, logid, `detail.logid must equal the X-Tt-Logid header, ${where}`);
}

function authzCheck(srv, token, body) {
  return raw(srv.baseURL, '/api/cozeauth/v1/authz/check', {
    token,
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function assertAllowed(res, what) {
  assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.code, 0, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.msg, '', `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.data?.allowed, true, `${what}: ${JSON.stringify(res.body)}`);
  assert.ok(res.headers.get('x-tt-logid'), `${what}: X-Tt-Logid header missing`);
}

describe('foundation: SDK and authz check against cozeauth serve', { skip: skipReason(), timeout: 120_000 }, () => {
  const srv = useServer();
  const ids = {}; // user (alice), dave, ent, ws1, ws2 (alice's), ws3 (Acme's), bot1..bot3 in ws1..ws3
  const pats = {}; // name → { id, token, expire_at }
  const client = (token, baseURL = srv.baseURL) => new CozeAPI({ token, baseURL });

  async function pat(name, args) {
    const out = await srv.admin(['pat', 'create', '--name', name, ...args]);
    assert.equal(typeof out.id, 'string', `pat create: ${JSON.stringify(out)}`);
    assert.match(out.token, /^pat_/, `pat create: ${JSON.stringify(out)}`);
    pats[name] = out;
    return out;
  }

  before(async () => {
    const alice = await srv.admin(['user', 'create', '--username', 'alice', '--password-stdin', '--nickname', 'Alice A.'], {
      input: `${PASSWORD}\n`,
    });
    assert.equal(typeof alice.user_id, 'string', JSON.stringify(alice));
    assert.notEqual(alice.user_id, '');
    ids.user = alice.user_id;

    // --user takes a username or a user ID; both forms are used below.
    ids.ws1 = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
    ids.ws2 = (await srv.admin(['workspace', 'create', '--name', 'Beta', '--owner', ids.user])).workspace_id;
    for (const w of ['ws1', 'ws2']) assert.equal(typeof ids[w], 'string', `${w}: ${ids[w]}`);
    assert.notEqual(ids.ws1, ids.ws2, 'workspace IDs must differ');

    const bot1 = await srv.admin(['resource', 'create', '--workspace', ids.ws1, '--type', 'bot', '--id', BOT1_ID]);
    assert.equal(bot1.resource_id, BOT1_ID, `resource create --id: ${JSON.stringify(bot1)}`);
    ids.bot1 = bot1.resource_id;
    ids.bot2 = (await srv.admin(['resource', 'create', '--workspace', ids.ws2, '--type', 'bot'])).resource_id;
    assert.equal(typeof ids.bot2, 'string');
    assert.notEqual(ids.bot2, '');

    // An enterprise (super admin bob) with a team workspace Gamma that dave, an enterprise member, joins.
    await srv.admin(['user', 'create', '--username', 'bob', '--password-stdin'], { input: PASSWORD });
    ids.dave = (await srv.admin(['user', 'create', '--username', 'dave', '--password-stdin'], { input: PASSWORD })).user_id;
    ids.ent = (await srv.admin(['enterprise', 'create', '--name', 'Acme', '--super-admin', 'bob'])).enterprise_id;
    assert.equal(typeof ids.ent, 'string');
    assert.notDeepEqual(await srv.admin(['enterprise', 'add-member', '--enterprise', ids.ent, '--user', 'dave', '--role', 'Member']), {}); // prints the changed object
    ids.ws3 = (await srv.admin(['workspace', 'create', '--name', 'Gamma', '--enterprise', ids.ent])).workspace_id;
    assert.notDeepEqual(
      await srv.admin(['workspace', 'add-member', '--workspace', ids.ws3, '--user', 'dave', '--role', 'member']),
      {},
    ); // prints the changed object
    ids.bot3 = (await srv.admin(['resource', 'create', '--workspace', ids.ws3, '--type', 'bot'])).resource_id;

    await pat('full', ['--user', 'alice', '--days', '30', '--permission', 'Workspace.list', '--permission', 'Bot.chat',
      '--workspaces', 'all']);
    await pat('nolist', ['--user', ids.user, '--permanent', '--permission', 'Bot.getMetadata', '--workspaces', 'all']);
    await pat('selected', ['--user', 'alice', '--days', '1', '--permission', 'Bot.chat', '--workspaces', ids.ws2]);
    await pat('dave-ent', ['--user', 'dave', '--enterprise', ids.ent, '--days', '1', '--permission', 'Bot.chat',
      '--workspaces', 'all']);
    await pat('dave-personal', ['--user', 'dave', '--days', '1', '--permission', 'Bot.chat', '--workspaces', 'all']);
    await pat('doomed', ['--user', 'alice', '--days', '1', '--permission', 'Workspace.list', '--workspaces', 'all']);
  });

  it('pat create reports the expiry: 30 days ahead, or -1 when permanent', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Number.isInteger(pats.full.expire_at), JSON.stringify(pats.full));
    assert.ok(Math.abs(pats.full.expire_at - (now + 30 * 86400)) < 300, `expire_at ${pats.full.expire_at}, now ${now}`);
    assert.equal(pats.nolist.expire_at, -1, JSON.stringify(pats.nolist));
  });

  it('users.me returns the PAT owner', async () => {
    const me = await client(pats.full.token).users.me();
    for (const k of ['user_id', 'user_name', 'nick_name', 'avatar_url']) {
      assert.equal(typeof me[k], 'string', `${k} must be a string: ${JSON.stringify(me)}`);
    }
    assert.equal(me.user_id, ids.user);
    assert.equal(me.user_name, 'alice');
    assert.equal(me.nick_name, 'Alice A.');
    // No avatar set: a generated one the sample pages can render.
    assert.equal(me.avatar_url, `${srv.baseURL}/avatars/${ids.user}.svg`);
    const avatar = await fetch(me.avatar_url);
    assert.equal(avatar.status, 200);
    assert.equal(avatar.headers.get('content-type'), 'image/svg+xml');
    assert.match(await avatar.text(), /^<svg /);
  });

  it('users.me answers with the success envelope and a log ID', async () => {
    const res = await raw(srv.baseURL, '/v1/users/me', { token: pats.full.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.code, 0);
    assert.equal(res.body.msg, '');
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.ok(res.headers.get('x-tt-logid'), 'X-Tt-Logid header missing');
    assert.equal(res.body.data.user_id, ids.user);
  });

  it('workspaces.list returns the joined workspaces with all six string fields', async () => {
    const data = await client(pats.full.token).workspaces.list();
    assert.ok(Number.isInteger(data.total_count), JSON.stringify(data));
    assert.ok(Array.isArray(data.workspaces), JSON.stringify(data));
    for (const w of data.workspaces) {
      for (const k of ['id', 'name', 'icon_url', 'role_type', 'workspace_type', 'enterprise_id']) {
        assert.equal(typeof w[k], 'string', `${k} must be a string: ${JSON.stringify(w)}`);
      }
    }
    const byId = Object.fromEntries(data.workspaces.map((w) => [w.id, w]));
    // Alice owns Alpha and Beta, both personal.
    assert.equal(data.total_count, 2, JSON.stringify(data));
    assert.equal(data.workspaces.length, 2, JSON.stringify(data));
    for (const [w, name] of [['ws1', 'Alpha'], ['ws2', 'Beta']]) {
      assert.equal(byId[ids[w]]?.name, name, JSON.stringify(data));
      assert.equal(byId[ids[w]].role_type, 'owner', JSON.stringify(data));
      assert.equal(byId[ids[w]].workspace_type, 'personal', JSON.stringify(data));
      assert.equal(byId[ids[w]].enterprise_id, '', JSON.stringify(data));
    }
  });

  it('workspaces.list pages: accurate total_count, empty page past the end', async () => {
    const c = client(pats.full.token);
    const seen = [];
    for (const page_num of [1, 2]) {
      const data = await c.workspaces.list({ page_num, page_size: 1 });
      assert.equal(data.total_count, 2, `page ${page_num}: ${JSON.stringify(data)}`);
      assert.equal(data.workspaces.length, 1, `page ${page_num}: ${JSON.stringify(data)}`);
      seen.push(data.workspaces[0].id);
    }
    assert.deepEqual([...seen].sort(), [ids.ws1, ids.ws2].sort(), 'pages must not repeat or skip');
    const past = await c.workspaces.list({ page_num: 3, page_size: 1 });
    assert.deepEqual(past.workspaces, [], JSON.stringify(past));
    assert.equal(past.total_count, 2, JSON.stringify(past));
  });

  it('a bad token gets AuthenticationError 4100 (HTTP 401) with a log ID', async () => {
    const err = await expectReject(client('pat_this-token-does-not-exist').users.me());
    assert.ok(err instanceof AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, 4100, err.message);
    assert.ok(err.logid, `logid missing on the SDK error: ${err.message}`);
    assert.ok(err.headers?.['x-tt-logid'], 'x-tt-logid header missing on the SDK error');

    for (const token of ['pat_this-token-does-not-exist', 'garbage', undefined]) {
      const res = await raw(srv.baseURL, '/v1/users/me', { token });
      assertCozeError(res, 4100, 401, `GET /v1/users/me with token ${token}`);
    }
    const res = await raw(srv.baseURL, '/v1/workspaces', { token: 'pat_nope' });
    assertCozeError(res, 4100, 401, 'GET /v1/workspaces with a bad token');
  });

  it('a PAT without Workspace.list gets PermissionDeniedError 4101 (HTTP 403) but users.me works', async () => {
    const c = client(pats.nolist.token);
    const me = await c.users.me();
    assert.equal(me.user_id, ids.user);
    const err = await expectReject(c.workspaces.list());
    assert.ok(err instanceof PermissionDeniedError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, 4101, err.message);
    assert.ok(err.logid, 'logid missing');
    const res = await raw(srv.baseURL, '/v1/workspaces', { token: pats.nolist.token });
    assertCozeError(res, 4101, 403, 'GET /v1/workspaces without Workspace.list');
  });

  it('a base URL with a trailing slash still works', async () => {
    const c = client(pats.full.token, `${srv.baseURL}/`);
    const me = await c.users.me();
    assert.equal(me.user_id, ids.user);
    const data = await c.workspaces.list({ page_num: 1, page_size: 10 });
    assert.equal(data.total_count, 2);
  });

  it('pat list shows the PATs without their secrets', async () => {
    const out = await srv.admin(['pat', 'list', '--user', 'alice']);
    assert.ok(Array.isArray(out.personal_access_tokens), JSON.stringify(out));
    const listed = out.personal_access_tokens.map((p) => p.id).sort();
    const alices = ['full', 'nolist', 'selected', 'doomed'].map((n) => pats[n].id).sort();
    assert.deepEqual(listed, alices, JSON.stringify(out));
    for (const p of Object.values(pats)) {
      assert.ok(!JSON.stringify(out).includes(p.token), 'pat list must not reveal a token');
    }
  });

  it('a deleted PAT gets 4100 promptly', async () => {
    const c = client(pats.doomed.token);
    assert.equal((await c.users.me()).user_id, ids.user);
    assert.notDeepEqual(await srv.admin(['pat', 'delete', '--id', pats.doomed.id]), {}); // prints the changed object
    const t0 = Date.now();
    const err = await eventually(2000, async () => {
      const e = await expectReject(c.users.me());
      assert.ok(e instanceof AuthenticationError, `got ${e?.constructor?.name}: ${e?.message}`);
      return e;
    });
    assert.equal(err.code, 4100);
    const took = Date.now() - t0;
    assert.ok(took <= 2000, `revocation took ${took} ms`);
    const listed = (await srv.admin(['pat', 'list', '--user', 'alice'])).personal_access_tokens.map((p) => p.id);
    assert.ok(!listed.includes(pats.doomed.id), 'a deleted PAT must not be listed');
  });

  describe('POST /api/cozeauth/v1/authz/check', () => {
    const bot = (id) => ({ type: 'bot', id });

    it('allows Bot.chat on a bot for a PAT with Bot.chat and all workspaces', async () => {
      assertAllowed(await authzCheck(srv, pats.full.token, { permission: 'Bot.chat', resource: bot(ids.bot1) }), 'bot1');
      assertAllowed(await authzCheck(srv, pats.full.token, { permission: 'Bot.chat', resource: bot(ids.bot2) }), 'bot2');
    });

    it('checks an account-level permission without a resource', async () => {
      assertAllowed(await authzCheck(srv, pats.full.token, { permission: 'Workspace.list' }), 'Workspace.list');
      const res = await authzCheck(srv, pats.nolist.token, { permission: 'Workspace.list' });
      assertCozeError(res, 4101, 403, 'Workspace.list with a PAT lacking it');
    });

    it('denies (4101) a PAT without the permission', async () => {
      const res = await authzCheck(srv, pats.nolist.token, { permission: 'Bot.chat', resource: bot(ids.bot1) });
      assertCozeError(res, 4101, 403, 'Bot.chat with a Bot.getMetadata-only PAT');
    });

    it('selected workspaces: allowed inside, 4101 outside', async () => {
      assertAllowed(
        await authzCheck(srv, pats.selected.token, { permission: 'Bot.chat', resource: bot(ids.bot2) }),
        'selected PAT on a bot in its workspace',
      );
      const res = await authzCheck(srv, pats.selected.token, { permission: 'Bot.chat', resource: bot(ids.bot1) });
      assertCozeError(res, 4101, 403, 'selected PAT on a bot outside its workspaces');
    });

    it('an unknown bot gets 4200 (HTTP 404)', async () => {
      const res = await authzCheck(srv, pats.full.token, { permission: 'Bot.chat', resource: bot(UNKNOWN_BOT_ID) });
      assertCozeError(res, 4200, 404, 'unknown bot');
    });

    it('a bad request gets 4000 (HTTP 400)', async () => {
      assertCozeError(await authzCheck(srv, pats.full.token, '{"permission": "Bot.chat",'), 4000, 400, 'malformed JSON');
      assertCozeError(
        await authzCheck(srv, pats.full.token, { permission: 'Bot.fly', resource: bot(ids.bot1) }),
        4000,
        400,
        'unknown permission',
      );
    });

    it('a bad token gets 4100 (HTTP 401)', async () => {
      const res = await authzCheck(srv, 'pat_unknown', { permission: 'Bot.chat', resource: bot(ids.bot1) });
      assertCozeError(res, 4100, 401, 'bad token');
    });

    it('enterprise workspaces: the enterprise PAT reaches them, the personal one does not', async () => {
      const body = { permission: 'Bot.chat', resource: bot(ids.bot3) };
      assertAllowed(await authzCheck(srv, pats['dave-ent'].token, body), 'enterprise PAT, all workspaces');
      assertCozeError(await authzCheck(srv, pats['dave-personal'].token, body), 4101, 403, 'personal PAT on a team bot');
    });

    it('a workspace stops being reachable when the user leaves it', async () => {
      const body = { permission: 'Bot.chat', resource: bot(ids.bot3) };
      assertAllowed(await authzCheck(srv, pats['dave-ent'].token, body), 'member of Gamma');
      assert.notDeepEqual(await srv.admin(['workspace', 'remove-member', '--workspace', ids.ws3, '--user', 'dave']), {}); // prints the changed object
      await eventually(2000, async () => {
        assertCozeError(await authzCheck(srv, pats['dave-ent'].token, body), 4101, 403, 'after leaving Gamma');
      });
    });
  });
});
