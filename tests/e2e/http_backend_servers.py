"""http_backend_servers: the real HTTP backends that test_http_backend.py puts behind wsgated.

Each backend runs in its own process (so it can be SIGKILLed mid-stream, restarted on the same
port, and does not share a GIL with the test's WebSocket clients):

    /usr/bin/python3 http_backend_servers.py KIND ADDRESS
      KIND     stdlib   http.server ThreadingHTTPServer, protocol_version HTTP/1.1 (keep-alive)
               aiohttp  aiohttp.web (Debian's python3-aiohttp 3.8)
      ADDRESS  127.0.0.1:PORT (0: any free port) or unix:/path/to.sock (stdlib only)

It records every request (event, headers, body, the TCP peer) and answers as told. The control
channel is stdin/stdout: one JSON command per line in, one JSON answer per line out; the first
line out is {"ready": true, "port": N}. Stdin closing ends the process. BackendProcess (below) is
the test side.

How a request is answered: `rules[event]` (set with {"cmd": "rules"}) is the default answer
spec; a text message whose body starts with "!" carries a JSON spec of its own that overrides
it. A spec's keys (all optional):
    status   int (200)          headers  {name: value}      type  Content-Type of the answer
    whoami   answer the WSGate-Connection-Id, as text
    body     str                body_b64 base64 bytes       (neither: echo the request's body and
                                                              Content-Type on a message; empty
                                                              otherwise)
    delay    seconds to wait before answering
    hold     wait until {"cmd": "release"} (counted in stats.held meanwhile)
    interim  [status, ...]: 1xx answers written just before the final one (stdlib only)
    garbage  answer bytes that are not HTTP, then close     (stdlib only)
    drop     close the connection without any answer         (stdlib only)
Defaults: connect and disconnect are answered 204, a message is echoed.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GARBAGE = b"SSH-2.0-OpenSSH_9.2 this is not HTTP\r\n\r\n"
REASONS = {100: "Continue", 101: "Switching Protocols", 103: "Early Hints", 200: "OK",
           201: "Created", 204: "No Content", 302: "Found", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}


class State:
    """What every request handler shares: the records, the rules, the hold gate, the counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[dict] = []
        self.rules: dict[str, dict] = {"connect": {"status": 204}, "disconnect": {"status": 204}}
        self.gate = threading.Event()
        self.gate.set()
        self.accepted = 0      # TCP connections accepted
        self.open = 0          # open now (as the handlers see them)
        self.max_open = 0
        self.in_flight = 0     # requests being answered now
        self.max_in_flight = 0
        self.held = 0
        self.peers: set = set()

    def record(self, headers: list[tuple[str, str]], body: bytes, peer) -> dict:
        h = {k.lower(): v for k, v in headers}
        ev = {"conn": h.get("wsgate-connection-id", ""), "event": h.get("wsgate-event", ""),
              "headers": [[k, v] for k, v in headers], "body": body, "t": time.time(),
              "peer": str(peer)}
        with self.lock:
            self.events.append(ev)
            self.peers.add(str(peer))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return ev

    def answered(self, ev: dict) -> None:
        with self.lock:
            self.in_flight -= 1
            ev["answered"] = time.time()

    def spec(self, event: str, ctype: str, body: bytes) -> dict:
        with self.lock:
            spec = dict(self.rules.get(event) or {})
        if event == "message" and ctype.startswith("text/") and body.startswith(b"!"):
            spec.update(json.loads(body[1:]))
        return spec

    def hold(self, spec: dict) -> None:
        if not spec.get("hold"):
            return
        with self.lock:
            self.held += 1
        self.gate.wait(60)
        with self.lock:
            self.held -= 1


def answer_parts(spec: dict, ev: dict, ctype: str, body: bytes) -> tuple[int, list, bytes]:
    """(status, headers, body) of the answer to one request, as its spec says."""
    status, event, conn = int(spec.get("status", 200)), ev["event"], ev["conn"]
    headers = list((spec.get("headers") or {}).items())
    if spec.get("whoami"):
        out, default_type = conn.encode(), "text/plain; charset=utf-8"
    elif "body_b64" in spec:
        out, default_type = base64.b64decode(spec["body_b64"]), "application/octet-stream"
    elif "body" in spec:
        out, default_type = spec["body"].encode(), "text/plain; charset=utf-8"
    elif event == "message" and status != 204:
        out, default_type = body, ctype  # the echo
    else:
        out, default_type = b"", None
    ctype_out = spec.get("type", default_type)
    if ctype_out:
        headers.append(("Content-Type", ctype_out))
    return status, headers, out


