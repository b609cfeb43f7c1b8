// client_address.test.mjs: which address the gateway takes as the client's: the TCP peer, the
// X-Forwarded-For / X-Real-IP of a trusted proxy (rightmost untrusted hop), or the PROXY
// protocol v1/v2 header of a `proxy_protocol: true` listener (plain and TLS). Two observables:
// the debug line `connection ID open route=/echo remote=ADDR`, and max_connections_per_ip,
// which counts per that address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import {
  startGateway, echoConfig, rawConnect, rawHttp, upgradeRequest, clientFrame, readFrame, sleep,
  metrics, metricValue, tempDir, makeCerts, RawConn, withTimeout,
} from './harness.mjs';

const T = { timeout: 60000 };

function config({ listen = ['127.0.0.1:0'], server = '' } = {}) {
  return echoConfig({ listen, extraServer: server })
    .replace('log: {level: info, format: text}', 'log: {level: debug, format: text}');
}

const OPEN_RE = /connection \S+ open route=\S+ remote=(\S+)/;

// The remote= of the first `connection … open` line logged at or after line index `from`.
async function remoteAfter(gw, from, ms = 5000) {
  const t0 = Date.now();
  for (;;) {
    for (let i = from; i < gw.lines.length; i++) {
      const m = OPEN_RE.exec(gw.lines[i]);
      if (m) return m[1];
    }
    if (Date.now() - t0 > ms) {
      throw new Error(`no "connection … open" line after line ${from} within ${ms} ms:\n`
        + gw.lines.slice(from).join('\n'));
    }
    await sleep(20);
  }
}

function describe(res) {
  return JSON.stringify(res.raw.toString('latin1').slice(0, 300));
}

// Send `bytes` (one Buffer, or several written apart) on a new connection to listener 0 and
// read the answer; the connection stays open until the test ends.
async function exchange(t, gw, parts, { gapMs = 0, addr = gw.addr(0) } = {}) {
  const conn = await rawConnect(addr);
  t.after(() => conn.destroy());
  for (const [i, p] of [parts].flat().entries()) {
    if (i && gapMs) await sleep(gapMs);
    await conn.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  }
  const res = await conn.readResponse(5000);
  res.conn = conn;
  return res;
}

// Upgrade (with headers) and return {status, remote} (remote from the log; null unless 101).
async function upgradeFrom(t, gw, parts, opts) {
  const mark = gw.lines.length;
  const res = await exchange(t, gw, parts, opts);
  const remote = res.status === 101 ? await remoteAfter(gw, mark) : null;
  if (res.status === 101) {
    // Really a WebSocket: one echo.
    await res.conn.write(clientFrame(0x1, 'hi'));
    assert.equal((await readFrame(res.conn)).payload.toString(), 'hi');
  }
  return { ...res, remote };
}

const perIp = (m) => metricValue(m, 'wsgate_handshake_failures_total', { reason: 'max_connections_per_ip' }, 0);
const proxyFailures = (m) => metricValue(m, 'wsgate_handshake_failures_total', { reason: 'proxy_protocol' }, 0);

// ---------------------------------------------------------------- X-Forwarded-For / X-Real-IP
test('X-Forwarded-For and X-Real-IP from an untrusted peer are ignored', T, async (t) => {
  const gw = await startGateway(t, config({ server: '  limits: {max_connections_per_ip: 1}\n' }));
  const a = await upgradeFrom(t, gw, upgradeRequest({ headers: {
    'X-Forwarded-For': '198.51.100.7', 'X-Real-IP': '198.51.100.8' } }));
  assert.equal(a.status, 101, describe(a));
  assert.equal(a.remote, '127.0.0.1');
  // Another "client" behind the same headers trick is still 127.0.0.1, over its limit of 1.
  const b = await upgradeFrom(t, gw, upgradeRequest({ headers: { 'X-Forwarded-For': '198.51.100.9' } }));
  assert.equal(b.status, 429, `second connection from 127.0.0.1: ${describe(b)}`);
  const c = await upgradeFrom(t, gw, upgradeRequest({ headers: { 'X-Real-IP': '198.51.100.10' } }));
  assert.equal(c.status, 429, `third connection from 127.0.0.1: ${describe(c)}`);
  assert.equal(perIp(await metrics(gw)), 2);
});

