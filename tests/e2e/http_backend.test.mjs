// http_backend.test.mjs: wsgated's `http` backend (SPEC §4, docs/backends.md) in front of a real
// Node `node:http` server, started by each test on port 0, with `ws` clients:
//
// - order: 50 clients × 1,000 messages reach the backend in per-connection order, every reply
//   comes back in order, each connection's events are connect, its messages, one disconnect;
// - the request: WSGate-* headers (the id is the log's and the control API's), Content-Type,
//   the connect and disconnect bodies, a 0x00..0xFF binary payload byte for byte;
// - the answer: text or binary by Content-Type, 204 = none, WSGate-Join before the reply (a
//   publish right after the reply arrives), WSGate-Leave, WSGate-Close 4000 after the reply;
// - keep-alive: with max_connections 4 and 50 busy clients, never more than 4 connections (the
//   server counts them, and `ss` too), and far fewer connections than requests;
// - a slow answer for one connection does not stall another; a full backlog pauses the client
//   (wsgate_backend_backlog_pauses_total) and nothing is lost once the backend answers;
// - the server restarted on the same port: new connections work, wsgated untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import {
  startGateway, openWs, openWsWithId, collect, sleep, withTimeout, adminRequest, metrics,
  metricValue, waitForMetric,
} from './harness.mjs';

const T = { timeout: 120000 };
const TOKEN = 'e2e-http-backend-token-91c2';
const ID_RE = /^[A-Za-z0-9_-]{28}$/;

// ---------------------------------------------------------------- the backend
// A node:http server that records every request and answers as told: `rules[event]` is the
// default answer spec; a text message starting with "!" carries a JSON spec of its own
// ({status, headers, type, body, body_b64, whoami, delay (ms), hold}). Defaults: connect and
// disconnect 204, a message echoed with its Content-Type.
class Backend {
  constructor() {
    this.events = [];
    this.rules = { connect: { status: 204 }, disconnect: { status: 204 } };
    this.accepted = 0;
    this.open = 0;
    this.maxOpen = 0;
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.held = [];  // resolve functions of held answers
    this.holding = false;
    this.sockets = new Set();
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (s) => {
      this.accepted++;
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => { this.open--; this.sockets.delete(s); });
    });
  }

  listen(port = 0) {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve(this);
      });
    });
  }

  // Stops listening and cuts every connection, as a server that goes away.
  stop() {
    this.server.close();
    for (const s of this.sockets) s.destroy();
    this.release();
  }

  release() {
    this.holding = false;
    this.held.splice(0).forEach((f) => f());
  }

  onRequest(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => this.answer(req, res, Buffer.concat(chunks)));
  }

  async answer(req, res, body) {
    // node:http gives header values as latin-1 strings; wsgated sends UTF-8.
    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i].toLowerCase();
      assert.ok(!(k in headers), `${k} sent twice`);
      headers[k] = Buffer.from(req.rawHeaders[i + 1], 'latin1').toString('utf8');
    }
    const ev = { conn: headers['wsgate-connection-id'], event: headers['wsgate-event'], headers,
      body, method: req.method, url: req.url, t: Date.now() };
    this.events.push(ev);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const ctype = headers['content-type'] ?? '';
    const spec = { ...(this.rules[ev.event] ?? {}) };
    if (ev.event === 'message' && ctype.startsWith('text/') && body[0] === 0x21 /* ! */) {
      Object.assign(spec, JSON.parse(body.subarray(1).toString('utf8')));
    }
    if (spec.delay) await sleep(spec.delay);
    if (spec.hold && this.holding) await new Promise((r) => this.held.push(r));
    this.inFlight--;
    const status = spec.status ?? 200;
    const out = { ...(spec.headers ?? {}) };
    let data = Buffer.alloc(0);
    let type;
    if (spec.whoami) [data, type] = [Buffer.from(ev.conn), 'text/plain; charset=utf-8'];
    else if (spec.body_b64 !== undefined) [data, type] = [Buffer.from(spec.body_b64, 'base64'), 'application/octet-stream'];
    else if (spec.body !== undefined) [data, type] = [Buffer.from(spec.body), 'text/plain; charset=utf-8'];
    else if (ev.event === 'message' && status !== 204) [data, type] = [body, ctype];
    type = spec.type ?? type;
    if (type) out['Content-Type'] = type;
    for (const [k, v] of Object.entries(out)) out[k] = Buffer.from(v, 'utf8').toString('latin1');
    if (status !== 204) out['Content-Length'] = String(data.length);
    res.writeHead(status, out);
    res.end(status === 204 ? undefined : data);
  }

  // conn id → ['connect', 'm:<text>', …, 'disconnect']
  sequences() {
    const out = new Map();
    for (const e of this.events) {
      if (!out.has(e.conn)) out.set(e.conn, []);
      out.get(e.conn).push(e.event === 'message' ? `m:${e.body.toString('utf8')}` : e.event);
    }
    return out;
  }
}

