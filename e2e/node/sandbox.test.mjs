// Seed 004's fallback ("升级企业版后更新 API 授权") with the official @coze/api SDK against `cozeauth serve --dev`,
// whose gateway answers chat routes with the in-process sandbox (its bot echoes the user's message): the personal
// credential chats with chat.stream and chat.createAndPoll until its workspace migrates into the enterprise (admin
// CLI), then gets 4101, and the seed's fallback answers with the enterprise PAT. The personal credentials are a PAT
// and a JWT token of a Service app for alice's account (getJWTToken({ accountId })). Then the rest of an SDK
// program against the sandbox: conversations, messages, workflow run and stream.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { AuthenticationError, CozeAPI, PermissionDeniedError, RoleType, getJWTToken } from '@coze/api';

import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject } from './lib/util.mjs';

// The server must see a change made by the admin CLI (another process) within this.
const PROPAGATION_MS = 1000;

const CHAT_PERMS = ['--permission', 'Bot.chat', '--permission', 'Chat.getChat', '--permission', 'Conversation.listMessage'];

const api = (srv, token) => new CozeAPI({ token, baseURL: srv.baseURL });
const question = (text) => [{ role: RoleType.User, type: 'question', content: text, content_type: 'text' }];

// streamChat is chat.stream: it checks the event order and that the deltas add up to the answer, which it returns.
async function streamChat(srv, token, botId, text) {
  const events = [];
  let deltas = '';
  let answer;
  const stream = await api(srv, token).chat.stream({ bot_id: botId, user_id: 'seed-004', additional_messages: question(text) });
  for await (const part of stream) {
    events.push(part.event);
    if (part.event === 'conversation.message.delta') deltas += part.data.content;
    if (part.event === 'conversation.message.completed' && part.data.type === 'answer') answer = part.data.content;
  }
  assert.equal(events[0], 'conversation.chat.created', events.join(' '));
  assert.equal(events[1], 'conversation.chat.in_progress', events.join(' '));
  assert.deepEqual(events.slice(-2), ['conversation.chat.completed', 'done'], events.join(' '));
  assert.ok(events.includes('conversation.message.delta'), events.join(' '));
  assert.equal(deltas, answer);
  return answer;
}

// pollChat is chat.createAndPoll: it returns the answer among the chat's messages.
async function pollChat(srv, token, botId, text) {
  const { chat, messages } = await api(srv, token).chat.createAndPoll({
    bot_id: botId, user_id: 'seed-004', additional_messages: question(text),
  });
  assert.equal(chat.status, 'completed', JSON.stringify(chat));
  assert.ok(chat.usage?.token_count > 0, JSON.stringify(chat));
  return messages.find((m) => m.type === 'answer')?.content;
}

const MODES = { stream: streamChat, createAndPoll: pollChat };

// seedFallback is the seed's code: chat with the personal credential; when that is refused for authentication or
// authorization (4100/4101), chat again with the enterprise one. On a stream @coze/api raises the error class of the
// HTTP status without the code (it does not read the JSON body of a refused stream), hence the class test beside
// the code. It resolves to { who, answer }.
async function seedFallback(personal, enterprise, chat) {
  try {
    return { who: 'personal', answer: await chat(personal) };
  } catch (err) {
    const denied = [4100, 4101].includes(err?.code) || err instanceof AuthenticationError || err instanceof PermissionDeniedError;
    if (!denied) throw err;
  }
  return { who: 'enterprise', answer: await chat(enterprise) };
}

