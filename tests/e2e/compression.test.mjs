// compression.test.mjs: permessage-deflate (RFC 7692) per route: negotiation with the `ws`
// client and on raw upgrades (each knob's response parameter), the knobs' effect on the bytes
// the server sends (window bits, context takeover, threshold, read on raw frames: RSV1), and
// level / mem_level accepted by the config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import {
  startGateway, echoConfig, rawHttp, upgradeRequest, clientFrame, parseFrame, readFrame, collect,
  metrics, metricValue, waitForMetric, WebSocket, withTimeout, tempDir, writeConfig, runWsgated,
} from './harness.mjs';

const T = { timeout: 60000 };

const routes = [
  ['/z', '{enabled: true}'],
  ['/smwb', '{enabled: true, server_max_window_bits: 10}'],
  ['/cmwb', '{enabled: true, client_max_window_bits: 12}'],
  ['/snct', '{enabled: true, server_no_context_takeover: true}'],
  ['/cnct', '{enabled: true, client_no_context_takeover: true}'],
  ['/thr', '{enabled: true, threshold: 1KiB}'],
  ['/l1', '{enabled: true, level: 1, mem_level: 1}'],
  ['/l9', '{enabled: true, level: 9, mem_level: 9}'],
].map(([p, c]) => `  - path: ${p}\n    backend: echo\n    compression: ${c}\n`).join('');
// /echo (from echoConfig) has no compression.
const config = echoConfig({ routes });

const OFFER = 'permessage-deflate; client_max_window_bits';

// Sec-WebSocket-Extensions → [{name, params: {k: value | true}}].
function parseExtensions(values = []) {
  const out = [];
  for (const v of values) {
    for (const ext of v.split(',')) {
      const [name, ...ps] = ext.split(';').map((s) => s.trim());
      if (!name) continue;
      const params = {};
      for (const p of ps) {
        const i = p.indexOf('=');
        if (i < 0) params[p.toLowerCase()] = true;
        else params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
      }
      out.push({ name: name.toLowerCase(), params });
    }
  }
  return out;
}

// A raw upgrade on `path` offering `offer` (null: none). Returns {res, conn, ext (the one
// negotiated extension or null)}; asserts 101 and at most one extension.
async function rawUpgrade(t, gw, path, offer = OFFER) {
  const headers = offer === null ? {} : { 'Sec-WebSocket-Extensions': offer };
  const res = await rawHttp(gw.addr(0), upgradeRequest({ path, headers }), { keepOpen: true });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101, `${path} offering ${offer}: ${res.raw.toString('latin1')}`);
  const exts = parseExtensions(res.headers['sec-websocket-extensions']);
  assert.ok(exts.length <= 1, `more than one extension: ${JSON.stringify(exts)}`);
  if (exts.length) assert.equal(exts[0].name, 'permessage-deflate');
  return { res, conn: res.conn, ext: exts[0] ?? null, raw: res.headers['sec-websocket-extensions'] };
}

// The next server frame with its RSV1 bit.
async function readRawFrame(conn, ms = 5000) {
  await conn.until(() => parseFrame(conn.data) !== null || conn.closed, ms, 'reading a frame');
  const rsv1 = conn.data.length > 0 && (conn.data[0] & 0x40) !== 0;
  const f = await readFrame(conn, ms);
  return { ...f, rsv1 };
}

// Inflate one permessage-deflate message payload with a fresh inflater (RFC 7692 §7.2.2).
function inflate(payload, windowBits = 15) {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0x00, 0x00, 0xff, 0xff])]),
    { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

// An inflater that keeps its context across messages (the default, context takeover): the
// messages are one deflate stream cut at sync-flush points, so inflate all of them again.
function contextInflater(windowBits = 15) {
  const parts = [];
  let seen = 0;
  return (payload) => {
    parts.push(payload, Buffer.from([0x00, 0x00, 0xff, 0xff]));
    const all = zlib.inflateRawSync(Buffer.concat(parts),
      { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const out = all.subarray(seen);
    seen = all.length;
    return out;
  };
}

// A ws client; resolves {ws, headers (of the 101)} once open; terminated at test end.
function openWsHeaders(t, url, opts = {}) {
  const ws = new WebSocket(url, opts);
  t.after(() => ws.terminate());
  let headers = null;
  ws.once('upgrade', (res) => { headers = res.headers; });
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, headers }));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`unexpected ${res.statusCode}`)));
  }), 5000, `opening ${url}`);
}

