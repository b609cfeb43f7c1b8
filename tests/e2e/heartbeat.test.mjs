// heartbeat.test.mjs: server.heartbeat as a client sees it: pings every interval, a peer that
// answers neither with a pong nor with data within the timeout is dropped (counted in
// wsgate_heartbeat_timeouts_total), a live one is kept and its RTT observed in
// wsgate_ping_rtt_seconds, data counts as life, unsolicited pongs are fine, interval 0 = off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startGateway, echoConfig, rawHttp, upgradeRequest, clientFrame, parseFrame, openWs, collect,
  sleep, metrics, metricValue, readFrame,
} from './harness.mjs';

const T = { timeout: 60000 };
const INTERVAL_MS = 300;
const TIMEOUT_MS = 200;

function hbConfig(hb = `{interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms}`) {
  return echoConfig({ extraServer: `  heartbeat: ${hb}\n` });
}

async function rawUpgrade(t, gw) {
  const res = await rawHttp(gw.addr(0), upgradeRequest(), { keepOpen: true });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101, res.raw.toString('latin1'));
  return res.conn;
}

// Every complete frame in conn.data (consumed).
function drainFrames(conn) {
  const frames = [];
  for (let f = parseFrame(conn.data); f; f = parseFrame(conn.data)) {
    conn.data = conn.data.subarray(f.size);
    frames.push(f);
  }
  return frames;
}

const timeouts = (m) => metricValue(m, 'wsgate_heartbeat_timeouts_total');
const rttCount = (m) => metricValue(m, 'wsgate_ping_rtt_seconds_count');

test('a client that never answers pings is pinged, then dropped within interval + timeout', T, async (t) => {
  const gw = await startGateway(t, hbConfig());
  const conn = await rawUpgrade(t, gw);
  const t0 = Date.now();
  const waited = await conn.waitClose(3000).catch(() => null);
  assert.ok(waited !== null, 'still connected 3 s after the upgrade');
  const elapsed = conn.closedAt - t0;
  const frames = drainFrames(conn);
  const ops = frames.map((f) => f.opcode);
  console.log(`# dropped after ${elapsed} ms; frames seen: ${JSON.stringify(ops)}`);
  assert.ok(ops.includes(0x9), `no ping frame seen before the drop: ${JSON.stringify(ops)}`);
  assert.ok(elapsed >= 400 && elapsed <= 2000, `dropped after ${elapsed} ms (expected ~${INTERVAL_MS + TIMEOUT_MS})`);
  // protocol.md: the TCP connection is dropped, no close frame (nobody would read it).
  assert.ok(!ops.includes(0x8), `a close frame was sent to a dead peer: ${JSON.stringify(ops)}`);
  const m = await metrics(gw);
  assert.equal(timeouts(m), 1, 'wsgate_heartbeat_timeouts_total');
  assert.equal(metricValue(m, 'wsgate_connections', { route: '/echo' }, 0), 0);
});

test('a ws client (answers pings) stays connected and echoes; its RTT is observed', T, async (t) => {
  const gw = await startGateway(t, hbConfig());
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  let pings = 0;
  ws.on('ping', () => { pings++; });
  await sleep(2000);
  assert.equal(ws.readyState, ws.OPEN, 'closed during the 2 s');
  ws.send('still alive');
  assert.equal((await c.next()).data.toString(), 'still alive');
  assert.ok(pings >= 3, `only ${pings} pings in 2 s at interval ${INTERVAL_MS} ms`);
  const m = await metrics(gw);
  assert.equal(timeouts(m), 0, 'wsgate_heartbeat_timeouts_total');
  assert.ok(rttCount(m) > 0, `wsgate_ping_rtt_seconds_count = ${rttCount(m)}`);
  assert.ok(rttCount(m) <= pings + 1, `${rttCount(m)} RTTs for ${pings} pings`);
  const sum = metricValue(m, 'wsgate_ping_rtt_seconds_sum');
  assert.ok(sum > 0 && sum / rttCount(m) < 0.2, `mean RTT ${sum / rttCount(m)} s on loopback`);
  assert.equal(metricValue(m, 'wsgate_ping_rtt_seconds_bucket', { le: '+Inf' }), rttCount(m));
});

