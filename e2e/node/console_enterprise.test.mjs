// Console end-to-end tests of the enterprise pages (seed 004) in headless Chromium: an app owner copies the share
// link of a Service app, an enterprise admin opens it, installs the app, sees it under App installations and revokes
// it after confirming; a user reviews the migration checklist of a personal workspace (their personal PAT and an
// authorized app are on it), migrates it, and then the personal PAT gets 4101 on a bot there while an enterprise PAT
// for all workspaces is allowed; an admin authorizes an enterprise PAT to reach their personal account-level
// resources and revokes it, each taking effect at once. Users, workspaces, tokens and apps are made by the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { browserSkipReason, screenshot, signIn, useBrowser } from './lib/browser.mjs';
import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD } from './lib/util.mjs';

const skip = skipReason() || browserSkipReason();

// check asks POST /api/cozeauth/v1/authz/check whether token may use permission on resource; it resolves to the
// Coze code (0 when allowed).
async function check(baseURL, token, permission, resource) {
  const res = await fetch(`${baseURL}/api/cozeauth/v1/authz/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ permission, resource }),
  });
  const body = await res.json();
  if (body.code === 0) assert.equal(body.data?.allowed, true, JSON.stringify(body));
  if (body.code === 4101) assert.equal(res.status, 403, JSON.stringify(body));
  return body.code;
}

describe('web console: enterprise pages', { skip }, () => {
  const srv = useServer();
  const browser = useBrowser();
  const fx = {};

  before(async () => {
    const user = (name) => srv.admin(['user', 'create', '--username', name, '--password-stdin'], { input: `${PASSWORD}\n` });
    fx.alice = await user('alice'); // SuperAdmin of Acme, owner of the personal workspace Alpha
    await user('olivia'); // owner of the Service app to share
    fx.acme = (await srv.admin(['enterprise', 'create', '--name', 'Acme', '--super-admin', 'alice'])).enterprise_id;
    fx.alpha = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
    fx.bot = (await srv.admin(['resource', 'create', '--type', 'bot', '--workspace', fx.alpha])).resource_id;
    fx.personalPAT = (await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'alice personal', '--days', '30',
      '--permission', 'Bot.chat', '--workspaces', 'all'])).token;
    fx.enterprisePAT = (await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'acme all', '--days', '30',
      '--enterprise', fx.acme, '--permission', 'Bot.chat', '--permission', 'Conversation.create', '--workspaces', 'all'])).token;
    const svc = await srv.admin(['app', 'create', '--name', 'alice svc', '--owner', 'alice', '--type', 'jwt', '--permission', 'Bot.chat']);
    await srv.admin(['app', 'authorize', '--app', svc.app_id, '--user', 'alice']);
    fx.shared = await srv.admin(['app', 'create', '--name', 'Shared Service', '--owner', 'olivia', '--type', 'jwt',
      '--description', 'Answers support chats', '--permission', 'Bot.chat', '--permission', 'Conversation.create']);
  });

  async function signedIn(username, opts = {}) {
    const context = await browser.newContext(opts);
    const page = await context.newPage();
    await page.goto(`${srv.baseURL}/console`);
    await signIn(page, username, PASSWORD);
    await page.waitForURL(`${srv.baseURL}/console`);
    return { context, page };
  }

  it('share link: the owner copies it, an enterprise admin installs the app, sees it and revokes it', async () => {
    const owner = await signedIn('olivia', { permissions: ['clipboard-read', 'clipboard-write'] });
    let link;
    try {
      const { page } = owner;
      await page.getByRole('link', { name: 'OAuth apps', exact: true }).click();
      await page.getByRole('link', { name: 'Shared Service', exact: true }).click();
      await page.getByRole('heading', { name: 'Share with an enterprise' }).waitFor();
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
      link = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(link, `${srv.baseURL}/console/install/${fx.shared.client_id}`);
      assert.equal(await page.getByLabel('Share link', { exact: true }).inputValue(), link);
      await screenshot(page, 'console-app-share');
    } finally {
      await owner.context.close();
    }

    // The admin opens the link, signs in and lands back on it.
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(link);
      await signIn(page, 'alice', PASSWORD);
      await page.waitForURL(link);
      await page.getByRole('heading', { name: 'Install Shared Service' }).waitFor();
      await page.getByText('Answers support chats').waitFor();
      await page.getByText('olivia (personal account)').waitFor();
      await page.getByText('Conversation.create', { exact: true }).waitFor();
      await page.getByText('Enterprise · All workspaces').waitFor();
      await page.getByLabel('Enterprise', { exact: true }).selectOption({ label: 'Acme' });
      await screenshot(page, 'console-install');
      await page.getByRole('button', { name: 'Install', exact: true }).click();
      await page.waitForURL(`${srv.baseURL}/console/enterprises/${fx.acme}/installations?done=installed`);
      await page.getByText('App installed for all workspaces of the enterprise.').waitFor();
      const row = page.getByRole('row').filter({ hasText: 'Shared Service' });
      await row.getByText('alice', { exact: true }).waitFor();
      await row.getByText('Bot.chat', { exact: true }).waitFor();
      await screenshot(page, 'console-installations');

      // The navigation leads here too.
      await page.locator('nav summary', { hasText: 'Enterprise' }).click(); // the enterprise pages' group
      await page.getByRole('link', { name: 'Enterprises', exact: true }).click();
      await page.getByRole('link', { name: 'App installations of Acme' }).click();
      await page.getByRole('heading', { name: 'App installations: Acme' }).waitFor();

      // Revoke, after a confirmation.
      await page.getByRole('button', { name: 'Revoke Shared Service' }).click();
      await page.getByRole('heading', { name: 'Revoke Shared Service?' }).waitFor();
      await page.getByRole('button', { name: 'Revoke installation' }).click();
      await page.waitForURL(/\/installations\?done=revoked$/);
      await page.getByText('Installation revoked.', { exact: false }).waitFor();
      assert.equal(await page.getByRole('row').filter({ hasText: 'Shared Service' }).count(), 0);

      // A POST without the CSRF token is refused.
      const res = await page.request.post(link, { form: { enterprise: fx.acme }, maxRedirects: 0 });
      assert.equal(res.status(), 403);
    } finally {
      await context.close();
    }
  });

  it('migration: the checklist names what loses access; afterwards personal PATs get 4101 and enterprise PATs reach it', async () => {
    const bot = { type: 'bot', id: fx.bot };
    assert.equal(await check(srv.baseURL, fx.personalPAT, 'Bot.chat', bot), 0, 'personal PAT before');
    assert.equal(await check(srv.baseURL, fx.enterprisePAT, 'Bot.chat', bot), 4101, 'enterprise PAT before');

    const { context, page } = await signedIn('alice');
    try {
      await page.getByRole('link', { name: 'Workspaces', exact: true }).click();
      const row = page.getByRole('row').filter({ hasText: 'Alpha' });
      await row.getByText('Personal space', { exact: true }).waitFor();
      await row.getByRole('button', { name: 'Migrate to enterprise' }).click();
      await page.getByRole('heading', { name: 'Migrate Alpha to an enterprise' }).waitFor();
      await page.getByLabel('Enterprise', { exact: true }).selectOption({ label: 'Acme' });
      await page.getByRole('button', { name: 'Review' }).click();

      await page.getByRole('heading', { name: 'What loses access' }).waitFor();
      const pat = page.getByRole('row').filter({ hasText: 'alice personal' });
      await pat.getByText('Personal access token', { exact: true }).waitFor();
      await pat.getByText('Alpha', { exact: true }).waitFor();
      await page.getByRole('row').filter({ hasText: 'alice svc' }).getByText('App authorization (AppAuth)').waitFor();
      await page.getByText('stop reaching the workspace', { exact: false }).waitFor();
      await page.getByText('must authorize them again as members of the enterprise', { exact: false }).waitFor();
      await screenshot(page, 'console-migrate-review');
      await page.getByRole('link', { name: '简体中文' }).click();
      await page.getByRole('heading', { name: '将失去访问权限的凭证' }).waitFor();
      await page.getByRole('cell', { name: '个人访问令牌', exact: true }).waitFor();
      await screenshot(page, 'console-migrate-review-zh');
      await page.getByRole('link', { name: 'English' }).click();

      await page.getByRole('button', { name: 'Migrate', exact: true }).click();
      await page.waitForURL(/\/console\/workspaces\?done=migrated/);
      await page.getByText('Workspace Alpha now belongs to Acme: it is a team space of the enterprise.').waitFor();
      const moved = page.getByRole('row').filter({ hasText: 'Alpha' });
      await moved.getByText('Team space', { exact: true }).waitFor();
      await moved.getByText('Acme', { exact: true }).waitFor();
      assert.equal(await moved.getByRole('button', { name: 'Migrate to enterprise' }).count(), 0);
      await screenshot(page, 'console-workspaces-migrated');
    } finally {
      await context.close();
    }
    assert.equal(await check(srv.baseURL, fx.personalPAT, 'Bot.chat', bot), 4101, 'personal PAT after');
    assert.equal(await check(srv.baseURL, fx.enterprisePAT, 'Bot.chat', bot), 0, 'enterprise PAT after');
  });

  it('personal account resources: authorizing an enterprise PAT lets it reach account-level resources; revoking stops it at once', async () => {
    const account = { type: 'account', id: fx.alice.account_id };
    assert.equal(await check(srv.baseURL, fx.enterprisePAT, 'Conversation.create', account), 4101, 'before');

    const { context, page } = await signedIn('alice');
    try {
      await page.locator('nav summary', { hasText: 'Enterprise' }).click(); // the enterprise pages' group
      await page.getByRole('link', { name: 'Personal account resources', exact: true }).click();
      await page.getByRole('heading', { name: 'Personal account resource authorization' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: 'acme all' });
      await row.getByText('Enterprise PAT', { exact: true }).waitFor();
      await row.getByText('Conversation.create', { exact: true }).waitFor();
      await row.getByText('Not authorized', { exact: true }).waitFor();
      assert.equal(await row.getByText('Bot.chat').count(), 0, 'only account-level permissions are listed');
      assert.equal(await page.getByRole('row').filter({ hasText: 'alice personal' }).count(), 0, 'a personal PAT is listed');

      await row.getByRole('button', { name: 'Authorize acme all' }).click();
      await page.waitForURL(/\/console\/personal-resources\?done=authorized$/);
      await page.getByRole('row').filter({ hasText: 'acme all' }).getByText('Authorized', { exact: true }).waitFor();
      await screenshot(page, 'console-personal-resources');
      assert.equal(await check(srv.baseURL, fx.enterprisePAT, 'Conversation.create', account), 0, 'after authorize');

      await page.getByRole('button', { name: 'Revoke acme all' }).click();
      await page.getByRole('heading', { name: 'Revoke the authorization of acme all?' }).waitFor();
      await page.getByRole('button', { name: 'Revoke', exact: true }).click();
      await page.waitForURL(/\/console\/personal-resources\?done=revoked$/);
      assert.equal(await check(srv.baseURL, fx.enterprisePAT, 'Conversation.create', account), 4101, 'after revoke');
      await page.getByRole('button', { name: 'Authorize acme all' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
