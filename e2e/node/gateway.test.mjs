// The gateway with the official @coze/api SDK: cozeauth serves --upstream in front of the test upstream
// (e2e/upstream, a separate Go process recording what it receives). chat.stream arrives event by event (the
// upstream pauses after its first event until the test releases it, so the first event must reach the SDK
// before the pause ends); chat.createAndPoll, conversations.create, workflows.runs.stream and files.upload go
// through; the upstream sees the upstream token and the caller's identity, never the caller's PAT; a refusal
// never reaches it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CozeAPI, PermissionDeniedError, RoleType } from '@coze/api';

import { isCI, repoRoot, skipReason, startServer } from './lib/server.mjs';
import { PASSWORD, expectReject } from './lib/util.mjs';

const UPSTREAM_TOKEN = 'node-upstream-token';

// startUpstream builds and runs e2e/upstream; it resolves to { url, stop, records, count, release }.
async function startUpstream(dir) {
  const bin = join(dir, 'upstream');
  const build = spawnSync('go', ['build', '-o', bin, './e2e/upstream'], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building e2e/upstream: ${build.error?.message ?? ''}\n${build.stderr}`);
  const child = spawn(bin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    child.on('exit', (code) => reject(new Error(`upstream exited ${code} before printing its URL`)));
  });
  const control = async (method, path) => {
    const res = await fetch(url + path, { method });
    assert.equal(res.status, 200, `upstream ${method} ${path}`);
    return res.json();
  };
  return {
    url,
    stop: () => child.kill('SIGKILL'),
    records: async () => (await control('GET', '/_upstream/records')).records,
    count: async () => (await control('GET', '/_upstream/count')).count,
    release: () => control('POST', '/_upstream/release'),
  };
}

const goMissing = () => {
  const r = spawnSync('go', ['version']);
  if (r.status === 0) return false;
  if (isCI) throw new Error('go not found; CI must run the gateway tests');
  return 'go not found (needed to build e2e/upstream)';
};

describe('gateway: @coze/api through cozeauth to an upstream', { skip: skipReason() || goMissing(), timeout: 120_000 }, () => {
  let dir, up, srv, coze, pat, patNoChat, alice, ws, bot, workflow;
  const last = async () => (await up.records()).at(-1);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cozeauth-gw-'));
    up = await startUpstream(dir);
    srv = await startServer({ args: ['--upstream', up.url, '--upstream-token', UPSTREAM_TOKEN] });
    ({ user_id: alice } = await srv.admin(['user', 'create', '--username', 'alice', '--password-stdin'], { input: PASSWORD }));
    ({ workspace_id: ws } = await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice']));
    ({ resource_id: bot } = await srv.admin(['resource', 'create', '--workspace', ws, '--type', 'bot']));
    ({ resource_id: workflow } = await srv.admin(['resource', 'create', '--workspace', ws, '--type', 'workflow']));
    const perms = ['Bot.chat', 'Chat.getChat', 'Conversation.listMessage', 'Conversation.create', 'Workflow.run', 'File.uploadFile'];
    ({ token: pat } = await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'sdk', '--days', '30', '--workspaces', 'all',
      ...perms.flatMap((p) => ['--permission', p])]));
    ({ token: patNoChat } = await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'no chat', '--days', '30',
      '--permission', 'Conversation.create']));
    coze = new CozeAPI({ token: pat, baseURL: srv.baseURL });
  });

  after(async () => {
    await srv?.stop();
    up?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const message = { role: RoleType.User, content: 'hello through the gateway', content_type: 'text' };

  it('chat.stream: events arrive one by one (the first before the upstream pause ends)', async () => {
    const events = [];
    for await (const part of coze.chat.stream({ bot_id: bot, user_id: 'end-user', additional_messages: [message] })) {
      events.push(part.event);
      // The upstream sent only this event and waits for the release: receiving it here proves the
      // gateway forwards events as they come.
      if (events.length === 1) await up.release();
    }
    assert.deepEqual(events, ['conversation.chat.created', 'conversation.message.delta', 'conversation.message.completed',
      'conversation.chat.completed', 'done']);
    const rec = (await up.records()).find((r) => r.path === '/v3/chat');
    assert.equal(rec.header.Authorization?.[0], `Bearer ${UPSTREAM_TOKEN}`);
    assert.equal(rec.header['X-Cozeauth-User-Id']?.[0], alice);
    assert.equal(rec.header['X-Cozeauth-Credential-Type']?.[0], 'pat');
    assert.equal(rec.header['X-Cozeauth-Workspace-Id']?.[0], ws);
    assert.ok(!JSON.stringify(rec.header).includes(pat), 'the caller PAT reached the upstream');
  });

  it('chat.createAndPoll', async () => {
    const { chat, messages } = await coze.chat.createAndPoll({ bot_id: bot, additional_messages: [message] });
    assert.equal(chat.status, 'completed');
    assert.equal(messages.length, 1);
    assert.equal(messages[0].content, 'echo');
    const paths = (await up.records()).map((r) => r.path);
    assert.ok(paths.includes('/v3/chat/retrieve') && paths.includes('/v3/chat/message/list'), paths.join(' '));
  });

  it('conversations.create', async () => {
    const conv = await coze.conversations.create({});
    assert.match(conv.id, /^\d+$/);
    assert.equal((await last()).path, '/v1/conversation/create');
  });

  it('workflows.runs.stream', async () => {
    const events = [];
    for await (const ev of coze.workflows.runs.stream({ workflow_id: workflow, parameters: {} })) {
      events.push(ev.event);
      if (events.length === 1) await up.release();
    }
    assert.deepEqual(events, ['Message', 'Message', 'Done']);
    const rec = await last();
    assert.equal(rec.path, '/v1/workflow/stream_run');
    assert.equal(rec.header['X-Cozeauth-Workspace-Id']?.[0], ws);
  });

  it('files.upload', async () => {
    const path = join(dir, 'notes.txt');
    const content = 'x'.repeat(200_000);
    await writeFile(path, content);
    const file = await coze.files.upload({ file: createReadStream(path) });
    assert.equal(file.bytes, content.length);
    assert.equal(file.file_name, 'notes.txt');
    const rec = await last();
    assert.equal(rec.path, '/v1/files/upload');
    assert.equal(rec.files['notes.txt'], content.length);
  });

  it('a refusal never reaches the upstream', async () => {
    const before = await up.count();
    const err = await expectReject(new CozeAPI({ token: patNoChat, baseURL: srv.baseURL }).chat.create({
      bot_id: bot, additional_messages: [message],
    }));
    assert.ok(err instanceof PermissionDeniedError, `${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, 4101);
    assert.ok(err.logid);
    assert.equal(await up.count(), before);
  });
});
