// limits.test.mjs: the limits of server.limits as a client meets them, each checked on the wire
// AND in the metric that counts it: max_connections (503 + Retry-After), max_connections_per_ip
// (429 + Retry-After, per forwarded address behind a trusted proxy), send_queue (a client that
// never reads is closed 1008 "slow consumer" and the gateway's memory stays bounded),
// messages_per_second (close 1008 "rate limited", or drop + count with rate_limit: drop) and
// max_message_size (1009).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startGateway, echoConfig, rawHttp, upgradeRequest, clientFrame, parseFrame, openWs, collect,
  sleep, metrics, metricValue, waitForMetric, rssBytes, readFrame, adminRequest,
} from './harness.mjs';

const T = { timeout: 60000 };

// ---------------------------------------------------------------- helpers
// A raw upgrade kept open: the response ({status, headers, conn, …}); conn destroyed at test end.
async function rawUpgrade(t, gw, opts = {}) {
  const res = await rawHttp(gw.addr(0), upgradeRequest(opts), { keepOpen: true, ms: 10000 });
  t.after(() => res.conn.destroy());
  return res;
}

function describe(res) {
  return JSON.stringify(res.raw.toString('latin1').slice(0, 300));
}

function assertRetryAfter(res, what) {
  const ra = res.headers['retry-after'];
  assert.ok(ra && ra.length === 1 && /^\d+$/.test(ra[0]) && Number(ra[0]) >= 1,
    `${what}: expected a Retry-After (seconds) header in ${describe(res)}`);
}

const failures = (m, reason) => metricValue(m, 'wsgate_handshake_failures_total', { reason }, 0);
const openGauge = (m, route = '/echo') => metricValue(m, 'wsgate_connections', { route }, 0);

// ---------------------------------------------------------------- max_connections
test('max_connections: 3 open, the 4th gets 503 + Retry-After; a freed slot is reused', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ extraServer: '  limits: {max_connections: 3}\n' }));
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await openWs(t, gw.url(0)));
  const cs = clients.map(collect);
  clients.forEach((ws, i) => ws.send(`c${i}`));
  for (let i = 0; i < 3; i++) assert.equal((await cs[i].next()).data.toString(), `c${i}`);

  const res = await rawUpgrade(t, gw);
  assert.equal(res.status, 503, `4th handshake: ${describe(res)}`);
  assertRetryAfter(res, '503');
  let m = await metrics(gw);
  assert.equal(failures(m, 'max_connections'), 1, 'handshake_failures_total{reason="max_connections"}');
  assert.equal(openGauge(m), 3, 'wsgate_connections{route="/echo"}');

  // Free one slot: once the gauge says 2 the slot must be reusable (allow a short lag between
  // the gauge and the slot release, retrying at most for 2 s).
  clients[0].close(1000);
  assert.equal((await cs[0].closed()).code, 1000);
  await waitForMetric(gw, 'wsgate_connections', { route: '/echo' }, (v) => v === 2, 5000);
  const t0 = Date.now();
  let retries = 0;
  let ok = null;
  while (Date.now() - t0 < 2000) {
    const r = await rawUpgrade(t, gw);
    if (r.status === 101) { ok = r; break; }
    assert.equal(r.status, 503, `after a close: ${describe(r)}`);
    retries++;
    await sleep(50);
  }
  assert.ok(ok, `no slot freed within 2 s after a client closed (${retries} more 503s)`);
  if (retries) console.log(`# slot reused after ${retries} extra 503(s)`);
  await ok.conn.write(clientFrame(0x1, 'fifth'));
  assert.equal((await readFrame(ok.conn)).payload.toString(), 'fifth');
  m = await metrics(gw);
  assert.equal(failures(m, 'max_connections'), 1 + retries);
  assert.equal(openGauge(m), 3);
  assert.equal(metricValue(m, 'wsgate_connections_total', { route: '/echo' }), 4);
});

