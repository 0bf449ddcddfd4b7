// dbkit studio in a real headless browser: Debian's chromium driven by
// playwright-core (no browser download). Run by tests/e2e/test_studio.sh with
//   STUDIO_RO_URL  a read-only studio's URL (with ?token=)
//   STUDIO_RW_URL  a studio started with --allow-edit
//   STUDIO_BIG_URL a studio on a database of 500 tables with foreign keys (optional)
//   STUDIO_SHOTS   where the screenshots go
//   STUDIO_NODE_MODULES  node_modules holding playwright-core (cached under the build folder)
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(process.env.STUDIO_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const RO = process.env.STUDIO_RO_URL, RW = process.env.STUDIO_RW_URL, BIG = process.env.STUDIO_BIG_URL, SHOTS = process.env.STUDIO_SHOTS;
mkdirSync(SHOTS, { recursive: true });

let fails = 0;
const ok = (cond, what, got) => {
  if (cond) console.log(`ok: browser: ${what}`);
  else { fails++; console.log(`FAIL: browser: ${what}${got !== undefined ? ` (got ${JSON.stringify(got)})` : ''}`); }
};
const at = (url, hash) => url.replace(/#.*$/, '') + '#' + hash;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  // Without the token: refused.
  const base = new URL(RO);
  const denied = await page.goto(`${base.origin}/`);
  ok(denied.status() === 401, 'the page without its token is refused with 401', denied.status());
  ok((await page.content()).includes('missing or wrong token'), 'the refusal says why');

  // Migrations: the tags, the state, one click shows the SQL.
  await page.goto(at(RO, 'migrations'));
  await page.waitForSelector('#view-migrations[data-ready="1"]');
  const tags = await page.$$eval('.mig-row[data-tag]', (rs) => rs.map((r) => r.dataset.tag));
  ok(tags.length === 5 && tags[0] === '0000_create_users' && tags[4] === '0004_add_published_to_posts', 'migrations: the five tags in order', tags);
  const states = await page.$$eval('.mig-row .mig-state', (rs) => rs.map((r) => r.textContent));
  ok(states.every((s) => s === 'applied'), 'migrations: all applied', states);
  ok((await page.textContent('.mig-row[data-tag="0000_create_users"]')).includes('postgres'), 'migrations: who applied it');
  await page.click('.mig-row[data-tag="0002_create_api_keys"]');
  await page.waitForSelector('#mig-detail pre.sql');
  ok((await page.textContent('#mig-detail pre.sql')).includes('CREATE TABLE "api_keys"'), 'migrations: one click shows the SQL');
  ok((await page.textContent('#mig-detail-panel')).includes('applied by'), 'migrations: the detail says who applied it');
  await page.screenshot({ path: `${SHOTS}/migrations.png` });

  // Drift: the column added by hand, with its author and application.
  await page.goto(at(RO, 'drift'));
  await page.waitForSelector('.drift-item');
  const drift = await page.textContent('#view-drift');
  ok(drift.includes('public.users.nickname'), 'drift: the column added by hand', drift.slice(0, 200));
  ok(await page.$eval('.drift-item .audit-user', (e) => e.textContent.includes('postgres')), 'drift: the audit entry names the user');
  ok(drift.includes('hotfix-console'), 'drift: and the application');
  ok(drift.includes('ALTER TABLE users ADD COLUMN nickname text'), 'drift: and the statement');
  ok(await page.isVisible('#accept-drift'), 'drift: an accept button');
  await page.screenshot({ path: `${SHOTS}/drift.png` });

  // Schema: a table's columns; the diagram.
  await page.goto(at(RO, 'schema/public/users'));
  await page.waitForSelector('#schema-table .col-name');
  const cols = await page.$$eval('#schema-table .col-name', (cs) => cs.map((c) => c.textContent));
  ok(['id', 'email', 'name', 'created_at', 'nickname'].every((c) => cols.includes(c)), 'schema: the users table\'s columns', cols);
  ok((await page.textContent('#schema-table')).includes('users_email_unique'), 'schema: its constraints');
  ok((await page.textContent('#schema-table .table-comment')) === 'people who <b>sign in</b>', 'schema: the table\'s comment, as text');
  ok((await page.$$eval('#schema-table .col-comment', (cs) => cs.map((c) => c.textContent))).includes('<img src=x onerror=alert(1)>')
    && (await page.$$('#schema-table img')).length === 0, 'schema: a column\'s comment, as text (no markup)');
  await page.fill('#schema-filter', 'memberships');
  ok((await page.$$('#tlist [data-q]')).length === 1, 'schema: the filter box narrows the list');
  await page.fill('#schema-filter', '');
  await page.screenshot({ path: `${SHOTS}/schema.png` });
  await page.click('.tabs button[data-tab="diagram"]');
  await page.waitForSelector('#diagram g.box');
  const boxes = await page.$$eval('#diagram g.box', (g) => g.map((x) => x.dataset.q));
  ok(boxes.includes('public.users') && boxes.includes('public.posts'), 'schema: the diagram draws the tables', boxes);
  ok((await page.$$('#diagram path.fk')).length >= 5, 'schema: and the foreign keys');
  await page.screenshot({ path: `${SHOTS}/diagram.png` });

  // Data: a page of rows, then the next one.
  await page.goto(at(RO, 'data/public/users'));
  await page.waitForSelector('#rows tbody tr');
  ok((await page.$$('#rows tbody tr')).length === 50, 'data: a page of 50 rows');
  ok((await page.textContent('#data-meta')).includes('75 rows'), 'data: the row count', await page.textContent('#data-meta'));
  await page.click('#p-next');
  await page.waitForFunction(() => document.querySelectorAll('#rows tbody tr').length === 25);
  ok(true, 'data: the next page has the other 25');
  await page.click('#p-prev');
  await page.waitForFunction(() => document.querySelectorAll('#rows tbody tr').length === 50);
  await page.screenshot({ path: `${SHOTS}/data.png` });

  // Edit refused without --allow-edit (the server says so).
  await page.dblclick('#rows tbody tr:first-child td:nth-child(3)');
  await page.fill('#edit-value', 'should not stick');
  await page.click('#edit-save');
  await page.waitForSelector('#edit-result .error-box');
  ok((await page.textContent('#edit-result')).includes('editing is off'), 'data: an edit is refused without --allow-edit');

  // Query: a result, an error with its position.
  await page.goto(at(RO, 'query'));
  await page.fill('#sql', "SELECT tag, applied_by FROM dbkit_status() WHERE tag LIKE '%posts%' ORDER BY tag");
  await page.click('#run');
  await page.waitForSelector('#q-table tbody tr');
  const q = await page.$$eval('#q-table tbody tr', (rs) => rs.map((r) => r.textContent));
  ok(q.length === 2 && q[0].includes('0003_create_posts') && q[0].includes('postgres'), 'query: the result', q);
  await page.screenshot({ path: `${SHOTS}/query.png` });
  await page.fill('#sql', 'SELECT nope FROM users');
  await page.click('#run');
  await page.waitForSelector('#q-error .error-box');
  const qe = await page.textContent('#q-error');
  ok(qe.includes('column "nope" does not exist') && qe.includes('at character 8'), 'query: the error and its position', qe);

  // With --allow-edit: the edit commits and shows its statement.
  const rw = await ctx.newPage();
  rw.setDefaultTimeout(60000);
  await rw.goto(at(RW, 'data/public/users'));
  await rw.waitForSelector('#rows tbody tr');
  await rw.selectOption('#f-col', 'email');
  await rw.selectOption('#f-op', '=');
  await rw.fill('#f-val', 'user2@example.com');
  await rw.click('#f-add');
  await rw.waitForFunction(() => document.querySelectorAll('#rows tbody tr').length === 1);
  const nameCol = await rw.$$eval('#rows th', (ths) => ths.findIndex((t) => t.dataset.col === 'name'));
  await rw.dblclick(`#rows tbody tr td:nth-child(${nameCol + 1})`);
  await rw.fill('#edit-value', 'Browser edit');
  await rw.click('#edit-save');
  await rw.waitForSelector('#edit-result .ok-box');
  ok((await rw.textContent('#edit-result .edit-statement')).startsWith('UPDATE "public"."users" SET "name" = $1::text WHERE "id" OPERATOR(pg_catalog.=) $2::uuid'), 'data: with --allow-edit the edit commits and shows its statement');
  await rw.waitForFunction(() => document.querySelector('#rows tbody').textContent.includes('Browser edit'));
  ok(true, 'data: the grid shows the new value');

  // Schema at 500 tables: it renders, a table is found and its columns shown, the
  // diagram draws the table's neighbourhood. Generous timeouts; the times are printed.
  if (BIG) {
    const big = await ctx.newPage();
    big.setDefaultTimeout(60000);
    big.on('pageerror', (e) => errors.push(String(e)));
    const lap = (() => { let t = Date.now(); return () => { const n = Date.now(), d = n - t; t = n; return d; }; })();
    await big.goto(at(BIG, 'schema'));
    await big.waitForSelector('#schema-table .col-name');
    const tOpen = lap();
    ok((await big.$$('#tlist [data-q]')).length === 500, 'schema at 500 tables: every table listed');
    ok((await big.textContent('#view-schema h2')).includes('500 tables'), 'schema at 500 tables: counted');
    await big.screenshot({ path: `${SHOTS}/schema500.png` });
    lap();
    await big.fill('#schema-filter', 't250');
    await big.waitForFunction(() => document.querySelectorAll('#tlist [data-q]').length === 1);
    await big.click('#tlist [data-q="big.t250"]');
    await big.waitForFunction(() => document.querySelector('#schema-table h3')?.textContent.startsWith('big.t250'));
    const tFind = lap();
    const cols = await big.$$eval('#schema-table .col-name', (cs) => cs.map((c) => c.textContent));
    ok(['id', 'name', 'parent_id', 'prev_id'].every((c) => cols.includes(c)), 'schema at 500 tables: the table found by the filter shows its columns', cols);
    const fks = await big.$$eval('#schema-table .fk-link', (as) => as.map((a) => a.textContent));
    ok(['big.t125', 'big.t249', 'big.t251', 'big.t500'].every((q) => fks.includes(q)), 'schema at 500 tables: its foreign keys, both ways', fks);
    await big.fill('#schema-filter', '');
    lap();
    await big.click('.tabs button[data-tab="diagram"]');
    await big.waitForSelector('#diagram g.box.sel');
    const tDiagram = lap();
    const boxes = await big.$$eval('#diagram g.box', (g) => g.map((x) => x.dataset.q));
    ok(boxes.length <= 60 && ['big.t250', 'big.t125', 'big.t249', 'big.t251', 'big.t500', 'big.t062'].every((q) => boxes.includes(q)),
      'schema at 500 tables: the diagram draws the selected table and its neighbourhood, 60 boxes at most', boxes);
    ok((await big.$$('#diagram path.fk')).length >= 4, 'schema at 500 tables: with their foreign keys');
    ok((await big.textContent('#diagram-note')).includes('two foreign keys away'), 'schema at 500 tables: the diagram says what it shows');
    await big.screenshot({ path: `${SHOTS}/diagram500.png` });
    await big.fill('#schema-filter', 't25');
    await big.waitForFunction(() => document.querySelectorAll('#diagram g.box').length === 10);
    ok(true, 'schema at 500 tables: a filter to 10 tables (t250 to t259) draws those 10');
    await big.click('#diagram g.box[data-q="big.t253"]');
    await big.waitForFunction(() => document.querySelector('#schema-table h3')?.textContent.startsWith('big.t253'));
    ok(true, 'schema at 500 tables: a click on a box shows that table');
    console.log(`measured: schema view at 500 tables: open to the first table's columns ${tOpen} ms, filter + click to a table's columns ${tFind} ms, diagram ${tDiagram} ms`);
  }
  ok(errors.length === 0, 'no JavaScript errors', errors);
} finally {
  await browser.close();
}
console.log(fails ? `${fails} browser check(s) failed` : 'all browser checks passed');
process.exit(fails ? 1 : 0);