// assertDenied checks the SDK raises PermissionDeniedError (HTTP 403; code 4101 where the SDK reads it).
async function assertDenied(p, what) {
  const err = await expectReject(p);
  assert.ok(err instanceof PermissionDeniedError, `${what}: got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, 403, `${what}: ${err.message}`);
  if (err.code !== undefined) assert.equal(err.code, 4101, `${what}: ${err.message}`);
  assert.ok(err.logid, `${what}: logid missing`);
}

describe('seed 004 fallback with @coze/api against serve --dev (the sandbox upstream)', { skip: skipReason(), timeout: 90_000 }, () => {
  const srv = useServer({ args: ['--dev'] });
  const fx = {};

  before(async () => {
    const user = (name) => srv.admin(['user', 'create', '--username', name, '--password-stdin'], { input: `${PASSWORD}\n` });
    fx.alice = await user('alice');
    await user('boss');
    fx.ent = (await srv.admin(['enterprise', 'create', '--name', 'Acme', '--super-admin', 'boss'])).enterprise_id;
    await srv.admin(['enterprise', 'add-member', '--enterprise', fx.ent, '--user', 'alice', '--role', 'Admin']);
    fx.ws = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
    fx.bot = (await srv.admin(['resource', 'create', '--workspace', fx.ws, '--type', 'bot'])).resource_id;
    fx.workflow = (await srv.admin(['resource', 'create', '--workspace', fx.ws, '--type', 'workflow'])).resource_id;

    fx.patPersonal = (await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'personal', '--days', '30',
      '--workspaces', 'all', ...CHAT_PERMS, '--permission', 'Conversation.create', '--permission', 'Conversation.createMessage',
      '--permission', 'Workflow.run'])).token;
    // The seed's new PAT: made in the enterprise, valid for all its workspaces.
    fx.patEnt = (await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'enterprise', '--permanent',
      '--workspaces', 'all', '--enterprise', fx.ent, ...CHAT_PERMS])).token;

    fx.app = await srv.admin(['app', 'create', '--owner', 'alice', '--type', 'jwt', '--name', 'Chat Service', ...CHAT_PERMS]);
    const key = await srv.admin(['app', 'gen-key', '--app', fx.app.app_id]);
    fx.keyid = key.public_key_id;
    fx.privateKey = key.private_key;
    await srv.admin(['app', 'authorize', '--app', fx.app.app_id, '--user', 'alice', '--workspaces', 'all']);
  });

  // The seed's AppAuth personal credential: a JWT token acting in alice's personal account.
  const jwtPersonal = async () => {
    const tok = await getJWTToken({
      baseURL: srv.baseURL, appId: fx.app.client_id, aud: `127.0.0.1:${srv.port}`, keyid: fx.keyid,
      privateKey: fx.privateKey, accountId: fx.alice.account_id,
    });
    return tok.access_token;
  };
  const personals = async () => ({ PAT: fx.patPersonal, 'JWT token': await jwtPersonal() });

  it('before the migration the personal credentials chat (stream and createAndPoll) and the fallback answers with them', async () => {
    for (const [cred, token] of Object.entries(await personals())) {
      for (const [mode, chat] of Object.entries(MODES)) {
        const text = `What can you do? (${cred}, ${mode}, before)`;
        const got = await seedFallback(token, fx.patEnt, (t) => chat(srv, t, fx.bot, text));
        assert.deepEqual(got, { who: 'personal', answer: text }, `${cred} ${mode}`);
        // The enterprise PAT does not reach the personal workspace yet.
        await assertDenied(chat(srv, fx.patEnt, fx.bot, text), `enterprise PAT, ${mode}, before the migration`);
      }
    }
  });

  it('after the migration the personal credentials get 4101 and the seed’s fallback answers with the enterprise PAT', async () => {
    const out = await srv.admin(['workspace', 'migrate', '--workspace', fx.ws, '--enterprise', fx.ent, '--by', 'alice']);
    assert.equal(out.migrated, true, JSON.stringify(out));
    await eventually(PROPAGATION_MS, () => assertDenied(pollChat(srv, fx.patPersonal, fx.bot, 'settle'), 'personal PAT after the migration'));
    for (const [cred, token] of Object.entries(await personals())) {
      for (const [mode, chat] of Object.entries(MODES)) {
        const text = `What can you do? (${cred}, ${mode}, after)`;
        await assertDenied(chat(srv, token, fx.bot, text), `personal ${cred}, ${mode}, after the migration`);
        const got = await seedFallback(token, fx.patEnt, (t) => chat(srv, t, fx.bot, text));
        assert.deepEqual(got, { who: 'enterprise', answer: text }, `${cred} ${mode}`);
      }
    }
  });

  it('the rest of an SDK program runs on the sandbox: conversations, messages, workflows', async () => {
    const client = api(srv, fx.patPersonal);
    const conv = await client.conversations.create({ meta_data: { from: 'node' } });
    assert.match(conv.id, /^\d+$/, JSON.stringify(conv));
    assert.deepEqual(conv.meta_data, { from: 'node' });
    const msg = await client.conversations.messages.create(conv.id, { role: 'user', content: 'note to self', content_type: 'text' });
    assert.equal(msg.type, 'question', JSON.stringify(msg));
    const list = await client.conversations.messages.list(conv.id);
    assert.deepEqual(list.data.map((m) => m.content), ['note to self']);
    assert.equal(list.first_id, msg.id);
    assert.equal(list.has_more, false);

    // Alpha has moved into the enterprise; run a workflow of a workspace that stayed personal.
    const ws2 = (await srv.admin(['workspace', 'create', '--name', 'Beta', '--owner', 'alice'])).workspace_id;
    const wf = (await srv.admin(['resource', 'create', '--workspace', ws2, '--type', 'workflow'])).resource_id;
    const run = await client.workflows.runs.create({ workflow_id: wf, parameters: { city: 'Paris', days: 3 } });
    assert.deepEqual(JSON.parse(run.data), { city: 'Paris', days: 3 });
    assert.ok(run.execute_id, JSON.stringify(run));
    const events = [];
    for await (const ev of await client.workflows.runs.stream({ workflow_id: wf, parameters: { q: 'hi' } })) events.push(ev);
    assert.deepEqual(events.map((e) => [e.id, e.event]), [[0, 'Message'], [1, 'Done']]);
    assert.deepEqual(JSON.parse(events[0].data.content), { q: 'hi' });
    // The migrated workspace's workflow is refused to the personal PAT, like its bot.
    await assertDenied(client.workflows.runs.create({ workflow_id: fx.workflow, parameters: {} }), 'personal PAT, workflow in the migrated workspace');
  });
});