// ---------------------------------------------------------------- max_connections_per_ip
test('max_connections_per_ip: 100 of 200 connections from 127.0.0.1 open, 100 get 429 + Retry-After', T, async (t) => {
  const gw = await startGateway(t, echoConfig({
    extraServer: '  limits: {max_connections_per_ip: 100, handshake_timeout: 20s}\n' }));
  const results = await Promise.all(Array.from({ length: 200 }, () => rawUpgrade(t, gw)));
  const by = {};
  for (const r of results) by[r.status] = (by[r.status] ?? 0) + 1;
  assert.deepEqual(by, { 101: 100, 429: 100 }, `statuses: ${JSON.stringify(by)}`);
  for (const r of results.filter((x) => x.status === 429)) assertRetryAfter(r, '429');
  // The 100 admitted ones really are open connections.
  const open = results.filter((r) => r.status === 101);
  await Promise.all(open.map((r, i) => r.conn.write(clientFrame(0x1, `n${i}`))));
  const echoes = await Promise.all(open.map((r) => readFrame(r.conn, 10000)));
  echoes.forEach((f, i) => assert.equal(f.payload.toString(), `n${i}`));
  const m = await metrics(gw);
  assert.equal(failures(m, 'max_connections_per_ip'), 100,
    'handshake_failures_total{reason="max_connections_per_ip"}');
  assert.equal(failures(m, 'max_connections'), 0);
  assert.equal(openGauge(m), 100);
});

test('max_connections_per_ip behind a trusted proxy counts each X-Forwarded-For address', T, async (t) => {
  const gw = await startGateway(t, echoConfig({
    extraServer: '  trusted_proxies: ["127.0.0.0/8"]\n  limits: {max_connections_per_ip: 2}\n' }));
  const xff = (a) => ({ headers: { 'X-Forwarded-For': a } });
  const a1 = await rawUpgrade(t, gw, xff('203.0.113.1'));
  const a2 = await rawUpgrade(t, gw, xff('203.0.113.1'));
  assert.equal(a1.status, 101, describe(a1));
  assert.equal(a2.status, 101, describe(a2));
  const a3 = await rawUpgrade(t, gw, xff('203.0.113.1'));
  assert.equal(a3.status, 429, `3rd from 203.0.113.1: ${describe(a3)}`);
  assertRetryAfter(a3, '429');
  const b1 = await rawUpgrade(t, gw, xff('203.0.113.2'));
  assert.equal(b1.status, 101, `1st from 203.0.113.2: ${describe(b1)}`);
  // The proxy itself (no header) is one more address with its own share.
  const p1 = await rawUpgrade(t, gw);
  assert.equal(p1.status, 101, `the proxy's own connection: ${describe(p1)}`);
  // A spoofed leftmost hop does not help: the rightmost untrusted hop is the client.
  const a4 = await rawUpgrade(t, gw, xff('198.51.100.99, 203.0.113.1'));
  assert.equal(a4.status, 429, `spoofed chain ending in 203.0.113.1: ${describe(a4)}`);
  const m = await metrics(gw);
  assert.equal(failures(m, 'max_connections_per_ip'), 2);
  assert.equal(openGauge(m), 4);
});

