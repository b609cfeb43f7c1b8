// harness.mjs: start the real wsgated binary from inline YAML and talk to it (node:test side).
//
// Every gateway listens on 127.0.0.1 (or ::1) port 0; the real ports come from its
// `listening on HOST:PORT (ws|wss)` log lines. Each spawned process is killed when the test
// that started it ends, again when this test file's process exits, and (through
// `setpriv --pdeathsig`) by the kernel if this process dies first: no stray daemons, ever.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export { WebSocket };

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.WSGATED_SOURCE_DIR ?? path.resolve(here, '..', '..');

function findBinary() {
  if (process.env.WSGATED_BIN) return process.env.WSGATED_BIN;
  for (const d of ['build-asan', 'build-e2e', 'build']) {
    const p = path.join(SOURCE_DIR, d, 'wsgated');
    if (fs.existsSync(p)) return p;
  }
  throw new Error('wsgated binary not found: set WSGATED_BIN');
}
export const BIN = findBinary();

// Sanitizer builds: fail loudly, keep reports on stderr where the test prints them.
const SAN_ENV = {
  ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'abort_on_error=0:detect_leaks=1',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
};

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

// ---------------------------------------------------------------- process bookkeeping
const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

function spawnTracked(args, { env = {}, cwd } = {}) {
  const [cmd, argv] = SETPRIV
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', BIN, ...args]]
    : [BIN, args];
  const proc = spawn(cmd, argv, {
    cwd,
    env: { ...process.env, ...SAN_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  proc.exitInfo = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
    proc.on('error', (err) => {
      live.delete(proc);
      resolve({ code: null, signal: null, error: err });
    });
  });
  return proc;
}

// Register cleanup on a node:test context when one is given (test or hook context).
function onTestEnd(t, fn) {
  if (t && typeof t.after === 'function') t.after(fn);
}

// ---------------------------------------------------------------- small utilities
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolve with `promise` or reject after `ms` with a message naming `what`.
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// A fresh temporary directory, removed when the test ends.
export function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgated-e2e-'));
  onTestEnd(t, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeConfig(dir, yaml, name = 'gateway.yaml') {
  const file = path.join(dir, name);
  fs.writeFileSync(file, yaml);
  return file;
}

// The RFC 6455 Sec-WebSocket-Accept for a Sec-WebSocket-Key.
export function wsAccept(key) {
  return crypto.createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
}

export function wsKey() {
  return crypto.randomBytes(16).toString('base64');
}

// ---------------------------------------------------------------- log parsing
// One stderr line → {time, level, msg}, for both `text` and `json` formats; null otherwise.
export function parseLogLine(line) {
  const s = line.trim();
  if (s.startsWith('{')) {
    try {
      const o = JSON.parse(s);
      if (typeof o.msg === 'string') return { time: o.time, level: o.level, msg: o.msg, json: o };
    } catch { /* not json */ }
    return null;
  }
  const m = /^(\S+)\s+([a-z]+)\s+(.*)$/.exec(s);
  return m ? { time: m[1], level: m[2], msg: m[3] } : null;
}

const LISTENING_RE = /listening on (\[[0-9a-fA-F:.%\w]+\]|[^\s\[\]]+):(\d+) \((wss?)\)$/;

// `listening on 127.0.0.1:40123 (ws)` → {host, port, scheme}; null for other messages.
export function parseListening(msg) {
  const m = LISTENING_RE.exec(msg);
  if (!m) return null;
  const bracketed = m[1].startsWith('[');
  const host = bracketed ? m[1].slice(1, -1) : m[1];
  return { host, port: Number(m[2]), scheme: m[3], family: host.includes(':') ? 6 : 4 };
}

// ---------------------------------------------------------------- the gateway
function matches(re, line, rec) {
  return typeof re === 'function' ? re(line, rec) : re.test(line);
}

export class Gateway {
  constructor(proc, { dir, configPath }) {
    this.proc = proc;
    this.dir = dir;
    this.configPath = configPath;
    this.lines = [];      // raw stderr lines
    this.stdout = '';
    this.listeners = [];  // public listeners in log order: {host, port, scheme, family}
    this.ready = false;
    this.waiters = [];    // {re, resolve}
    this.exited = false;
    this.exitInfo = proc.exitInfo.then((info) => { this.exited = true; return info; });
    let partial = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        this.onLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    proc.stderr.on('end', () => { if (partial) this.onLine(partial); partial = ''; });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (c) => { this.stdout += c; });
  }

  onLine(line) {
    this.lines.push(line);
    const rec = parseLogLine(line);
    if (rec) {
      const l = parseListening(rec.msg);
      if (l) this.listeners.push(l);
      if (rec.msg === 'ready') this.ready = true;
    }
    this.waiters = this.waiters.filter((w) => {
      if (matches(w.re, line, rec)) { w.resolve(line); return false; }
      return true;
    });
  }

  get stderr() { return this.lines.join('\n'); }
  get pid() { return this.proc.pid; }

  // Wait (bounded) for a stderr line matching `re` (a RegExp tested on the raw line, or a
  // function (line, {time, level, msg}|null) → bool); resolves with the line.
  waitForLog(re, ms = 10000) {
    const hit = this.lines.find((l) => matches(re, l, parseLogLine(l)));
    if (hit) return Promise.resolve(hit);
    return withTimeout(new Promise((resolve, reject) => {
      this.waiters.push({ re, resolve });
      this.exitInfo.then((i) => reject(new Error(
        `wsgated exited (${JSON.stringify(i)}) before logging ${re}\n${this.stderr}`)));
    }), ms, `waiting for log ${re}\n--- stderr ---\n${this.stderr}`);
  }

  listener(i = 0) {
    const l = this.listeners[i];
    if (!l) throw new Error(`no listener #${i}; have ${JSON.stringify(this.listeners)}`);
    return l;
  }

  // The URL of listener i: ws://127.0.0.1:PORT/echo, wss://[::1]:PORT/rooms/a …
  url(i = 0, p = '/echo') {
    const l = this.listener(i);
    const host = l.family === 6 ? `[${l.host}]` : l.host;
    return `${l.scheme}://${host}:${l.port}${p}`;
  }

  // {host, port} of listener i, for raw TCP.
  addr(i = 0) {
    const l = this.listener(i);
    return { host: l.host, port: l.port };
  }

  signal(sig) {
    if (!this.exited) this.proc.kill(sig);
  }

  // Wait (bounded) for the process to exit; {code, signal, ms} (ms since the call).
  async waitExit(ms = 15000) {
    const t0 = Date.now();
    const info = await withTimeout(this.exitInfo, ms,
      `waiting for wsgated to exit\n--- stderr ---\n${this.stderr}`);
    return { ...info, ms: Date.now() - t0 };
  }

  // Send `sig` and wait for the exit; on timeout SIGKILL it and throw.
  async stop(sig = 'SIGTERM', ms = 15000) {
    const t0 = Date.now();
    this.signal(sig);
    try {
      const info = await this.waitExit(ms);
      return { ...info, ms: Date.now() - t0 };
    } catch (err) {
      this.kill();
      throw err;
    }
  }

  kill() {
    if (!this.exited) {
      try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
    }
  }
}

// Write `yaml` to a temp dir and start wsgated on it; resolves once it logged `ready`
// (rejects, with its stderr, if it exits first or takes longer than readyMs).
// opts: {env, args (extra flags), readyMs, useEnvConfig (pass the file via WSGATED_CONFIG),
//        dir (reuse a temp dir), expectListeners (default: at least 1)}
export async function startGateway(t, yaml, opts = {}) {
  const dir = opts.dir ?? tempDir(t);
  const configPath = writeConfig(dir, yaml, opts.configName ?? 'gateway.yaml');
  const args = opts.useEnvConfig ? [...(opts.args ?? [])]
    : ['--config', configPath, ...(opts.args ?? [])];
  const env = { ...(opts.env ?? {}) };
  if (opts.useEnvConfig) env.WSGATED_CONFIG = configPath;
  const proc = spawnTracked(args, { env, cwd: dir });
  const gw = new Gateway(proc, { dir, configPath });
  onTestEnd(t, () => gw.kill());
  try {
    await gw.waitForLog((line, rec) => rec?.msg === 'ready', opts.readyMs ?? 10000);
  } catch (err) {
    gw.kill();
    throw err;
  }
  const want = opts.expectListeners ?? 1;
  if (gw.listeners.length < want) {
    gw.kill();
    throw new Error(`expected ${want} listening lines before ready, got ${gw.listeners.length}:\n`
      + gw.stderr);
  }
  return gw;
}

// Run wsgated to completion (for --check, --version, bad flags …): {code, signal, stdout, stderr}.
export async function runWsgated(args, { env = {}, ms = 15000, cwd } = {}) {
  const proc = spawnTracked(args, { env, cwd });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; });
  proc.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; });
  const closed = new Promise((r) => proc.on('close', r));
  try {
    const info = await withTimeout(proc.exitInfo, ms, `wsgated ${args.join(' ')}`);
    await withTimeout(closed, 2000, 'stdio close');
    return { ...info, stdout, stderr };
  } catch (err) {
    try { proc.kill('SIGKILL'); } catch { /* gone */ }
    err.message += `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
    throw err;
  }
}

// The version the binary reports (`wsgated X` → X), for the Server header check.
let cachedVersion;
export async function binaryVersion() {
  if (cachedVersion) return cachedVersion;
  const r = await runWsgated(['--version']);
  const m = /wsgated\s+(\S+)/.exec(r.stdout + r.stderr);
  if (!m) throw new Error(`cannot parse --version output: ${r.stdout}${r.stderr}`);
  cachedVersion = m[1];
  return cachedVersion;
}

// ---------------------------------------------------------------- TLS material (openssl CLI)
function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

// A throw-away CA (basicConstraints CA:TRUE) and a server certificate it signed, valid for
// IP:127.0.0.1, IP:::1 and DNS:localhost. Returns file paths plus the CA PEM.
export function makeCerts(dir, name = 'test') {
  const ca = path.join(dir, `${name}-ca.crt`);
  const caKey = path.join(dir, `${name}-ca.key`);
  const cert = path.join(dir, `${name}-server.crt`);
  const key = path.join(dir, `${name}-server.key`);
  const csr = path.join(dir, `${name}-server.csr`);
  const ext = path.join(dir, `${name}-server.ext`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', caKey, '-out', ca, '-days', '2',
    '-subj', `/CN=wsgated e2e ${name} CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=localhost'], dir);
  fs.writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
    '',
  ].join('\n'));
  openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey,
    '-set_serial', '0x' + crypto.randomBytes(8).toString('hex'),
    '-days', '2', '-extfile', ext, '-out', cert], dir);
  return { ca, caKey, cert, key, caPem: fs.readFileSync(ca) };
}