test('a client that never pongs but sends data every 100 ms is not reaped', T, async (t) => {
  const gw = await startGateway(t, hbConfig());
  const conn = await rawUpgrade(t, gw);
  const texts = [];
  let pings = 0;
  for (let i = 0; i < 20; i++) {
    await conn.write(clientFrame(0x1, `tick ${i}`));
    await sleep(100);
    for (const f of drainFrames(conn)) {
      if (f.opcode === 0x9) pings++;
      else if (f.opcode === 0x1) texts.push(f.payload.toString());
      else assert.fail(`unexpected frame opcode ${f.opcode} ${f.payload.toString('hex')}`);
    }
    assert.ok(!conn.closed, `reaped after ${i + 1} messages (${(i + 1) * 100} ms)`);
  }
  await conn.write(clientFrame(0x1, 'last'));
  for (;;) {
    const f = await readFrame(conn);
    if (f.opcode === 0x9) { pings++; continue; }
    texts.push(f.payload.toString());
    if (f.payload.toString() === 'last') break;
  }
  assert.equal(texts.length, 21, `echoes: ${JSON.stringify(texts)}`);
  assert.ok(pings >= 3, `only ${pings} pings in 2 s: the heartbeat is not running`);
  const m = await metrics(gw);
  assert.equal(timeouts(m), 0, 'wsgate_heartbeat_timeouts_total');
  assert.equal(metricValue(m, 'wsgate_connections', { route: '/echo' }), 1);
});

test('unsolicited pongs are accepted; a client ping gets a pong with its payload', T, async (t) => {
  // Default heartbeat (30 s): no server ping within this test, so every pong here is unsolicited.
  const gw = await startGateway(t, echoConfig());
  const conn = await rawUpgrade(t, gw);
  await conn.write(clientFrame(0xA, 'unsolicited'));
  await conn.write(clientFrame(0x1, 'after pong'));
  let f = await readFrame(conn);
  assert.equal(f.opcode, 0x1, `expected the echo, got opcode ${f.opcode}`);
  assert.equal(f.payload.toString(), 'after pong');
  await conn.write(clientFrame(0xA, Buffer.alloc(0)));
  await conn.write(clientFrame(0x9, 'ping-payload'));
  f = await readFrame(conn);
  assert.equal(f.opcode, 0xA, `expected a pong, got opcode ${f.opcode}`);
  assert.equal(f.payload.toString(), 'ping-payload');
  await sleep(300);
  assert.ok(!conn.closed, 'closed after an unsolicited pong');
  await conn.write(clientFrame(0x1, 'still'));
  f = await readFrame(conn);
  assert.equal(f.payload.toString(), 'still');
  const m = await metrics(gw);
  assert.equal(rttCount(m), 0, 'an unsolicited pong is no RTT sample');
  assert.equal(timeouts(m), 0);
  assert.equal(metricValue(m, 'wsgate_connections', { route: '/echo' }), 1);
});

test('heartbeat interval 0: no pings at all, nobody reaped', T, async (t) => {
  const gw = await startGateway(t, hbConfig('{interval: 0, timeout: 200ms}'));
  const conn = await rawUpgrade(t, gw);
  const ws = await openWs(t, gw.url(0));
  let wsPings = 0;
  ws.on('ping', () => { wsPings++; });
  await sleep(1200);
  const frames = drainFrames(conn);
  assert.deepEqual(frames.map((f) => f.opcode), [], 'frames sent to an idle client with the heartbeat off');
  assert.equal(wsPings, 0, 'pings sent to the ws client');
  assert.ok(!conn.closed, 'the idle raw client was dropped');
  await conn.write(clientFrame(0x1, 'idle but alive'));
  assert.equal((await readFrame(conn)).payload.toString(), 'idle but alive');
  const m = await metrics(gw);
  assert.equal(timeouts(m), 0);
  assert.equal(rttCount(m), 0);
});
