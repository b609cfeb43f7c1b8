// reload.test.mjs: SIGHUP re-reads the configuration file: TLS certificates of a listener are
// replaced for new handshakes, a bad file is rejected with the old configuration in force, the
// log and the admin token follow the file, POST /v1/reload answers what changed (or would).
// reload_live.test.mjs has open connections through a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  WebSocket, startGateway, rotatingCerts, tempDir, metrics, metricValue, withTimeout, adminRequest, openWs, rawHttp,
  upgradeRequest,
} from './harness.mjs';

function tlsConfig(cert, key) {
  return `server:
  listen:
    - address: "127.0.0.1:0"
      tls: {cert: "${cert}", key: "${key}"}
  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
routes:
  - {path: /echo, backend: echo}
`;
}

// Resolves true when a wss handshake verified by `ca` succeeds and echoes, false when TLS fails.
function tryWss(gw, ca) {
  return withTimeout(new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${gw.listener(0).port}/echo`, { ca });
    ws.on('open', () => ws.send('ping'));
    ws.on('message', () => { ws.close(); resolve(true); });
    ws.on('error', () => resolve(false));
  }), 5000, 'wss handshake');
}

test('SIGHUP replaces the TLS certificate for new handshakes; a bad file keeps the old one', async (t) => {
  const dir = tempDir(t);
  const live = rotatingCerts(dir);
  const [a, b, cert] = [live.before, live.after, live.cert];
  const gw = await startGateway(t, tlsConfig(live.cert, live.key), { dir });
  assert.equal(await tryWss(gw, a.caPem), true, 'certificate A before the reload');
  assert.equal(await tryWss(gw, b.caPem), false, 'B must not verify yet');

  live.rotate();
  const reloaded = gw.waitForLog((line, rec) => rec?.msg?.startsWith('configuration reloaded'));
  gw.proc.kill('SIGHUP');
  await reloaded;
  assert.equal(await tryWss(gw, b.caPem), true, 'certificate B after the reload');
  assert.equal(await tryWss(gw, a.caPem), false, 'A must no longer verify');

  fs.writeFileSync(cert, 'not a certificate\n');  // a broken rotation
  const rejected = gw.waitForLog((line, rec) => rec?.msg?.startsWith('reload rejected'));
  gw.proc.kill('SIGHUP');
  await rejected;
  assert.equal(await tryWss(gw, b.caPem), true, 'the old certificate stays in force');
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'ok' }), 1);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'error' }), 1);
});

// server.log and admin.token take effect at once (SPEC §1); what still needs a restart is said
// (issue 20: changing workers logged nothing).
test('a reload applies the log level and format and the admin token; workers wait for a restart', async (t) => {
  const base = (workers, level, format, token) => `server:
  workers: ${workers}
  listen: [{address: "127.0.0.1:0"}]
  log: {level: ${level}, format: ${format}}
admin: {listen: "127.0.0.1:0", token: "${token}"}
routes:
  - {path: /echo, backend: echo}
`;
  const gw = await startGateway(t, base(1, 'info', 'text', 'a'));
  gw.adminToken = 'a';
  assert.equal((await adminRequest(gw, 'GET', '/v1/rooms/x')).status, 200);
  fs.writeFileSync(gw.configPath, base(2, 'debug', 'json', 'b'));
  const reloaded = gw.waitForLog((line, rec) => rec?.msg?.startsWith('configuration reloaded'));
  gw.proc.kill('SIGHUP');
  const line = await reloaded;
  assert.ok(line.startsWith('{"'), `the log is JSON from the reload on: ${line}`);
  assert.ok(gw.lines.some((l) => l.includes('reload: server.workers changed; it takes effect after a restart')), gw.stderr);
  for (const key of ['server.log.format', 'server.log.level', 'admin.token']) {
    assert.ok(!gw.lines.some((l) => l.includes(`reload: ${key} changed; it takes effect after a restart`)), key);
    assert.ok(gw.lines.some((l) => l.includes(`reload: ${key} changed`)), `${key} is logged as changed`);
  }
  assert.equal((await adminRequest(gw, 'GET', '/v1/rooms/x')).status, 401, 'the old token is refused');
  assert.equal((await adminRequest(gw, 'GET', '/v1/rooms/x', { token: 'b' })).status, 200, 'the new token works');
  const opened = gw.waitForLog((l, rec) => rec?.level === 'debug' && / open route=\/echo/.test(rec.msg));
  const ws = await openWs(t, gw.url(0, '/echo'));
  await opened;  // debug lines now
  ws.close();
});

// POST /v1/reload (the control API): the same reload as SIGHUP, answered with what it did.
test('POST /v1/reload reloads and says what needs a restart; a bad file is 422 with its errors', async (t) => {
  const file = (route, workers) => `server:
  workers: ${workers}
  listen: [{address: "127.0.0.1:0"}]
  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0", token: "tok"}
routes:
  - {path: /echo, backend: echo}
${route}`;
  const gw = await startGateway(t, file('', 1));
  gw.adminToken = 'tok';
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/new' }))).status, 404);
  fs.writeFileSync(gw.configPath, file('  - {path: /new, backend: echo}\n', 2));
  let r = await adminRequest(gw, 'POST', '/v1/reload');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, {
    result: 'reloaded',
    changes: { added: ['routes[/new]'], removed: [], changed: ['server.workers'] },
    restart_needed: ['server.workers'],
  });
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/new' }))).status, 101, 'the new route serves');

  // A dry run says what a reload would do and does nothing.
  fs.writeFileSync(gw.configPath, file('  - {path: /new, backend: echo}\n  - {path: /dry, backend: echo}\n', 2));
  r = await adminRequest(gw, 'POST', '/v1/reload?dry_run=true');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, {
    result: 'would reload', changes: { added: ['routes[/dry]'], removed: [], changed: [] }, restart_needed: [],
  });
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/dry' }))).status, 404, 'a dry run changes nothing');
  assert.equal((await adminRequest(gw, 'POST', '/v1/reload?dry_run=maybe')).status, 400);

  fs.writeFileSync(gw.configPath, file('  - {path: /bad, backend: nope}\n', 2));
  r = await adminRequest(gw, 'POST', '/v1/reload');
  assert.equal(r.status, 422, r.body);
  assert.equal(r.json.errors.length, 1, r.body);
  assert.match(r.json.errors[0], /gateway\.yaml:8:27: routes\[1\]\.backend: backend 'nope' is not defined/);
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/new' }))).status, 101, 'the running file stays');

  assert.equal((await adminRequest(gw, 'POST', '/v1/reload', { token: 'wrong' })).status, 401);
  assert.equal((await adminRequest(gw, 'GET', '/v1/reload')).status, 405);
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'ok' }), 1);
  assert.equal(metricValue(m, 'wsgate_config_reloads_total', { result: 'error' }), 1);
});
