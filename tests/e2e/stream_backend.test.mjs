// stream_backend.test.mjs: the `stream` backend (SPEC §4, docs/backends.md) with the real
// binary, Node `ws` clients and a real stream backend process side (a Unix-socket server in
// this test process): framing both ways, replay after a restart, 1013 and 503 after `timeout`,
// backpressure, bad frames, acks, and actions across two workers.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';

import {
  startGateway, openWs, collect, sleep, withTimeout, metrics, metricValue, waitForMetric, rssBytes,
  tempDir, rawHttp, upgradeRequest,
} from './harness.mjs';

// ---------------------------------------------------------------- a stream backend
// Listens on a Unix socket; every stream wsgated opens is recorded with its frames. By default
// it echoes each message with a `send` action.
class Backend {
  constructor(sockPath, { echo = true } = {}) {
    this.path = sockPath;
    this.echo = echo;
    this.streams = [];
    this.frames = [];  // {stream, h, payload}
    this.waiters = [];
  }

  listen() {
    try { fs.unlinkSync(this.path); } catch { /* none */ }
    this.server = net.createServer((sock) => this.accept(sock));
    return new Promise((r) => this.server.listen(this.path, r));
  }

  accept(sock) {
    const st = { sock, buf: Buffer.alloc(0), index: this.streams.length, frames: [] };
    this.streams.push(st);
    sock.on('data', (d) => { st.buf = Buffer.concat([st.buf, d]); this.parse(st); });
    sock.on('error', () => {});
  }

  parse(st) {
    for (;;) {
      const nl = st.buf.indexOf(10);
      if (nl < 0) return;
      const h = JSON.parse(st.buf.subarray(0, nl).toString('utf8'));
      const size = h.size ?? 0;
      if (st.buf.length < nl + 1 + size) return;
      const payload = Buffer.from(st.buf.subarray(nl + 1, nl + 1 + size));
      st.buf = st.buf.subarray(nl + 1 + size);
      const f = { stream: st, h, payload };
      st.frames.push(f);
      this.frames.push(f);
      if (this.echo && h.event === 'message') this.write(st, { action: 'send', conn: h.conn, binary: h.binary }, payload);
      this.poke();
    }
  }

  write(st, h, payload = Buffer.alloc(0)) {
    const head = Buffer.from(JSON.stringify({ ...h, size: payload.length }) + '\n');
    st.sock.write(Buffer.concat([head, payload]));
  }

