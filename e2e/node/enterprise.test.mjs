// Enterprise upgrade end-to-end test (seed 004, "升级企业版后更新 API 授权") with the official @coze/api SDK: a
// JWT (Service) app authorized in alice's personal account gets tokens with getJWTToken({ accountId }) that
// reach her workspace until it migrates into the enterprise (admin CLI); afterwards the same token and new ones
// get 4101 there while the enterprise PAT reaches it, so the seed's fallback answers with the enterprise
// credential. The enterprise JWT path (enterprise_id/{id}/token) is Go-only and covered by e2e/gotest.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { AuthenticationError, CozeAPI, PermissionDeniedError, getJWTToken } from '@coze/api';

import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject } from './lib/util.mjs';

// The server must see a change made by the admin CLI (another process) within this.
const PROPAGATION_MS = 1000;

const api = (srv, token) => new CozeAPI({ token, baseURL: srv.baseURL });

// chat asks cozeauth's authorization check whether token may chat with the bot, through the SDK's raw request:
// it resolves to the envelope when allowed and rejects with the SDK's error class when not.
const chat = (srv, token, botId) =>
  api(srv, token).post('/api/cozeauth/v1/authz/check', { permission: 'Bot.chat', resource: { type: 'bot', id: botId } });

async function assertAllowed(srv, token, botId, what) {
  const res = await chat(srv, token, botId);
  assert.equal(res.code, 0, `${what}: ${JSON.stringify(res)}`);
  assert.equal(res.data?.allowed, true, `${what}: ${JSON.stringify(res)}`);
}

