// http_answers.test.mjs: what a public listener answers before (and at) the upgrade, checked on
// the raw bytes: 404, 426 (+ Sec-WebSocket-Version: 13, 8), 403, 400, 431, 101, the Server
// header, the handshake timeout (slowloris) and the HyBi-08 handshake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startGateway, echoConfig, rawHttp, rawConnect, upgradeRequest, wsKey, wsAccept, binaryVersion,
  clientFrame, readFrame, openWs, collect, sleep,
} from './harness.mjs';

const T = { timeout: 60000 };
const HANDSHAKE_TIMEOUT_MS = 500;
const MARGIN_MS = 1500;

const routes = `  - path: /strict
    backend: echo
    origins: ["https://app.example.com", "http://localhost:3000"]
  - path: /proto
    backend: echo
    subprotocols: [chat.v1, chat.v2]
`;
const config = echoConfig({
  routes,
  extraServer: `  limits: {handshake_timeout: ${HANDSHAKE_TIMEOUT_MS}ms}\n`,
});

async function gateway(t) {
  return startGateway(t, config);
}

// Every response carries `Server: wsgated/<version>` (exactly one).
async function assertServerHeader(res) {
  const v = await binaryVersion();
  assert.deepEqual(res.headers.server, [`wsgated/${v}`],
    `Server header in ${JSON.stringify(res.raw.toString('latin1'))}`);
}