// ---------------------------------------------------------------- send_queue
test('send_queue: a client that sends but never reads is closed 1008 "slow consumer", memory bounded', T, async (t) => {
  const SEND_QUEUE = 256 * 1024;
  // Headroom for an ASan build: its allocator keeps freed blocks in a quarantine (limited to
  // 16 MiB here, else 256 MiB of freed echo copies would look like growth) and caches size classes.
  const HEADROOM = 32 * 1024 * 1024;
  const SEND_MS = 3000;     // the client keeps sending this long (unless cut first)
  const CLOSE_MS = 5000;    // the server must have cut it by then
  const asan = `${process.env.ASAN_OPTIONS ?? 'abort_on_error=0:detect_leaks=1'}:quarantine_size_mb=16`;
  // handshake_timeout also bounds the closing handshake: a close queued behind a write the
  // client never reads is given up (TCP dropped) after it.
  const gw = await startGateway(t, echoConfig({ extraServer: '  limits: {send_queue: 256KiB, handshake_timeout: 1s}\n' }),
    { env: { ASAN_OPTIONS: asan } });

  // Warm up (allocator, metrics cells, one 64 KiB echo) before the baseline.
  {
    const ws = await openWs(t, gw.url(0));
    const c = collect(ws);
    ws.send(Buffer.alloc(64 * 1024, 0x62));
    assert.equal((await c.next()).data.length, 64 * 1024);
    ws.close();
    await c.closed();
  }
  await sleep(200);
  const baseline = rssBytes(gw.pid);

  const res = await rawUpgrade(t, gw);
  assert.equal(res.status, 101, describe(res));
  const conn = res.conn;
  conn.sock.pause();  // never read: Node stops reading the socket once its small buffer is full

  let peak = baseline;
  const sampler = setInterval(() => {
    try { peak = Math.max(peak, rssBytes(gw.pid)); } catch { /* exited */ }
  }, 50);
  t.after(() => clearInterval(sampler));

  const frame = clientFrame(0x2, Buffer.alloc(64 * 1024, 0x61));
  const t0 = Date.now();
  let sent = 0;
  while (!conn.closed && !conn.error && Date.now() - t0 < CLOSE_MS) {
    if (Date.now() - t0 >= SEND_MS && sent > 0) {
      // Past the sending period: only small probes, so a reset is noticed.
      conn.sock.write(clientFrame(0x9, 'probe'));
      await sleep(100);
      continue;
    }
    if (conn.sock.writableLength > 1024 * 1024) {
      await new Promise((r) => { const tm = setTimeout(r, 50); conn.sock.once('drain', () => { clearTimeout(tm); r(); }); });
      continue;
    }
    conn.sock.write(frame);
    sent++;
    if (sent % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  const cutMs = conn.closed || conn.error ? (conn.closedAt ?? Date.now()) - t0 : null;
  clearInterval(sampler);
  try { peak = Math.max(peak, rssBytes(gw.pid)); } catch { /* exited */ }
  const growth = peak - baseline;
  const mib = (b) => (b / 1048576).toFixed(1);
  console.log(`# slow consumer: sent ${sent} x 64 KiB (${mib(sent * 65536)} MiB), cut after `
    + `${cutMs ?? 'never (>' + CLOSE_MS + ')'} ms (${cutMs === null ? 'still open' : conn.error?.code ?? 'closed'}); RSS baseline `
    + `${mib(baseline)} MiB, peak ${mib(peak)} MiB, growth ${mib(growth)} MiB (limit `
    + `${mib(SEND_QUEUE + HEADROOM)} MiB)`);

  // Now read what reached the client: echoes, then (ideally) the close frame.
  conn.sock.resume();
  await conn.until(() => conn.closed, 3000, 'reading to the end').catch(() => {});
  let close = null;
  let echoes = 0;
  let buf = conn.data;
  for (let f = parseFrame(buf); f; f = parseFrame(buf)) {
    buf = buf.subarray(f.size);
    if (f.opcode === 0x8) { close = f; break; }
    if (f.opcode === 0x2) echoes++;
  }
  if (close) {
    console.log(`# read ${echoes} echoes, then close ${close.payload.readUInt16BE(0)} `
      + `"${close.payload.subarray(2).toString()}"`);
  } else {
    console.log(`# read ${echoes} echoes and no close frame (the connection was reset)`);
  }

  const m = await metrics(gw);
  assert.ok(cutMs !== null, `the server did not close a client that never reads within ${CLOSE_MS} ms`
    + ` (sent ${sent} messages)`);
  assert.equal(metricValue(m, 'wsgate_slow_consumer_closes_total'), 1, 'wsgate_slow_consumer_closes_total');
  assert.ok(metricValue(m, 'wsgate_messages_dropped_total', { reason: 'slow_consumer' }, 0) >= 1,
    'messages_dropped_total{reason="slow_consumer"}');
  assert.ok(growth <= SEND_QUEUE + HEADROOM,
    `gateway RSS grew by ${mib(growth)} MiB (baseline ${mib(baseline)}, peak ${mib(peak)}), over `
    + `send_queue + ${mib(HEADROOM)} MiB headroom`);
  if (close) {
    assert.equal(close.payload.readUInt16BE(0), 1008);
    assert.equal(close.payload.subarray(2).toString(), 'slow consumer');
  }
  await waitForMetric(gw, 'wsgate_connections', { route: '/echo' }, (v) => v === 0, 5000);
});

// Each ping gets a pong; a client that pings and never reads must not grow the server's buffer
// of unread pongs without bound: past send_queue it is a slow consumer, and its TCP goes.
test('send_queue: a client that floods pings and never reads is dropped as a slow consumer', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ extraServer: '  limits: {send_queue: 64KiB}\n' }));
  const res = await rawUpgrade(t, gw);
  assert.equal(res.status, 101);
  const conn = res.conn;
  conn.sock.pause();  // never read
  const ping = clientFrame(0x9, Buffer.alloc(125, 0x70));
  const t0 = Date.now();
  let sent = 0;
  while (!conn.closed && !conn.error && Date.now() - t0 < 10000) {
    if (conn.sock.writableLength > 256 * 1024) {
      await new Promise((r) => { const tm = setTimeout(r, 50); conn.sock.once('drain', () => { clearTimeout(tm); r(); }); });
      continue;
    }
    conn.sock.write(Buffer.concat(Array(64).fill(ping)));
    sent += 64;
    await new Promise((r) => setImmediate(r));
  }
  const m = await metrics(gw);
  assert.ok(conn.closed || conn.error, `still open after ${sent} pings in 10 s`);
  assert.equal(metricValue(m, 'wsgate_slow_consumer_closes_total'), 1, 'wsgate_slow_consumer_closes_total');
  await waitForMetric(gw, 'wsgate_connections', { route: '/echo' }, (v) => v === 0, 5000);
});