// Two throw-away CAs and a certificate file pair (live.crt, live.key) that holds the first's;
// rotate() copies the second's over it, as a certificate rotation before a reload does.
export function rotatingCerts(dir, [first, second] = ['a', 'b']) {
  const certs = [makeCerts(dir, first), makeCerts(dir, second)];
  const cert = path.join(dir, 'live.crt');
  const key = path.join(dir, 'live.key');
  const use = (c) => { fs.copyFileSync(c.cert, cert); fs.copyFileSync(c.key, key); };
  use(certs[0]);
  return { cert, key, before: certs[0], after: certs[1], rotate: () => use(certs[1]) };
}

// ---------------------------------------------------------------- raw TCP / HTTP
// Parse an HTTP/1.1 response head. headers: lower-case name → array of values.
export function parseHead(text) {
  const [statusLine, ...rest] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  const headers = {};
  for (const line of rest) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    (headers[k] ??= []).push(line.slice(i + 1).trim());
  }
  return { statusLine, status: m ? Number(m[1]) : NaN, reason: m?.[2] ?? '', headers };
}

// Open a raw TCP connection; resolves with a RawConn once connected (rejects on error/timeout).
export function rawConnect({ host, port }, ms = 5000) {
  return withTimeout(new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.once('connect', () => { sock.off('error', reject); resolve(new RawConn(sock)); });
    sock.once('error', reject);
  }), ms, `connect ${host}:${port}`);
}

