// lifecycle.test.mjs: the process as an operator sees it: drain on SIGTERM/SIGINT, --check,
// --version/--help, bad flags, WSGATED_CONFIG, a port already in use, log formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import {
  startGateway, echoConfig, openWs, collect, rawHttp, rawConnect, upgradeRequest, readFrame, runWsgated,
  tempDir, writeConfig, parseLogLine, parseListening, sleep,
} from './harness.mjs';

const T = { timeout: 90000 };
const MARGIN_MS = 3000;

function drainConfig(drainMs) {
  return echoConfig({ extraServer: `  drain_timeout: ${drainMs}ms\n` });
}

async function drainTest(t, signal) {
  const DRAIN_MS = 5000;
  const gw = await startGateway(t, drainConfig(DRAIN_MS));
  const N = 100;
  const clients = await Promise.all(Array.from({ length: N }, () => openWs(t, gw.url(0), { ms: 10000 })));
  const cs = clients.map(collect);
  // Each one is really connected to the echo backend before the signal.
  clients.forEach((ws, i) => ws.send(`hi ${i}`));
  for (let i = 0; i < N; i++) assert.equal((await cs[i].next(10000)).data.toString(), `hi ${i}`);

  const t0 = Date.now();
  gw.signal(signal);
  const closes = await Promise.all(cs.map((c) => c.closed(DRAIN_MS + MARGIN_MS)));
  const bad = closes.filter((c) => c.code !== 1001);
  assert.equal(bad.length, 0, `clients closed with ${JSON.stringify(bad.slice(0, 5))}`);
  const exit = await gw.waitExit(DRAIN_MS + MARGIN_MS);
  const elapsed = Date.now() - t0;
  assert.equal(exit.signal, null, `killed by ${exit.signal}\n${gw.stderr}`);
  assert.equal(exit.code, 0, `exit ${exit.code}\n${gw.stderr}`);
  // Every client answered the close at once, so nothing should hold the drain open.
  assert.ok(elapsed < DRAIN_MS + MARGIN_MS, `drain took ${elapsed} ms`);
}

test('SIGTERM: 100 open clients all get close 1001 and the process exits 0', T, (t) => drainTest(t, 'SIGTERM'));
test('SIGINT: 100 open clients all get close 1001 and the process exits 0', T, (t) => drainTest(t, 'SIGINT'));

test('drain gives up on a client that never answers the close after drain_timeout, exit 0', T, async (t) => {
  const DRAIN_MS = 1500;
  const gw = await startGateway(t, drainConfig(DRAIN_MS));
  // A raw client that completes the upgrade and then never reads nor answers.
  const res = await rawHttp(gw.addr(0), upgradeRequest(), { keepOpen: true });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101, res.raw.toString('latin1'));
  const polite = await openWs(t, gw.url(0));
  const pc = collect(polite);
  await sleep(100);  // both upgraded for sure (SIGTERM mid-handshake is another test)

  const t0 = Date.now();
  gw.signal('SIGTERM');
  assert.equal((await pc.closed(DRAIN_MS + MARGIN_MS)).code, 1001);
  // The stubborn client is sent a 1001 close frame too.
  const f = await readFrame(res.conn, DRAIN_MS + MARGIN_MS);
  assert.equal(f.opcode, 0x8, 'expected a close frame');
  assert.equal(f.payload.readUInt16BE(0), 1001);
  const exit = await gw.waitExit(DRAIN_MS + MARGIN_MS);
  const elapsed = Date.now() - t0;
  assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${gw.stderr}`);
  assert.ok(elapsed >= DRAIN_MS - 200, `exited after ${elapsed} ms, before drain_timeout`);
  assert.ok(elapsed <= DRAIN_MS + MARGIN_MS, `exited after ${elapsed} ms`);
});

test('after SIGTERM a new connection is refused', T, async (t) => {
  const DRAIN_MS = 3000;
  const gw = await startGateway(t, drainConfig(DRAIN_MS));
  const addr = gw.addr(0);
  // Keep the drain going with a client that never answers the close.
  const res = await rawHttp(addr, upgradeRequest(), { keepOpen: true });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101);
  await sleep(100);  // upgraded for sure (SIGTERM mid-handshake is the test below)
  gw.signal('SIGTERM');
  await readFrame(res.conn, MARGIN_MS);  // the 1001 close: draining has begun
  await sleep(200);                       // let every worker see the stop
  assert.equal(gw.exited, false, 'process should still be draining');
  const err = await openWs(t, `ws://${addr.host}:${addr.port}/echo`).then(
    (ws) => { ws.terminate(); return null; }, (e) => e);
  assert.ok(err, 'a new client was upgraded during drain');
  assert.equal(err.code, 'ECONNREFUSED', `expected ECONNREFUSED, got ${err.code} ${err.message}`);
  const exit = await gw.waitExit(DRAIN_MS + MARGIN_MS);
  assert.equal(exit.code, 0);
});