// ~100 KiB of very compressible text.
const BIG_TEXT = Array.from({ length: 2048 }, (_, i) => `line ${i % 50}: the quick brown fox `)
  .join('\n').slice(0, 100 * 1024);

async function roundTripCompressed(t, gw, path) {
  const { ws, headers } = await openWsHeaders(t, gw.url(0, path), { perMessageDeflate: true });
  assert.equal(ws.extensions, 'permessage-deflate', `${path}: ws.extensions = ${JSON.stringify(ws.extensions)}`);
  const exts = parseExtensions([headers['sec-websocket-extensions'] ?? ''].filter(Boolean));
  assert.equal(exts.length, 1, `${path}: response Sec-WebSocket-Extensions ${headers['sec-websocket-extensions']}`);
  assert.equal(exts[0].name, 'permessage-deflate');
  const c = collect(ws);
  const read0 = ws._socket.bytesRead;
  ws.send(BIG_TEXT);
  const r = await c.next(10000);
  const wire = ws._socket.bytesRead - read0;
  assert.equal(r.isBinary, false);
  assert.equal(r.data.toString(), BIG_TEXT, `${path}: round trip`);
  assert.ok(wire < BIG_TEXT.length / 4, `${path}: ${wire} bytes on the wire for ${BIG_TEXT.length}: not compressed`);
  return { ws, c, wire };
}

test('compression enabled: the ws client negotiates permessage-deflate and 100 KiB round-trips compressed', T, async (t) => {
  const gw = await startGateway(t, config);
  const { wire } = await roundTripCompressed(t, gw, '/z');
  console.log(`# 100 KiB echoed in ${wire} bytes on the wire`);
  // Counted once the write completed; payload bytes are counted before compression.
  await waitForMetric(gw, 'wsgate_messages_sent_total', { route: '/z' }, (v) => v === 1, 2000);
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_bytes_received_total'), BIG_TEXT.length);
  assert.equal(metricValue(m, 'wsgate_bytes_sent_total'), BIG_TEXT.length);
});

test('a route without compression answers no Sec-WebSocket-Extensions, even when offered', T, async (t) => {
  const gw = await startGateway(t, config);
  const { ws, headers } = await openWsHeaders(t, gw.url(0, '/echo'), { perMessageDeflate: true });
  assert.equal(headers['sec-websocket-extensions'], undefined);
  assert.equal(ws.extensions, '');
  const c = collect(ws);
  ws.send(BIG_TEXT);
  assert.equal((await c.next(10000)).data.toString(), BIG_TEXT);
  for (const offer of [OFFER, 'permessage-deflate', 'permessage-deflate; server_no_context_takeover']) {
    const { ext, raw } = await rawUpgrade(t, gw, '/echo', offer);
    assert.equal(ext, null, `offer ${offer}: got ${raw}`);
  }
  // And a compressing route that is offered nothing answers nothing.
  const { ext, raw } = await rawUpgrade(t, gw, '/z', null);
  assert.equal(ext, null, `no offer: got ${raw}`);
});