async function startBackend(t, port = 0) {
  const b = await new Backend().listen(port);
  t.after(() => b.stop());
  return b;
}

const spec = (o) => `!${JSON.stringify(o)}`;

// ---------------------------------------------------------------- the gateway
function config(port, { maxConnections = 64, timeout = '5s', level = 'info' } = {}) {
  return `server:
  workers: 2
  listen: [{address: "127.0.0.1:0"}]
  log: {level: ${level}, format: text}
admin:
  listen: "127.0.0.1:0"
  token: "${TOKEN}"
backends:
  app: {type: http, url: "http://127.0.0.1:${port}/ws", timeout: ${timeout}, max_connections: ${maxConnections}}
  other: {type: http, url: "http://127.0.0.1:${port}/other"}
routes:
  - path: /chat/{room}
    backend: app
  - path: /other
    backend: other
`;
}

async function start(t, backend, opts) {
  const gw = await startGateway(t, config(backend.port, opts));
  gw.adminToken = TOKEN;
  return gw;
}

async function open(t, gw, p) {
  const ws = await openWs(t, gw.url(0, p));
  return { ws, q: collect(ws) };
}

async function text(q, ms = 5000) {
  const m = await q.next(ms);
  assert.equal(m.isBinary, false, `a text frame, got binary ${m.data.toString('hex')}`);
  return m.data.toString('utf8');
}