test('from a trusted proxy: the rightmost untrusted X-Forwarded-For hop; X-Real-IP only without XFF', T, async (t) => {
  const gw = await startGateway(t, config({
    server: '  trusted_proxies: ["127.0.0.0/8"]\n  limits: {max_connections_per_ip: 1}\n' }));
  const up = (headers) => upgradeFrom(t, gw, upgradeRequest({ headers }));

  let r = await up({ 'X-Forwarded-For': '6.6.6.6, 198.51.100.7' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '198.51.100.7', 'rightmost untrusted hop');
  // The limit counts 198.51.100.7 (it has its one connection) …
  r = await up({ 'X-Forwarded-For': '198.51.100.7' });
  assert.equal(r.status, 429, `198.51.100.7 again: ${describe(r)}`);
  // … and not the spoofable leftmost hop.
  r = await up({ 'X-Forwarded-For': '6.6.6.6' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '6.6.6.6');
  // Trusted hops on the right are skipped.
  r = await up({ 'X-Forwarded-For': '198.51.100.20, 127.0.0.9' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '198.51.100.20', 'trusted hop 127.0.0.9 skipped');
  // Two X-Forwarded-For fields are one list.
  r = await up({ 'X-Forwarded-For': '198.51.100.30', 'x-forwarded-for': '127.0.0.8' });
  assert.equal(r.status, 101, describe(r));
  // (header object keys differ only in case: both are sent)
  assert.equal(r.remote, '198.51.100.30');
  // X-Real-IP without X-Forwarded-For.
  r = await up({ 'X-Real-IP': '192.0.2.44' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '192.0.2.44', 'X-Real-IP');
  r = await up({ 'X-Real-IP': '192.0.2.44' });
  assert.equal(r.status, 429, `192.0.2.44 again: ${describe(r)}`);
  // X-Forwarded-For wins over X-Real-IP.
  r = await up({ 'X-Forwarded-For': '192.0.2.55', 'X-Real-IP': '192.0.2.66' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '192.0.2.55', 'X-Real-IP ignored when X-Forwarded-For is present');
  // No header: the proxy itself.
  r = await up({});
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '127.0.0.1');
  assert.equal(perIp(await metrics(gw)), 2);
});

// ---------------------------------------------------------------- PROXY protocol
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function ipv4Bytes(a) {
  return Buffer.from(a.split('.').map(Number));
}

function ipv6Bytes(a) {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, null];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

// A PROXY protocol v2 header. command: 1 = PROXY, 0 = LOCAL; family 4, 6 or 0 (UNSPEC).
function proxyV2({ command = 1, family = 4, src, dst, sport = 4711, dport = 443 } = {}) {
  let addr = Buffer.alloc(0);
  let fam = 0x00;
  if (family === 4) {
    fam = 0x11;  // AF_INET, STREAM
    addr = Buffer.concat([ipv4Bytes(src), ipv4Bytes(dst), Buffer.alloc(4)]);
    addr.writeUInt16BE(sport, 8); addr.writeUInt16BE(dport, 10);
  } else if (family === 6) {
    fam = 0x21;  // AF_INET6, STREAM
    addr = Buffer.concat([ipv6Bytes(src), ipv6Bytes(dst), Buffer.alloc(4)]);
    addr.writeUInt16BE(sport, 32); addr.writeUInt16BE(dport, 34);
  }
  const hdr = Buffer.from([0x20 | command, fam, 0, 0]);
  hdr.writeUInt16BE(addr.length, 2);
  return Buffer.concat([V2_SIG, hdr, addr]);
}

const proxyListen = [{ address: '127.0.0.1:0', proxy_protocol: true }];

test('proxy_protocol v1: the header gives the client address (TCP4, TCP6, UNKNOWN)', T, async (t) => {
  const gw = await startGateway(t, config({ listen: proxyListen,
    server: '  trusted_proxies: ["10.0.0.0/8"]\n  limits: {max_connections_per_ip: 1}\n' }));
  const v1 = (line, headers) => upgradeFrom(t, gw, line + upgradeRequest({ headers }));

  let r = await v1('PROXY TCP4 203.0.113.9 10.0.0.1 4711 443\r\n');
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '203.0.113.9');
  r = await v1('PROXY TCP4 203.0.113.9 10.0.0.1 4712 443\r\n');
  assert.equal(r.status, 429, `a second connection from 203.0.113.9: ${describe(r)}`);
  r = await v1('PROXY TCP4 203.0.113.10 10.0.0.1 4713 443\r\n');
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '203.0.113.10');
  r = await v1('PROXY TCP6 2001:db8::9 2001:db8::1 4711 443\r\n');
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '2001:db8::9');
  // UNKNOWN: the TCP peer.
  r = await v1('PROXY UNKNOWN\r\n');
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '127.0.0.1');
  // The address from PROXY is a trusted proxy: its X-Forwarded-For is believed.
  r = await v1('PROXY TCP4 10.1.2.3 10.0.0.1 4711 443\r\n', { 'X-Forwarded-For': '198.51.100.77' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '198.51.100.77');
  // An untrusted PROXY source's X-Forwarded-For is not.
  r = await v1('PROXY TCP4 203.0.113.11 10.0.0.1 4711 443\r\n', { 'X-Forwarded-For': '198.51.100.78' });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '203.0.113.11');
  const m = await metrics(gw);
  assert.equal(perIp(m), 1);
  assert.equal(proxyFailures(m), 0);
});

