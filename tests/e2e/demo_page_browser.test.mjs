// demo_page_browser.test.mjs: the demo page of `server.demo_page` in a real browser (issue 20):
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens
// http://HOST:PORT/, the page connects to /echo by itself, a message typed and sent comes back
// and the page shows it with its round trip, and a drain of the gateway (SIGTERM) shows as
// "closed: code 1001". Asserts on what the page shows, not on a socket of the test's own, and
// saves a screenshot (its path is printed). Skipped, saying why, where Chromium is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startGateway, echoConfig } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const T = { timeout: 90000 };
const have = fs.existsSync(CHROMIUM);

test('the demo page connects, echoes what is typed, and shows the drain', { ...T, skip: have ? false : `${CHROMIUM} is not installed (scripts/install-deps --test installs it)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const gw = await startGateway(t, echoConfig({ extraServer: '  demo_page: /\n  heartbeat: {interval: 0}\n' }));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  await page.goto(`http://127.0.0.1:${gw.listener(0).port}/`, { timeout: 15000 });
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open', null, { timeout: 15000 });
  assert.match(await page.inputValue('#url'), /^ws:\/\/127\.0\.0\.1:\d+\/echo$/);

  await page.fill('#message', 'héllo from chromium');
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('count').textContent === '1', null, { timeout: 10000 });
  const log = await page.textContent('#log');
  assert.ok(log.includes('> héllo from chromium'), log);
  assert.ok(log.includes('< héllo from chromium'), log);
  assert.match(await page.textContent('#rtt'), /^\d+\.\d ms$/);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgated-demo-page-'));
  const shot = path.join(dir, 'demo-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 1000);
  console.log(`screenshot: ${shot}`);

  const code = gw.stop('SIGTERM');
  await page.waitForFunction(() => document.getElementById('state').textContent === 'closed', null, { timeout: 15000 });
  assert.match(await page.textContent('#log'), /closed: code 1001 “going away”/);
  assert.equal((await code).code, 0, gw.stderr);
  assert.deepEqual(errors, [], 'no script errors on the page');
});
