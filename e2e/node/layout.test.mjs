// Layout end-to-end test (issue 12.8): every console page, in English and Chinese, at 1280×800 and on a 390×844
// phone, with 100-character unbroken names on every object a page lists. Nothing may overflow the page
// horizontally, every button and row action stays inside the viewport, no button label breaks over two lines, the
// navigation is one row at 1280 px for an enterprise admin and a menu on the phone. Fixtures come from the admin CLI.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';

import { browserSkipReason, screenshot, signIn, useBrowser } from './lib/browser.mjs';
import { skipReason, useServer } from './lib/server.mjs';
import { PASSWORD } from './lib/util.mjs';

const skip = skipReason() || browserSkipReason();
const long = (p) => (p + 'x'.repeat(100)).slice(0, 100);

// problems lists what overflows in the page: the document wider than the viewport, a visible button, link or
// input whose box leaves the viewport, a button whose label wraps.
function problems() {
  const out = [];
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) {
    // The widest text, which an element's own box may not show.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const wide = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(n);
      if (range.getBoundingClientRect().right > vw + 1) wide.push(`${n.parentElement.tagName}: ${n.textContent.trim().slice(0, 30)}`);
    }
    out.push(`page is ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport (${wide.join(', ')})`);
  }
  for (const el of document.querySelectorAll('main button, main a, main input, main textarea, main select, header a, header button, nav a, nav button, nav summary')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue; // not shown
    const name = (el.getAttribute('aria-label') || el.textContent || el.name || el.id || el.tagName).trim().slice(0, 40);
    if (r.left < -1 || r.right > vw + 1) out.push(`${el.tagName} "${name}" spans ${Math.round(r.left)}–${Math.round(r.right)}px`);
    if (el.matches('button, a.button')) {
      const cs = getComputedStyle(el);
      const line = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5;
      const inner = r.height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom) - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
      if (inner > line * 1.5) out.push(`button "${name}" wraps (${Math.round(inner)}px for a ${Math.round(line)}px line)`);
    }
  }
  return out;
}

describe('console layout at 1280 px and 390 px, English and Chinese, with 100-character names', { skip }, () => {
  const srv = useServer();
  const browser = useBrowser();
  const pages = [];

  before(async () => {
    await srv.admin(['user', 'create', '--username', 'alice', '--nickname', long('Alice'), '--password-stdin'], { input: `${PASSWORD}\n` });
    const ent = (await srv.admin(['enterprise', 'create', '--name', long('Enterprise'), '--super-admin', 'alice'])).enterprise_id;
    const ws = (await srv.admin(['workspace', 'create', '--name', long('Workspace'), '--owner', 'alice'])).workspace_id;
    await srv.admin(['workspace', 'create', '--name', long('EntWorkspace'), '--enterprise', ent]);
    const pat = await srv.admin(['pat', 'create', '--user', 'alice', '--name', long('Token'), '--days', '30', '--permission', 'Bot.chat',
      '--workspaces', ws]);
    const entPAT = await srv.admin(['pat', 'create', '--user', 'alice', '--name', long('EntToken'), '--days', '30',
      '--enterprise', ent, '--permission', 'Workspace.list']);
    const sat = await srv.admin(['sat', 'create', '--enterprise', ent, '--name', long('Service token'), '--days', '30', '--permission', 'Bot.chat']);
    const web = await srv.admin(['app', 'create', '--name', long('WebApp'), '--owner', 'alice', '--type', 'web',
      '--redirect-uri', `http://127.0.0.1:9/${'r'.repeat(90)}`, '--permission', 'Bot.chat']);
    const svc = await srv.admin(['app', 'create', '--name', long('ServiceApp'), '--owner', 'alice', '--type', 'jwt', '--permission', 'Bot.chat']);
    await srv.admin(['app', 'gen-key', '--app', svc.app_id]);
    await srv.admin(['app', 'authorize', '--app', svc.app_id, '--user', 'alice']);
    await srv.admin(['enterprise', 'install-app', '--enterprise', ent, '--app', svc.app_id, '--by', 'alice']);
    await srv.admin(['account', 'authorize-enterprise-credential', '--user', 'alice', '--credential', entPAT.id]);
    pages.push('/console', '/console/tokens', '/console/tokens/new', `/console/tokens/${pat.id}/edit`, '/console/sats',
      `/console/sats/${sat.id}/edit`, '/console/apps', '/console/apps/new', `/console/apps/${web.app_id}`,
      `/console/apps/${svc.app_id}`, `/console/apps/${svc.app_id}/sample`, '/console/authorized', '/console/workspaces',
      '/console/enterprises', `/console/enterprises/${ent}/installations`, '/console/personal-resources', '/console/audit',
      '/console/account', `/console/workspaces/${ws}/migrate?enterprise=${ent}`);
  });

  for (const [vw, vh] of [[1280, 800], [390, 844]]) {
    for (const lang of ['en', 'zh-CN']) {
      it(`${vw}×${vh} ${lang}`, async () => {
        const context = await browser.newContext({ viewport: { width: vw, height: vh } });
        const page = await context.newPage();
        try {
          await page.goto(`${srv.baseURL}/console`);
          await signIn(page, 'alice', PASSWORD);
          await page.waitForURL(/\/console/);
          await page.goto(`${srv.baseURL}/console?lang=${lang}`); // the cookie keeps it
          assert.equal(await page.locator('html').getAttribute('lang'), lang);
          const found = [];
          for (const path of pages) {
            const res = await page.goto(srv.baseURL + path);
            assert.equal(res.status(), 200, `${path}: ${res.status()}`);
            for (const p of await page.evaluate(problems)) found.push(`${path}: ${p}`);
          }
          await page.goto(`${srv.baseURL}/console/apps`);
          await screenshot(page, `layout-apps-${vw}-${lang}`);
          const navItems = page.locator('#console-nav-list > li');
          if (vw >= 1280) {
            // One row: every top-level entry on the first entry's line.
            const tops = await navItems.evaluateAll((lis) => lis.map((li) => li.getBoundingClientRect().top));
            assert.ok(tops.length >= 5, `nav entries: ${tops.length}`);
            assert.ok(tops.every((t) => Math.abs(t - tops[0]) < 2), `the navigation wraps: ${tops}`);
            assert.equal(await page.locator('nav .menu-toggle').isVisible(), false);
          } else {
            // A menu: the entries appear when its button is pressed.
            const toggle = page.locator('nav .menu-toggle');
            assert.equal(await navItems.first().isVisible(), false, 'the phone navigation is open before the menu is pressed');
            await toggle.click();
            assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
            await navItems.first().waitFor();
            for (const p of await page.evaluate(problems)) found.push(`open menu: ${p}`);
            await screenshot(page, `layout-menu-${vw}-${lang}`);
          }
          assert.deepEqual(found, []);
        } finally {
          await context.close();
        }
      });
    }
  }
});
