// reload_live.test.mjs: a reload under open connections (SPEC §1, docs/operations.md):
//
// - 1,000 `ws` clients exchange messages with an HTTP backend (node:http, started here) while a
//   SIGHUP changes a route's limits, the heartbeat, the backend's URL, the JWT key and the TLS
//   certificate, and adds a listener: no client is closed, every message is answered, the old
//   connections answer the new heartbeat's pings and are held to the new max_message_size,
//   their messages now reach the new URL (the old one heard a disconnect 1012 "backend reloaded"
//   for each, the new one a connect), and new handshakes meet the new key, certificate and
//   listener;
// - a reload that removes a route, or points it at another backend, closes that route's
//   clients 1012 and nobody else's; a removed listener stops accepting while the connection it
//   accepted goes on;
// - an address that cannot be bound rejects the whole reload, nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import {
  WebSocket, startGateway, rotatingCerts, tempDir, metrics, metricValue, withTimeout, openWs, collect, sleep,
  rawHttp, upgradeRequest, rawConnect, adminRequest,
} from './harness.mjs';

const T = { timeout: 180000 };
const CLIENTS = 1000;
const ROUNDS = 6;  // messages per client; the reload comes after the second

// ---------------------------------------------------------------- an HTTP backend
// Answers a message with `${tag}:${body}` (after `delay` ms) and records connects and
// disconnects per connection id.
class Backend {
  constructor(tag, delay = 0) {
    this.tag = tag;
    this.delay = delay;
    this.connects = new Set();
    this.disconnects = new Map();  // id → body
    this.messages = 0;
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this.answer(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    this.server.keepAliveTimeout = 60000;
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port)));
  }

  async answer(req, res, body) {
    const ev = req.headers['wsgate-event'];
    const id = req.headers['wsgate-connection-id'];
    if (ev === 'connect') this.connects.add(id);
    if (ev === 'disconnect') this.disconnects.set(id, body);
    if (ev !== 'message') return res.writeHead(204).end();
    this.messages++;
    if (this.delay) await sleep(this.delay);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${this.tag}:${body}`);
  }

  close() { this.server.closeAllConnections?.(); this.server.close(); }
}

// ---------------------------------------------------------------- JWT (HS256) and config
const b64url = (buf) => Buffer.from(buf).toString('base64url');
function hs256(secret, claims) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 600, ...claims }));
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function liveConfig({ backendPort, keyFile, cert, key, maxMessage, heartbeat, extraListener = '' }) {
  return `server:
  workers: 2
  listen:
    - address: "127.0.0.1:0"
    - address: "127.0.0.1:0"
      tls: {cert: "${cert}", key: "${key}"}
${extraListener}  limits: {max_connections_per_ip: 5000, max_message_size: ${maxMessage}}
  heartbeat: ${heartbeat}
  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
backends:
  app: {type: http, url: "http://127.0.0.1:${backendPort}/ws", max_connections: 32}
routes:
  - path: /app
    backend: app
    auth: {type: jwt, algorithms: [HS256], key_file: "${keyFile}", token_from: ["query:token"]}
  - {path: /echo, backend: echo}
`;
}

// One http backend `app` at `port` behind /app; `server` lines go into the server section.
function appConfig(port, server = '') {
  return `server:
  listen: [{address: "127.0.0.1:0"}]
${server}  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
backends:
  app: {type: http, url: "http://127.0.0.1:${port}/ws"}
routes:
  - {path: /app, backend: app}
`;
}

// Writes `text` as the gateway's file, sends SIGHUP, and waits until the reload is done.
async function reload(gw, text) {
  fs.writeFileSync(gw.configPath, text);
  const reloaded = gw.waitForLog((line, rec) => rec?.msg?.startsWith('configuration reloaded'));
  gw.proc.kill('SIGHUP');
  await reloaded;
}

// A client that sends `rounds` messages one after another (each once the previous is answered).
function converse(ws, name, rounds, gate) {
  const q = collect(ws);
  return (async () => {
    const got = [];
    for (let k = 0; k < rounds; k++) {
      if (k === 2) await gate;  // the reload happens here
      ws.send(`${name}-${k}`);
      got.push(String((await q.next(30000)).data));
    }
    return got;
  })();
}

async function tryOpen(url, opts = {}) {
  return withTimeout(new Promise((resolve) => {
    const ws = new WebSocket(url, opts);
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (req, res) => { req.destroy(); resolve(res.statusCode); });
    ws.on('error', (e) => resolve(`error: ${e.code ?? e.message}`));
  }), 10000, `opening ${url}`);
}

test('1,000 connections go on through a reload that changes limits, heartbeat, backend URL, JWT key, certificate and listeners', T, async (t) => {
  const dir = tempDir(t);
  const a = new Backend('A', 2);
  const b = new Backend('B', 2);
  t.after(() => { a.close(); b.close(); });
  const [portA, portB] = [await a.listen(), await b.listen()];
  const keyFile = path.join(dir, 'jwt.key');
  fs.writeFileSync(keyFile, 'first-secret-0123456789abcdef');
  const live = rotatingCerts(dir, ['one', 'two']);
  const [certs1, certs2] = [live.before, live.after];
  const before = { backendPort: portA, keyFile, cert: live.cert, key: live.key, maxMessage: '64KiB', heartbeat: '{interval: 60s, timeout: 30s}' };
  const gw = await startGateway(t, liveConfig(before), { dir, expectListeners: 2 });
  const plain = gw.url(0, '/app');
  const token1 = hs256('first-secret-0123456789abcdef', { sub: 'u1' });

  // 1,000 clients, opened in batches, each starting its conversation at once.
  let release;
  const gate = new Promise((r) => { release = r; });
  const clients = [];
  const closes = [];
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) },
      () => openWs(t, `${plain}?token=${token1}`, { ms: 20000 })));
    for (const ws of batch) {
      const n = clients.length;
      ws.on('close', (code) => closes.push([n, code]));
      clients.push({ ws, done: converse(ws, `c${n}`, ROUNDS, gate) });
    }
  }
  // A client kept aside: it sends 2 KiB before and after the reload, and watches for pings.
  const big = await openWs(t, `${plain}?token=${token1}`);
  const bigQ = collect(big);
  big.send('x'.repeat(2048));
  assert.equal(String((await bigQ.next(10000)).data).length, 2 + 2048, 'a 2 KiB message is fine under 64KiB');
  let pings = 0;
  big.on('ping', () => { pings++; });
  // Wait until every client is through its first two rounds.
  while (a.messages < CLIENTS * 2) await sleep(50);
  assert.equal(b.messages, 0);

  // The reload: backend URL → B, JWT key, certificate, max_message_size, heartbeat, a listener.
  fs.writeFileSync(keyFile, 'second-secret-0123456789abcdef');
  live.rotate();
  fs.writeFileSync(gw.configPath, liveConfig({
    ...before, backendPort: portB, maxMessage: '1KiB', heartbeat: '{interval: 300ms, timeout: 5s}',
    extraListener: '    - address: "127.0.0.1:0"\n',
  }));
  const reloaded = gw.waitForLog((line, rec) => rec?.msg?.startsWith('configuration reloaded'));
  gw.proc.kill('SIGHUP');
  await reloaded;
  release();

  const results = await withTimeout(Promise.all(clients.map((c) => c.done)), 120000, 'the conversations');
  assert.deepEqual(closes, [], 'no connection was closed by the reload');
  for (let n = 0; n < CLIENTS; n++) {
    const got = results[n];
    assert.equal(got.length, ROUNDS);
    got.forEach((reply, k) => assert.equal(reply.slice(2), `c${n}-${k}`, `client ${n} round ${k}: ${reply}`));
    assert.ok(got[0].startsWith('A:') && got[1].startsWith('A:'), `before the reload: backend A (${got})`);
    assert.ok(got.slice(2).every((r) => r.startsWith('B:')), `after the reload: backend B (${got})`);
  }
  // The move between backend definitions: A heard every connection leave (1012), B arrive.
  assert.equal(a.disconnects.size, CLIENTS + 1);
  for (const body of a.disconnects.values()) assert.deepEqual(JSON.parse(body), { code: 1012, reason: 'backend reloaded' });
  assert.equal(b.connects.size, CLIENTS + 1);
  assert.deepEqual([...b.connects].sort(), [...a.disconnects.keys()].sort());

  // The old connection takes the new heartbeat (pings every 300 ms) and max_message_size (1 KiB).
  const t0 = Date.now();
  while (pings < 2 && Date.now() - t0 < 5000) await sleep(50);
  assert.ok(pings >= 2, `pings after the reload: ${pings}`);
  const bigClosed = new Promise((r) => big.once('close', (code) => r(code)));
  big.send('y'.repeat(2048));
  assert.equal(await withTimeout(bigClosed, 5000, 'the 1009 close'), 1009, 'over the new max_message_size');

  // New handshakes: the new JWT key, the new certificate, the new listener.
  assert.equal(await tryOpen(`${plain}?token=${token1}`), 401, 'a token signed with the old key');
  const token2 = hs256('second-secret-0123456789abcdef', { sub: 'u2' });
  assert.equal(await tryOpen(`${plain}?token=${token2}`), 'open', 'a token signed with the new key');
  const tlsUrl = gw.url(1, '/echo');
  assert.equal(await tryOpen(tlsUrl, { ca: certs2.caPem }), 'open', 'the new certificate');
  assert.match(String(await tryOpen(tlsUrl, { ca: certs1.caPem })), /^error/, 'the old certificate is gone');
  assert.equal(gw.listeners.length, 3, `the added listener is logged:\n${gw.stderr}`);
  assert.equal(await tryOpen(gw.url(2, '/echo')), 'open', 'the added listener serves');
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'ok' }), 1);
  assert.equal(metricValue(m, 'wsgate_connections', { route: '/app' }), CLIENTS, 'all of them still open');
  for (const c of clients) c.ws.close();
});

test('a reload that removes a route or moves it to another backend closes its clients 1012, nobody else', T, async (t) => {
  const file = (routes) => `server:
  listen: [{address: "127.0.0.1:0"}, {address: "127.0.0.1:0"}]
  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
backends:
  other: {type: http, url: "http://127.0.0.1:9/ws"}
routes:
${routes}`;
  const all = '  - {path: /a, backend: echo}\n  - {path: /b, backend: echo}\n  - {path: /c, backend: echo}\n';
  const gw = await startGateway(t, file(all), { expectListeners: 2 });
  const open = async (p, i = 0) => {
    const ws = await openWs(t, gw.url(i, p));
    const st = { ws, q: collect(ws), closed: null };
    ws.on('close', (code, reason) => { st.closed = [code, String(reason)]; });
    return st;
  };
  const as = await Promise.all([1, 2, 3].map(() => open('/a')));
  const bs = await Promise.all([1, 2, 3].map(() => open('/b')));
  const cs = await Promise.all([1, 2].map(() => open('/c')));
  const onSecond = await open('/a', 1);  // accepted by the listener the reload removes

  fs.writeFileSync(gw.configPath, file('  - {path: /a, backend: echo}\n  - {path: /c, backend: other}\n')
    .replace('{address: "127.0.0.1:0"}, {address: "127.0.0.1:0"}', '{address: "127.0.0.1:0"}'));
  const reloaded = gw.waitForLog((line, rec) => rec?.msg?.startsWith('configuration reloaded'));
  gw.proc.kill('SIGHUP');
  await reloaded;
  const t0 = Date.now();
  while ([...bs, ...cs].some((s) => !s.closed) && Date.now() - t0 < 5000) await sleep(20);
  for (const s of [...bs, ...cs]) assert.deepEqual(s.closed, [1012, 'service restart']);
  await sleep(300);
  for (const s of [...as, onSecond]) {
    assert.equal(s.closed, null, 'a route that stays is not touched');
    s.ws.send('still here');
    assert.equal(String((await s.q.next(5000)).data), 'still here');
  }
  // The removed listener accepts nobody now.
  const port = gw.listener(1).port;
  const refused = await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
  assert.ok(refused, 'the removed listener no longer accepts');
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/b' }))).status, 404, '/b is gone for new handshakes');
});

test('a reload whose new address cannot be bound is rejected whole', T, async (t) => {
  const holder = net.createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => holder.close());
  const taken = holder.address().port;
  const file = (extra, route) => `server:
  listen:
    - address: "127.0.0.1:0"
${extra}  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
routes:
  - {path: /echo, backend: echo}
${route}`;
  const gw = await startGateway(t, file('', ''));
  fs.writeFileSync(gw.configPath, file(`    - address: "127.0.0.1:${taken}"\n`, '  - {path: /new, backend: echo}\n'));
  const rejected = gw.waitForLog((line, rec) => rec?.msg?.startsWith('reload rejected'));
  gw.proc.kill('SIGHUP');
  const line = await rejected;
  assert.match(line, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}`));
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/new' }))).status, 404, 'nothing changed');
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'error' }), 1);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'ok' }, 0), 0);
});

