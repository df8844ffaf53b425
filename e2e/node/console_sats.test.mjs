// Console end-to-end test of service access tokens: an enterprise admin (made by the admin CLI) creates a SAT in
// the console, uses it with the official @coze/api SDK (a SAT answers its own service identity, not the admin's),
// and deletes it (then it gets 4100). A Member of the enterprise sees no Service access tokens pages.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { AuthenticationError, CozeAPI } from '@coze/api';

import { browserSkipReason, screenshot, signIn, useBrowser } from './lib/browser.mjs';
import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD, eventually, expectReject, sleep } from './lib/util.mjs';

const skip = skipReason() || browserSkipReason();

describe('web console: service access tokens', { skip }, () => {
  const srv = useServer();
  const browser = useBrowser();
  const fx = {};

  before(async () => {
    for (const u of ['erin', 'mallory']) {
      await srv.admin(['user', 'create', '--username', u, '--password-stdin'], { input: `${PASSWORD}\n` });
    }
    fx.ent = (await srv.admin(['enterprise', 'create', '--name', 'Acme', '--super-admin', 'erin'])).enterprise_id;
    await srv.admin(['enterprise', 'add-member', '--enterprise', fx.ent, '--user', 'mallory', '--role', 'Member']);
    fx.ws = (await srv.admin(['workspace', 'create', '--name', 'Acme space', '--enterprise', fx.ent])).workspace_id;
  });

  async function signedIn(user) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${srv.baseURL}/login`);
    await signIn(page, user, PASSWORD);
    await page.waitForURL(`${srv.baseURL}/console`);
    return { context, page };
  }

  it('an admin creates a SAT, uses it as the service, deletes it (then 4100)', async () => {
    const { context, page } = await signedIn('erin');
    try {
      await page.locator('nav summary', { hasText: 'Enterprise' }).click(); // the enterprise pages' group
      await page.getByRole('link', { name: 'Service access tokens' }).click();
      await page.waitForURL(`${srv.baseURL}/console/sats`);
      await page.getByRole('heading', { name: 'Acme' }).waitFor();
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.waitForURL(/\/console\/sats\/new/);

      await page.getByLabel('Name', { exact: true }).fill('e2e service');
      await page.getByLabel('Expiration', { exact: true }).selectOption('permanent');
      await page.getByLabel('Acme', { exact: true }).check();
      assert.equal(await page.getByLabel('Personal', { exact: true }).count(), 0, 'a SAT has no personal account');
      await page.getByLabel('Workspace.list', { exact: true }).check();
      await page.getByLabel('All workspaces', { exact: true }).check();
      await screenshot(page, 'console-sat-create');

      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/console/sats/created'),
        page.getByRole('button', { name: 'Create', exact: true }).click(),
      ]);
      assert.equal(resp.status(), 200);
      assert.equal(resp.headers()['cache-control'], 'no-store');
      const input = page.getByLabel('Token', { exact: true });
      const token = await input.inputValue();
      assert.match(token, /^sat_/);
      assert.equal(await input.getAttribute('readonly'), '');
      await page.getByRole('button', { name: 'Copy', exact: true }).waitFor();

      const coze = new CozeAPI({ token, baseURL: srv.baseURL });
      const me = await coze.users.me();
      assert.notEqual(me.user_name, 'erin', `a SAT acts as the service, not its creator: ${JSON.stringify(me)}`);
      assert.equal(me.user_name, 'e2e service', JSON.stringify(me));
      const wss = await coze.workspaces.list();
      assert.ok(wss.workspaces.some((w) => w.id === fx.ws), JSON.stringify(wss));

      await page.getByRole('link', { name: 'Back to Service access tokens' }).click();
      await page.waitForURL(`${srv.baseURL}/console/sats`);
      assert.ok(!(await page.content()).includes(token), 'the list shows the token');
      const row = page.getByRole('row').filter({ hasText: 'e2e service' });
      await row.filter({ hasText: 'Never used' }).or(row.filter({ hasText: 'Permanent' })).first().waitFor();
      await screenshot(page, 'console-sats');

      await page.getByRole('button', { name: 'Delete e2e service' }).click();
      await page.getByRole('heading', { name: 'Delete e2e service?' }).waitFor();
      await page.getByRole('button', { name: 'Delete token', exact: true }).click();
      await page.waitForURL(/\/console\/sats\?done=deleted/);
      assert.equal(await page.getByRole('row').filter({ hasText: 'e2e service' }).count(), 0);
      const err = await eventually(1500, () => expectReject(coze.users.me()));
      assert.ok(err instanceof AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 4100);
    } finally {
      await context.close();
    }
  });

  it('a Member has no Service access tokens pages', async () => {
    const { context, page } = await signedIn('mallory');
    try {
      assert.equal(await page.getByRole('link', { name: 'Service access tokens' }).count(), 0);
      const res = await page.goto(`${srv.baseURL}/console/sats`);
      assert.equal(res.status(), 404);
    } finally {
      await context.close();
    }
  });
});
