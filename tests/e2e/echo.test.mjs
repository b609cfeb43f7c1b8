// echo.test.mjs: the Node `ws` client against the built-in echo backend, over ws:// and wss://,
// IPv4 and IPv6, one or several listeners; subprotocols, route params, query strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import {
  startGateway, echoConfig, openWs, collect, tempDir, makeCerts, withTimeout,
  rawConnect, upgradeRequest, clientFrame, readFrame,
} from './harness.mjs';

const T = { timeout: 60000 };

// Send one message and return the echo {data, isBinary}.
async function roundTrip(ws, c, payload, opts) {
  ws.send(payload, opts);
  return c.next(10000);
}

// True when this host can bind ::1 (IPv6 loopback).
async function haveIPv6() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

test('text, binary, empty, 64 KiB and 1 MiB messages echo unchanged with their type', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  assert.equal(gw.listener(0).scheme, 'ws');
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);

  let r = await roundTrip(ws, c, 'hello, wsgated ✓');
  assert.equal(r.isBinary, false);
  assert.equal(r.data.toString('utf8'), 'hello, wsgated ✓');

  const bin = crypto.randomBytes(300);
  r = await roundTrip(ws, c, bin);
  assert.equal(r.isBinary, true);
  assert.ok(bin.equals(r.data), 'binary payload differs');

  r = await roundTrip(ws, c, '');
  assert.equal(r.isBinary, false);
  assert.equal(r.data.length, 0);

  r = await roundTrip(ws, c, Buffer.alloc(0));
  assert.equal(r.isBinary, true);
  assert.equal(r.data.length, 0);

  const k64 = crypto.randomBytes(64 * 1024);
  r = await roundTrip(ws, c, k64);
  assert.equal(r.isBinary, true);
  assert.ok(k64.equals(r.data), '64 KiB binary payload differs');

  const text64 = 'x'.repeat(64 * 1024);
  r = await roundTrip(ws, c, text64);
  assert.equal(r.isBinary, false);
  assert.equal(r.data.toString(), text64);

  // Exactly the default max_message_size (1 MiB) must pass.
  const m1 = crypto.randomBytes(1024 * 1024);
  r = await roundTrip(ws, c, m1);
  assert.equal(r.isBinary, true);
  assert.equal(r.data.length, m1.length);
  assert.ok(m1.equals(r.data), '1 MiB binary payload differs');

  const closed = c.closed();
  ws.close(1000, 'bye');
  const info = await closed;
  assert.equal(info.code, 1000);
});

test('a fragmented message is echoed as one message', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  ws.send('part one, ', { fin: false });
  ws.send('part two, ', { fin: false });
  ws.send('end', { fin: true });
  const r = await c.next(10000);
  assert.equal(r.isBinary, false);
  assert.equal(r.data.toString(), 'part one, part two, end');
});

test('1000 pipelined messages come back complete and in order', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  const N = 1000;
  for (let i = 0; i < N; i++) {
    if (i % 2) ws.send(`msg-${i}`);
    else ws.send(Buffer.from(`bin-${i}`));
  }
  for (let i = 0; i < N; i++) {
    const r = await c.next(10000);
    assert.equal(r.isBinary, i % 2 === 0, `message ${i} type`);
    assert.equal(r.data.toString(), i % 2 ? `msg-${i}` : `bin-${i}`, `message ${i} out of order`);
  }
  assert.equal(c.queue.length, 0, 'extra messages');
});

test('frames sent in the same packet as the upgrade request are echoed after the 101', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const conn = await rawConnect(gw.addr(0));
  t.after(() => conn.destroy());
  const bin = crypto.randomBytes(200);
  await conn.write(Buffer.concat([Buffer.from(upgradeRequest(), 'latin1'),
    clientFrame(1, 'early'), clientFrame(2, bin)]));
  const res = await conn.readResponse();
  assert.equal(res.status, 101);
  let f = await readFrame(conn);
  assert.deepEqual([f.opcode, f.payload.toString()], [1, 'early']);
  f = await readFrame(conn);
  assert.equal(f.opcode, 2);
  assert.ok(bin.equals(f.payload), 'binary payload differs');
});

// The server receives up to 64 KiB at a time and keeps what Beast has not read yet: frames cut
// at every kind of boundary (header, mask, payload) must come out whole and in order.
test('a 600 KiB burst of mixed frames written in 997-byte pieces echoes whole and in order', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const conn = await rawConnect(gw.addr(0));
  t.after(() => conn.destroy());
  await conn.write(Buffer.from(upgradeRequest(), 'latin1'));
  assert.equal((await conn.readResponse()).status, 101);
  const sizes = [];
  for (let i = 0; i < 400; i++) sizes.push([0, 1, 125, 126, 1000, 1536, 4000, 70000][i % 8] + (i % 3));
  const payloads = sizes.map((n) => crypto.randomBytes(n));
  const burst = Buffer.concat(payloads.map((p) => clientFrame(2, p)));
  assert.ok(burst.length > 600 * 1024);
  for (let off = 0; off < burst.length; off += 997) await conn.write(burst.subarray(off, off + 997));
  for (let i = 0; i < payloads.length; i++) {
    const f = await readFrame(conn, 10000);
    assert.equal(f.opcode, 2, `frame ${i}`);
    assert.ok(payloads[i].equals(f.payload), `frame ${i} (${sizes[i]} bytes) differs`);
  }
});