export class RawConn {
  constructor(sock) {
    this.sock = sock;
    this.data = Buffer.alloc(0);
    this.closed = false;
    this.error = null;
    this.listeners = [];
    sock.on('data', (d) => { this.data = Buffer.concat([this.data, d]); this.poke(); });
    sock.on('error', (e) => { this.error = e; this.poke(); });
    sock.on('close', () => { this.closed = true; this.closedAt = Date.now(); this.poke(); });
  }

  poke() {
    this.listeners = this.listeners.filter((f) => !f());
  }

  // Resolve when pred() is true (checked on each event), or reject after ms.
  until(pred, ms, what) {
    if (pred()) return Promise.resolve();
    return withTimeout(new Promise((resolve) => {
      this.listeners.push(() => { if (pred()) { resolve(); return true; } return false; });
    }), ms, what);
  }

  write(bytes) {
    return new Promise((resolve) => {
      if (this.closed || this.sock.destroyed) return resolve(false);
      this.sock.write(bytes, (err) => resolve(!err));
    });
  }

  // Read one HTTP response: waits for the head, then for Content-Length bytes of body (or the
  // close). Resolves {status, statusLine, headers, body, raw, closed}; leaves bytes that
  // follow a 101 in this.data.
  async readResponse(ms = 5000) {
    const headEnd = () => this.data.indexOf('\r\n\r\n');
    await this.until(() => headEnd() >= 0 || this.closed, ms,
      `reading response head (got ${JSON.stringify(this.data.toString('latin1'))})`);
    const he = headEnd();
    if (he < 0) {
      return { status: NaN, statusLine: '', headers: {}, body: Buffer.alloc(0),
        raw: this.data, closed: true, error: this.error };
    }
    const head = parseHead(this.data.subarray(0, he).toString('latin1'));
    let bodyLen = 0;
    if (head.status !== 101 && head.headers['content-length']) {
      bodyLen = Number(head.headers['content-length'][0]);
      await this.until(() => this.data.length >= he + 4 + bodyLen || this.closed, ms,
        'reading response body');
    }
    const end = Math.min(this.data.length, he + 4 + bodyLen);
    const res = { ...head, body: this.data.subarray(he + 4, end), raw: this.data.subarray(0, end),
      closed: this.closed };
    this.data = this.data.subarray(end);
    return res;
  }

