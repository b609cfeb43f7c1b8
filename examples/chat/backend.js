// The browser chat of examples/chat/, backend in Node.js (18+, built-ins only).
//
//   examples/chat/run node           # this + wsgated --config examples/chat/gateway.yaml
//
// One HTTP server on 127.0.0.1:PORT (default 8000) that is three things at once:
//   GET  /, /chat.js      the page (examples/chat/public/)
//   GET  /config.json     {"ws_url": CHAT_WS_URL}: where the page connects
//   GET  /auth            wsgated's auth hook (docs/auth.md): the user name from ?name= in
//                         WSGate-Path, else the chat_name cookie; 1-32 of [A-Za-z0-9_.-], else 401
//   POST /events          wsgated's http backend (docs/backends.md): connect, message, disconnect
// On connect and disconnect it counts the room (GET /v1/rooms/room:ROOM on the control API) and
// publishes {"type":"presence",…} to the room; a text message becomes {"type":"chat",…}
// published to the whole room, sender included. Environment: PORT, WSGATED_ADMIN_URL
// (http://127.0.0.1:9090), WSGATED_ADMIN_TOKEN (the gateway's admin.token), CHAT_WS_URL.
// examples/chat/backend.py and backend.php do the same.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ADMIN = (process.env.WSGATED_ADMIN_URL || 'http://127.0.0.1:9090').replace(/\/+$/, '');
const TOKEN = process.env.WSGATED_ADMIN_TOKEN || '';
const WS_URL = process.env.CHAT_WS_URL || 'ws://127.0.0.1:8080/chat/{room}';
const PORT = Number(process.env.PORT || 8000);
const PUBLIC = path.join(__dirname, 'public');
const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/chat.js': ['chat.js', 'text/javascript; charset=utf-8'],
};
const NAME = /^[A-Za-z0-9_.-]{1,32}$/;  // user and room names
const MAX_TEXT = 500;  // characters in one chat line

// One control API call: the parsed JSON answer, or null (logged) when it failed.
async function control(method, p, body) {
  const headers = { authorization: `Bearer ${TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';  // a text frame
  try {
    const res = await fetch(ADMIN + p, { method, body, headers, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (res.ok) return JSON.parse(text || 'null');
    console.error(`${method} ${p}: ${res.status} ${text.slice(0, 200)}`);
  } catch (err) {
    console.error(`${method} ${p} failed: ${err.message}`);
  }
  return null;
}

const publish = (room, message) =>
  control('POST', `/v1/rooms/${encodeURIComponent(room)}/messages`, JSON.stringify(message));

// Presence: count, then publish, one event at a time per room, so that the last count a room
// hears was taken after the last join or leave. A chain of promises per room is the lock.
const chains = new Map();
function pushPresence(room, param, event, user) {
  const run = async () => {
    const info = await control('GET', `/v1/rooms/${encodeURIComponent(room)}`);
    if (info) await publish(room, { type: 'presence', room: param, count: info.members, event, user });
  };
  const next = (chains.get(room) || Promise.resolve()).then(run);
  chains.set(room, next);
  return next.finally(() => { if (chains.get(room) === next) chains.delete(room); });
}

// Header values are UTF-8 bytes; node:http hands them out as latin-1 strings.
const utf8 = (latin1) => Buffer.from(latin1 || '', 'latin1').toString('utf8');

function answer(res, status, data = '', type = 'text/plain; charset=utf-8', headers = {}) {
  if (status !== 204) {  // a 204 has no body and no Content-Length (RFC 9110)
    const body = Buffer.from(data);
    res.writeHead(status, { ...headers, 'content-type': type, 'content-length': body.length,
      'cache-control': 'no-store' }).end(body);
  } else {
    res.writeHead(204, headers).end();
  }
}

// The hook: a GET with WSGate-Path (/chat/ROOM?name=…) and the client's Cookie.
function auth(req, res) {
  const target = new URL(utf8(req.headers['wsgate-path']) || '/', 'http://x');
  let room = '';
  try { room = decodeURIComponent(target.pathname.split('/').pop()); } catch { /* bad %xx */ }
  let name = target.searchParams.get('name');
  if (name === null) {
    for (const part of (req.headers.cookie || '').split(';')) {
      const [key, ...value] = part.trim().split('=');
      if (key === 'chat_name') {
        try { name = decodeURIComponent(value.join('=')); } catch { name = ''; }
      }
    }
  }
  if (!NAME.test(room)) return answer(res, 400, 'bad room name\n');
  if (name === null || !NAME.test(name)) {
    return answer(res, 401, "a name of 1 to 32 letters, digits, '_', '-' or '.' is needed\n",
      undefined, { 'www-authenticate': 'Name realm="chat"' });
  }
  answer(res, 200, JSON.stringify({ user: name }), 'application/json');
}

async function onEvent(req, body, res) {
  const event = req.headers['wsgate-event'];
  const user = utf8(req.headers['wsgate-user']) || (req.headers['wsgate-connection-id'] || '').slice(0, 8);
  const param = JSON.parse(utf8(req.headers['wsgate-params']) || '{}').room || 'lobby';
  const room = `room:${param}`;  // the route's rooms: ["room:{room}"] joined it already
  if (event === 'connect') {
    await pushPresence(room, param, 'join', user);
    return answer(res, 200, JSON.stringify({ type: 'welcome', user, room: param }));
  }
  if (event === 'disconnect') {
    await pushPresence(room, param, 'leave', user);
  } else if (event === 'message' && (req.headers['content-type'] || '').startsWith('text/')) {
    const text = body.toString('utf8').trim();
    if ([...text].length > MAX_TEXT) {
      return answer(res, 200, JSON.stringify({ type: 'error', text: `not sent: over ${MAX_TEXT} characters` }));
    }
    if (text) await publish(room, { type: 'chat', user, text, time: new Date().toISOString() });
  }
  answer(res, 204);  // published (or binary, or empty): no reply
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const done = (p) => Promise.resolve(p).catch((err) => {
      console.error(err);
      if (!res.headersSent) answer(res, 500, 'backend error\n');
    });
    console.error(`${req.method} ${req.url}`);
    if (req.method === 'GET' && STATIC[url.pathname]) {
      const [file, type] = STATIC[url.pathname];
      return done(fs.promises.readFile(path.join(PUBLIC, file)).then((data) => answer(res, 200, data, type)));
    }
    if (req.method === 'GET' && url.pathname === '/config.json') {
      return answer(res, 200, JSON.stringify({ ws_url: WS_URL }), 'application/json');
    }
    if (req.method === 'GET' && url.pathname === '/auth') return done(auth(req, res));
    if (req.method === 'POST' && url.pathname === '/events') {
      return done(onEvent(req, Buffer.concat(chunks), res));
    }
    answer(res, 404, 'not found\n');
  });
});
if (!TOKEN) console.error('WSGATED_ADMIN_TOKEN is not set: control API calls will be refused');
server.listen(PORT, '127.0.0.1', () => {
  console.error(`chat backend (node) on http://127.0.0.1:${server.address().port}/, control API ${ADMIN}`);
});
