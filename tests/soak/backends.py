"""backends.py: the two backends the churn soak (tests/soak/run) puts behind wsgated.

Each runs as its own process, so that the soak can SIGKILL it (a crashed backend: the kernel
cuts every connection at once) and start it again on the same address:

    /usr/bin/python3 backends.py http 127.0.0.1:PORT     an http backend (docs/backends.md)
    /usr/bin/python3 backends.py stream /path/to.sock    a stream backend on a Unix socket

Both echo: the http backend answers each `message` POST with its body and Content-Type (200)
and `connect` / `disconnect` with 204; the stream backend answers each `message` frame with a
`send` of the same payload and type to the same connection. Neither keeps any record (an hour
of soak must not grow them). Each prints one line, `ready`, on stdout once it listens, and exits
when stdin closes (the soak's end) or on SIGKILL.

Standard library only.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# ---------------------------------------------------------------------------------- http
class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: wsgated pools its connections

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event = self.headers.get("WSGate-Event", "")
        if event == "message":
            ctype = self.headers.get("Content-Type", "application/octet-stream")
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            self.wfile.write(head + body)
        else:
            self.wfile.write(b"HTTP/1.1 204 No Content\r\n\r\n")


def serve_http(address: str) -> None:
    host, port = address.rsplit(":", 1)
    # The default backlog (5) would lose SYNs in a burst of pool connects.
    socketserver.TCPServer.request_queue_size = socket.SOMAXCONN
    ThreadingHTTPServer.allow_reuse_address = True  # restart on the same port at once
    server = ThreadingHTTPServer((host, int(port)), EchoHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()


# ---------------------------------------------------------------------------------- stream
MAX_HEADER = 64 * 1024


def frame(header: dict, payload: bytes) -> bytes:
    header["size"] = len(payload)
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload


async def stream_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readuntil(b"\n")
            h = json.loads(line)
            size = h.get("size", 0)
            payload = await reader.readexactly(size) if size else b""
            if h.get("event") == "message":
                # Never wait for the write to drain here: wsgated may be waiting for us to
                # read (acks, replays) while it does not read; the buffer is bounded by the
                # soak's load.
                writer.write(frame({"action": "send", "conn": h["conn"],
                                    "binary": bool(h.get("binary"))}, payload))
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
            ValueError):
        pass
    finally:
        writer.close()


def serve_stream(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)  # left by the process this one replaces

    async def main() -> None:
        server = await asyncio.start_unix_server(stream_conn, path, limit=MAX_HEADER + 2,
                                                 backlog=64)
        ready.set()
        async with server:
            await server.serve_forever()

    ready = threading.Event()
    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    if not ready.wait(10):
        raise RuntimeError("stream backend did not start")


def main() -> None:
    kind, address = sys.argv[1], sys.argv[2]
    if kind == "http":
        serve_http(address)
    elif kind == "stream":
        serve_stream(address)
    else:
        sys.exit(f"usage: {sys.argv[0]} http HOST:PORT | stream PATH")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for _ in sys.stdin:  # until the soak closes our stdin
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
