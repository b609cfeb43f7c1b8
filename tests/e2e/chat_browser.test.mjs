// chat_browser.test.mjs: the browser chat of examples/chat/ in headless Chromium (issue 20).
//
// For each backend of the example (Python, PHP, Node.js): wsgated runs the shipped
// examples/chat/gateway.yaml (ports from its ${CHAT_*_PORT} variables: the public and admin
// listeners on port 0, the backend on a free port), the backend serves the page, the auth hook
// and the events. Two browser contexts open the page as ann and bob in room lobby, and the test
// asserts on what each PAGE SHOWS (the message list, the presence count, the status line):
// the presence count goes 1 → 2; messages typed on either page appear on both, as text (markup
// typed stays text); bob's page is reloaded and rejoins, ann's count showing 2 → 1 → 2; the
// gateway is restarted on the same ports and both pages reconnect by themselves (backoff), and
// chat again, their browsers answering the gateway's heartbeat pings. Screenshots are saved (their paths printed) under
// $WSGATED_TEST_OUTPUT, else test-output/chat_browser/ next to the wsgated binary.
// Skipped, saying why, where /usr/bin/chromium is not installed; a backend whose interpreter
// is missing is skipped alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  BIN, SOURCE_DIR, startGateway, adminAddr, adminRequest, metrics, withTimeout, sleep,
} from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const have = fs.existsSync(CHROMIUM);
const CHAT = path.join(SOURCE_DIR, 'examples', 'chat');
const WAIT = 10000;  // ms for any one thing the page should show
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