test('several clients at once each get only their own echoes', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const clients = await Promise.all(Array.from({ length: 20 }, () => openWs(t, gw.url(0))));
  const cs = clients.map(collect);
  clients.forEach((ws, i) => { for (let j = 0; j < 50; j++) ws.send(`c${i}-${j}`); });
  for (let i = 0; i < clients.length; i++) {
    for (let j = 0; j < 50; j++) {
      const r = await cs[i].next(10000);
      assert.equal(r.data.toString(), `c${i}-${j}`);
    }
  }
});

test('wss:// with the test CA verifies and echoes', T, async (t) => {
  const dir = tempDir(t);
  const pki = makeCerts(dir);
  const gw = await startGateway(t, echoConfig({
    listen: [{ address: '127.0.0.1:0', tls: { cert: pki.cert, key: pki.key } }],
  }), { dir });
  assert.equal(gw.listener(0).scheme, 'wss', 'a TLS listener logs (wss)');
  assert.match(gw.url(0), /^wss:\/\/127\.0\.0\.1:\d+\/echo$/);

  const ws = await openWs(t, gw.url(0), { ca: pki.caPem });
  assert.ok(ws._socket.authorized !== false, 'TLS peer not authorized');
  const c = collect(ws);
  const r = await roundTrip(ws, c, 'over tls');
  assert.equal(r.data.toString(), 'over tls');
  const big = crypto.randomBytes(1024 * 1024);
  const r2 = await roundTrip(ws, c, big);
  assert.ok(big.equals(r2.data), '1 MiB over TLS differs');

  // By name too: the certificate carries DNS:localhost.
  const ws2 = await openWs(t, gw.url(0).replace('127.0.0.1', 'localhost'),
    { ca: pki.caPem, lookup: (h, o, cb) => (o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) });
  const c2 = collect(ws2);
  assert.equal((await roundTrip(ws2, c2, 'by name')).data.toString(), 'by name');
});

test('wss:// fails for a client that does not trust the CA', T, async (t) => {
  const dir = tempDir(t);
  const pki = makeCerts(dir);
  const other = makeCerts(dir, 'other');
  const gw = await startGateway(t, echoConfig({
    listen: [{ address: '127.0.0.1:0', tls: { cert: pki.cert, key: pki.key } }],
  }), { dir });
  await assert.rejects(openWs(t, gw.url(0), { ca: other.caPem }),
    (err) => /certificate|self.signed|unable to (verify|get)/i.test(`${err.code} ${err.message}`));
  // A client with the default (system) trust store must fail as well.
  await assert.rejects(openWs(t, gw.url(0)),
    (err) => /certificate|self.signed|unable to (verify|get)/i.test(`${err.code} ${err.message}`));
  // And the listener still serves a trusting client afterwards.
  const ws = await openWs(t, gw.url(0), { ca: pki.caPem });
  const c = collect(ws);
  assert.equal((await roundTrip(ws, c, 'still up')).data.toString(), 'still up');
});

test('tls min_version "1.3" refuses a TLS 1.2 client and accepts TLS 1.3', T, async (t) => {
  const dir = tempDir(t);
  const pki = makeCerts(dir);
  const gw = await startGateway(t, echoConfig({
    listen: [{ address: '127.0.0.1:0', tls: { cert: pki.cert, key: pki.key, min_version: '1.3' } }],
  }), { dir });
  await assert.rejects(openWs(t, gw.url(0), { ca: pki.caPem, maxVersion: 'TLSv1.2' }));
  const ws = await openWs(t, gw.url(0), { ca: pki.caPem, minVersion: 'TLSv1.3' });
  assert.equal(ws._socket.getProtocol(), 'TLSv1.3');
  const c = collect(ws);
  assert.equal((await roundTrip(ws, c, 'tls13')).data.toString(), 'tls13');
});

test('default tls min_version accepts a TLS 1.2 client', T, async (t) => {
  const dir = tempDir(t);
  const pki = makeCerts(dir);
  const gw = await startGateway(t, echoConfig({
    listen: [{ address: '127.0.0.1:0', tls: { cert: pki.cert, key: pki.key } }],
  }), { dir });
  const ws = await openWs(t, gw.url(0), { ca: pki.caPem, maxVersion: 'TLSv1.2' });
  assert.equal(ws._socket.getProtocol(), 'TLSv1.2');
  const c = collect(ws);
  assert.equal((await roundTrip(ws, c, 'tls12')).data.toString(), 'tls12');
});