  poke() { this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true)); }

  waitFor(pred, ms = 10000, what = 'backend condition') {
    if (pred()) return Promise.resolve();
    return withTimeout(new Promise((resolve) => this.waiters.push({ pred, resolve })), ms, what);
  }

  events(name) { return this.frames.filter((f) => f.h.event === name); }

  async close() {
    for (const st of this.streams) st.sock.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

const TOKEN = 'stream-test-token';

function config(sock, { workers = 2, timeout = '3s', maxBuffer = '4MiB', limits = '' } = {}) {
  return `server:
  workers: ${workers}
  listen:
    - address: "127.0.0.1:0"
  log: {level: info, format: text}
${limits ? `  limits: {${limits}}\n` : ''}admin:
  listen: "127.0.0.1:0"
  token: ${TOKEN}
backends:
  chat: {type: stream, path: ${JSON.stringify(sock)}, timeout: ${timeout}, max_buffer: ${maxBuffer}}
routes:
  - path: /chat/{room}
    backend: chat
    rooms: ["room:{room}"]
`;
}

async function setup(t, opts = {}) {
  const dir = tempDir(t);
  const be = new Backend(path.join(dir, 'b.sock'), opts);
  await be.listen();
  t.after(() => be.close());
  const gw = await startGateway(t, config(be.path, opts), { dir });
  const workers = opts.workers ?? 2;
  await be.waitFor(() => be.events('hello').length >= workers, 10000, 'a hello on every stream');
  return { gw, be, dir };
}

// A client whose `connect` the backend has seen: {ws, c (collect), id, stream}.
async function client(t, gw, be, room = 'a') {
  const before = be.events('connect').length;
  const ws = await openWs(t, gw.url(0, `/chat/${room}`));
  const c = collect(ws);
  await be.waitFor(() => be.events('connect').length > before, 5000, 'the connect event');
  const f = be.events('connect')[before];
  return { ws, c, id: f.h.conn, stream: f.stream };
}

const protocolErrors = (m, reason) => metricValue(m, 'wsgate_backend_protocol_errors_total', { backend: 'chat', reason }, 0);

// ---------------------------------------------------------------- tests
test('100 clients x 1000 messages come back through the stream in order', async (t) => {
  const { gw, be } = await setup(t);
  const sockets = await Promise.all(Array.from({ length: 100 }, () => openWs(t, gw.url(0, '/chat/load'))));
  await Promise.all(sockets.map((ws, i) => new Promise((resolve, reject) => {
    let next = 0;
    ws.on('message', (d) => {
      const want = `${i}:${next}`;
      if (d.toString() !== want) return reject(new Error(`client ${i}: got ${d} want ${want}`));
      if (++next === 1000) resolve();
    });
    ws.on('close', (code) => reject(new Error(`client ${i} closed ${code} after ${next}`)));
    for (let k = 0; k < 1000; k++) ws.send(`${i}:${k}`);
  })));
  assert.equal(be.events('message').length, 100000);
  const workers = new Set(be.events('connect').map((f) => f.stream.index));
  assert.equal(workers.size, 2, 'connections on both workers\' streams');
  await gw.stop();
});

test('binary payloads with newlines, NUL and invalid UTF-8 survive both ways', async (t) => {
  const { gw, be } = await setup(t);
  const { ws, c } = await client(t, gw, be);
  const bin = Buffer.from([0x0a, 0x00, 0xff, 0xfe, 0x0a, 0x7b, 0x22]);
  ws.send(bin);
  ws.send('line one\nline two {"size":99}\n');
  const a = await c.next();
  assert.equal(a.isBinary, true);
  assert.deepEqual(Buffer.from(a.data), bin);
  const b = await c.next();
  assert.equal(b.isBinary, false);
  assert.equal(b.data.toString(), 'line one\nline two {"size":99}\n');
  const msgs = be.events('message');
  assert.deepEqual(msgs[0].payload, bin);
  assert.equal(msgs[0].h.binary, true);
  assert.equal(msgs[1].h.binary, false);
});

test('hello, connect, messages and one disconnect, in order, on each worker\'s stream', async (t) => {
  const { gw, be } = await setup(t);
  const hellos = be.events('hello');
  assert.deepEqual(hellos.map((f) => f.h.worker).sort(), [0, 1]);
  for (const h of hellos) {
    assert.equal(h.stream.frames[0], h, 'hello is the first frame of its stream');
    assert.equal(h.h.version, 1);
    assert.match(h.h.node, /^[A-Za-z0-9_-]{6}$/);
  }
  const { ws, c, id } = await client(t, gw, be, 'lobby');
  const conn = be.events('connect')[0].h;
  assert.equal(conn.route, '/chat/{room}');
  assert.deepEqual(conn.params, { room: 'lobby' });
  assert.deepEqual(conn.rooms, ['room:lobby']);
  assert.equal(conn.remote, '127.0.0.1');
  assert.equal(conn.user, null);
  assert.equal(conn.replay, false);
  assert.ok(id.startsWith(hellos[0].h.node));
  ws.send('x');
  await c.next();
  ws.close(4001, 'bye now');
  await be.waitFor(() => be.events('disconnect').length === 1);
  const mine = be.frames.filter((f) => f.h.conn === id).map((f) => f.h.event);
  assert.deepEqual(mine, ['connect', 'message', 'disconnect']);
  const d = be.events('disconnect')[0].h;
  assert.equal(d.code, 4001);
  assert.equal(d.reason, 'bye now');
});

test('a restarted backend gets hello and a replay; after timeout down, 1013 and 503', async (t) => {
  const { gw, be } = await setup(t, { timeout: '3s' });
  const a = await client(t, gw, be);
  const b = await client(t, gw, be, 'b');
  await be.close();  // the backend dies
  a.ws.send('while down');  // held until the backend is back
  await sleep(500);
  const be2 = new Backend(be.path);
  await be2.listen();
  t.after(() => be2.close());
  await be2.waitFor(() => be2.events('hello').length === 2, 5000, 'hello on both new streams');
  await be2.waitFor(() => be2.events('connect').length === 2, 5000, 'the replay');
  for (const f of be2.events('connect')) assert.equal(f.h.replay, true);
  assert.deepEqual(be2.events('connect').map((f) => f.h.conn).sort(), [a.id, b.id].sort());
  // What the client sent during the outage arrives after its replayed connect, and is echoed.
  assert.equal((await a.c.next()).data.toString(), 'while down');
  const order = be2.frames.filter((f) => f.h.conn === a.id).map((f) => f.h.event);
  assert.deepEqual(order, ['connect', 'message']);
  b.ws.send('again');
  assert.equal((await b.c.next()).data.toString(), 'again');
  // Down for good: after `timeout` the clients are closed 1013, and a new upgrade is a 503.
  await be2.close();
  const closed = await a.c.closed(8000);
  assert.equal(closed.code, 1013);
  assert.equal(closed.reason, 'backend unavailable');
  assert.equal((await b.c.closed(8000)).code, 1013);
  const res = await rawHttp(gw.addr(), upgradeRequest({ path: '/chat/x' }));
  assert.equal(res.status, 503);
  assert.deepEqual(res.headers['retry-after'], ['1']);
  const m = await metrics(gw);
  assert.ok(metricValue(m, 'wsgate_backend_requests_total', { backend: 'chat', outcome: 'unreachable' }, 0) >= 2);
  assert.ok(metricValue(m, 'wsgate_backend_stream_connects_total', { backend: 'chat', result: 'lost' }, 0) >= 4);
  assert.ok(metricValue(m, 'wsgate_handshake_failures_total', { reason: 'backend_unavailable' }, 0) >= 1);
});

test('a backend that stops reading pauses the clients; memory stays bounded; all arrives later', async (t) => {
  const { gw, be } = await setup(t, { workers: 1, maxBuffer: '1MiB', echo: false });
  be.echo = false;
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await client(t, gw, be, 'flood'));
  for (const st of be.streams) st.sock.pause();  // the backend stops reading
  const rss0 = rssBytes(gw.pid);
  const chunk = Buffer.alloc(256 * 1024, 7);
  let sent = 0;
  // Each client pushes 64 MiB, as fast as its socket takes it.
  const pushes = clients.map(({ ws }) => (async () => {
    for (let k = 0; k < 256; k++) {
      while (ws.bufferedAmount > 4 * 1024 * 1024) await sleep(5);
      ws.send(chunk);
      sent += chunk.length;
    }
  })());
  await waitForMetric(gw, 'wsgate_backend_backlog_pauses_total', { backend: 'chat' }, (v) => v >= 1, 10000);
  await sleep(1500);
  const grown = rssBytes(gw.pid) - rss0;
  assert.ok(grown < 64 * 1024 * 1024, `wsgated grew ${grown} bytes while the backend did not read`);
  assert.ok(sent < 4 * 256 * chunk.length, 'the clients were pushed back');
  for (const st of be.streams) st.sock.resume();
  await Promise.all(pushes);
  await be.waitFor(() => be.events('message').length === 4 * 256, 60000, 'every message, once reading resumed');
  const total = be.events('message').reduce((n, f) => n + f.payload.length, 0);
  assert.equal(total, 4 * 256 * chunk.length);
});

