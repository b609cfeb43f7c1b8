#!/usr/bin/env node
// The uWebSockets.js peer (the ceiling), from the npm package @rjweb/uws: a third-party build
// of uWebSockets.js (upstream ships only on GitHub, not on npm); its source_commit file names
// the upstream commit. Same surface as ws_server.mjs:
//   node uws_server.mjs [--port N] [--deflate] [--tls CERT KEY]
// any path echoes; /sub subscribes to topic "all"; /pub messages and `POST /publish` bodies are
// published to it (uWS's own pub/sub: framed once, written to every subscriber).
import fs from 'node:fs';
import uWS from '@rjweb/uws';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const port = Number(opt('--port') ?? 0);
const deflate = args.includes('--deflate');
const tlsAt = args.indexOf('--tls');

const app = tlsAt >= 0
  ? uWS.SSLApp({ cert_file_name: args[tlsAt + 1], key_file_name: args[tlsAt + 2] })
  : uWS.App();
let members = 0;

app.ws('/*', {
  // 1 MiB messages, as the other peers; backpressure large enough not to skip subscribers
  // during a fan-out burst (the other peers queue without a bound or to 4 MiB).
  maxPayloadLength: 1 << 20,
  maxBackpressure: 4 << 20,
  idleTimeout: 0,
  compression: deflate ? uWS.DEDICATED_COMPRESSOR_32KB | uWS.DEDICATED_DECOMPRESSOR_32KB : uWS.DISABLED,
  upgrade: (res, req, context) => {
    res.upgrade({ url: req.getUrl() }, req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    if (ws.getUserData().url === '/sub') { ws.subscribe('all'); members++; }
  },
  message: (ws, message, isBinary) => {
    const url = ws.getUserData().url;
    if (url === '/pub') app.publish('all', message, isBinary, deflate);
    else if (url !== '/sub') ws.send(message, isBinary, deflate);
  },
  close: (ws) => { if (ws.getUserData().url === '/sub') members--; },
});
app.post('/publish', (res) => {
  const parts = [];
  res.onAborted(() => {});
  res.onData((chunk, last) => {
    parts.push(Buffer.from(chunk.slice(0)));
    if (!last) return;
    app.publish('all', Buffer.concat(parts), false, false);
    res.writeStatus('202 Accepted').writeHeader('content-type', 'application/json').end(`{"members":${members}}`);
  });
});
app.listen('127.0.0.1', port, (token) => {
  if (!token) { process.stderr.write('uws: listen failed\n'); process.exit(1); }
  process.stdout.write(`listening ${uWS.getSocketPort(token)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