test('a backend whose definition did not change keeps its connections through a reload (no disconnect, no connect)', T, async (t) => {
  const a = new Backend('A');
  t.after(() => a.close());
  const port = await a.listen();
  const file = (interval) => appConfig(port, `  heartbeat: {interval: ${interval}, timeout: 5s}\n`);
  const gw = await startGateway(t, file('30s'));
  const ws = await openWs(t, gw.url(0, '/app'));
  const q = collect(ws);
  ws.send('one');
  assert.equal(String((await q.next()).data), 'A:one');
  await reload(gw, file('20s'));
  ws.send('two');
  assert.equal(String((await q.next()).data), 'A:two');
  assert.equal(a.connects.size, 1, 'one connect, before the reload');
  assert.equal(a.disconnects.size, 0, 'no disconnect: the backend instance is the same');
  ws.close();
});

// A connection moved to a changed backend: the old definition answers what was sent to it
// before the new one gets the next message — one connection's messages stay in order.
test('a moved connection sends its next message only once the old backend answered the last', T, async (t) => {
  const a = new Backend('A', 600);  // slow: its answer comes long after the reload
  const b = new Backend('B');
  t.after(() => { a.close(); b.close(); });
  const [pa, pb] = [await a.listen(), await b.listen()];
  const file = (port) => appConfig(port);
  const gw = await startGateway(t, file(pa));
  const ws = await openWs(t, gw.url(0, '/app'));
  const q = collect(ws);
  ws.send('m1');
  while (a.messages < 1) await sleep(10);  // m1 is at A, answering in 600 ms
  await reload(gw, file(pb));
  ws.send('m2');
  const first = String((await q.next(5000)).data);
  const second = String((await q.next(5000)).data);
  assert.deepEqual([first, second], ['A:m1', 'B:m2'], 'in the order sent, each from its backend');
  assert.equal(b.messages, 1);
  ws.close();
});