test('server_max_window_bits: 10 is answered and the server really deflates with a 1 KiB window', T, async (t) => {
  const gw = await startGateway(t, config);
  const { ext, raw, conn } = await rawUpgrade(t, gw, '/smwb');
  assert.equal(ext?.params.server_max_window_bits, '10', `response: ${raw}`);
  // 2000 random bytes twice: a 15-bit window finds the repeat 2000 bytes back, a 10-bit one
  // cannot; an inflater limited to 10 bits rejects any distance over 1024.
  const block = crypto.randomBytes(1000).toString('hex');
  const msg = block + block;
  await conn.write(clientFrame(0x1, msg));
  const f = await readRawFrame(conn);
  assert.equal(f.rsv1, true, 'a 4000-byte message is compressed');
  let out;
  assert.doesNotThrow(() => { out = inflate(f.payload, 10); },
    'the server used a window larger than server_max_window_bits=10');
  assert.equal(out.toString(), msg);
  // Contrast: on the default route the repeat is found (so the check above can fail).
  const z = await rawUpgrade(t, gw, '/z');
  await z.conn.write(clientFrame(0x1, msg));
  const fz = await readRawFrame(z.conn);
  assert.equal(inflate(fz.payload).toString(), msg);
  assert.ok(fz.payload.length < f.payload.length, `window 15: ${fz.payload.length} bytes, window 10: ${f.payload.length}`);
});

test('client_max_window_bits: 12 is answered when offered; never when the client did not offer it', T, async (t) => {
  const gw = await startGateway(t, config);
  let r = await rawUpgrade(t, gw, '/cmwb', 'permessage-deflate; client_max_window_bits');
  assert.equal(r.ext?.params.client_max_window_bits, '12', `offer without value: ${r.raw}`);
  r = await rawUpgrade(t, gw, '/cmwb', 'permessage-deflate; client_max_window_bits=15');
  assert.equal(r.ext?.params.client_max_window_bits, '12', `offer 15: ${r.raw}`);
  r = await rawUpgrade(t, gw, '/cmwb', 'permessage-deflate; client_max_window_bits=10');
  assert.equal(r.ext?.params.client_max_window_bits, '10', `offer 10: ${r.raw}`);
  // RFC 7692 §7.1.2.2: without client_max_window_bits in the offer the response MUST NOT
  // carry it; the server may only decline (what Beast does) or accept without limiting.
  r = await rawUpgrade(t, gw, '/cmwb', 'permessage-deflate');
  assert.ok(r.ext === null || !('client_max_window_bits' in r.ext.params),
    `client did not offer client_max_window_bits, response: ${r.raw}`);
  console.log(`# /cmwb, offer without client_max_window_bits → ${r.raw ? JSON.stringify(r.raw) : 'declined'}`);
  // The ws client (which offers it) negotiates and round-trips.
  const { ws } = await roundTripCompressed(t, gw, '/cmwb');
  assert.equal(ws._extensions['permessage-deflate'].params.client_max_window_bits, 12);
});

test('server_no_context_takeover: answered, and each message deflates on its own', T, async (t) => {
  const gw = await startGateway(t, config);
  const msg = crypto.randomBytes(768).toString('base64');  // 1024 chars, not very compressible
  async function twice(path) {
    const u = await rawUpgrade(t, gw, path);
    const frames = [];
    for (let i = 0; i < 2; i++) {
      await u.conn.write(clientFrame(0x1, msg));
      frames.push(await readRawFrame(u.conn));
    }
    return { ...u, frames };
  }
  const s = await twice('/snct');
  assert.equal(s.ext?.params.server_no_context_takeover, true, `response: ${s.raw}`);
  for (const f of s.frames) {
    assert.equal(f.rsv1, true);
    assert.equal(inflate(f.payload).toString(), msg, 'each message inflates with a fresh inflater');
  }
  assert.deepEqual(s.frames[1].payload, s.frames[0].payload, 'same message, same bytes without context');
  // Contrast: with context takeover the second copy is a back-reference to the first.
  const z = await twice('/z');
  assert.ok(!('server_no_context_takeover' in (z.ext?.params ?? {})), `response: ${z.raw}`);
  assert.ok(z.frames[1].payload.length < z.frames[0].payload.length / 4,
    `with takeover: ${z.frames[0].payload.length} then ${z.frames[1].payload.length} bytes`);
});