// ---------------------------------------------------------------- messages_per_second
const rateRoutes = `  - path: /drop
    backend: echo
    rate_limit: drop
`;
const rateConfig = echoConfig({ routes: rateRoutes, extraServer: '  limits: {messages_per_second: 5}\n' });

test('messages_per_second: 5 (burst 10): 30 messages at once close 1008 "rate limited"', T, async (t) => {
  const gw = await startGateway(t, rateConfig);
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  for (let i = 0; i < 30; i++) ws.send(`m${i}`);
  const closed = await c.closed(5000);
  assert.equal(closed.code, 1008, `close ${JSON.stringify(closed)}`);
  assert.equal(closed.reason, 'rate limited');
  const echoed = c.queue.length;
  assert.ok(echoed >= 10 && echoed <= 12, `${echoed} echoes before the close (burst 10)`);
  const m = await metrics(gw);
  assert.ok(metricValue(m, 'wsgate_rate_limited_total') >= 1, 'wsgate_rate_limited_total');
  assert.equal(metricValue(m, 'wsgate_messages_dropped_total', { reason: 'rate_limited' }, 0), 0,
    'a closing route does not count drops');
});

test('messages_per_second with rate_limit: drop: excess dropped and counted, the connection stays', T, async (t) => {
  const gw = await startGateway(t, rateConfig);
  const ws = await openWs(t, gw.url(0, '/drop'));
  const c = collect(ws);
  for (let i = 0; i < 30; i++) ws.send(`m${i}`);
  await sleep(600);  // all 30 are read in a few ms; what got through is echoed by now
  const echoes = c.queue.splice(0).map((x) => x.data.toString());
  const n = echoes.length;
  assert.ok(n >= 10 && n <= 12, `${n} echoes of 30 (burst 10): ${echoes.join(' ')}`);
  assert.deepEqual(echoes, Array.from({ length: n }, (_, i) => `m${i}`), 'the first ones pass, in order');
  assert.equal(ws.readyState, ws.OPEN, 'still open');
  let m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_messages_dropped_total', { reason: 'rate_limited' }, 0), 30 - n,
    'messages_dropped_total{reason="rate_limited"}');
  assert.equal(metricValue(m, 'wsgate_rate_limited_total'), 30 - n, 'wsgate_rate_limited_total');

  await sleep(1000);  // 5 tokens back
  for (let i = 0; i < 3; i++) ws.send(`again${i}`);
  for (let i = 0; i < 3; i++) assert.equal((await c.next()).data.toString(), `again${i}`);
  m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_messages_dropped_total', { reason: 'rate_limited' }, 0), 30 - n);
  assert.equal(ws.readyState, ws.OPEN, 'still open');
});