  // Wait until the peer closed the connection; resolves ms waited, rejects after ms.
  async waitClose(ms = 5000) {
    const t0 = Date.now();
    await this.until(() => this.closed, ms, 'waiting for the server to close');
    return Date.now() - t0;
  }

  destroy() { this.sock.destroy(); }
}

// Send `request` (string or Buffer) on a new connection and read the response; the socket is
// closed afterwards unless keepOpen (then res.conn is the RawConn).
export async function rawHttp(addr, request, { ms = 5000, keepOpen = false } = {}) {
  const conn = await rawConnect(addr, ms);
  try {
    await conn.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
    const res = await conn.readResponse(ms);
    if (keepOpen) res.conn = conn;
    return res;
  } finally {
    if (!keepOpen) conn.destroy();
  }
}

// A WebSocket upgrade request as raw text. opts: {path, host, version, key, headers: {…}}
export function upgradeRequest({ path: p = '/echo', host = '127.0.0.1', version = '13',
  key = wsKey(), headers = {}, upgrade = true } = {}) {
  const lines = [`GET ${p} HTTP/1.1`, `Host: ${host}`];
  if (upgrade) {
    lines.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`);
    if (version !== null) lines.push(`Sec-WebSocket-Version: ${version}`);
  }
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

// ---------------------------------------------------------------- WebSocket frames (raw)
// A masked client frame (FIN set) with opcode and payload.
export function clientFrame(opcode, payload) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const mask = crypto.randomBytes(4);
  let header;
  if (data.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode; header[1] = 0x80 | 126; header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode; header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}

// Parse one server frame from the front of buf: {fin, opcode, masked, payload, size} or null
// if incomplete.
export function parseFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) { if (buf.length < 4) return null; len = buf.readUInt16BE(2); off = 4; }
  else if (len === 127) { if (buf.length < 10) return null; len = Number(buf.readBigUInt64BE(2)); off = 10; }
  let mask = null;
  if (masked) { if (buf.length < off + 4) return null; mask = buf.subarray(off, off + 4); off += 4; }
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return { fin, opcode, masked, payload, size: off + len };
}

// Read the next complete frame from a RawConn (consumes it).
export async function readFrame(conn, ms = 5000) {
  await conn.until(() => parseFrame(conn.data) !== null || conn.closed, ms, 'reading a frame');
  const f = parseFrame(conn.data);
  if (!f) throw new Error(`connection closed before a full frame (${conn.data.length} bytes)`);
  conn.data = conn.data.subarray(f.size);
  return f;
}

// ---------------------------------------------------------------- ws client helpers
// Open a `ws` client; resolves once open, rejects on error / unexpected response / timeout.
// The socket is terminated when the test ends.
export function openWs(t, url, { protocols, ms = 5000, ...opts } = {}) {
  const ws = new WebSocket(url, protocols, opts);
  onTestEnd(t, () => ws.terminate());
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`unexpected response ${res.statusCode}`),
        { statusCode: res.statusCode, headers: res.headers }));
      req.destroy();
    });
  }), ms, `opening ${url}`).catch((err) => { ws.terminate(); throw err; });
}

// Queue of incoming messages on a ws, so nothing is lost between awaits. next() rejects as
// soon as the connection closes with nothing left queued (naming the close code and reason).
export function collect(ws) {
  const q = [];
  let waiters = [];  // {resolve, reject}
  let closeInfo = null;
  const closeWaiters = [];
  ws.on('message', (data, isBinary) => {
    q.push({ data, isBinary });
    while (waiters.length && q.length) waiters.shift().resolve(q.shift());
  });
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString() };
    closeWaiters.splice(0).forEach((f) => f(closeInfo));
    const err = new Error(`connection closed ${code} "${closeInfo.reason}" while waiting for a message`);
    waiters.splice(0).forEach((w) => w.reject(err));
  });
  return {
    queue: q,
    next(ms = 5000) {
      if (q.length) return Promise.resolve(q.shift());
      if (closeInfo) {
        return Promise.reject(new Error(`connection closed ${closeInfo.code} "${closeInfo.reason}"`));
      }
      let w;
      const p = new Promise((resolve, reject) => { w = { resolve, reject }; waiters.push(w); });
      return withTimeout(p, ms, 'waiting for a message')
        .finally(() => { waiters = waiters.filter((x) => x !== w); });
    },
    closed(ms = 5000) {
      if (closeInfo) return Promise.resolve(closeInfo);
      return withTimeout(new Promise((r) => closeWaiters.push(r)), ms, 'waiting for close');
    },
  };
}

// A minimal YAML config: one route /echo → echo, the given listen entries, admin on port 0.
export function echoConfig({ listen = ['127.0.0.1:0'], extraServer = '', routes = '', logFormat = 'text' } = {}) {
  const listenYaml = listen.map((l) => (typeof l === 'string'
    ? `    - address: "${l}"` : `    - ${JSON.stringify(l)}`)).join('\n');
  return `server:
  workers: 2
  listen:
${listenYaml}
  log: {level: info, format: ${logFormat}}
${extraServer}admin:
  listen: "127.0.0.1:0"
routes:
  - path: /echo
    backend: echo
${routes}`;
}

// ---------------------------------------------------------------- admin listener and metrics
// `admin listening on 127.0.0.1:PORT (http)` → {host, port, scheme}; null for other messages.
const ADMIN_LISTENING_RE = /^admin listening on (\[[0-9a-fA-F:.%\w]+\]|[^\s\[\]]+):(\d+) \((https?)\)$/;

export function parseAdminListening(msg) {
  const m = ADMIN_LISTENING_RE.exec(msg);
  if (!m) return null;
  const bracketed = m[1].startsWith('[');
  return { host: bracketed ? m[1].slice(1, -1) : m[1], port: Number(m[2]), scheme: m[3] };
}

// {host, port, scheme} of the gateway's admin listener, from its collected log lines.
export function adminAddr(gw) {
  for (const line of gw.lines) {
    const rec = parseLogLine(line);
    const a = rec && parseAdminListening(rec.msg);
    if (a) return a;
  }
  throw new Error(`no "admin listening on" line in the log:\n${gw.stderr}`);
}

// GET `p` on the admin listener: {status, headers, body (string)}; bounded.
export async function adminGet(gw, p, { ms = 5000, headers = {} } = {}) {
  const http = await import('node:http');
  const a = adminAddr(gw);
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: a.host, port: a.port, path: p, method: 'GET', headers,
      agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), ms, `GET admin ${p}`);
}

// The canonical key of one series: name{a="x",b="y"} (labels sorted by name), or bare name.
export function metricKey(name, labels = {}) {
  const ks = Object.keys(labels).sort();
  if (!ks.length) return name;
  return `${name}{${ks.map((k) => `${k}="${labels[k]}"`).join(',')}}`;
}

// Prometheus text format → Map(metricKey → number). Comments and blank lines are skipped.
export function parseMetrics(text) {
  const out = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;
      let lm;
      while ((lm = re.exec(m[2])) !== null) {
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
    }
    const v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.set(metricKey(m[1], labels), v);
  }
  return out;
}

// Scrape GET /metrics and parse it. The Map also has .get(name, labels) semantics through
// metricValue below.
export async function metrics(gw, ms = 5000) {
  const res = await adminGet(gw, '/metrics', { ms });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.body}`);
  return parseMetrics(res.body);
}