test('each malformed frame kind is counted and the stream reconnects with a replay', async (t) => {
  const { gw, be } = await setup(t, { workers: 1 });
  const a = await client(t, gw, be);
  const cases = [
    ['not_json', Buffer.from('this is not json\n')],
    ['not_object', Buffer.from('[1,2,3]\n')],
    ['bad_size', Buffer.from('{"action":"broadcast","size":-1}\n')],
    ['bad_size', Buffer.from('{"action":"broadcast","size":"3"}\n')],
    ['size_too_large', Buffer.from('{"action":"broadcast","size":99999999}\n')],
    ['header_too_long', Buffer.alloc(70 * 1024, 0x20)],
  ];
  for (const [reason, bytes] of cases) {
    const before = protocolErrors(await metrics(gw), reason);
    const hellos = be.events('hello').length;
    be.streams.at(-1).sock.write(bytes);
    await waitForMetric(gw, 'wsgate_backend_protocol_errors_total', { backend: 'chat', reason }, (v) => v > before);
    await be.waitFor(() => be.events('hello').length > hellos, 5000, `a new stream after ${reason}`);
    await be.waitFor(() => be.streams.at(-1).frames.some((f) => f.h.event === 'connect' && f.h.conn === a.id
      && f.h.replay), 5000, 'the replay');
  }
  a.ws.send('still here');
  assert.equal((await a.c.next()).data.toString(), 'still here');
});