// assertDenied checks the SDK raises PermissionDeniedError with code 4101 (HTTP 403) and a log ID.
async function assertDenied(srv, token, botId, what) {
  const err = await expectReject(chat(srv, token, botId));
  assert.ok(err instanceof PermissionDeniedError, `${what}: got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.code, 4101, `${what}: ${err.message}`);
  assert.equal(err.status, 403, `${what}: ${err.message}`);
  assert.ok(err.logid, `${what}: logid missing`);
}

// listed maps workspace ID → { type, enterprise } of what token lists with the SDK's workspaces.list().
async function listed(srv, token) {
  const data = await api(srv, token).workspaces.list({ page_num: 1, page_size: 50 });
  assert.equal(data.total_count, data.workspaces.length, JSON.stringify(data));
  return Object.fromEntries(data.workspaces.map((w) => [w.id, { type: w.workspace_type, enterprise: w.enterprise_id }]));
}

// seedFallback is the seed's code: try the personal credential and, on 4100/4101, the enterprise one. It
// resolves to which credential answered.
async function seedFallback(personal, enterprise, call) {
  try {
    await call(personal);
    return 'personal';
  } catch (err) {
    const denied = err instanceof AuthenticationError || err instanceof PermissionDeniedError || [4100, 4101].includes(err?.code);
    if (!denied) throw err;
  }
  await call(enterprise);
  return 'enterprise';
}

describe('enterprise upgrade: @coze/api JWT with accountId across a workspace migration', { skip: skipReason(), timeout: 60_000 }, () => {
  const srv = useServer();
  const fx = {};

  before(async () => {
    const user = (name) => srv.admin(['user', 'create', '--username', name, '--password-stdin'], { input: `${PASSWORD}\n` });
    fx.alice = await user('alice');
    await user('boss');
    fx.ent = (await srv.admin(['enterprise', 'create', '--name', 'Acme', '--super-admin', 'boss'])).enterprise_id;
    assert.notDeepEqual(await srv.admin(['enterprise', 'add-member', '--enterprise', fx.ent, '--user', 'alice', '--role', 'Admin']), {}); // prints the changed object
    fx.alpha = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
    fx.beta = (await srv.admin(['workspace', 'create', '--name', 'Beta', '--owner', 'alice'])).workspace_id;
    fx.bot = (await srv.admin(['resource', 'create', '--workspace', fx.alpha, '--type', 'bot'])).resource_id;
    fx.bot2 = (await srv.admin(['resource', 'create', '--workspace', fx.beta, '--type', 'bot'])).resource_id;

    const perms = ['--permission', 'Bot.chat', '--permission', 'Workspace.list'];
    fx.app = await srv.admin(['app', 'create', '--owner', 'alice', '--type', 'jwt', '--name', 'Chat Service', ...perms]);
    const key = await srv.admin(['app', 'gen-key', '--app', fx.app.app_id]);
    fx.keyid = key.public_key_id;
    fx.privateKey = key.private_key;
    assert.notDeepEqual(await srv.admin(['app', 'authorize', '--app', fx.app.app_id, '--user', 'alice', '--workspaces', 'all']), {}); // prints the changed object
    // The seed's new PAT: made in the enterprise, valid for all its workspaces.
    fx.patEnt = (await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'enterprise', '--permanent',
      '--workspaces', 'all', '--enterprise', fx.ent, ...perms])).token;
  });

  // The seed's personal credential: a JWT token acting in alice's personal account (account/{id}/token).
  const personalToken = async () => {
    const tok = await getJWTToken({
      baseURL: srv.baseURL, appId: fx.app.client_id, aud: `127.0.0.1:${srv.port}`, keyid: fx.keyid,
      privateKey: fx.privateKey, accountId: fx.alice.account_id,
    });
    assert.equal(typeof tok.access_token, 'string', JSON.stringify(tok));
    return tok.access_token;
  };

  // Seed 004: the developer reads their UID and passes it as the personal account ID.
  it('the personal account ID is the UID that /v1/users/me reports', async () => {
    const me = await api(srv, fx.patEnt).users.me();
    assert.equal(me.user_id, fx.alice.user_id);
    assert.equal(fx.alice.account_id, me.user_id, 'admin user create reports the account ID as the user ID');
    const tok = await getJWTToken({
      baseURL: srv.baseURL, appId: fx.app.client_id, aud: `127.0.0.1:${srv.port}`, keyid: fx.keyid,
      privateKey: fx.privateKey, accountId: me.user_id,
    });
    assert.equal((await api(srv, tok.access_token).users.me()).user_id, me.user_id);
  });

  it('before the migration the accountId token reaches the bot and lists the workspace as personal', async () => {
    fx.before = await personalToken();
    await assertAllowed(srv, fx.before, fx.bot, 'personal JWT token before the migration');
    assert.deepEqual(await listed(srv, fx.before), {
      [fx.alpha]: { type: 'personal', enterprise: '' },
      [fx.beta]: { type: 'personal', enterprise: '' },
    });
    await assertDenied(srv, fx.patEnt, fx.bot, 'enterprise PAT before the migration');
    assert.equal(await seedFallback(fx.before, fx.patEnt, (t) => chat(srv, t, fx.bot)), 'personal');
  });

  it('the dry run lists the app’s grant with the workspace and moves nothing', async () => {
    const out = await srv.admin(['workspace', 'migrate', '--workspace', fx.alpha, '--enterprise', fx.ent, '--by', 'alice', '--dry-run']);
    assert.equal(out.migrated, false, JSON.stringify(out));
    const grant = out.affected.find((a) => a.type === 'app_auth');
    assert.ok(grant, `no app_auth entry in the checklist: ${JSON.stringify(out)}`);
    assert.equal(grant.name, 'Chat Service', JSON.stringify(grant));
    assert.deepEqual(grant.workspaces, [fx.alpha], JSON.stringify(grant));
    await assertAllowed(srv, fx.before, fx.bot, 'personal JWT token after the dry run');
  });

  it('after the migration the same token and a new accountId token get 4101 on the bot', async () => {
    const out = await srv.admin(['workspace', 'migrate', '--workspace', fx.alpha, '--enterprise', fx.ent, '--by', 'alice']);
    assert.equal(out.migrated, true, JSON.stringify(out));
    await eventually(PROPAGATION_MS, () => assertDenied(srv, fx.before, fx.bot, 'personal JWT token issued before'));
    const after = await personalToken();
    await assertDenied(srv, after, fx.bot, 'personal JWT token issued after');
    // What stayed personal is still reached.
    await assertAllowed(srv, after, fx.bot2, 'personal JWT token, the workspace that stayed');
    assert.deepEqual(await listed(srv, after), { [fx.beta]: { type: 'personal', enterprise: '' } });
  });

  it('the enterprise PAT reaches the migrated workspace, and the seed’s fallback answers with it', async () => {
    await assertAllowed(srv, fx.patEnt, fx.bot, 'enterprise PAT after the migration');
    const ws = await listed(srv, fx.patEnt);
    assert.deepEqual(ws[fx.alpha], { type: 'team', enterprise: fx.ent }, JSON.stringify(ws));
    const personal = await personalToken();
    assert.equal(await seedFallback(personal, fx.patEnt, (t) => chat(srv, t, fx.bot)), 'enterprise');
    assert.equal(await seedFallback(personal, fx.patEnt, (t) => chat(srv, t, fx.bot2)), 'personal');
  });
});