# ---------------------------------------------------------------------------------- stdlib
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools its connections
    state: State  # set on the class by serve_stdlib

    def setup(self) -> None:  # once per accepted connection
        super().setup()
        if isinstance(self.connection, socket.socket) and self.connection.family != socket.AF_UNIX:
            # The answer is one write, but never leave it to Nagle and delayed ACKs.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s = self.state
        with s.lock:
            s.accepted += 1
            s.open += 1
            s.max_open = max(s.max_open, s.open)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.state.lock:
                self.state.open -= 1

    def log_message(self, *args) -> None:  # quiet: the test prints the gateway's log instead
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # http.server decodes header values as latin-1; wsgated sends UTF-8.
        headers = [(k, v.encode("latin-1").decode("utf-8", "replace"))
                   for k, v in self.headers.items()]
        peer = self.client_address if self.client_address else "unix"
        ev = self.state.record(headers, body, peer)
        try:
            self.respond(ev, self.headers.get("Content-Type", ""), body)
        finally:
            self.state.answered(ev)

    def respond(self, ev: dict, ctype: str, body: bytes) -> None:
        spec = self.state.spec(ev["event"], ctype, body)
        if spec.get("delay"):
            time.sleep(float(spec["delay"]))
        self.state.hold(spec)
        if spec.get("garbage") or spec.get("drop"):
            if spec.get("garbage"):
                self.wfile.write(GARBAGE)
            self.close_connection = True
            return
        status, headers, out = answer_parts(spec, ev, ctype, body)
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Whatever')}"]
        head += [f"{k}: {v}" for k, v in headers]
        if status != 204:  # a 204 has no body and no Content-Length (RFC 9110)
            head.append(f"Content-Length: {len(out)}")
        interim = "".join(f"HTTP/1.1 {code} {REASONS.get(code, 'Interim')}\r\n\r\n"
                          for code in spec.get("interim", []))
        # One write, head and body: as a real server's buffered answer.
        self.wfile.write((interim + "\r\n".join(head) + "\r\n\r\n").encode("utf-8") + out)


def serve_stdlib(state: State, address: str):
    Handler.state = state
    # socketserver's listen backlog is 5: a burst of connects from the gateway's pool would
    # lose SYNs and wait for their retransmission (1 s, 3 s, ...). Servers in production use
    # the kernel's default (4096); so do we.
    socketserver.TCPServer.request_queue_size = socket.SOMAXCONN
    socketserver.UnixStreamServer.request_queue_size = socket.SOMAXCONN
    if address.startswith("unix:"):
        path = address[5:]
        if os.path.exists(path):
            os.unlink(path)  # left by the process this one replaces
        server = socketserver.ThreadingUnixStreamServer(path, Handler)
        port = 0
    else:
        host, port = address.rsplit(":", 1)
        ThreadingHTTPServer.allow_reuse_address = True  # restart on the same port at once
        server = ThreadingHTTPServer((host, int(port)), Handler)
        port = server.server_address[1]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return port


# ---------------------------------------------------------------------------------- aiohttp
def serve_aiohttp(state: State, address: str):
    import asyncio
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        ev = state.record(list(request.headers.items()), body, peer)
        try:
            ctype = request.headers.get("Content-Type", "")
            spec = state.spec(ev["event"], ctype, body)
            if spec.get("delay"):
                await asyncio.sleep(float(spec["delay"]))
            if spec.get("hold"):
                with state.lock:
                    state.held += 1
                while not state.gate.is_set():
                    await asyncio.sleep(0.01)
                with state.lock:
                    state.held -= 1
            status, headers, out = answer_parts(spec, ev, ctype, body)
            return web.Response(status=status, headers=dict(headers),
                                body=out if status != 204 else None)
        finally:
            state.answered(ev)

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    result = {}

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = address.rsplit(":", 1)
        site = web.TCPSite(runner, host, int(port), reuse_address=True)
        await site.start()
        result["port"] = site._server.sockets[0].getsockname()[1]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    if not ready.wait(10):
        raise RuntimeError("aiohttp did not start")
    return result["port"]


