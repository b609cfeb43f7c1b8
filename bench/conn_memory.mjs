#!/usr/bin/env node
// Measures wsgated's resident memory per WebSocket connection: idle plain connections, and
// permessage-deflate connections after one 1 KiB message each way (zlib state allocated).
// Usage: node bench/conn_memory.mjs [BIN=build/wsgated] [N=2000]. Loopback only, bounded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const bin = process.argv[2] ?? 'build/wsgated';
const n = Number(process.argv[3] ?? 2000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsg-mem-'));
const cfg = path.join(dir, 'g.yaml');
fs.writeFileSync(cfg, `server:
  workers: 1
  listen: [{address: "127.0.0.1:0"}]
  heartbeat: {interval: 0s}
  limits: {max_connections_per_ip: 100000}
  log: {level: info, format: text}
admin: {listen: "127.0.0.1:0"}
routes:
  - {path: /plain, backend: echo}
  - {path: /deflate, backend: echo, compression: {enabled: true, threshold: 0}}
`);
// Each case gets a fresh gateway, so memory freed by one case cannot hide the next one's cost.
let gw, port;
async function start() {
gw = spawn(bin, ['--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
port = await new Promise((resolve, reject) => {
  let buf = '';
  gw.stderr.on('data', (d) => {
    buf += d;
    const m = buf.match(/listening on 127\.0\.0\.1:(\d+) \(ws\)/);
    if (m && buf.includes(' ready')) resolve(Number(m[1]));
  });
  setTimeout(() => reject(new Error('gateway did not start')), 10000);
});
}
const rss = () => Number(fs.readFileSync(`/proc/${gw.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function open(route, deflate) {
  const socks = [];
  for (let i = 0; i < n; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 200); j++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${route}`, { perMessageDeflate: deflate });
      batch.push(new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); }));
      socks.push(ws);
    }
    await Promise.all(batch);
  }
  return socks;
}

async function exchange(socks) {
  const msg = 'x'.repeat(1024);
  await Promise.all(socks.map((ws) => new Promise((res) => { ws.once('message', res); ws.send(msg); })));
}

async function measure(route, deflate, talk) {
  await start();
  await sleep(300);
  const before = rss();
  const socks = await open(route, deflate);
  if (talk) await exchange(socks);
  await sleep(500);
  const per = (rss() - before) / n;
  for (const ws of socks) ws.terminate();
  gw.kill('SIGKILL');
  return per;
}

try {
  const plain = await measure('/plain', false, false);
  const plainTalked = await measure('/plain', false, true);
  const deflate = await measure('/deflate', true, true);
  const r = (b) => `${(b / 1024).toFixed(2)} KiB`;
  console.log(JSON.stringify({ connections: n, idle_plain: r(plain), plain_after_1KiB_echo: r(plainTalked),
    deflate_after_1KiB_echo: r(deflate) }));
} finally {
  gw?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
