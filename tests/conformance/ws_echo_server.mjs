// ws_echo_server.mjs: the CONTROL for the conformance suite - an echo server on the `ws` npm
// package (known Autobahn-clean), to show that the suite judges correctly.
//
//   node ws_echo_server.mjs [--deflate] [--max-payload BYTES] [--port N]
//                           [--skip-utf8-validation] [--exit-on-stdin-eof]
//
// Binds 127.0.0.1 (port 0 by default) and prints `listening on 127.0.0.1:PORT` once bound.
// Every path is accepted. --deflate enables permessage-deflate with threshold 0 (every message is
// compressed, like the wsgated route under test); --max-payload sets ws's maxPayload (a message
// over it is closed 1009). --skip-utf8-validation makes it deliberately non-conforming (the
// suite's self-test expects FAILED verdicts then). Exits on SIGTERM/SIGINT; with
// --exit-on-stdin-eof also when its stdin (a pipe from the parent) closes, so a parent that dies
// does not leave it behind.
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

const deflate = flag('--deflate');
const maxPayload = Number(value('--max-payload', 1024 * 1024));
const port = Number(value('--port', 0));

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  maxPayload,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  // Only for the suite's self-test (a deliberately broken server that the suite must FAIL).
  skipUTF8Validation: flag('--skip-utf8-validation'),
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // protocol errors: ws already sent the close frame
});

wss.on('listening', () => {
  const a = wss.address();
  console.log(`listening on 127.0.0.1:${a.port}`);
});

const stop = () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (flag('--exit-on-stdin-eof')) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