// The value of one series in a parsed scrape; `dflt` when the series is absent (a labelled
// family shows no series until something is counted under it).
export function metricValue(m, name, labels = {}, dflt = undefined) {
  const k = metricKey(name, labels);
  return m.has(k) ? m.get(k) : dflt;
}

// Poll /metrics until pred(value) holds for one series (absent = 0); resolves the value,
// rejects after ms with the last value seen.
export async function waitForMetric(gw, name, labels, pred, ms = 5000, everyMs = 50) {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = metricValue(await metrics(gw), name, labels, 0);
    if (pred(last)) return last;
    if (Date.now() - t0 > ms) {
      throw new Error(`metric ${metricKey(name, labels)}: still ${last} after ${ms} ms`);
    }
    await sleep(everyMs);
  }
}

// Resident memory of a process in bytes (VmRSS of /proc/<pid>/status).
export function rssBytes(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(s);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

// ---------------------------------------------------------------- control API (/v1)
// Any request on the admin listener: {status, headers, body (string), raw (Buffer), json (parsed
// body, or null when it is not JSON)}; bounded. opts: {headers, body (string or Buffer),
// token (sent as `Authorization: Bearer …`; default gw.adminToken; null = none), ms}.
// `p` is sent exactly as given: percent-encode what needs it.
export async function adminRequest(gw, method, p, { headers = {}, body, token = gw.adminToken, ms = 5000 } = {}) {
  const http = await import('node:http');
  const a = adminAddr(gw);
  const h = { ...headers };
  const hasHeader = (name) => Object.keys(h).some((k) => k.toLowerCase() === name);
  if (token != null && !hasHeader('authorization')) h.Authorization = `Bearer ${token}`;
  const payload = body === undefined ? null : (Buffer.isBuffer(body) ? body : Buffer.from(body));
  if (payload) h['Content-Length'] = String(payload.length);
  else if ((method === 'POST' || method === 'PUT') && !hasHeader('content-length')) h['Content-Length'] = '0';
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: a.host, port: a.port, path: p, method, headers: h, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, body: text, raw, json });
        });
        res.on('error', reject);
      });
    req.on('error', reject);
    req.end(payload ?? undefined);
  }), ms, `${method} admin ${p}`);
}

