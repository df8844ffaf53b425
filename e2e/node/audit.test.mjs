// Audit log page end-to-end test: a person fails to sign in once, signs in, creates a personal access token in the
// console, and then finds both in the audit log page in headless Chromium; the filters narrow the list, a hostile
// value in a filter is shown as text, and the page works in Simplified Chinese. Users are made by the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { browserSkipReason, screenshot, signIn, useBrowser } from './lib/browser.mjs';
import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD } from './lib/util.mjs';

const skip = skipReason() || browserSkipReason();

describe('web console: audit log', { skip }, () => {
  const srv = useServer();
  const browser = useBrowser();

  before(async () => {
    await srv.admin(['user', 'create', '--username', 'alice', '--password-stdin'], { input: `${PASSWORD}\n` });
    await srv.admin(['workspace', 'create', '--name', 'Alpha', '--owner', 'alice']);
  });

  it('lists the sign-ins and changes, filters them, escapes values', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${srv.baseURL}/console`);
      await signIn(page, 'alice', 'not the password');
      await page.waitForURL(/\/login/);
      await signIn(page, 'alice', PASSWORD);
      await page.waitForURL(`${srv.baseURL}/console`);

      await page.getByRole('link', { name: 'Personal access tokens' }).click();
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.getByLabel('Name', { exact: true }).fill('audited token');
      await page.getByLabel('Workspace.list', { exact: true }).check();
      await page.getByLabel('All workspaces', { exact: true }).check();
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByLabel('Token', { exact: true }).waitFor();

      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.waitForURL(`${srv.baseURL}/console/audit`);
      const rows = page.locator('table.audit tbody tr');
      const actions = await rows.locator('th[scope=row]').allTextContents();
      assert.deepEqual(actions.map((s) => s.trim()).slice(0, 3), ['pat.create', 'signin.success', 'signin.failure']);
      const first = await rows.first().textContent();
      assert.match(first, /127\.0\.0\.1/);
      assert.doesNotMatch(await page.content(), /pat_[0-9a-f]{16}/);
      await screenshot(page, 'console-audit');

      await page.getByLabel(/^Action/).fill('signin.');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/action=signin\./);
      const filtered = (await rows.locator('th[scope=row]').allTextContents()).map((s) => s.trim());
      assert.deepEqual(filtered, ['signin.success', 'signin.failure']);

      // A hostile filter value is text, never markup.
      const hostile = '"><img src=x onerror="window.__xss=1">';
      await page.goto(`${srv.baseURL}/console/audit?target_id=${encodeURIComponent(hostile)}`);
      assert.equal(await page.getByLabel('Target ID').inputValue(), hostile);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('img[src=x]').count(), 0);
      assert.equal(await page.getByText('No events match.').count(), 1);

      await page.goto(`${srv.baseURL}/console/audit?lang=zh-CN`);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), '审计日志');
      assert.equal(await page.getByRole('button', { name: '应用筛选' }).count(), 1);
    } finally {
      await context.close();
    }
  });
});