// ---------------------------------------------------------------- max_message_size
test('max_message_size: 1KiB: 1024 bytes echo, 1025 bytes close 1009 (also when fragmented)', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ extraServer: '  limits: {max_message_size: 1KiB}\n' }));
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  ws.send('a'.repeat(1024));
  assert.equal((await c.next()).data.toString(), 'a'.repeat(1024));
  ws.send('b'.repeat(1025));
  const closed = await c.closed(5000);
  assert.equal(closed.code, 1009, `close ${JSON.stringify(closed)}`);

  // A 1025-byte message in two frames (600 + 425) is still one message over the limit.
  const res = await rawUpgrade(t, gw);
  assert.equal(res.status, 101, describe(res));
  const first = clientFrame(0x1, 'c'.repeat(600));
  first[0] &= 0x7f;  // FIN clear: a fragment
  await res.conn.write(first);
  await res.conn.write(clientFrame(0x0, 'c'.repeat(425)));  // continuation, FIN
  const f = await readFrame(res.conn);
  assert.equal(f.opcode, 0x8, `expected a close frame, got opcode ${f.opcode}`);
  assert.equal(f.payload.readUInt16BE(0), 1009);

  const m = await metrics(gw);
  // Only the 1024-byte message was received; the oversize ones never became messages.
  assert.equal(metricValue(m, 'wsgate_messages_received_total', { route: '/echo' }), 1);
  assert.equal(metricValue(m, 'wsgate_bytes_received_total'), 1024);
  await waitForMetric(gw, 'wsgate_connections', { route: '/echo' }, (v) => v === 0, 5000);
});

// ---------------------------------------------------------------- send_queue and one large message
// SPEC §3: send_queue bounds what waits behind the write in flight, so one message of up to
// max_message_size gets through whatever send_queue says: with the default 4 MiB send_queue and
// max_message_size 16MiB an 8 MiB message echoes (uncompressed, compressed, through an http
// backend) and an 8 MiB publish reaches its member. A client that reads nothing is still closed:
// a second 8 MiB reply waits behind the first.
test('send_queue 4MiB (default), max_message_size 16MiB: one 8 MiB message echoes and publishes; a second one behind it closes 1008', { timeout: 120000 }, async (t) => {
  const backend = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      if (req.headers['wsgate-event'] !== 'message') { res.writeHead(204); return res.end(); }
      res.writeHead(200, { 'Content-Type': req.headers['content-type'] || 'application/octet-stream' });
      res.end(Buffer.concat(parts));
    });
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  t.after(() => backend.close());
  const gw = await startGateway(t, `server:
  workers: 2
  listen: [{address: "127.0.0.1:0"}]
  log: {level: info}
  limits: {max_message_size: 16MiB}
admin:
  listen: "127.0.0.1:0"
  token: big-message-token
backends:
  app: {type: http, url: "http://127.0.0.1:${backend.address().port}/ws", timeout: 30s}
routes:
  - path: /echo
    backend: echo
  - path: /deflate
    backend: echo
    compression: {enabled: true, threshold: 0}
  - path: /http
    backend: app
  - path: /room
    backend: echo
    rooms: [big]
`);
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 12)) & 0xff;
  for (const path of ['/echo', '/deflate', '/http']) {
    const ws = await openWs(t, gw.url(0, path));
    const c = collect(ws);
    ws.send(big);
    const got = await c.next(30000);
    assert.ok(Buffer.isBuffer(got.data) && got.data.equals(big), `${path}: the 8 MiB message came back whole`);
    ws.close(1000);
    assert.equal((await c.closed(10000)).code, 1000, `${path}: a clean close after it`);
  }
  const member = await openWs(t, gw.url(0, '/room'));
  const mc = collect(member);
  await sleep(200);
  const res = await adminRequest(gw, 'POST', '/v1/rooms/big/messages', {
    headers: { 'Content-Type': 'application/octet-stream', Authorization: 'Bearer big-message-token' }, body: big,
  });
  assert.equal(res.status, 202, `publish: ${res.status} ${res.body}`);
  const pub = await mc.next(30000);
  assert.ok(pub.data.equals(big), 'the 8 MiB publish arrived whole');
  let m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_slow_consumer_closes_total', {}, 0), 0, 'no slow consumer so far');

  // A raw client that never reads: the first reply may fill the socket, the second waits behind
  // it and is over send_queue: 1008 (the TCP connection may be dropped instead, counted alike).
  const raw = await rawHttp(gw.addr(0), upgradeRequest({ path: '/echo' }), { keepOpen: true, ms: 10000 });
  t.after(() => raw.conn.destroy());
  assert.equal(raw.status, 101);
  raw.conn.sock.pause();
  const frame = clientFrame(0x2, big);
  for (let i = 0; i < 4; i++) raw.conn.sock.write(frame);
  await waitForMetric(gw, 'wsgate_slow_consumer_closes_total', {}, (v) => v >= 1, 30000);
});