test('SIGTERM in the middle of handshakes: no crash, exit 0, every upgraded client gets 1001', T, async (t) => {
  const DRAIN_MS = 500;
  for (let round = 0; round < 5; round++) {
    const gw = await startGateway(t, drainConfig(DRAIN_MS));
    const conns = await Promise.all(Array.from({ length: 20 }, () => rawConnect(gw.addr(0))));
    t.after(() => conns.forEach((c) => c.destroy()));
    // All requests go out at once; the signal follows the first 101, while the others are
    // still being accepted (the 101 write pending on the server).
    const responses = conns.map((c) => c.write(upgradeRequest()).then(() => c.readResponse(5000)));
    await Promise.race(responses);
    gw.signal('SIGTERM');
    const results = await Promise.allSettled(responses);
    const exit = await gw.waitExit(DRAIN_MS + MARGIN_MS);
    assert.equal(exit.signal, null, `round ${round}: killed by ${exit.signal}\n${gw.stderr}`);
    assert.equal(exit.code, 0, `round ${round}: exit ${exit.code}\n${gw.stderr}`);
    let upgraded = 0;
    for (let i = 0; i < conns.length; i++) {
      const r = results[i];
      if (r.status !== 'fulfilled' || r.value.status !== 101) continue;  // refused or cut: fine
      upgraded++;
      const f = await readFrame(conns[i], MARGIN_MS).catch((e) => e);
      assert.ok(!(f instanceof Error), `round ${round}: client ${i} got a 101 but no close frame: ${f.message}`);
      assert.equal(f.opcode, 0x8, `round ${round}: client ${i} frame`);
      assert.equal(f.payload.readUInt16BE(0), 1001, `round ${round}: client ${i} close code`);
    }
    assert.ok(upgraded >= 1, `round ${round}: nobody was upgraded`);
  }
});

// ---------------------------------------------------------------- --check
test('--check on a good file exits 0 and says so', T, async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, echoConfig());
  const r = await runWsgated(['--config', file, '--check']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /\bok\b/i);
  // A file holding only one route is a valid config.
  const minimal = writeConfig(dir, 'routes:\n  - path: /echo\n    backend: echo\n', 'minimal.yaml');
  const r2 = await runWsgated(['--config', minimal, '--check']);
  assert.equal(r2.code, 0, r2.stderr);
  // --check does not start anything: no listening line, and it returns promptly.
  assert.doesNotMatch(r.stdout + r.stderr, /listening on/);
});