test('IPv6 loopback listener [::1]:0 echoes', T, async (t) => {
  if (!(await haveIPv6())) return t.skip('no IPv6 loopback on this host');
  const gw = await startGateway(t, echoConfig({ listen: ['[::1]:0'] }));
  const l = gw.listener(0);
  assert.equal(l.host, '::1');
  assert.equal(l.family, 6);
  assert.ok(gw.lines.some((s) => /listening on \[::1\]:\d+ \(ws\)/.test(s)), 'IPv6 log line');
  const ws = await openWs(t, gw.url(0));
  assert.equal(ws._socket.remoteFamily, 'IPv6');
  const c = collect(ws);
  assert.equal((await roundTrip(ws, c, 'v6')).data.toString(), 'v6');
});

test('several listeners (ws, ws, wss, IPv6) serve at once', T, async (t) => {
  const dir = tempDir(t);
  const pki = makeCerts(dir);
  const v6 = await haveIPv6();
  const listen = ['127.0.0.1:0', '127.0.0.1:0',
    { address: '127.0.0.1:0', tls: { cert: pki.cert, key: pki.key } }];
  if (v6) listen.push('[::1]:0');
  const gw = await startGateway(t, echoConfig({ listen }), { dir, expectListeners: listen.length });
  assert.equal(gw.listeners.length, listen.length, gw.stderr);
  const ports = new Set(gw.listeners.map((l) => `${l.host}/${l.port}`));
  assert.equal(ports.size, listen.length, 'listeners must have distinct addresses');
  assert.equal(gw.listeners.filter((l) => l.scheme === 'wss').length, 1);
  assert.equal(gw.listeners.filter((l) => l.family === 6).length, v6 ? 1 : 0);
  for (let i = 0; i < gw.listeners.length; i++) {
    const ws = await openWs(t, gw.url(i), { ca: pki.caPem });
    const c = collect(ws);
    assert.equal((await roundTrip(ws, c, `via ${i}`)).data.toString(), `via ${i}`);
    ws.close();
  }
});

const subprotocolRoutes = `  - path: /proto
    backend: echo
    subprotocols: [chat.v1, chat.v2]
`;

test('subprotocol negotiation selects the offered one the route supports', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ routes: subprotocolRoutes }));
  let ws = await openWs(t, gw.url(0, '/proto'), { protocols: ['other', 'chat.v2'] });
  assert.equal(ws.protocol, 'chat.v2');
  const c = collect(ws);
  assert.equal((await roundTrip(ws, c, 'sub')).data.toString(), 'sub');

  ws = await openWs(t, gw.url(0, '/proto'), { protocols: ['chat.v1'] });
  assert.equal(ws.protocol, 'chat.v1');

  // Offering both: the answer must be one of them (ws checks it was offered).
  ws = await openWs(t, gw.url(0, '/proto'), { protocols: ['chat.v1', 'chat.v2'] });
  assert.ok(['chat.v1', 'chat.v2'].includes(ws.protocol), ws.protocol);

  // None of them: 400 before the upgrade.
  await assert.rejects(openWs(t, gw.url(0, '/proto'), { protocols: ['other'] }),
    (err) => err.statusCode === 400);
  await assert.rejects(openWs(t, gw.url(0, '/proto')), (err) => err.statusCode === 400);
});

const roomRoutes = `  - path: /rooms/{room}
    backend: echo
  - path: /a/{x}/b/{y}
    backend: echo
`;

test('route params: /rooms/{room} matches exactly one segment', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ routes: roomRoutes }));
  for (const p of ['/rooms/lobby', '/rooms/room-42', '/rooms/%E2%9C%93', '/a/1/b/2']) {
    const ws = await openWs(t, gw.url(0, p));
    const c = collect(ws);
    assert.equal((await roundTrip(ws, c, p)).data.toString(), p);
    ws.close();
  }
  for (const p of ['/rooms', '/rooms/a/b', '/room/lobby', '/a/1/b', '/a/1/c/2', '/echo/x']) {
    await assert.rejects(openWs(t, gw.url(0, p)), (err) => err.statusCode === 404,
      `${p} must be 404`);
  }
});

test('the query string is ignored for route matching', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ routes: roomRoutes }));
  for (const p of ['/echo?x=1', '/echo?token=abc&y=%20z', '/echo?', '/rooms/lobby?user=7']) {
    const ws = await openWs(t, gw.url(0, p));
    const c = collect(ws);
    assert.equal((await roundTrip(ws, c, p)).data.toString(), p);
    ws.close();
  }
  await assert.rejects(openWs(t, gw.url(0, '/nope?path=/echo')), (err) => err.statusCode === 404);
});

test('a client close gets the close echoed with the same code', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  ws.close(4000, 'custom');
  const info = await c.closed(5000);
  assert.equal(info.code, 4000);
});

test('ping gets a pong', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const ws = await openWs(t, gw.url(0));
  const pong = withTimeout(new Promise((r) => ws.once('pong', r)), 5000, 'pong');
  ws.ping(Buffer.from('are you there'));
  const data = await pong;
  assert.equal(data.toString(), 'are you there');
});
