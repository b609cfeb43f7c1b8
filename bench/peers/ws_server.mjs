#!/usr/bin/env node
// The Node `ws` peer (the baseline): echo, broadcast, permessage-deflate and TLS, one process,
// one thread, as an application would run it. bench/run starts it pinned to core 0.
//   node ws_server.mjs [--port N] [--deflate] [--tls CERT KEY]
// Paths: any path echoes each message back; /sub subscribes to the broadcast; a message sent on
// /pub, or the body of `POST /publish`, is sent to every /sub connection (ws's own broadcast:
// a loop over the clients, the message framed once by WebSocket.Server's sender).
// Prints `listening PORT` on stdout once it accepts.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { WebSocketServer, WebSocket } from 'ws';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const port = Number(opt('--port') ?? 0);
const deflate = args.includes('--deflate');
const tlsAt = args.indexOf('--tls');

// ws needs bufferutil for fast masking; fail loudly if the pinned native module is missing,
// so the baseline is never measured without it by accident.
await import('bufferutil');

const subs = new Set();
function publish(data, isBinary) {
  for (const c of subs) if (c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
}

function onRequest(req, res) {
  if (req.method === 'POST' && req.url === '/publish') {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      publish(Buffer.concat(parts), false);
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(`{"members":${subs.size}}`);
    });
    return;
  }
  res.writeHead(404); res.end();
}

const server = tlsAt >= 0
  ? https.createServer({ cert: fs.readFileSync(args[tlsAt + 1]), key: fs.readFileSync(args[tlsAt + 2]) }, onRequest)
  : http.createServer(onRequest);
const wss = new WebSocketServer({
  server,
  maxPayload: 1 << 20,
  clientTracking: false,
  // ws's defaults, as its README recommends for servers: level 6... is zlib's; threshold 0
  // so the 1 KiB workload is compressed by every peer alike.
  perMessageDeflate: deflate ? { threshold: 0, zlibDeflateOptions: { level: 6, memLevel: 8 } } : false,
});
wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  if (req.url === '/sub') {
    subs.add(ws);
    ws.on('close', () => subs.delete(ws));
  } else if (req.url === '/pub') {
    ws.on('message', (data, isBinary) => publish(data, isBinary));
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