async function publish(gw, room, body) {
  const res = await adminRequest(gw, 'POST', `/v1/rooms/${encodeURIComponent(room)}/messages`,
    { body, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  assert.equal(Math.floor(res.status / 100), 2, `publish to ${room}: ${res.status} ${res.body}`);
}

// wsgate_backend_requests_total{backend} by outcome, zero cells left out.
async function outcomes(gw, backend = 'app') {
  const m = await metrics(gw);
  const out = {};
  for (const [k, v] of m) {
    const hit = /^wsgate_backend_requests_total\{backend="([^"]*)",outcome="([^"]*)"\}$/.exec(k);
    if (hit && hit[1] === backend && v) out[hit[2]] = v;
  }
  return out;
}

async function until(pred, what, ms = 10000) {
  const t0 = Date.now();
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

const withLog = (gw, fn) => fn().catch((err) => {
  err.message += `\n--- gateway log (last lines):\n${gw.lines.slice(-30).join('\n')}`;
  throw err;
});

// ---------------------------------------------------------------- order (1,000 × 50)
test('50 clients × 1,000 messages reach the backend and come back in order', T, async (t) => {
  const b = await startBackend(t);
  const gw = await start(t, b);
  const clients = 50;
  const n = 1000;
  const t0 = Date.now();
  await withLog(gw, () => Promise.all(Array.from({ length: clients }, async (_, k) => {
    const { ws, q } = await open(t, gw, `/chat/r${k % 5}`);
    const sent = Array.from({ length: n }, (__, i) => `c${k}:${i}`);
    for (const m of sent) ws.send(m);
    const got = [];
    for (let i = 0; i < n; i++) got.push(await text(q, 30000));
    assert.deepEqual(got, sent, `client ${k}: replies in order`);
    ws.close(1000);
    await q.closed();
  })));
  const took = Date.now() - t0;
  const seqs = await until(() => {
    const s = b.sequences();
    return [...s.values()].filter((v) => v.at(-1) === 'disconnect').length === clients && s;
  }, 'a disconnect for every connection');
  assert.equal(seqs.size, clients);
  const who = new Set();
  for (const [id, seq] of seqs) {
    assert.match(id, ID_RE);
    assert.equal(seq[0], 'connect');
    assert.equal(seq.at(-1), 'disconnect');
    const msgs = seq.slice(1, -1).map((s) => s.slice(2));
    const name = msgs[0].split(':')[0];
    assert.deepEqual(msgs, Array.from({ length: n }, (_, i) => `${name}:${i}`),
      `${id}: ${name}'s messages in order, each once`);
    who.add(name);
  }
  assert.equal(who.size, clients);
  const total = clients * (n + 2);
  assert.deepEqual(await until(async () => {
    const o = await outcomes(gw);
    return o.ok === total && o;
  }, 'every request counted ok'), { ok: total });
  t.diagnostic(`${clients}×${n} messages in ${took} ms`);
});

// ---------------------------------------------------------------- the request
test('headers and bodies of connect, message (text, binary) and disconnect', T, async (t) => {
  const b = await startBackend(t);
  const gw = await start(t, b, { level: 'debug' });
  const { ws, id } = await openWsWithId(t, gw, '/chat/caf%C3%A9');
  const q = collect(ws);
  ws.send(spec({ whoami: true }));
  assert.equal(await text(q), id, 'WSGate-Connection-Id is the id in the log');
  const info = await adminRequest(gw, 'GET', `/v1/connections/${id}`);
  assert.equal(info.status, 200, info.body);
  assert.equal(info.json.route, '/chat/{room}');
  ws.send('héllo ✓');
  assert.equal(await text(q), 'héllo ✓');
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  ws.send(all);
  const echoed = await q.next();
  assert.equal(echoed.isBinary, true);
  assert.deepEqual(Buffer.from(echoed.data), all, 'binary byte for byte');
  ws.close(4100, 'done ✓');
  await q.closed();
  const evs = await until(() => {
    const e = b.events.filter((x) => x.conn === id);
    return e.length === 5 && e;
  }, '5 events');
  assert.deepEqual(evs.map((e) => e.event), ['connect', 'message', 'message', 'message', 'disconnect']);
  for (const e of evs) {
    assert.equal(e.method, 'POST');
    assert.equal(e.url, '/ws');
    assert.equal(e.headers['wsgate-route'], '/chat/{room}');
    assert.deepEqual(JSON.parse(e.headers['wsgate-params']), { room: 'café' });
    assert.equal(e.headers['wsgate-user'], undefined, 'anonymous: no WSGate-User');
    assert.equal(Number(e.headers['content-length']), e.body.length);
  }
  const [connect, , txt, bin, disconnect] = evs;
  assert.equal(connect.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(connect.body), { remote_address: '127.0.0.1', headers: {}, user: null, claims: {} });
  assert.equal(txt.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(txt.body.toString('utf8'), 'héllo ✓');
  assert.equal(bin.headers['content-type'], 'application/octet-stream');
  assert.deepEqual(bin.body, all);
  assert.equal(disconnect.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(disconnect.body), { code: 4100, reason: 'done ✓' });
});

// ---------------------------------------------------------------- the answer
test('answers: text or binary, 204 none, join before the reply, leave, close after it', T, async (t) => {
  const b = await startBackend(t);
  const gw = await start(t, b);
  const { ws, q } = await open(t, gw, '/chat/lobby');
  ws.send(spec({ body: 'plain', type: 'text/plain' }));
  assert.equal(await text(q), 'plain');
  ws.send(spec({ body: '{"a":1}', type: 'application/json' }));
  let m = await q.next();
  assert.equal(m.isBinary, true, 'application/json is not text/*: binary');
  assert.equal(m.data.toString(), '{"a":1}');
  ws.send(spec({ status: 204 }));
  ws.send(spec({ status: 200, body: '' }));
  ws.send(spec({ body: 'after nothing' }));
  assert.equal(await text(q), 'after nothing', '204 and an empty 200: no reply');
  ws.send(spec({ body: 'joined', headers: { 'WSGate-Join': 'red, blue' } }));
  assert.equal(await text(q), 'joined');
  await publish(gw, 'red', 'to red');
  assert.equal(await text(q), 'to red', 'in red as soon as the reply arrived');
  ws.send(spec({ body: 'left', headers: { 'WSGate-Leave': 'red' } }));
  assert.equal(await text(q), 'left');
  await publish(gw, 'red', 'to red again');
  await publish(gw, 'blue', 'to blue');
  assert.equal(await text(q), 'to blue', 'out of red, still in blue');
  ws.send(spec({ body: 'bye', headers: { 'WSGate-Close': '4000 see you' } }));
  assert.equal(await text(q), 'bye', 'the reply before the close');
  assert.deepEqual(await q.closed(), { code: 4000, reason: 'see you' });
  await until(() => b.events.some((e) => e.event === 'disconnect'), 'the disconnect');
  const d = b.events.filter((e) => e.event === 'disconnect');
  assert.equal(d.length, 1);
  assert.deepEqual(JSON.parse(d[0].body), { code: 4000, reason: 'see you' });
});

// ---------------------------------------------------------------- keep-alive and the bound
test('keep-alive: at most max_connections (4) to the backend, reused', T, async (t) => {
  const b = await startBackend(t);
  b.rules.message = { delay: 1 };  // answers overlap, as a real backend's do
  const gw = await start(t, b, { maxConnections: 4, timeout: '10s' });
  let most = 0;
  let sampling = true;
  // The kernel's view: ESTABLISHED sockets of the gateway towards the backend port. Counted on
  // the gateway's side (dport), which is the side that decides: its close() leaves ESTABLISHED
  // inside the syscall, before the budget gives the slot to another worker. The backend's side
  // (sport) lags under load — the FIN of a closed connection and the handshake of its successor
  // may be processed on two CPUs' backlogs in either order — and once counted 5 in a loaded run.
  const sampler = (async () => {
    while (sampling) {
      const out = await new Promise((resolve) => execFile('ss',
        ['-Htn', 'state', 'established', `( dport = :${b.port} )`],
        (err, stdout) => resolve(err ? '' : stdout)));
      most = Math.max(most, out.split('\n').filter((l) => l.trim()).length);
      await sleep(10);
    }
  })();
  const clients = 50;
  const n = 100;
  try {
    await withLog(gw, () => Promise.all(Array.from({ length: clients }, async (_, k) => {
      const { ws, q } = await open(t, gw, `/chat/p${k}`);
      for (let i = 0; i < n; i++) ws.send(`${k}.${i}`);
      for (let i = 0; i < n; i++) assert.equal(await text(q, 20000), `${k}.${i}`);
      ws.close();
      await q.closed();
    })));
  } finally {
    sampling = false;
    await sampler;
  }
  const requests = clients * (n + 2);
  await until(() => b.events.length === requests, 'every request');
  assert.ok(b.maxInFlight <= 4, `requests at once: ${b.maxInFlight}`);
  assert.ok(b.maxInFlight >= 2, `the clients ran concurrently: ${b.maxInFlight}`);
  assert.ok(most <= 4, `ESTABLISHED connections at once (ss): ${most}`);
  assert.ok(b.accepted < requests / 20, `keep-alive: ${b.accepted} connections for ${requests} requests`);
  assert.deepEqual(await outcomes(gw), { ok: requests });
  t.diagnostic(`accepted ${b.accepted}, most open (server) ${b.maxOpen}, (ss) ${most}`);
});

// ---------------------------------------------------------------- independence
test('a slow answer for one connection does not stall the others', T, async (t) => {
  const b = await startBackend(t);
  const gw = await start(t, b, { maxConnections: 4 });
  const slow = await open(t, gw, '/chat/slow');
  const fast = await open(t, gw, '/chat/fast');
  const other = await open(t, gw, '/other');
  slow.ws.send(spec({ delay: 3000, body: 'finally' }));
  await until(() => b.inFlight === 1, 'the slow request at the backend');
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    fast.ws.send(`f${i}`);
    assert.equal(await text(fast.q), `f${i}`);
    other.ws.send(`o${i}`);
    assert.equal(await text(other.q), `o${i}`);
  }
  assert.ok(Date.now() - t0 < 2000, `answered meanwhile (${Date.now() - t0} ms)`);
  assert.equal(await text(slow.q), 'finally');
});

// ---------------------------------------------------------------- backpressure
test('a full backlog pauses the client; nothing is lost when the backend answers', T, async (t) => {
  const b = await startBackend(t);
  b.rules.message = { hold: true };
  b.holding = true;
  const gw = await start(t, b);
  const { ws, q } = await open(t, gw, '/chat/bp');
  const sent = Array.from({ length: 300 }, (_, i) => `bp${i}:${'y'.repeat(200)}`);
  for (const m of sent) ws.send(m);
  await until(() => b.held.length === 1, 'the first message held at the backend');
  await waitForMetric(gw, 'wsgate_backend_backlog_pauses_total', { backend: 'app' }, (v) => v >= 1);
  await sleep(300);
  assert.equal(b.events.length, 2, 'connect and one message: one at a time');
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_messages_received_total', { route: '/chat/{room}' }), 16,
    'the backlog (16) read, the rest left in the socket');
  b.release();
  const got = [];
  for (let i = 0; i < sent.length; i++) got.push(await text(q));
  assert.deepEqual(got, sent, 'every reply, in order');
  ws.close();
  await q.closed();
  await until(() => b.events.some((e) => e.event === 'disconnect'), 'the disconnect');
  const [seq] = b.sequences().values();
  assert.deepEqual(seq, ['connect', ...sent.map((s) => `m:${s}`), 'disconnect']);
});

// ---------------------------------------------------------------- restart
test('the backend restarted on the same port: traffic resumes, wsgated untouched', T, async (t) => {
  let b = await startBackend(t);
  const port = b.port;
  const gw = await start(t, b);
  const first = await open(t, gw, '/chat/a');
  first.ws.send('before');
  assert.equal(await text(first.q), 'before');
  b.stop();
  // The open connection's next request finds the server gone: reset or unreachable.
  first.ws.send('during');
  const c = await first.q.closed();
  assert.ok([1011, 1013].includes(c.code), `closed ${JSON.stringify(c)}`);
  b = await startBackend(t, port);
  for (let i = 0; i < 3; i++) {
    const { ws, q } = await open(t, gw, '/chat/a');
    for (let j = 0; j < 5; j++) {
      ws.send(`after ${i}.${j}`);
      assert.equal(await text(q), `after ${i}.${j}`);
    }
    ws.close();
    await q.closed();
  }
  assert.equal(gw.exited, false);
  // The first client's disconnect may reach the new server too (after a reset it is owed one):
  // look at the connections that began there.
  const complete = () => [...b.sequences().values()]
    .filter((seq) => seq[0] === 'connect' && seq.at(-1) === 'disconnect');
  await until(() => complete().length === 3, '3 connections complete on the new server');
  for (const seq of complete()) assert.equal(seq.length, 7, JSON.stringify(seq));
});
