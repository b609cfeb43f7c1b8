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

import { startGateway, echoConfig, makeCerts, tempDir } from './harness.mjs';

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

// Over TLS (issue 18: our own TLS layer): the same page served over https:// connects with
// wss:// by itself; then the page's script sends a 64 KiB binary and a 1 MiB text message,
// each many TLS records long, and both come back whole.
test('over TLS: the page connects with wss:// and large messages echo whole', { ...T, skip: have ? false : `${CHROMIUM} is not installed` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const dir = tempDir(t);
  const certs = makeCerts(dir);
  const gw = await startGateway(t, echoConfig({
    listen: [{ address: '127.0.0.1:0', tls: { cert: certs.cert, key: certs.key } }],
    extraServer: '  demo_page: /\n  heartbeat: {interval: 0}\n  limits: {max_message_size: 2MiB}\n',
  }), { dir });
  assert.equal(gw.listener(0).scheme, 'wss');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--ignore-certificate-errors'] });
  t.after(() => browser.close());
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  await page.goto(`https://127.0.0.1:${gw.listener(0).port}/`, { timeout: 15000 });
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open', null, { timeout: 15000 });
  assert.match(await page.inputValue('#url'), /^wss:\/\/127\.0\.0\.1:\d+\/echo$/);

  const result = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('wss failed')); });
    const next = () => new Promise((res) => { ws.onmessage = (e) => res(e.data); });
    const bin = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);
    ws.send(bin);
    const back = new Uint8Array(await next());
    const unit = 'wsgated over TLS ✓ ';
    const text = unit.repeat(Math.ceil(1024 * 1024 / unit.length)).slice(0, 1024 * 1024);
    ws.send(text);
    const textBack = await next();
    ws.close(1000);
    return { binOk: back.length === bin.length && back.every((b, i) => b === bin[i]),
             textOk: textBack === text, textLength: textBack.length };
  }, `wss://127.0.0.1:${gw.listener(0).port}/echo`);
  assert.deepEqual(result, { binOk: true, textOk: true, textLength: 1024 * 1024 });
});
