// metrics.test.mjs: the admin listener's /metrics on a live gateway: promtool accepts a real
// scrape taken under traffic, and scrapes taken while 200 clients connect add up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  WebSocket, startGateway, echoConfig, adminGet, parseMetrics, metricValue, waitForMetric,
  tempDir, sleep, withTimeout,
} from './harness.mjs';

const ROUTES = `  - path: "/chat/{room}"
    backend: echo
    rooms: ["room:{room}"]
`;

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

test('promtool accepts a live scrape taken under traffic', async (t) => {
  const gw = await startGateway(t, echoConfig({ routes: ROUTES }));
  const clients = await Promise.all([1, 2, 3].map((i) => open(gw.url(0, `/chat/r${i}`))));
  await Promise.all(clients.map((ws) => new Promise((res) => { ws.once('message', res); ws.send('x'); })));
  await adminGet(gw, '/nope');  // not a gateway path: no metric, must not break the exposition
  const scrape = await adminGet(gw, '/metrics');
  assert.equal(scrape.status, 200);
  assert.match(scrape.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const file = path.join(tempDir(t), 'scrape.txt');
  fs.writeFileSync(file, scrape.body);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: scrape.body, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool must be installed (scripts/install-deps --test)');
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}\n(scrape kept in ${file})`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool must report no problem');
  const m = parseMetrics(scrape.body);
  assert.equal(metricValue(m, 'wsgate_connections', { route: '/chat/{room}' }), 3);
  assert.equal(metricValue(m, 'wsgate_rooms'), 3);
  assert.ok(metricValue(m, 'process_resident_memory_bytes') > 0);
  for (const ws of clients) ws.close();
});

test('scrapes taken while 200 clients connect add up', async (t) => {
  const gw = await startGateway(t, echoConfig({ routes: ROUTES }));
  const N = 200;
  let stop = false;
  const seen = [];
  // Scrape continuously while the clients connect; each scrape must be consistent on its own.
  const scraper = (async () => {
    while (!stop) {
      const m = parseMetrics((await adminGet(gw, '/metrics')).body);
      const open = metricValue(m, 'wsgate_connections', { route: '/chat/{room}' }, 0);
      const total = metricValue(m, 'wsgate_connections_total', { route: '/chat/{room}' }, 0);
      seen.push({ open, total });
      await sleep(5);
    }
  })();
  // In four waves, 30 ms apart: 200 connects can finish within one scrape, and the point is
  // scrapes taken while connections are being accepted.
  const clients = [];
  for (let wave = 0; wave < 4; wave++) {
    clients.push(...await withTimeout(Promise.all(Array.from({ length: N / 4 },
      (_, i) => open(gw.url(0, `/chat/${(wave * N / 4 + i) % 10}`)))), 30000, '200 clients'));
    await sleep(30);
  }
  await waitForMetric(gw, 'wsgate_connections', { route: '/chat/{room}' }, (v) => v === N, 5000);
  stop = true;
  await scraper;
  assert.ok(seen.length >= 2, `took ${seen.length} scrapes during the connects`);
  for (const s of seen) {
    assert.ok(s.open >= 0 && s.open <= N, `open gauge out of range: ${JSON.stringify(s)}`);
    assert.ok(s.open <= s.total, `more open than ever accepted: ${JSON.stringify(s)}`);
  }
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].total >= seen[i - 1].total, 'a counter went down');
  const m = parseMetrics((await adminGet(gw, '/metrics')).body);
  assert.equal(metricValue(m, 'wsgate_connections_total', { route: '/chat/{room}' }), N);
  assert.equal(metricValue(m, 'wsgate_rooms'), 10);
  for (const ws of clients) ws.close();
  await waitForMetric(gw, 'wsgate_connections', { route: '/chat/{room}' }, (v) => v === 0, 10000);
  await waitForMetric(gw, 'wsgate_rooms', {}, (v) => v === 0, 5000);
});