# ---------------------------------------------------------------------------------- control
def event_json(ev: dict) -> dict:
    return {**ev, "body": base64.b64encode(ev["body"]).decode()}


def command(state: State, c: dict) -> dict:
    cmd = c["cmd"]
    if cmd == "events":  # every record (optionally one connection's), bodies in base64
        with state.lock:
            evs = [e for e in state.events if c.get("conn") in (None, e["conn"])]
        return {"events": [event_json(e) for e in evs]}
    if cmd == "sequences":  # compact: conn -> ["connect", "m:<text>", "disconnect", ...]
        out: dict[str, list] = {}
        with state.lock:
            for e in state.events:
                item = "m:" + e["body"].decode("utf-8", "replace") if e["event"] == "message" \
                    else e["event"]
                out.setdefault(e["conn"], []).append(item)
        return {"sequences": out}
    if cmd == "stats":
        with state.lock:
            return {"accepted": state.accepted, "open": state.open, "max_open": state.max_open,
                    "in_flight": state.in_flight, "max_in_flight": state.max_in_flight,
                    "held": state.held, "requests": len(state.events), "peers": len(state.peers)}
    if cmd == "rules":
        with state.lock:
            state.rules.update(c["rules"])
        return {"ok": True}
    if cmd == "hold":
        state.gate.clear()
        return {"ok": True}
    if cmd == "release":
        state.gate.set()
        return {"ok": True}
    if cmd == "reset_stats":
        with state.lock:
            state.max_open, state.max_in_flight = state.open, state.in_flight
        return {"ok": True}
    return {"error": f"unknown command {cmd}"}


def main() -> None:
    kind, address = sys.argv[1], sys.argv[2]
    state = State()
    port = serve_stdlib(state, address) if kind == "stdlib" else serve_aiohttp(state, address)
    out = sys.stdout
    out.write(json.dumps({"ready": True, "port": port}) + "\n")
    out.flush()
    for line in sys.stdin:
        if line.strip():
            out.write(json.dumps(command(state, json.loads(line))) + "\n")
            out.flush()
    os._exit(0)  # stdin closed: the test is done (handler threads may still be held)


# ---------------------------------------------------------------------------------- test side
SETPRIV = next((p for p in ("/usr/bin/setpriv", "/bin/setpriv") if os.path.exists(p)), None)


class BackendProcess:
    """A backend child process (this file's main) and its control channel."""

    def __init__(self, kind: str, address: str, timeout: float = 10.0):
        self.kind, self.address, self.timeout = kind, address, timeout
        argv = [sys.executable, os.path.abspath(__file__), kind, address]
        if SETPRIV:  # killed with the test process, whatever happens
            argv = [SETPRIV, "--pdeathsig", "SIGKILL", "--", *argv]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self._lock = threading.Lock()
        hello = self._readline()
        self.port = hello["port"]

    @property
    def url_address(self) -> str:
        return self.address if self.address.startswith("unix:") else f"127.0.0.1:{self.port}"

    def _readline(self) -> dict:
        result: dict = {}

        def read() -> None:
            result["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(self.timeout)
        line = result.get("line")
        if not line:
            self.kill()
            err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
            raise AssertionError(f"backend {self.kind} {self.address}: no answer "
                                 f"(exit {self.proc.poll()}):\n{err}")
        return json.loads(line)

    def call(self, cmd: str, **args) -> dict:
        with self._lock:
            self.proc.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
            return self._readline()

    def events(self, conn: str | None = None) -> list[dict]:
        evs = self.call("events", conn=conn)["events"]
        for e in evs:
            e["body"] = base64.b64decode(e["body"])
        return evs

    def sequences(self) -> dict[str, list[str]]:
        return self.call("sequences")["sequences"]

    def stats(self) -> dict:
        return self.call("stats")

    def rules(self, **rules) -> None:
        self.call("rules", rules=rules)

    def kill(self) -> None:
        """SIGKILL: its connections are cut by the kernel, as when a backend crashes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self._close_pipes()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # main() exits on EOF
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass


if __name__ == "__main__":
    main()
