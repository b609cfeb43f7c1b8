// reload.test.mjs: SIGHUP re-reads the configuration file: TLS certificates of a listener are
// replaced for new handshakes, and a bad file is rejected with the old configuration in force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  WebSocket, startGateway, makeCerts, tempDir, metrics, metricValue, withTimeout, adminRequest, openWs, rawHttp,
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
  const a = makeCerts(dir, 'a');
  const b = makeCerts(dir, 'b');
  const cert = path.join(dir, 'live.crt');
  const key = path.join(dir, 'live.key');
  fs.copyFileSync(a.cert, cert);
  fs.copyFileSync(a.key, key);
  const gw = await startGateway(t, tlsConfig(cert, key), { dir });
  assert.equal(await tryWss(gw, a.caPem), true, 'certificate A before the reload');
  assert.equal(await tryWss(gw, b.caPem), false, 'B must not verify yet');

  fs.copyFileSync(b.cert, cert);
  fs.copyFileSync(b.key, key);
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

// What a reload does not apply yet is said (issue 20: changing workers or log.format logged
// nothing).
test('a reload names every changed key that needs a restart', async (t) => {
  const base = (workers, format, token) => `server:
  workers: ${workers}
  listen: [{address: "127.0.0.1:0"}]
  log: {level: info, format: ${format}}
admin: {listen: "127.0.0.1:0", token: "${token}"}
routes:
  - {path: /echo, backend: echo}
`;
  const gw = await startGateway(t, base(1, 'text', 'a'));
  fs.writeFileSync(gw.configPath, base(2, 'json', 'b'));
  const reloaded = gw.waitForLog((line, rec) => rec?.msg?.startsWith('configuration reloaded'));
  gw.proc.kill('SIGHUP');
  await reloaded;
  for (const key of ['server.workers', 'server.log.format', 'admin.token']) {
    assert.ok(gw.lines.some((l) => l.includes(`reload: ${key} changed; it takes effect after a restart`)),
      `${key}:\n${gw.stderr}`);
  }
  assert.ok(!gw.lines.some((l) => l.includes('reload: server.log.level changed')), 'the level did not change');
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
  assert.deepEqual(r.json, { result: 'reloaded', restart_needed: ['server.workers'] });
  assert.equal((await rawHttp(gw.addr(0), upgradeRequest({ path: '/new' }))).status, 101, 'the new route serves');

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