test('client_no_context_takeover: answered', T, async (t) => {
  const gw = await startGateway(t, config);
  const r = await rawUpgrade(t, gw, '/cnct');
  assert.equal(r.ext?.params.client_no_context_takeover, true, `response: ${r.raw}`);
  const z = await rawUpgrade(t, gw, '/z');
  assert.ok(!('client_no_context_takeover' in (z.ext?.params ?? {})), `default route: ${z.raw}`);
  // A client that asks for it itself gets it on any compressing route.
  const z2 = await rawUpgrade(t, gw, '/z', 'permessage-deflate; client_no_context_takeover');
  assert.equal(z2.ext?.params.client_no_context_takeover, true, `offered: ${z2.raw}`);
  await roundTripCompressed(t, gw, '/cnct');
});

test('an offer with an unknown parameter is declined; the upgrade still succeeds', T, async (t) => {
  const gw = await startGateway(t, config);
  for (const offer of ['permessage-deflate; foo=1', 'permessage-deflate; server_max_window_bits=99',
    'x-webkit-deflate-frame']) {
    const r = await rawUpgrade(t, gw, '/z', offer);
    assert.equal(r.ext, null, `offer ${offer}: ${r.raw}`);
    await r.conn.write(clientFrame(0x1, 'plain'));
    const f = await readRawFrame(r.conn);
    assert.equal(f.rsv1, false);
    assert.equal(f.payload.toString(), 'plain');
  }
});

test('threshold: 1KiB: smaller messages go uncompressed (RSV1 clear), larger ones compressed', T, async (t) => {
  const gw = await startGateway(t, config);
  const { conn, ext, raw } = await rawUpgrade(t, gw, '/thr');
  assert.ok(ext, `not negotiated: ${raw}`);
  const cases = [[100, false], [1023, false], [1024, true], [2048, true]];
  const inflateNext = contextInflater();
  for (const [n, compressed] of cases) {
    const msg = 'abcdefgh'.repeat(Math.ceil(n / 8)).slice(0, n);
    await conn.write(clientFrame(0x1, msg));
    const f = await readRawFrame(conn);
    assert.equal(f.opcode, 0x1);
    assert.equal(f.rsv1, compressed, `${n}-byte message: RSV1 ${f.rsv1}`);
    assert.equal((compressed ? inflateNext(f.payload) : f.payload).toString(), msg, `${n}-byte message`);
    if (compressed) assert.ok(f.payload.length < n / 4, `${n} bytes → ${f.payload.length}`);
  }
  // Counted once each write completed (which may be a moment after the client read it).
  await waitForMetric(gw, 'wsgate_messages_sent_total', { route: '/thr' }, (v) => v === cases.length, 2000);
});

test('level and mem_level: 1 and 9 are accepted and round-trip', T, async (t) => {
  const gw = await startGateway(t, config);
  const w1 = await roundTripCompressed(t, gw, '/l1');
  const w9 = await roundTripCompressed(t, gw, '/l9');
  console.log(`# 100 KiB at level 1: ${w1.wire} bytes, level 9: ${w9.wire} bytes`);
  // Level 1 (fast) finds fewer matches than 9 on this text: equal sizes = the knob is ignored.
  assert.ok(w9.wire < w1.wire, `level 9: ${w9.wire} bytes, level 1: ${w1.wire} bytes`);
});

test('level and mem_level out of bounds are config errors', T, async (t) => {
  const dir = tempDir(t);
  for (const [knob, ok] of [['level: 0', true], ['level: 10', false], ['level: -1', false],
    ['mem_level: 1', true], ['mem_level: 0', false], ['mem_level: 10', false]]) {
    const file = writeConfig(dir, `routes:\n  - path: /c\n    backend: echo\n    compression: {enabled: true, ${knob}}\n`);
    const r = await runWsgated(['--config', file, '--check']);
    assert.equal(r.code, ok ? 0 : 1, `${knob}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    if (!ok) assert.match(r.stdout + r.stderr, new RegExp(knob.split(':')[0]), `${knob}: the error names the key`);
  }
});