async function expectStatus(gw, request, status, what) {
  const res = await rawHttp(gw.addr(0), request);
  assert.equal(res.status, status,
    `${what}: expected ${status}, got ${JSON.stringify(res.raw.toString('latin1').slice(0, 500))}`);
  assert.match(res.statusLine, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: status line`);
  await assertServerHeader(res);
  return res;
}

test('an unknown path is 404, with or without upgrade headers', T, async (t) => {
  const gw = await gateway(t);
  await expectStatus(gw, upgradeRequest({ path: '/nope' }), 404, 'upgrade to unknown path');
  await expectStatus(gw, upgradeRequest({ path: '/' }), 404, 'upgrade to /');
  await expectStatus(gw, upgradeRequest({ path: '/echo/extra' }), 404, 'longer path');
  await expectStatus(gw, 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'plain GET unknown path');
});

test('a known path without an upgrade is 426', T, async (t) => {
  const gw = await gateway(t);
  await expectStatus(gw, 'GET /echo HTTP/1.1\r\nHost: x\r\n\r\n', 426, 'plain GET');
  await expectStatus(gw, 'GET /echo?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 426,
    'plain GET with query');
  await expectStatus(gw, upgradeRequest({ path: '/echo', upgrade: false }), 426, 'no upgrade headers');
});

test('a WebSocket version other than 13 or 8 is 426 with Sec-WebSocket-Version: 13, 8', T, async (t) => {
  const gw = await gateway(t);
  for (const version of ['7', '12', '14', '0', 'abc']) {
    const res = await expectStatus(gw, upgradeRequest({ version }), 426, `version ${version}`);
    assert.deepEqual(res.headers['sec-websocket-version'], ['13, 8'],
      `version ${version}: ${res.raw.toString('latin1')}`);
  }
});

test('an Origin not in the route origins is 403; a listed one upgrades', T, async (t) => {
  const gw = await gateway(t);
  await expectStatus(gw, upgradeRequest({ path: '/strict', headers: { Origin: 'https://evil.example.com' } }),
    403, 'bad Origin');
  await expectStatus(gw, upgradeRequest({ path: '/strict', headers: { Origin: 'https://app.example.com.evil.io' } }),
    403, 'Origin with a listed prefix');
  await expectStatus(gw, upgradeRequest({ path: '/strict', headers: { Origin: 'http://app.example.com' } }),
    403, 'Origin with another scheme');
  const key = wsKey();
  const res = await expectStatus(gw,
    upgradeRequest({ path: '/strict', key, headers: { Origin: 'https://app.example.com' } }), 101, 'good Origin');
  assert.deepEqual(res.headers['sec-websocket-accept'], [wsAccept(key)]);
  await expectStatus(gw, upgradeRequest({ path: '/strict', headers: { Origin: 'http://localhost:3000' } }),
    101, 'second listed Origin');
  // A route without origins takes any.
  await expectStatus(gw, upgradeRequest({ path: '/echo', headers: { Origin: 'https://evil.example.com' } }),
    101, 'route without origins');
});

test('HyBi-08: Sec-WebSocket-Origin not in the route origins is 403; a listed one upgrades', T, async (t) => {
  const gw = await gateway(t);
  await expectStatus(gw, upgradeRequest({ path: '/strict', version: '8',
    headers: { 'Sec-WebSocket-Origin': 'https://evil.example.com' } }), 403, 'v8 bad Sec-WebSocket-Origin');
  await expectStatus(gw, upgradeRequest({ path: '/strict', version: '8',
    headers: { 'Sec-WebSocket-Origin': 'https://app.example.com' } }), 101, 'v8 good Sec-WebSocket-Origin');
});

test('a route with subprotocols: none offered or none matching is 400; a match is echoed', T, async (t) => {
  const gw = await gateway(t);
  await expectStatus(gw, upgradeRequest({ path: '/proto' }), 400, 'no subprotocol offered');
  await expectStatus(gw, upgradeRequest({ path: '/proto', headers: { 'Sec-WebSocket-Protocol': 'other' } }),
    400, 'unsupported subprotocol');
  await expectStatus(gw, upgradeRequest({ path: '/proto', headers: { 'Sec-WebSocket-Protocol': 'chat.v3, CHAT.V1x' } }),
    400, 'near misses');
  let res = await expectStatus(gw,
    upgradeRequest({ path: '/proto', headers: { 'Sec-WebSocket-Protocol': 'other, chat.v2' } }), 101, 'match');
  assert.deepEqual(res.headers['sec-websocket-protocol'], ['chat.v2']);
  res = await expectStatus(gw,
    upgradeRequest({ path: '/proto', headers: { 'Sec-WebSocket-Protocol': 'chat.v1' } }), 101, 'match');
  assert.deepEqual(res.headers['sec-websocket-protocol'], ['chat.v1']);
  // A route without subprotocols answers none, even when the client offers some (RFC 6455 4.2.2).
  res = await expectStatus(gw,
    upgradeRequest({ path: '/echo', headers: { 'Sec-WebSocket-Protocol': 'chat.v1' } }), 101, 'no route protocols');
  assert.equal(res.headers['sec-websocket-protocol'], undefined, res.raw.toString('latin1'));
});

test('the 101 answer is a correct RFC 6455 handshake, and frames echo on the raw socket', T, async (t) => {
  const gw = await gateway(t);
  const key = wsKey();
  const res = await rawHttp(gw.addr(0), upgradeRequest({ path: '/echo', key }), { keepOpen: true });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101, res.raw.toString('latin1'));
  assert.match(res.statusLine, /^HTTP\/1\.1 101 /);
  await assertServerHeader(res);
  assert.deepEqual(res.headers['sec-websocket-accept'], [wsAccept(key)]);
  assert.match(res.headers.upgrade?.[0] ?? '', /^websocket$/i);
  assert.match(res.headers.connection?.[0] ?? '', /upgrade/i);
  await res.conn.write(clientFrame(0x1, 'raw hello'));
  const f = await readFrame(res.conn);
  assert.equal(f.opcode, 0x1);
  assert.equal(f.fin, true);
  assert.equal(f.masked, false, 'server frames are never masked');
  assert.equal(f.payload.toString(), 'raw hello');
});

test('HyBi-08 handshake (Sec-WebSocket-Version: 8) upgrades with the right accept and echoes', T, async (t) => {
  const gw = await gateway(t);
  const key = wsKey();
  const res = await rawHttp(gw.addr(0), upgradeRequest({ path: '/echo', key, version: '8',
    headers: { 'Sec-WebSocket-Origin': 'http://example.org' } }), { keepOpen: true });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101, res.raw.toString('latin1'));
  await assertServerHeader(res);
  assert.deepEqual(res.headers['sec-websocket-accept'], [wsAccept(key)]);
  await res.conn.write(clientFrame(0x2, Buffer.from([0, 1, 2, 254, 255])));
  let f = await readFrame(res.conn);
  assert.equal(f.opcode, 0x2);
  assert.deepEqual([...f.payload], [0, 1, 2, 254, 255]);
  await res.conn.write(clientFrame(0x1, 'hybi text'));
  f = await readFrame(res.conn);
  assert.equal(f.opcode, 0x1);
  assert.equal(f.payload.toString(), 'hybi text');
  // Close handshake: the server answers our 1000 with a close frame.
  const body = Buffer.alloc(2); body.writeUInt16BE(1000);
  await res.conn.write(clientFrame(0x8, body));
  f = await readFrame(res.conn);
  assert.equal(f.opcode, 0x8);
  assert.equal(f.payload.readUInt16BE(0), 1000);
});

test('malformed requests are 400', T, async (t) => {
  const gw = await gateway(t);
  await expectStatus(gw, 'GARBAGE\r\n\r\n', 400, 'garbage request line');
  await expectStatus(gw, 'GET /echo\r\nHost: x\r\n\r\n', 400, 'no HTTP version');
  await expectStatus(gw, 'GET /echo HTTP/1.1\r\nNo colon here\r\n\r\n', 400, 'header without colon');
  await expectStatus(gw, 'GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400,
    'bad Content-Length');
  // An upgrade without Sec-WebSocket-Key is not a valid handshake.
  await expectStatus(gw, 'GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + 'Sec-WebSocket-Version: 13\r\n\r\n', 400, 'missing Sec-WebSocket-Key');
});

test('a request line over 8 KiB is 400; a 7 KiB one is served', T, async (t) => {
  const gw = await gateway(t);
  const long = upgradeRequest({ path: `/echo?q=${'a'.repeat(9 * 1024)}` });
  await expectStatus(gw, long, 400, '9 KiB request line');
  const ok = upgradeRequest({ path: `/echo?q=${'a'.repeat(7 * 1024)}` });
  await expectStatus(gw, ok, 101, '7 KiB request line');
});

test('headers over 16 KiB are 431; 12 KiB of headers are served', T, async (t) => {
  const gw = await gateway(t);
  const big = {};
  for (let i = 0; i < 20; i++) big[`X-Filler-${i}`] = 'f'.repeat(1000);  // ~20 KiB
  await expectStatus(gw, upgradeRequest({ headers: big }), 431, '20 KiB of headers');
  const one = { 'X-Big': 'g'.repeat(18 * 1024) };
  await expectStatus(gw, upgradeRequest({ headers: one }), 431, 'one 18 KiB header');
  const fine = {};
  for (let i = 0; i < 12; i++) fine[`X-Filler-${i}`] = 'f'.repeat(1000);  // ~12 KiB
  await expectStatus(gw, upgradeRequest({ headers: fine }), 101, '12 KiB of headers');
});

test('a client that sends nothing is disconnected after handshake_timeout', T, async (t) => {
  const gw = await gateway(t);
  const conn = await rawConnect(gw.addr(0));
  t.after(() => conn.destroy());
  const t0 = Date.now();
  await conn.waitClose(HANDSHAKE_TIMEOUT_MS + MARGIN_MS);
  const elapsed = conn.closedAt - t0;
  assert.ok(elapsed >= HANDSHAKE_TIMEOUT_MS - 100, `cut too early: ${elapsed} ms`);
  assert.ok(elapsed <= HANDSHAKE_TIMEOUT_MS + MARGIN_MS, `cut too late: ${elapsed} ms`);
  // If anything was sent, it must be an HTTP answer (e.g. 408), not a 101.
  if (conn.data.length) assert.doesNotMatch(conn.data.toString('latin1'), /^HTTP\/1\.1 101/);
});

test('a client that sends headers slowly (slowloris) is cut within handshake_timeout', T, async (t) => {
  const gw = await gateway(t);
  const conn = await rawConnect(gw.addr(0));
  t.after(() => conn.destroy());
  const t0 = Date.now();
  const req = Buffer.from(upgradeRequest({ headers: { 'X-Slow': 'y'.repeat(200) } }), 'latin1');
  // One byte every 50 ms: the whole request would take ~20 s; the header is never finished.
  let i = 0;
  while (!conn.closed && i < req.length - 2 && Date.now() - t0 < HANDSHAKE_TIMEOUT_MS + MARGIN_MS) {
    await conn.write(req.subarray(i, i + 1));
    i++;
    await sleep(50);
  }
  await conn.waitClose(Math.max(100, HANDSHAKE_TIMEOUT_MS + MARGIN_MS - (Date.now() - t0)));
  const elapsed = conn.closedAt - t0;
  assert.ok(elapsed >= HANDSHAKE_TIMEOUT_MS - 100, `cut too early: ${elapsed} ms`);
  assert.ok(elapsed <= HANDSHAKE_TIMEOUT_MS + MARGIN_MS, `cut too late: ${elapsed} ms`);
  assert.doesNotMatch(conn.data.toString('latin1'), /^HTTP\/1\.1 101/);
});

test('an upgraded connection outlives handshake_timeout', T, async (t) => {
  const gw = await gateway(t);
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  await sleep(HANDSHAKE_TIMEOUT_MS * 3);
  ws.send('still here');
  const r = await c.next(5000);
  assert.equal(r.data.toString(), 'still here');
});

test('the listener keeps serving after bad requests', T, async (t) => {
  const gw = await gateway(t);
  for (const bad of ['GARBAGE\r\n\r\n', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03', '\r\n\r\n\r\n']) {
    const conn = await rawConnect(gw.addr(0));
    await conn.write(Buffer.from(bad, 'latin1'));
    await conn.waitClose(HANDSHAKE_TIMEOUT_MS + MARGIN_MS).catch(() => {});
    conn.destroy();
  }
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  ws.send('ok');
  assert.equal((await c.next()).data.toString(), 'ok');
});
