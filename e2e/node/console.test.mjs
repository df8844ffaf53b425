// Console end-to-end tests: a person signs in to the web console in headless Chromium, creates a personal access
// token, uses it with the official @coze/api SDK, edits and deletes it (then it gets 4100), and switches the
// console to Simplified Chinese. Users and workspaces are made by the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { AuthenticationError, CozeAPI } from '@coze/api';

import { browserSkipReason, screenshot, signIn, useBrowser } from './lib/browser.mjs';
import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject, sleep } from './lib/util.mjs';

const skip = skipReason() || browserSkipReason();

describe('web console: personal access tokens', { skip }, () => {
  const srv = useServer();
  const browser = useBrowser();
  const fx = {};

  before(async () => {
    fx.alice = await srv.admin(['user', 'create', '--username', 'alice', '--password-stdin'], { input: `${PASSWORD}\n` });
    fx.alpha = (await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice'])).workspace_id;
  });

  // signedIn opens the console in a fresh context and signs in (the console sends to /login and back).
  async function signedIn(opts) {
    const context = await browser.newContext(opts);
    const page = await context.newPage();
    await page.goto(`${srv.baseURL}/console`);
    assert.match(new URL(page.url()).pathname, /^\/login$/);
    await signIn(page, 'alice', PASSWORD);
    await page.waitForURL(`${srv.baseURL}/console`);
    return { context, page };
  }

  it('creates a token, uses it, edits it, deletes it (then 4100)', async () => {
    const { context, page } = await signedIn({ permissions: ['clipboard-read', 'clipboard-write'] });
    try {
      await page.getByRole('link', { name: 'Personal access tokens' }).click();
      await page.waitForURL(`${srv.baseURL}/console/tokens`);
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.waitForURL(/\/console\/tokens\/new/);

      await page.getByLabel('Name', { exact: true }).fill('e2e token');
      await page.getByLabel('Expiration', { exact: true }).selectOption('90');
      await page.getByLabel('Workspace.list', { exact: true }).check();
      await page.getByLabel('All workspaces', { exact: true }).check();
      await screenshot(page, 'console-token-create');

      // POST/redirect/GET: the token is shown by the GET the creating POST redirects to.
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/console/tokens/created'),
        page.getByRole('button', { name: 'Create', exact: true }).click(),
      ]);
      assert.equal(resp.status(), 200);
      assert.equal(resp.headers()['cache-control'], 'no-store');
      assert.match(resp.headers()['content-security-policy'], /frame-ancestors 'none'/);

      const input = page.getByLabel('Token', { exact: true });
      const token = await input.inputValue();
      assert.match(token, /^pat_/);
      assert.equal(await input.getAttribute('readonly'), '');
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, 'the clipboard holds the token');

      // Reloading the page neither shows the token again nor creates another (issue 12.3).
      await page.reload();
      await page.getByText('This token was already shown').waitFor();
      assert.ok(!(await page.content()).includes(token), 'the reloaded page shows the token');

      const coze = new CozeAPI({ token, baseURL: srv.baseURL });
      const me = await coze.users.me();
      assert.equal(me.user_name, 'alice', JSON.stringify(me));
      const wss = await coze.workspaces.list();
      assert.ok(wss.workspaces.some((w) => w.id === fx.alpha), JSON.stringify(wss));

      // The list never shows the token again.
      await page.getByRole('link', { name: 'Back to Personal access tokens' }).click();
      await page.waitForURL(`${srv.baseURL}/console/tokens`);
      assert.ok(!(await page.content()).includes(token), 'the list shows the token');
      const row = page.getByRole('row').filter({ hasText: 'e2e token' });
      await row.waitFor();
      assert.equal(await row.count(), 1, 'the reload created no second token');
      await screenshot(page, 'console-tokens');

      // Edit the name.
      await page.getByRole('link', { name: 'Edit e2e token' }).click();
      await page.getByLabel('Name', { exact: true }).fill('e2e renamed');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.waitForURL(/\/console\/tokens\?done=updated/);
      await page.getByRole('row').filter({ hasText: 'e2e renamed' }).waitFor();
      assert.equal((await coze.users.me()).user_name, 'alice');

      // Delete with confirmation; the token stops working at once.
      await page.getByRole('button', { name: 'Delete e2e renamed' }).click();
      await page.getByRole('heading', { name: 'Delete e2e renamed?' }).waitFor();
      await page.getByRole('button', { name: 'Delete token', exact: true }).click();
      await page.waitForURL(/\/console\/tokens\?done=deleted/);
      assert.equal(await page.getByRole('row').filter({ hasText: 'e2e renamed' }).count(), 0);
      const started = Date.now();
      const err = await eventually(1500, () => expectReject(coze.users.me()));
      assert.ok(err instanceof AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 4100);
      assert.ok(Date.now() - started < 1500);
    } finally {
      await context.close();
    }
  });

  it('picks whole permission groups with "select all", with and without JavaScript', async () => {
    // With JavaScript the box ticks the group's boxes and follows them.
    let { context, page } = await signedIn();
    try {
      await page.goto(`${srv.baseURL}/console/tokens/new`);
      const files = page.getByRole('group', { name: 'Files', exact: true });
      const all = page.getByLabel('Select all: Files', { exact: true });
      await all.check();
      assert.ok(await files.getByLabel('File.uploadFile', { exact: true }).isChecked());
      assert.ok(await files.getByLabel('File.retrieveFile', { exact: true }).isChecked());
      await files.getByLabel('File.retrieveFile', { exact: true }).uncheck();
      assert.equal(await all.isChecked(), false, 'one box off: the group box is off');
      assert.equal(await all.evaluate((el) => el.indeterminate), true, 'and shows a mixed state');
      await files.getByLabel('File.retrieveFile', { exact: true }).check();
      assert.equal(await all.isChecked(), true, 'every box on: the group box is on');
      await screenshot(page, 'console-token-groups');
      await page.getByLabel('Name', { exact: true }).fill('e2e groups js');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByLabel('Token', { exact: true }).waitFor();
      await page.goto(`${srv.baseURL}/console/tokens`);
      const row = page.getByRole('row').filter({ hasText: 'e2e groups js' });
      await row.getByText('File.retrieveFile', { exact: true }).waitFor();
      await row.getByText('File.uploadFile', { exact: true }).waitFor();
    } finally {
      await context.close();
    }

    // Without JavaScript the box is posted and the server grants the whole group.
    ({ context, page } = await signedIn({ javaScriptEnabled: false }));
    try {
      await page.goto(`${srv.baseURL}/console/tokens/new`);
      await page.getByLabel('Name', { exact: true }).fill('e2e groups nojs');
      await page.getByLabel('Select all: Chat', { exact: true }).check();
      assert.equal(await page.getByLabel('Chat.cancelChat', { exact: true }).isChecked(), false, 'no script ticks the boxes');
      assert.equal(await page.getByLabel('Chat.cancelChat', { exact: true }).isDisabled(), false, 'nothing is disabled');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByLabel('Token', { exact: true }).waitFor();
      await page.goto(`${srv.baseURL}/console/tokens`);
      const row = page.getByRole('row').filter({ hasText: 'e2e groups nojs' });
      for (const p of ['Chat.cancelChat', 'Chat.getChat', 'Chat.submitToolChat']) await row.getByText(p, { exact: true }).waitFor();
      assert.equal(await row.getByText('File.uploadFile', { exact: true }).count(), 0);
    } finally {
      await context.close();
    }
  });

  it('a custom expiry date ends at the end of that day in the browser\'s time zone, which the page names', async () => {
    const { context, page } = await signedIn({ timezoneId: 'Asia/Shanghai' });
    try {
      await page.goto(`${srv.baseURL}/console/tokens/new`);
      await page.getByLabel('Name', { exact: true }).fill('e2e dated');
      await page.getByLabel('Expiration', { exact: true }).selectOption('custom');
      await page.getByText('Time zone: Asia/Shanghai').waitFor();
      const day = new Date(Date.now() + 20 * 86400_000).toISOString().slice(0, 10);
      await page.getByLabel('Expires on', { exact: true }).fill(day);
      await page.getByLabel('Workspace.list', { exact: true }).check();
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.waitForURL(/\/console\/tokens\/created/);
      const { personal_access_tokens: pats } = await srv.admin(['pat', 'list', '--user', 'alice']);
      const pat = pats.find((p) => p.name === 'e2e dated');
      assert.ok(pat, JSON.stringify(pats));
      // 23:59:59 in Shanghai (UTC+8, no DST) is 15:59:59 UTC.
      assert.equal(new Date(pat.expire_at * 1000).toISOString(), `${day}T15:59:59.000Z`);
      await page.goto(`${srv.baseURL}/console/tokens`);
      await page.locator('footer').getByText('Asia/Shanghai').waitFor();
    } finally {
      await context.close();
    }
  });

  it('the account page shows the UID that users.me returns, copies it and saves the profile', async () => {
    const { context, page } = await signedIn({ permissions: ['clipboard-read', 'clipboard-write'] });
    try {
      await page.getByRole('link', { name: /Signed in as/ }).click();
      await page.waitForURL(`${srv.baseURL}/console/account`);
      const uid = await page.getByLabel('UID (personal account ID)').inputValue();
      assert.equal(uid, fx.alice.user_id);
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), uid);
      await page.getByLabel('Nickname', { exact: true }).fill('Alice B.');
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.getByText('Profile saved.').waitFor();
      await screenshot(page, 'console-account');
      const { token } = await srv.admin(['pat', 'create', '--user', 'alice', '--name', 'me', '--days', '1', '--permission', 'Workspace.list']);
      const me = await new CozeAPI({ token, baseURL: srv.baseURL }).users.me();
      assert.equal(me.user_id, uid);
      assert.equal(me.nick_name, 'Alice B.');
    } finally {
      await context.close();
    }
  });

  it('a slow button (sign in) is disabled and says it is working while its request runs', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${srv.baseURL}/login`);
      // Hold the sign-in POST until the button has been looked at.
      let release;
      const held = new Promise((r) => { release = r; });
      await page.route('**/login', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        await held;
        return route.continue();
      });
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(PASSWORD);
      // Clicked in the page (Playwright's click would wait for the held navigation); looked at 100 ms later.
      const state = await page.evaluate(() => new Promise((resolve) => {
        const b = document.querySelector('form button[type=submit][data-busy]');
        b.click();
        setTimeout(() => resolve({ disabled: b.disabled, text: b.textContent, busy: b.form.getAttribute('aria-busy') }), 100);
      }));
      assert.deepEqual(state, { disabled: true, text: 'Signing in…', busy: 'true' });
      release();
      await page.waitForURL(`${srv.baseURL}/console`);
    } finally {
      await context.close();
    }
  });

  it('switches to 简体中文 and remembers it', async () => {
    const { context, page } = await signedIn();
    try {
      await page.goto(`${srv.baseURL}/console/tokens/new`);
      await page.getByRole('link', { name: '简体中文' }).click();
      await page.getByLabel('名称', { exact: true }).waitFor();
      await page.getByLabel('过期时间', { exact: true }).waitFor();
      await page.getByRole('group', { name: '智能体', exact: true }).getByLabel('全选：智能体', { exact: true }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
      await page.goto(`${srv.baseURL}/console/tokens`); // no ?lang=: the cookie remembers
      await page.getByRole('button', { name: '添加令牌' }).waitFor();
      await page.getByRole('link', { name: '个人访问令牌' }).waitFor();
      await page.getByRole('link', { name: 'English' }).click();
      await page.getByRole('button', { name: 'Create token' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('refuses a console POST without a CSRF token', async () => {
    const { context, page } = await signedIn();
    try {
      const res = await page.request.post(`${srv.baseURL}/console/tokens`, {
        form: { name: 'forged', expiration: '30', workspaces: 'all' },
        maxRedirects: 0,
      });
      assert.equal(res.status(), 403);
      await page.goto(`${srv.baseURL}/console/tokens`);
      assert.equal(await page.getByRole('row').filter({ hasText: 'forged' }).count(), 0);
    } finally {
      await context.close();
    }
  });
});
