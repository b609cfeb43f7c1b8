#!/usr/bin/env node
// A chat room behind wsgated's stream backend (docs/backends.md#stream-backends), Node.js
// built-ins only.
//
//   node examples/stream/chat_backend.js [--unix PATH | --tcp HOST:PORT]
//   wsgated --config config/chat-stream.yaml
//
// wsgated connects one stream per worker. connect: say welcome (the route already joined the
// client to room:<room>); text message: publish "<who>: <text>" to the others in the room;
// "/quit": close 4000 "bye"; hello: forget what that stream said before (a replay follows).
'use strict';
const fs = require('node:fs');
const net = require('node:net');

const MAX_HEADER = 64 * 1024;

function serveStream(sock) {
  const conns = new Map();  // conn id -> {room, who}
  let buf = Buffer.alloc(0);

  const act = (header, payload = Buffer.alloc(0)) => {
    const head = JSON.stringify({ ...header, size: payload.length }) + '\n';
    // false = wsgated reads slower than we write: stop reading its events until it drains.
    if (!sock.write(Buffer.concat([Buffer.from(head), payload]))) {
      sock.pause();
      sock.once('drain', () => sock.resume());
    }
  };
  const say = (conn, text) => act({ action: 'send', conn, binary: false }, Buffer.from(text));

  const onEvent = (h, payload) => {
    const { event, conn } = h;
    if (event === 'hello') {
      conns.clear();  // the connect events that follow are the whole list
    } else if (event === 'connect') {
      const room = (h.params && h.params.room) || 'lobby';
      const who = h.user || conn;
      conns.set(conn, { room, who });
      if (!h.replay) say(conn, `welcome to ${room}, ${who}`);
    } else if (event === 'message' && conns.has(conn) && !h.binary) {
      const { room, who } = conns.get(conn);
      const text = payload.toString('utf8');
      if (text.trim() === '/quit') act({ action: 'close', conn, code: 4000, reason: 'bye' });
      else act({ action: 'publish', room: `room:${room}`, exclude: conn, binary: false }, Buffer.from(`${who}: ${text}`));
    } else if (event === 'disconnect') {
      conns.delete(conn);
    } else if (event === 'ack' && !h.ok) {
      console.error(`action ${h.id} refused: ${h.error}`);
    }
  };

  // Cuts frames: a JSON header line, then `size` payload bytes.
  sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > MAX_HEADER) { console.error('header too long'); sock.destroy(); }
        return;
      }
      let h;
      try { h = JSON.parse(buf.subarray(0, nl).toString('utf8')); } catch (e) {
        console.error(`bad frame from wsgated: ${e.message}`);
        sock.destroy();
        return;
      }
      const size = h.size || 0;
      if (buf.length < nl + 1 + size) return;  // the payload is not all here yet
      const payload = buf.subarray(nl + 1, nl + 1 + size);
      buf = buf.subarray(nl + 1 + size);
      onEvent(h, payload);
    }
  });
  sock.on('error', () => {});  // wsgated went away; it reconnects and replays
}

function main() {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const server = net.createServer(serveStream);
  const tcp = opt('--tcp');
  if (tcp) {
    const i = tcp.lastIndexOf(':');
    server.listen(Number(tcp.slice(i + 1)), tcp.slice(0, i), () => console.log(`listening on ${tcp}`));
  } else {
    const path = opt('--unix') || '/tmp/wsgated-chat.sock';
    try { fs.unlinkSync(path); } catch { /* no stale socket */ }
    server.listen(path, () => console.log(`listening on ${path}`));
  }
}

main();