// `connection ID open route=PATTERN remote=ADDR` (debug level) → {id, route, remote}; else null.
const CONN_OPEN_RE = /connection (\S+) open route=(\S+) remote=(\S+)/;
export function parseConnectionOpen(msg) {
  const m = CONN_OPEN_RE.exec(msg);
  return m ? { id: m[1], route: m[2], remote: m[3] } : null;
}

// Every `connection … open` record logged so far, in log order.
export function openedConnections(gw) {
  const out = [];
  for (const line of gw.lines) {
    const rec = parseLogLine(line);
    const o = rec && parseConnectionOpen(rec.msg);
    if (o) out.push(o);
  }
  return out;
}

// Open one `ws` client and learn its connection id from the gateway's debug log (needs
// `server.log.level: debug`). The id is that of the next `connection … open` line, so open
// clients with this one at a time (never while another handshake to `gw` is in flight).
// Resolves {ws, id, route, remote}.
export async function openWsWithId(t, gw, p, opts = {}) {
  const before = openedConnections(gw).length;
  const ws = await openWs(t, gw.url(0, p), opts);
  await gw.waitForLog((line, rec) => rec !== null && parseConnectionOpen(rec.msg) !== null
    && openedConnections(gw).length > before, opts.ms ?? 5000).catch(() => {});
  const all = openedConnections(gw);
  if (all.length <= before) {
    throw new Error(`no "connection … open" line for the client of ${p} (is server.log.level debug?)\n${gw.stderr}`);
  }
  if (all.length !== before + 1) {
    throw new Error(`${all.length - before} connections opened while one client of ${p} was: open clients one at a time`);
  }
  return { ws, ...all[before] };
}