test('acks: ok, unknown connection, unknown action, bad close code, wait: written', async (t) => {
  const { gw, be } = await setup(t, { workers: 1, echo: false });
  const a = await client(t, gw, be);
  const st = a.stream;
  const ack = (id) => be.waitFor(() => be.events('ack').some((f) => f.h.id === id), 5000, `ack ${id}`)
    .then(() => be.events('ack').find((f) => f.h.id === id).h);
  be.write(st, { action: 'send', conn: a.id, binary: false, id: 'w1', wait: 'written' }, Buffer.from('hi'));
  assert.equal((await a.c.next()).data.toString(), 'hi');
  assert.deepEqual(await ack('w1'), { event: 'ack', id: 'w1', ok: true });
  const local = a.id.slice(0, 6) + 'B'.repeat(22);  // this node, never issued
  be.write(st, { action: 'send', conn: local, id: 1 }, Buffer.from('x'));
  assert.equal((await ack(1)).error, 'not_found');
  be.write(st, { action: 'close', conn: 'A'.repeat(28), id: 'foreign' });
  assert.equal((await ack('foreign')).error, 'not_found');
  be.write(st, { action: 'dance', id: 'u' });
  assert.equal((await ack('u')).error, 'unknown_action');
  be.write(st, { action: 'close', conn: a.id, code: 1001, id: 'c' });
  assert.equal((await ack('c')).error, 'bad_code');
  be.write(st, { action: 'send', conn: a.id, binary: false, id: 'utf' }, Buffer.from([0xc3, 0x28]));
  assert.equal((await ack('utf')).error, 'bad_utf8');
  const m = await metrics(gw);
  assert.ok(protocolErrors(m, 'not_found') >= 2);
  assert.equal(protocolErrors(m, 'unknown_action'), 1);
  assert.equal(be.events('hello').length, 1, 'a frame that cannot apply does not drop the stream');
});

test('publish, join, leave, close and broadcast from one stream reach both workers', async (t) => {
  const { gw, be } = await setup(t, { echo: false });
  const cs = [];
  for (let i = 0; i < 6; i++) cs.push(await client(t, gw, be, 'r'));
  const streams = new Set(cs.map((c) => c.stream.index));
  assert.equal(streams.size, 2, 'clients on both workers');
  const st = cs[0].stream;
  const ack = (id) => be.waitFor(() => be.events('ack').some((f) => f.h.id === id), 5000, `ack ${id}`)
    .then(() => be.events('ack').find((f) => f.h.id === id).h);
  be.write(st, { action: 'publish', room: 'room:r', exclude: cs[0].id, binary: false, id: 'p' }, Buffer.from('pub'));
  assert.equal((await ack('p')).count, 6);
  for (const c of cs.slice(1)) assert.equal((await c.c.next()).data.toString(), 'pub');
  // Join two clients (one per worker) to a new room, publish there; then one leaves.
  const other = cs.find((c) => c.stream !== st);
  const same = cs.find((c, i) => i > 0 && c.stream === st) ?? cs[0];
  be.write(st, { action: 'join', conn: other.id, room: 'extra', id: 'j1' });
  be.write(st, { action: 'join', conn: same.id, room: 'extra', id: 'j2' });
  await ack('j1');
  await ack('j2');
  be.write(st, { action: 'publish', room: 'extra', binary: true, id: 'p2' }, Buffer.from([1, 2]));
  assert.equal((await ack('p2')).count, 2);
  assert.deepEqual(Buffer.from((await other.c.next()).data), Buffer.from([1, 2]));
  assert.deepEqual(Buffer.from((await same.c.next()).data), Buffer.from([1, 2]));
  be.write(st, { action: 'leave', conn: other.id, room: 'extra', id: 'l' });
  await ack('l');
  be.write(st, { action: 'publish', room: 'extra', binary: false, id: 'p3' }, Buffer.from('only one'));
  assert.equal((await ack('p3')).count, 1);
  assert.equal((await same.c.next()).data.toString(), 'only one');
  be.write(st, { action: 'broadcast', binary: false, id: 'b' }, Buffer.from('all'));
  assert.equal((await ack('b')).count, 6);
  for (const c of cs) assert.equal((await c.c.next()).data.toString(), 'all');
  be.write(st, { action: 'send_user', user: 'nobody', binary: false, id: 'su' }, Buffer.from('x'));
  assert.equal((await ack('su')).count, 0);
  be.write(st, { action: 'close', conn: other.id, code: 4000, reason: 'kicked', id: 'k' });
  const closed = await other.c.closed();
  assert.deepEqual(closed, { code: 4000, reason: 'kicked' });
  assert.equal((await ack('k')).ok, true);
  assert.equal(other.c.queue.length, 0, 'the client that left got nothing more of room extra');
});