// Each bad file: [name, yaml, line, [accepted columns], key path RegExp]
const badFiles = [
  ['unknown key', `server:
  listen:
    - address: "127.0.0.1:0"
  bogus_key: 12
routes:
  - path: /echo
    backend: echo
`, 4, [3], /server\.bogus_key/],
  ['bad duration', `server:
  listen:
    - address: "127.0.0.1:0"
  drain_timeout: 3 parsecs
routes:
  - path: /echo
    backend: echo
`, 4, [3, 18], /server\.drain_timeout/],
  ['undefined backend', `server:
  listen:
    - address: "127.0.0.1:0"
routes:
  - path: /echo
    backend: echo
  - path: /chat
    backend: nowhere
`, 8, [5, 14], /routes(\[1\]|\.1)\.backend/],
  ['wrong type', `server:
  limits:
    max_connections: lots
routes:
  - path: /echo
    backend: echo
`, 3, [5, 22], /server\.limits\.max_connections/],
  ['bad size', `server:
  limits:
    max_message_size: 12 parsecs
routes:
  - path: /echo
    backend: echo
`, 3, [5, 23], /server\.limits\.max_message_size/],
  ['unknown route key', `routes:
  - path: /echo
    backend: echo
    colour: blue
`, 4, [5], /routes(\[0\]|\.0)\.colour/],
];

for (const [name, yaml, line, cols, keyRe] of badFiles) {
  test(`--check rejects a bad file (${name}) naming file:line:col and the key`, T, async (t) => {
    const dir = tempDir(t);
    const file = writeConfig(dir, yaml);
    const r = await runWsgated(['--config', file, '--check']);
    assert.equal(r.code, 1, `exit ${r.code}\n${r.stderr}`);
    const hit = r.stderr.split('\n').find((l) => l.includes(`${file}:${line}:`) && keyRe.test(l));
    assert.ok(hit, `no line naming ${file}:${line}:COL and ${keyRe}:\n${r.stderr}`);
    const col = Number(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:(\\d+)`).exec(hit)[1]);
    assert.ok(cols.includes(col), `column ${col}, expected one of ${cols}: ${hit}`);
  });
}

test('--check prints every error, not only the first', T, async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, `server:
  bogus_one: 1
  drain_timeout: forever
routes:
  - path: /echo
    backend: nowhere
`);
  const r = await runWsgated(['--config', file, '--check']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`${file}:2:\\d+: server\\.bogus_one`));
  assert.match(r.stderr, new RegExp(`${file}:3:\\d+: server\\.drain_timeout`));
  assert.match(r.stderr, new RegExp(`${file}:6:\\d+: routes(\\[0\\]|\\.0)\\.backend`));
});

test('--check rejects YAML that does not parse, naming the line', T, async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, 'routes:\n  - path: /echo\n    backend: [echo\n');
  const r = await runWsgated(['--config', file, '--check']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`${file}:\\d+:\\d+`));
});

test('running with a bad config exits 1 without listening', T, async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, badFiles[0][1]);
  const r = await runWsgated(['--config', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /server\.bogus_key/);
  assert.doesNotMatch(r.stderr, /listening on/);
});

// ---------------------------------------------------------------- flags
test('--version prints "wsgated <version>" and exits 0', T, async () => {
  const r = await runWsgated(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wsgated \d+\.\d+\.\d+\S*\s*$/);
});

test('--help prints usage and exits 0', T, async () => {
  const r = await runWsgated(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--config/);
  assert.match(r.stdout, /--check/);
  // Every flag, and where to read more (issue 20).
  for (const flag of ['-c, --config', '--check', '-v, --version', '-h, --help']) assert.ok(r.stdout.includes(flag), flag);
  for (const page of ['configuration.md', 'operations.md', 'protocol.md', 'backends.md', 'control-api.md',
    'auth.md', 'metrics.md', 'reliability.md']) assert.ok(r.stdout.includes(page), page);
});

test('bad flags exit 2', T, async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, echoConfig());
  for (const args of [['--bogus'], ['--config'], ['--config', file, '--frobnicate'], ['-x']]) {
    const r = await runWsgated(args);
    assert.equal(r.code, 2, `wsgated ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stderr.length > 0, `wsgated ${args.join(' ')}: says nothing on stderr`);
  }
});

test('a missing config file exits 1 naming the file', T, async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'does-not-exist.yaml');
  const r = await runWsgated(['--config', missing]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(missing), r.stderr);
  assert.match(r.stderr, /config\/gateway\.yaml/, 'says what a configuration is and where one is');
  const r2 = await runWsgated(['--config', missing, '--check']);
  assert.equal(r2.code, 1, r2.stderr);
});

