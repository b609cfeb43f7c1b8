// A chat room behind wsgated's http backend (docs/backends.md), Node.js built-ins only.
//
//   node examples/node/chat_backend.js        # then: wsgated --config config/chat.yaml
//
// connect: join room:<room>, say welcome; message: publish "<who>: <text>" to the others in the
// room through the control API; "/quit": close 4000. Environment: PORT (8000, on 127.0.0.1),
// WSGATED_ADMIN_URL (http://127.0.0.1:9090), WSGATED_ADMIN_TOKEN (dev-token, as config/chat.yaml).
'use strict';
const http = require('node:http');

const ADMIN = (process.env.WSGATED_ADMIN_URL || 'http://127.0.0.1:9090').replace(/\/+$/, '');
const TOKEN = process.env.WSGATED_ADMIN_TOKEN || 'dev-token';
const PORT = Number(process.env.PORT || 8000);

async function publish(room, text, exclude) {
  const url = `${ADMIN}/v1/rooms/${encodeURIComponent(room)}/messages` +
    `?exclude=${encodeURIComponent(exclude)}`;
  try {
    const res = await fetch(url, {
      method: 'POST', body: text, signal: AbortSignal.timeout(5000),
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain; charset=utf-8' },
    });
    if (!res.ok) console.error(`publish to ${room}: ${res.status} ${await res.text()}`);
    else await res.arrayBuffer();
  } catch (err) {
    console.error(`publish to ${room} failed: ${err.message}`);
  }
}

// Header values are UTF-8 bytes; node:http hands them out (and takes them) as latin-1 strings.
const utf8 = (latin1) => Buffer.from(latin1 || '', 'latin1').toString('utf8');
const latin1 = (text) => Buffer.from(text, 'utf8').toString('latin1');

function answer(res, status, text = '', headers = {}) {
  for (const name of Object.keys(headers)) headers[name] = latin1(headers[name]);
  if (status !== 204) {  // a 204 has no body and no Content-Length (RFC 9110)
    headers['content-type'] = 'text/plain; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(text);
  }
  // A Buffer body: with a string one, node:http would write the head as UTF-8, not latin-1.
  res.writeHead(status, headers).end(status === 204 ? undefined : Buffer.from(text));
}

async function onEvent(req, body, res) {
  const event = req.headers['wsgate-event'];
  const conn = req.headers['wsgate-connection-id'] || '';
  const who = utf8(req.headers['wsgate-user']) || conn;  // the header is absent when anonymous
  const param = JSON.parse(utf8(req.headers['wsgate-params']) || '{}').room || 'lobby';
  const room = `room:${param}`;
  if (event === 'connect') {
    return answer(res, 200, `welcome to ${param}, ${who}`, { 'wsgate-join': room });
  }
  if (event === 'message' && (req.headers['content-type'] || '').startsWith('text/')) {
    const text = body.toString('utf8');
    if (text.trim() === '/quit') return answer(res, 204, '', { 'wsgate-close': '4000 bye' });
    await publish(room, `${who}: ${text}`, conn);
  }
  answer(res, 204);  // published, binary, disconnect: no reply
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => onEvent(req, Buffer.concat(chunks), res).catch((err) => {
    console.error(err);
    if (!res.headersSent) answer(res, 500, 'backend error');
  }));
});
server.listen(PORT, '127.0.0.1', () => {
  console.error(`chat backend on 127.0.0.1:${server.address().port}, control API ${ADMIN}`);
});