function which(cmd) {
  try {
    return execFileSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch { return null; }
}

const BACKENDS = {
  python: () => {
    const exe = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : which('python3');
    return exe && ((port) => [exe, [path.join(CHAT, 'backend.py')]]);
  },
  php: () => {
    const exe = which('php');
    return exe && ((port) => [exe, ['-S', `127.0.0.1:${port}`, path.join(CHAT, 'backend.php')]]);
  },
  node: () => (port) => [process.execPath, [path.join(CHAT, 'backend.js')]],
};

function outputDir() {
  const dir = process.env.WSGATED_TEST_OUTPUT
    ? path.join(process.env.WSGATED_TEST_OUTPUT, 'chat_browser')
    : path.join(path.dirname(BIN), 'test-output', 'chat_browser');
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'wsgated-chat-browser-'));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Start the example's backend; resolves once GET /config.json answers. Killed when `t` ends
// (and by the kernel, through setpriv --pdeathsig, if this process dies first).
async function startBackend(t, argvFor, port, env) {
  const [exe, args] = argvFor(port);
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', exe, ...args]] : [exe, args];
  const clean = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => !/^(https?|all)_proxy$/i.test(k)));
  const proc = spawn(cmd, argv, { cwd: SOURCE_DIR, env: { ...clean, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'] });
  const b = { proc, log: '', exited: null };
  proc.stdout.setEncoding('utf8').on('data', (c) => { b.log += c; });
  proc.stderr.setEncoding('utf8').on('data', (c) => { b.log += c; });
  b.exit = new Promise((resolve) => proc.on('exit', (code, signal) => {
    b.exited = { code, signal };
    resolve(b.exited);
  }));
  t.after(() => { if (!b.exited) proc.kill('SIGKILL'); });
  const deadline = Date.now() + WAIT;
  for (;;) {
    if (b.exited) throw new Error(`${exe} exited ${JSON.stringify(b.exited)}:\n${b.log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/config.json`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return b;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${exe} not serving after ${WAIT} ms:\n${b.log}`);
    await sleep(50);
  }
}

// Records, from the moment the page's DOM exists, every value the presence count and the
// status line take: what a user would have seen, however briefly.
function recordTheDisplay() {
  window.__seen = { presence: [], status: [] };
  document.addEventListener('DOMContentLoaded', () => {
    for (const [key, id] of [['presence', 'presence-count'], ['status', 'status']]) {
      const el = document.getElementById(id);
      const note = () => {
        const list = window.__seen[key];
        if (list[list.length - 1] !== el.textContent) list.push(el.textContent);
      };
      note();
      new MutationObserver(note).observe(el, { childList: true, characterData: true, subtree: true });
    }
  });
}

// What the message list shows: one {kind, user, text} per line.
const shown = (page) => page.$$eval('#messages li', (lis) => lis.map((li) => ({
  kind: li.className,
  user: li.querySelector('.user')?.textContent ?? null,
  text: li.querySelector('.text')?.textContent ?? '',
  markup: li.querySelector('.text')?.children.length ?? 0,
})));

// Bounded waits on what a page shows.
async function waitShown(page, what, pred, ms = WAIT) {
  const t0 = Date.now();
  for (;;) {
    const lines = await shown(page);
    if (pred(lines)) return lines;
    if (Date.now() - t0 > ms) {
      throw new Error(`${what}: not shown within ${ms} ms; the page shows:\n${JSON.stringify(lines, null, 1)}`);
    }
    await sleep(50);
  }
}
const waitChat = (page, user, text) => waitShown(page, `chat line ${user}: ${text}`,
  (ls) => ls.some((l) => l.kind.startsWith('chat') && l.user === user && l.text === text));
const waitText = (page, sel, re, ms = WAIT) => page.waitForFunction(
  ([s, src]) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''),
  [sel, re.source], { timeout: ms }).catch(async (err) => {
  throw new Error(`${sel} never matched ${re} (it shows ${JSON.stringify(await page.textContent(sel))}): ${err.message}`);
});
const seen = (page, key) => page.evaluate((k) => window.__seen[k], key);

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

let browser;
before(async () => {
  if (!have) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => { await browser?.close(); });

const yaml = fs.readFileSync(path.join(CHAT, 'gateway.yaml'), 'utf8');
const shots = outputDir();

for (const [lang, find] of Object.entries(BACKENDS)) {
  const argvFor = have ? find() : null;
  const skip = !have ? `${CHROMIUM} is not installed (scripts/install-deps --test installs it)`
    : !argvFor ? `no interpreter for the ${lang} backend` : false;

  test(`the browser chat with the ${lang} backend: rooms, names, presence, reload, reconnect`,
    { timeout: 60000, skip }, async (t) => {
      const t0 = Date.now();
      const port = await freePort();
      const token = crypto.randomBytes(16).toString('hex');
      const gwEnv = (ws, adm) => ({ CHAT_HTTP_PORT: String(port), CHAT_WS_PORT: String(ws),
        CHAT_ADMIN_PORT: String(adm), WSGATED_ADMIN_TOKEN: token });
      let gw = await startGateway(t, yaml, { env: gwEnv(0, 0), configName: 'chat-gateway.yaml' });
      const wsPort = gw.listener(0).port;
      const adminPort = adminAddr(gw).port;
      const backend = await startBackend(t, argvFor, port, {
        WSGATED_ADMIN_URL: `http://127.0.0.1:${adminPort}`, WSGATED_ADMIN_TOKEN: token,
        CHAT_WS_URL: `ws://127.0.0.1:${wsPort}/chat/{room}`,
      });
      const pages = [];
      const diagnose = async (err) => {
        for (const [i, page] of pages.entries()) {
          const shot = path.join(shots, `chat-${lang}-failure-${i}.png`);
          if (await page.screenshot({ path: shot, timeout: 5000 }).then(() => true, () => false)) {
            err.message += `\nscreenshot of page ${i}: ${shot}`;
          }
        }
        err.message += `\n--- ${lang} backend log:\n${backend.log.slice(-4000)}\n--- gateway log:\n${gw.stderr.slice(-4000)}`;
        throw err;
      };

      const problems = [];
      const refused = [];  // the browser's console lines for a gateway that is down: expected
      const open = async (name) => {
        const context = await browser.newContext({ viewport: { width: 720, height: 480 } });
        t.after(() => context.close().catch(() => {}));
        await context.addInitScript(recordTheDisplay);
        const page = await context.newPage();
        pages.push(page);
        page.setDefaultTimeout(WAIT);
        page.on('pageerror', (e) => problems.push(`${name}: ${e}`));
        page.on('console', (m) => {
          if (m.type() !== 'error') return;
          (/WebSocket connection to .* failed/.test(m.text()) ? refused : problems).push(`${name}: ${m.text()}`);
        });
        await page.goto(`http://127.0.0.1:${port}/?room=lobby&name=${name}`, { timeout: WAIT });
        await waitText(page, '#status', new RegExp(`^online as ${name}$`));
        return page;
      };

      try {
        // Ann alone, then Bob: the count that both pages show follows.
        const ann = await open('ann');
        await waitText(ann, '#presence-count', /^1$/);
        assert.equal(await ann.textContent('#room-label'), '#lobby');
        const bob = await open('bob');
        await waitText(bob, '#presence-count', /^2$/);
        await waitText(ann, '#presence-count', /^2$/);
        await waitShown(ann, 'bob joined', (ls) => ls.some((l) => l.text === 'bob joined · 2 online'));

        // Messages from each page appear on both, in the same order, as text.
        const hello = 'hello from ann ✓ <b>not bold</b>';
        await say(ann, hello);
        await waitChat(bob, 'ann', hello);
        await waitChat(ann, 'ann', hello);
        await say(bob, 'hi ann');
        await waitChat(ann, 'bob', 'hi ann');
        const chatOf = (ls) => ls.filter((l) => l.kind.startsWith('chat'));
        const annSees = chatOf(await waitChat(ann, 'bob', 'hi ann'));
        const bobSees = chatOf(await waitChat(bob, 'bob', 'hi ann'));
        assert.deepEqual(annSees.map((l) => [l.user, l.text]), [['ann', hello], ['bob', 'hi ann']]);
        assert.deepEqual(bobSees.map((l) => [l.user, l.text]), [['ann', hello], ['bob', 'hi ann']]);
        assert.equal(annSees[0].markup, 0, 'markup typed is shown as text, never parsed');
        assert.deepEqual(annSees.map((l) => l.kind), ['chat mine', 'chat'], 'ann sees her own line as hers');
        assert.deepEqual(bobSees.map((l) => l.kind), ['chat', 'chat mine']);
        assert.equal(await ann.inputValue('#text'), '', 'the input is cleared once sent');

        // Bob reloads: his page rejoins by itself (room and name are in its address), and
        // what Ann's page shows goes 2 → 1 → 2.
        await bob.reload({ timeout: WAIT });
        await waitText(bob, '#status', /^online as bob$/);
        await waitText(bob, '#presence-count', /^2$/);
        const afterReload = await waitShown(ann, 'bob left, then joined again', (ls) => {
          const i = ls.findIndex((l) => l.text === 'bob left · 1 online');
          return i >= 0 && ls.slice(i + 1).some((l) => l.text === 'bob joined · 2 online');
        });
        await waitText(ann, '#presence-count', /^2$/);
        assert.deepEqual((await seen(ann, 'presence')).filter((v) => v !== '–'), ['1', '2', '1', '2'],
          'the presence count ann saw');
        assert.equal(afterReload.filter((l) => l.text.startsWith('bob left')).length, 1);
        await say(bob, 'back after a reload');
        await waitChat(ann, 'bob', 'back after a reload');
        await waitChat(bob, 'bob', 'back after a reload');

        // The gateway goes away (a drain: 1001) and comes back on the same ports: both pages
        // reconnect by themselves, after a backoff they show, and chat again.
        const drained = await gw.stop('SIGTERM');
        assert.equal(drained.code, 0, `wsgated's exit after the drain\n${gw.stderr}`);
        for (const page of [ann, bob]) {
          await waitShown(page, 'the drain', (ls) => ls.some((l) => l.text === 'disconnected (code 1001 “going away”)'));
          await waitText(page, '#presence-count', /^–$/);
        }
        await sleep(300);  // a try or two against the closed port (not an assertion)
        // The same file, with a heartbeat fast enough to be seen here: the pages' browsers
        // answer the pings by themselves (their round trip is measured), and stay connected.
        const shipped = 'heartbeat: {interval: 25s, timeout: 10s}';
        assert.ok(yaml.includes(shipped), `examples/chat/gateway.yaml has ${shipped}`);
        gw = await startGateway(t, yaml.replace(shipped, 'heartbeat: {interval: 300ms, timeout: 2s}'),
          { env: gwEnv(wsPort, adminPort), configName: 'chat-gateway-2.yaml' });
        for (const [page, name] of [[ann, 'ann'], [bob, 'bob']]) {
          await waitText(page, '#status', new RegExp(`^online as ${name}$`), 20000);
          await waitText(page, '#presence-count', /^2$/);
          const statuses = await seen(page, 'status');
          assert.ok(statuses.some((s) => /^reconnecting in \d+\.\d s$/.test(s)),
            `${name}'s status showed the backoff: ${JSON.stringify(statuses)}`);
        }
        await say(ann, 'still here');
        await waitChat(bob, 'ann', 'still here');
        await waitChat(ann, 'ann', 'still here');
        const members = await adminRequest(gw, 'GET', '/v1/rooms/room%3Alobby/connections', { token });
        assert.equal(members.status, 200, members.body);
        assert.deepEqual(members.json.connections.map((c) => c.user).sort(), ['ann', 'bob']);
        for (const { id, user } of members.json.connections) {
          const t1 = Date.now();
          for (;;) {
            const c = await adminRequest(gw, 'GET', `/v1/connections/${id}`, { token });
            assert.equal(c.status, 200, `${user}'s connection: ${c.body}`);
            if (typeof c.json.rtt_seconds === 'number') break;
            assert.ok(Date.now() - t1 < WAIT, `${user}'s browser answered no ping: ${c.body}`);
            await sleep(100);
          }
        }

        const annShot = path.join(shots, `chat-${lang}-ann.png`);
        const bobShot = path.join(shots, `chat-${lang}-bob.png`);
        await ann.screenshot({ path: annShot });
        await bob.screenshot({ path: bobShot });
        assert.ok(fs.statSync(annShot).size > 5000 && fs.statSync(bobShot).size > 5000);
        console.log(`screenshots: ${annShot} ${bobShot}`);

        // Every event reached the backend and was answered 2xx.
        const m = await metrics(gw);
        const bad = [...m].filter(([k, v]) => k.startsWith('wsgate_backend_requests_total{') && !k.includes('outcome="ok"') && v !== 0);
        assert.deepEqual(bad, [], 'backend requests that failed');
        assert.deepEqual(problems, [], 'no script errors on the pages');

        await ann.context().close();
        await bob.context().close();
        const code = await gw.stop('SIGTERM');
        assert.equal(code.code, 0, gw.stderr);
        backend.proc.kill('SIGTERM');
        await withTimeout(backend.exit, WAIT, `${lang} backend exit`);
        console.log(`${lang}: ${Date.now() - t0} ms (${refused.length} refused reconnect tries logged by the browser)`);
      } catch (err) {
        await diagnose(err);
      }
    });
}
