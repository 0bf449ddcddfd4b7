// Used by bench/studio_bench.sh: times the migrations view in headless chromium.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
const require = createRequire(process.env.STUDIO_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const url = process.env.STUDIO_URL, runs = Number(process.env.RUNS || 5), expect = Number(process.env.EXPECT || 0);
// BETWEEN: a shell command run before each request and page load, outside the timing
// (a write to the database, a touched file): the studio's caches then miss.
const change = () => { if (process.env.BETWEEN) execFileSync('sh', ['-c', process.env.BETWEEN]); };
const base = new URL(url), token = base.searchParams.get('token');
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs) => `${Math.round(med(xs))} ms (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

const api = [];
for (let i = 0; i < runs; i++) {
  change();
  const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total}', '-H', `X-Dbkit-Token: ${token}`, `${base.origin}/api/migrations`]).toString();
  api.push(Number(out) * 1000);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const total = [], inPage = [];
try {
  for (let i = 0; i < runs + 1; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    change();
    const t0 = Date.now();
    await page.goto(url.replace(/#.*$/, '') + '#migrations');
    await page.waitForSelector('#view-migrations[data-ready="1"]', { timeout: 60000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    const t1 = Date.now();
    const shown = await page.$eval('#view-migrations h2', (h) => h.textContent);
    if (expect && !shown.includes(String(expect))) throw new Error(`the view shows "${shown}", expected ${expect} migrations`);
    const r = Number(await page.$eval('#view-migrations', (v) => v.dataset.renderMs));
    if (i > 0) { total.push(t1 - t0); inPage.push(r); }  // the first load warms the browser
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`${fmt(api)} | ${fmt(total)} | ${fmt(inPage)}`);