test('a listener switched between ws and wss keeps its port and serves TLS from the reload on', T, async (t) => {
  const dir = tempDir(t);
  const live = rotatingCerts(dir);
  const file = (tls) => `server:
  listen:
    - address: "127.0.0.1:0"
${tls ? `      tls: {cert: "${live.cert}", key: "${live.key}"}\n` : ''}  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
routes:
  - {path: /echo, backend: echo}
`;
  const gw = await startGateway(t, file(false), { dir });
  const port = gw.listener(0).port;
  const plain = await openWs(t, `ws://127.0.0.1:${port}/echo`);
  await reload(gw, file(true));
  assert.equal(await tryOpen(`wss://127.0.0.1:${port}/echo`, { ca: live.before.caPem }), 'open', 'TLS on the same port');
  const q = collect(plain);
  plain.send('still plain');
  assert.equal(String((await q.next()).data), 'still plain', 'the open ws:// connection goes on');
  plain.close();
});

test('a reload while draining is refused (503), reopening nothing', T, async (t) => {
  const gw = await startGateway(t, `server:
  listen: [{address: "127.0.0.1:0"}]
  drain_timeout: 3s
  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0", token: "tok"}
routes:
  - {path: /echo, backend: echo}
`);
  gw.adminToken = 'tok';
  // A client that never answers the close frame keeps the drain going.
  const raw = await rawConnect(gw.addr(0));
  await raw.write(upgradeRequest({ path: '/echo' }));
  assert.equal((await raw.readResponse()).status, 101);
  const draining = gw.waitForLog((line, rec) => rec?.msg?.startsWith('draining'));
  gw.proc.kill('SIGTERM');
  await draining;
  const r = await adminRequest(gw, 'POST', '/v1/reload');
  assert.equal(r.status, 503, r.body);
  assert.match(r.json.error, /draining/);
  raw.sock.destroy();
  assert.equal((await gw.waitExit()).code, 0);
});