test('proxy_protocol v2: IPv4, IPv6, LOCAL (the TCP peer), split across writes', T, async (t) => {
  const gw = await startGateway(t, config({ listen: proxyListen,
    server: '  limits: {max_connections_per_ip: 1}\n' }));
  let r = await upgradeFrom(t, gw, [proxyV2({ family: 4, src: '198.51.100.4', dst: '10.0.0.1' }),
    upgradeRequest()]);
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '198.51.100.4');
  r = await upgradeFrom(t, gw, Buffer.concat([proxyV2({ family: 4, src: '198.51.100.4', dst: '10.0.0.1' }),
    Buffer.from(upgradeRequest())]));
  assert.equal(r.status, 429, `a second connection from 198.51.100.4: ${describe(r)}`);
  r = await upgradeFrom(t, gw, Buffer.concat([
    proxyV2({ family: 6, src: '2001:db8::42', dst: '2001:db8::1', sport: 50000 }),
    Buffer.from(upgradeRequest())]));
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '2001:db8::42');
  // LOCAL (a balancer's health check): the TCP peer, also when address bytes are present.
  r = await upgradeFrom(t, gw, [proxyV2({ command: 0, family: 0 }), upgradeRequest()]);
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '127.0.0.1');
  r = await upgradeFrom(t, gw, [proxyV2({ command: 0, family: 4, src: '198.51.100.5', dst: '10.0.0.1' }),
    upgradeRequest()]);
  assert.equal(r.status, 429, `LOCAL with addresses is the TCP peer again (127.0.0.1): ${describe(r)}`);
  // A header arriving in pieces (signature split, then the addresses, then the request).
  const h = proxyV2({ family: 4, src: '198.51.100.6', dst: '10.0.0.1' });
  r = await upgradeFrom(t, gw, [h.subarray(0, 5), h.subarray(5, 14), h.subarray(14), upgradeRequest()],
    { gapMs: 50 });
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '198.51.100.6');
  const m = await metrics(gw);
  assert.equal(perIp(m), 2);
  assert.equal(proxyFailures(m), 0);
});