test('WSGATED_CONFIG names the config file', T, async (t) => {
  const gw = await startGateway(t, echoConfig(), { useEnvConfig: true });
  assert.ok(!gw.proc.spawnargs.includes('--config'));
  const ws = await openWs(t, gw.url(0));
  const c = collect(ws);
  ws.send('env config');
  assert.equal((await c.next()).data.toString(), 'env config');
  const exit = await gw.stop('SIGTERM');
  assert.equal(exit.code, 0, gw.stderr);
});

test('${VAR} and ${VAR:-default} are expanded from the environment', T, async (t) => {
  const yaml = echoConfig({ listen: ['${E2E_LISTEN}', '${E2E_UNSET_VAR_XYZ:-127.0.0.1:0}'] });
  const gw = await startGateway(t, yaml, { env: { E2E_LISTEN: '127.0.0.1:0' }, expectListeners: 2 });
  for (let i = 0; i < 2; i++) {
    const ws = await openWs(t, gw.url(i));
    const c = collect(ws);
    ws.send(`listener ${i}`);
    assert.equal((await c.next()).data.toString(), `listener ${i}`);
  }
});

test('a listener that cannot bind (port in use) exits 1 naming the address and the OS error', T, async (t) => {
  const holder = net.createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => holder.close());
  const port = holder.address().port;
  const dir = tempDir(t);
  const file = writeConfig(dir, echoConfig({ listen: ['127.0.0.1:0', `127.0.0.1:${port}`] }));
  const r = await runWsgated(['--config', file], { ms: 10000 });
  assert.equal(r.code, 1, `exit ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.match(r.stderr, /address already in use/i);
  assert.match(r.stderr, new RegExp(`ss -ltnp 'sport = :${port}'`), 'says how to find who holds the port');
  assert.doesNotMatch(r.stderr, /"msg":"ready"|\sready\s*$/m, 'must not log ready');
});

// ---------------------------------------------------------------- logs
test('log format text: one line per record, "TIME LEVEL MSG"', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ logFormat: 'text' }));
  const listening = gw.lines.filter((l) => /listening on .* \(wss?\)$/.test(l));
  assert.equal(listening.length, 1);
  assert.match(listening[0],
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z info listening on 127\.0\.0\.1:\d+ \(ws\)$/);
  assert.ok(gw.lines.some((l) => /^\S+Z info ready$/.test(l)), gw.stderr);
  for (const l of gw.lines) assert.doesNotMatch(l, /^\s*\{/, 'text format printed JSON');
});

// The level as the config spells it: `warn`, not spdlog's `warning` (a filter on warn would miss it).
test('a warning is logged at level warn in both formats', T, async (t) => {
  for (const logFormat of ['text', 'json']) {
    const gw = await startGateway(t, echoConfig({ logFormat }));  // no admin.token: a warning
    const rec = gw.lines.map(parseLogLine).find((x) => x && /admin\.token/.test(x.msg));
    assert.ok(rec, gw.stderr);
    assert.equal(rec.level, 'warn', gw.stderr);
    assert.ok(!gw.stderr.includes('warning '), gw.stderr);
    await gw.stop('SIGTERM');
  }
});

test('log format json: every line is a JSON object with time, level, msg', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ logFormat: 'json' }));
  await gw.stop('SIGTERM');
  const lines = gw.lines.filter((l) => l.trim() !== '');
  assert.ok(lines.length >= 2);
  for (const l of lines) {
    let o;
    assert.doesNotThrow(() => { o = JSON.parse(l); }, `not JSON: ${l}`);
    assert.equal(typeof o.time, 'string', l);
    assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, l);
    assert.equal(typeof o.level, 'string', l);
    assert.equal(typeof o.msg, 'string', l);
  }
  const listening = lines.map(parseLogLine).map((r) => r && parseListening(r.msg)).filter(Boolean);
  assert.equal(listening.length, 1);
  assert.ok(lines.some((l) => JSON.parse(l).msg === 'ready'));
});