test('proxy_protocol: a missing or malformed header closes the connection without an HTTP answer', T, async (t) => {
  const gw = await startGateway(t, config({ listen: proxyListen }));
  const cases = {
    'no header (plain upgrade)': upgradeRequest(),
    'malformed v1 (bad address)': 'PROXY TCP4 203.0.113.999 10.0.0.1 4711 443\r\n' + upgradeRequest(),
    'malformed v1 (bad protocol)': 'PROXY UDP4 203.0.113.9 10.0.0.1 4711 443\r\n' + upgradeRequest(),
    'malformed v1 (missing port)': 'PROXY TCP4 203.0.113.9 10.0.0.1 4711\r\n' + upgradeRequest(),
    'malformed v2 (version 3)': Buffer.concat([V2_SIG, Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12),
      Buffer.from(upgradeRequest())]),
  };
  let n = 0;
  for (const [what, bytes] of Object.entries(cases)) {
    const conn = await rawConnect(gw.addr(0));
    t.after(() => conn.destroy());
    await conn.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    await conn.waitClose(3000).catch(() => assert.fail(`${what}: still open after 3 s`));
    assert.equal(conn.data.length, 0, `${what}: got an answer ${JSON.stringify(conn.data.toString('latin1'))}`);
    n++;
    assert.equal(proxyFailures(await metrics(gw)), n, `${what}: handshake_failures_total{reason="proxy_protocol"}`);
  }
  // The listener still serves a well-formed one.
  const r = await upgradeFrom(t, gw, 'PROXY TCP4 203.0.113.9 10.0.0.1 4711 443\r\n' + upgradeRequest());
  assert.equal(r.status, 101, describe(r));
  assert.equal(r.remote, '203.0.113.9');
});

test('proxy_protocol on a TLS listener: PROXY v1, then TLS, then the upgrade', T, async (t) => {
  const dir = tempDir(t);
  const certs = makeCerts(dir);
  const gw = await startGateway(t, config({ listen: [{ address: '127.0.0.1:0', proxy_protocol: true,
    tls: { cert: certs.cert, key: certs.key } }] }), { dir });
  assert.equal(gw.listener(0).scheme, 'wss');
  const { host, port } = gw.addr(0);
  const mark = gw.lines.length;
  const sock = net.connect({ host, port });
  t.after(() => sock.destroy());
  await withTimeout(new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); }),
    5000, 'connect');
  sock.write('PROXY TCP4 203.0.113.9 10.0.0.1 4711 443\r\n');
  const tsock = tls.connect({ socket: sock, ca: certs.caPem, servername: 'localhost' });
  t.after(() => tsock.destroy());
  await withTimeout(new Promise((res, rej) => { tsock.once('secureConnect', res); tsock.once('error', rej); }),
    5000, 'TLS handshake after the PROXY header');
  const conn = new RawConn(tsock);
  await conn.write(Buffer.from(upgradeRequest()));
  const res = await conn.readResponse(5000);
  assert.equal(res.status, 101, describe(res));
  assert.equal(await remoteAfter(gw, mark), '203.0.113.9');
  await conn.write(clientFrame(0x1, 'over tls'));
  assert.equal((await readFrame(conn)).payload.toString(), 'over tls');

  // Without the header, a TLS ClientHello is refused (closed, no answer) and counted.
  const bare = tls.connect({ host, port, ca: certs.caPem, servername: 'localhost' });
  t.after(() => bare.destroy());
  const outcome = await withTimeout(new Promise((res) => {
    bare.once('secureConnect', () => res('connected'));
    bare.once('error', (e) => res(`error ${e.code}`));
    bare.once('close', () => res('closed'));
  }), 5000, 'TLS without PROXY header');
  assert.notEqual(outcome, 'connected');
  assert.equal(proxyFailures(await metrics(gw)), 1);
});
