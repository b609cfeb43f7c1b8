"""test_auth_hook: a route's `auth: {type: http}` against a real hook server (SPEC §5).

Every test starts its own hook (Python's http.server, HTTP/1.1 keep-alive, port 0, in a thread;
it records every call and counts the TCP connections it accepted) and its own gateway on port 0,
and stops both at the end. What is checked:

- accepted: the hook's user, rooms and claims show in GET /v1/connections/{id}; `rooms` joined,
  route templates {param}, {user} and {claims.NAME} expanded (numbers as JavaScript writes them:
  2.5, 3; a missing, nested, or control-character claim joins nothing); the backend sees
  WSGate-User and the connect body's user, claims and forwarded headers; an empty 2xx body is
  an anonymous client;
- what the hook receives: a GET to its URL (query kept) with the `forward_headers` exactly as the
  client sent them (repeated fields included), WSGate-Path (the request target, query included)
  and WSGate-Remote-Addr (after trusted_proxies); no other client header;
- refusals: a 403 / 401 / 307 / 429 reaches the client with its status, body, Content-Type,
  WWW-Authenticate, Location and Retry-After, nothing else of the hook's; counted "denied";
- failures are a 503 (Retry-After: 1) whose body says nothing of the cause: a hook that hangs
  (answered within handshake_timeout, or auth.timeout, "timeout"), malformed answers, a user or
  room with a control character or over 256 bytes ("error"), a hook that is down or closes
  without answering ("error"); the cause is logged instead, at most 10 lines a second;
- the cache: one call for two handshakes with the same target and forwarded headers
  ("cache_hit"), another for another cookie, path or forwarded field (every field of a repeated
  header), a call again after cache_ttl, at most cache_size entries; refusals cached only with
  cache_negative, a hook's 5xx and failures never;
- the hook's keep-alive connection is reused (fewer TCP connections than calls).

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_auth_hook
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

import harness

TIMEOUT = 10.0  # seconds for any single step
HANG = object()  # an answer: the hook never answers (until the test ends)
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from env


# ---------------------------------------------------------------------------- HTTP servers
@dataclass
class Call:
    method: str
    path: str
    headers: list[tuple[str, str]]  # as received, in order, repeated fields kept
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of the only `name` field; None when absent (a repeated field fails)."""
        vals = self.all(name)
        assert len(vals) <= 1, f"{name} sent {len(vals)} times: {vals}"
        return vals[0] if vals else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A gateway killed at the end of a test resets its pooled connections: not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class HttpServer:
    """An HTTP/1.1 keep-alive server on 127.0.0.1 (free port) in threads: an auth hook or a
    backend. `answer(call)` returns (status, headers, body) or HANG. Records every call and
    counts the TCP connections accepted. Stopped by `cleanup` (an addCleanup)."""

    def __init__(self, answer, cleanup):
        self.answer = answer
        self.calls: list[Call] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive
            timeout = 30  # an idle keep-alive connection is dropped after this

            def setup(self) -> None:
                super().setup()
                with outer._lock:
                    outer.connections += 1

            def do_GET(self) -> None:
                outer._serve(self)

            def do_POST(self) -> None:
                outer._serve(self)

            def log_message(self, *args) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        cleanup(self.stop)

    def url(self, path: str = "/auth") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        n = int(h.headers.get("Content-Length") or 0)
        call = Call(h.command, h.path, list(h.headers.items()), h.rfile.read(n) if n else b"")
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        ans = self.answer(call)
        if ans is HANG:
            self._release.wait(30)  # bounded: the test's cleanup releases it
            h.close_connection = True
            return
        status, headers, body = ans
        if isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        items = headers.items() if isinstance(headers, dict) else headers
        for k, v in items:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def wait_calls(self, n: int, timeout: float = TIMEOUT) -> list[Call]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.calls) >= n, timeout)
            return list(self.calls)

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def json_answer(obj, status: int = 200, headers: dict | None = None):
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(obj)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backend_answer(call: Call):
    """A backend that tells each client its connection id (the connect reply), else 204."""
    if call.header("WSGate-Event") == "connect":
        return 200, {"Content-Type": "text/plain"}, call.header("WSGate-Connection-Id")
    return 204, {}, b""


# ---------------------------------------------------------------------------- the gateway
def gateway_yaml(hook_url: str, token: str, *, auth: str = "", handshake_timeout: str = "5s",
                 rooms: list[str] | None = None, backend_url: str | None = None,
                 workers: int = 2, extra_server: str = "") -> str:
    """Route /app/{room} behind an http auth hook forwarding cookie and authorization; `auth`
    adds keys to the auth map (", cache_ttl: 30s"); backend `app` (http) or echo."""
    backends = ""
    backend = "echo"
    if backend_url:
        backends = f'backends:\n  app: {{type: http, url: "{backend_url}", timeout: 5s}}\n'
        backend = "app"
    return (
        "server:\n"
        f"  workers: {workers}\n"
        '  listen: [{address: "127.0.0.1:0"}]\n'
        "  log: {level: info, format: text}\n"
        f"  limits: {{handshake_timeout: {handshake_timeout}}}\n"
        + extra_server +
        "admin:\n"
        '  listen: "127.0.0.1:0"\n'
        f'  token: "{token}"\n'
        + backends +
        "routes:\n"
        '  - path: "/app/{room}"\n'
        f"    backend: {backend}\n"
        f'    auth: {{type: http, url: "{hook_url}", forward_headers: [cookie, authorization]{auth}}}\n'
        + (f"    rooms: {json.dumps(rooms)}\n" if rooms else ""))


class Admin:
    """The gateway's admin listener: /v1 calls with the bearer token, /metrics."""

    def __init__(self, gw: harness.Gateway, token: str):
        self.token = token
        self.base = harness.admin_base(gw)

    def call(self, method: str, path: str, body: bytes | None = None,
             content_type: str = "text/plain; charset=utf-8"):
        """(status, JSON answer) of one /v1 call."""
        req = urllib.request.Request(self.base + path, data=body, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with _DIRECT.open(req, timeout=TIMEOUT) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def metrics(self) -> str:
        with _DIRECT.open(self.base + "/metrics", timeout=TIMEOUT) as res:
            return res.read().decode()

    def counter(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels`."""
        total = 0.0
        for line in self.metrics().splitlines():
            m = re.match(rf"^{name}(?:\{{([^}}]*)\}})?\s+(\S+)$", line)
            if not m:
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[1] or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                total += float(m[2])
        return total

    def auth_results(self) -> dict[str, float]:
        """wsgate_auth_requests_total by result, zeros left out."""
        out = {}
        for line in self.metrics().splitlines():
            m = re.match(r'^wsgate_auth_requests_total\{result="(\w+)"\}\s+(\S+)$', line)
            if m and float(m[2]):
                out[m[1]] = float(m[2])
        return out


# ---------------------------------------------------------------------------- raw upgrades
@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float
    raw: bytes = field(repr=False, default=b"")

    def header(self, name: str) -> str | None:
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return vals[0] if vals else None

    def names(self) -> set[str]:
        return {k.lower() for k, _ in self.headers}


def upgrade(addr: tuple[str, int], target: str = "/app/lobby",
            headers: list[tuple[str, str]] | None = None, timeout: float = TIMEOUT) -> Answer:
    """A WebSocket upgrade request on a raw socket, byte for byte; the gateway's answer (head,
    and the body of a non-101 by its Content-Length). The connection is closed after."""
    lines = [f"GET {target} HTTP/1.1", f"Host: {addr[0]}:{addr[1]}", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Version: 13"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return raw_request(addr, request, timeout)


def read_head(s: socket.socket) -> bytes:
    """What `s` receives until an HTTP head is complete (or the peer closes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def raw_request(addr: tuple[str, int], request: bytes, timeout: float = TIMEOUT) -> Answer:
    """Sends `request` as it is on a new connection; the answer (head, and the body of a non-101
    by its Content-Length). The connection is closed after."""
    start = time.monotonic()
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(request)
        data = read_head(s)
        elapsed = time.monotonic() - start
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"no complete HTTP answer after {elapsed:.2f}s: {data!r}")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ")[1])
        hdrs = [tuple(x.strip() for x in f.split(":", 1)) for f in fields]
        if status != 101:
            want = int(dict((k.lower(), v) for k, v in hdrs).get("content-length", "0"))
            while len(body) < want:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
    return Answer(status, hdrs, body, elapsed, data)


class HookTest(unittest.TestCase):
    """Base: a hook answering through `self.answer`, a gateway on it (started by `start`)."""

    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        self.hook = HttpServer(lambda call: self.answer(call), self.addCleanup)

    def answer(self, call: Call):  # overridden per test
        return json_answer({"user": "ann"})

    def start(self, hook_url: str | None = None, **kw) -> None:
        self.gw = harness.start_gateway(gateway_yaml(hook_url or self.hook.url(), self.token, **kw),
                                        self.addCleanup)
        self.addr = self.gw.addr()
        self.admin = Admin(self.gw, self.token)

    def up(self, target: str = "/app/lobby", headers=None) -> Answer:
        return upgrade(self.addr, target, headers)

    def assert_unavailable(self, a: Answer, what: str) -> None:
        """A 503 that names no cause."""
        self.assertEqual(a.status, 503, f"{what}: {a.raw!r}")
        self.assertEqual(a.header("Retry-After"), "1", what)
        self.assertEqual(a.body, b"authentication unavailable\n", what)

    def assert_logged(self, pattern: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not re.search(pattern, self.gw.stderr):
            if time.monotonic() > deadline:
                self.fail(f"no log line matching {pattern!r}:\n{self.gw.stderr}")
            time.sleep(0.02)


# ---------------------------------------------------------------------------- accepted
class AcceptTest(HookTest):
    def answer(self, call: Call):
        return json_answer({"user": "ann", "rooms": ["vip", "team 7"],
                            "claims": {"tenant": "acme", "level": 3, "admin": True, "ratio": 2.5,
                                       "groups": ["a", "b"], "org": {"id": 9}}})

    def test_identity_reaches_connection_info_rooms_and_backend(self) -> None:
        asyncio.run(self.identity_reaches_connection_info_rooms_and_backend())

    async def identity_reaches_connection_info_rooms_and_backend(self) -> None:
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start(backend_url=backend.url("/ws"),
                   rooms=["room:{room}", "tenant:{claims.tenant}", "user:{user}",
                          "level:{claims.level}", "ratio:{claims.ratio}", "admin:{claims.admin}",
                          "missing:{claims.nope}", "org:{claims.org}"])
        async with websockets.connect(self.gw.url(0, "/app/lobby"), open_timeout=TIMEOUT,
                                      extra_headers={"Cookie": "sid=ann-1"}) as ws:
            conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)
            status, info = self.admin.call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual(status, 200, info)
            self.assertEqual(info["user"], "ann")
            self.assertEqual(info["rooms"], sorted(["room:lobby", "tenant:acme", "user:ann",
                                                    "level:3", "ratio:2.5", "admin:true", "vip",
                                                    "team 7"]),
                             "route templates from params, claims and user, plus the hook's "
                             "rooms; a template naming a missing or non-scalar claim joins nothing")
            self.assertEqual(info["claims"], {"tenant": "acme", "level": 3, "admin": True,
                                              "ratio": 2.5, "groups": ["a", "b"], "org": {"id": 9}})
            # The backend's connect event: WSGate-User, and the identity in the body.
            connect = [c for c in backend.calls if c.header("WSGate-Event") == "connect"]
            self.assertEqual(len(connect), 1)
            self.assertEqual(connect[0].header("WSGate-User"), "ann")
            body = json.loads(connect[0].body)
            self.assertEqual(body["user"], "ann")
            self.assertEqual(body["claims"]["tenant"], "acme")
            self.assertEqual(body["headers"], {"cookie": "sid=ann-1"})
            status, room = self.admin.call("GET", "/v1/rooms/team%207")
            self.assertEqual(room["members"], 1, "the hook's room is joined")
        self.assertEqual(self.admin.auth_results(), {"ok": 1.0})
        self.assertEqual(self.hook.call_count(), 1)

    def test_claims_unfit_for_a_room_name_join_nothing(self) -> None:
        asyncio.run(self.claims_unfit_for_a_room_name_join_nothing())

    async def claims_unfit_for_a_room_name_join_nothing(self) -> None:
        claims = {"tenant": "ac\nme", "long": "x" * 300, "ok": "fine"}
        self.answer = lambda call: json_answer({"user": "ann", "claims": claims})
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start(backend_url=backend.url("/ws"),
                   rooms=["tenant:{claims.tenant}", "long:{claims.long}", "ok:{claims.ok}"])
        async with websockets.connect(self.gw.url(0, "/app/x"), open_timeout=TIMEOUT) as ws:
            conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)
            _, info = self.admin.call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual(info["rooms"], ["ok:fine"],
                             "a claim with a control character or over 256 bytes fills no room "
                             "(no /v1 call could address that room)")
            self.assertEqual(info["claims"], claims, "the claims themselves are all kept")

    def test_empty_body_is_anonymous(self) -> None:
        asyncio.run(self.empty_body_is_anonymous())

    async def empty_body_is_anonymous(self) -> None:
        self.answer = lambda call: (200, {}, b"")
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start(backend_url=backend.url("/ws"), rooms=["user:{user}", "room:{room}"])
        async with websockets.connect(self.gw.url(0, "/app/x"), open_timeout=TIMEOUT) as ws:
            conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)
            status, info = self.admin.call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual((info["user"], info["rooms"], info["claims"]),
                             (None, ["room:x"], {}))
            connect = [c for c in backend.calls if c.header("WSGate-Event") == "connect"]
            self.assertIsNone(connect[0].header("WSGate-User"), "anonymous: no WSGate-User")
        self.assertEqual(self.admin.auth_results(), {"ok": 1.0})


# ---------------------------------------------------------------------------- what the hook sees
class RequestTest(HookTest):
    def test_forwarded_headers_path_and_remote_address(self) -> None:
        self.start(hook_url=self.hook.url("/auth/check?v=1&site=a%20b"))
        target = "/app/lobby?token=abc&x=%20y&q=caf%C3%A9"
        a = self.up(target, [("Cookie", "sid=s3cr3t; theme=dark"),
                             ("Authorization", "Bearer abc.def.ghi"),
                             ("X-Secret", "not for the hook"),
                             ("Origin", "https://app.example")])
        self.assertEqual(a.status, 101, a.raw)
        (call,) = self.hook.wait_calls(1)
        self.assertEqual(call.method, "GET")
        self.assertEqual(call.path, "/auth/check?v=1&site=a%20b", "the hook URL's path and query")
        self.assertEqual(call.header("Cookie"), "sid=s3cr3t; theme=dark")
        self.assertEqual(call.header("Authorization"), "Bearer abc.def.ghi")
        self.assertEqual(call.header("WSGate-Path"), target, "the request target, query included")
        self.assertEqual(call.header("WSGate-Remote-Addr"), "127.0.0.1")
        sent = {k.lower() for k, _ in call.headers}
        for name in ("x-secret", "origin", "upgrade", "sec-websocket-key", "sec-websocket-version"):
            self.assertNotIn(name, sent, f"{name} is not in forward_headers")
        self.assertEqual(call.body, b"")

    def test_remote_address_after_trusted_proxies(self) -> None:
        self.start(extra_server='  trusted_proxies: ["127.0.0.1/32"]\n')
        a = self.up(headers=[("X-Forwarded-For", "198.51.100.4, 203.0.113.9")])
        self.assertEqual(a.status, 101, a.raw)
        (call,) = self.hook.wait_calls(1)
        self.assertEqual(call.header("WSGate-Remote-Addr"), "203.0.113.9",
                         "the client's address as the trusted proxy gave it")
        self.assertIsNone(call.header("X-Forwarded-For"), "not in forward_headers")

    def test_absent_and_repeated_headers(self) -> None:
        self.start()
        a = self.up("/app/one", [("Cookie", "a=1"), ("Cookie", "sid=2")])
        self.assertEqual(a.status, 101, a.raw)
        (call,) = self.hook.wait_calls(1)
        self.assertEqual(call.all("Cookie"), ["a=1", "sid=2"], "every field, in order")
        self.assertIsNone(call.header("Authorization"), "not sent by the client: not invented")


# ---------------------------------------------------------------------------- refusals
class RefusalTest(HookTest):
    def answer(self, call: Call):
        kind = urllib.parse.urlsplit(call.header("WSGate-Path")).path.rsplit("/", 1)[1]
        if kind == "forbidden":
            return 403, [("Content-Type", "application/problem+json"),
                         ("WWW-Authenticate", 'Bearer error="insufficient_scope"'),
                         ("X-Hook-Internal", "do not leak"),
                         ("Set-Cookie", "hook=internal")], '{"title":"no entry for you"}'
        if kind == "login":
            return 401, {"Content-Type": "text/plain",
                         "WWW-Authenticate": 'Basic realm="wsgated test"'}, "log in first\n"
        if kind == "moved":
            return 307, {"Location": "https://login.example/?next=%2Fapp"}, ""
        if kind == "busy":
            return 429, {"Retry-After": "7", "Content-Type": "text/plain"}, "slow down\n"
        return json_answer({"user": "ann"})

    def test_403_reaches_the_client_with_its_body_and_headers(self) -> None:
        self.start()
        a = self.up("/app/forbidden", [("Cookie", "sid=x")])
        self.assertEqual(a.status, 403, a.raw)
        self.assertEqual(a.body, b'{"title":"no entry for you"}')
        self.assertEqual(a.header("Content-Type"), "application/problem+json")
        self.assertEqual(a.header("WWW-Authenticate"), 'Bearer error="insufficient_scope"')
        self.assertNotIn("x-hook-internal", a.names(), "only the documented headers pass")
        self.assertNotIn("set-cookie", a.names())
        self.assertNotIn("upgrade", a.names())
        self.assertEqual(self.admin.auth_results(), {"denied": 1.0})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_denied"), 1.0)
        self.assert_logged(r"refused \(403\): hook answered 403")

    def test_401_307_429_pass_through(self) -> None:
        self.start()
        a = self.up("/app/login")
        self.assertEqual((a.status, a.body), (401, b"log in first\n"), a.raw)
        self.assertEqual(a.header("WWW-Authenticate"), 'Basic realm="wsgated test"')
        self.assertEqual(a.header("Content-Type"), "text/plain")
        a = self.up("/app/moved")
        self.assertEqual(a.status, 307, a.raw)
        self.assertEqual(a.header("Location"), "https://login.example/?next=%2Fapp")
        a = self.up("/app/busy")
        self.assertEqual((a.status, a.body, a.header("Retry-After")), (429, b"slow down\n", "7"))
        self.assertEqual(self.up("/app/fine").status, 101, "the same hook still accepts")
        self.assertEqual(self.admin.auth_results(), {"denied": 3.0, "ok": 1.0})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_denied"), 3.0)


# ---------------------------------------------------------------------------- failures: 503
class FailureTest(HookTest):
    def test_hanging_hook_is_a_503_within_the_handshake_timeout(self) -> None:
        self.answer = lambda call: HANG
        self.start(handshake_timeout="1s")
        a = self.up()
        self.assert_unavailable(a, "hook too slow")
        self.assertLess(a.elapsed, 1.5, "answered within handshake_timeout (1s)")
        self.assertGreater(a.elapsed, 0.7, "the hook had (most of) the handshake_timeout")
        self.assertEqual(self.hook.call_count(), 1)
        self.assertEqual(self.admin.auth_results(), {"timeout": 1.0})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_timeout"), 1.0)
        self.assert_logged(r"refused \(503\): hook did not answer in time")

    def test_hook_timeout_shorter_than_the_handshake(self) -> None:
        self.answer = lambda call: HANG
        self.start(handshake_timeout="5s", auth=", timeout: 300ms")
        a = self.up()
        self.assert_unavailable(a, "hook timeout")
        self.assertLess(a.elapsed, 1.5, "auth.timeout (300ms) applies, not the 5s handshake")
        self.assertEqual(self.admin.auth_results(), {"timeout": 1.0})

    def test_malformed_answers_are_503_error(self) -> None:
        bodies = ["{not json", '["a", "b"]', '"ann"', '{"user": 5}', '{"user": ""}',
                  '{"rooms": "vip"}', '{"rooms": [""]}', '{"rooms": [7]}', '{"claims": [1]}',
                  '{"user": "' + "u" * 257 + '"}', '{"rooms": ["' + "r" * 257 + '"]}',
                  '{"user": "ann"} trailing', '{"user": "\\udc00"}']
        self.answer = lambda call: (200, {"Content-Type": "application/json"},
                                    bodies[int(call.header("WSGate-Path").rsplit("/", 1)[1])])
        self.start()
        for i, body in enumerate(bodies):
            self.assert_unavailable(self.up(f"/app/{i}"), f"hook answered 200 {body!r}")
        self.assertEqual(self.admin.auth_results(), {"error": float(len(bodies))})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_error"), float(len(bodies)))
        self.assert_logged(r"refused \(503\): hook answer is not the JSON expected")

    def test_control_characters_in_user_or_room_are_503(self) -> None:
        bodies = ['{"user": "ann\\nX-Injected: 1"}', '{"user": "ann\\r"}', '{"user": "a\\u0000"}',
                  '{"user": "del\\u007f"}', '{"rooms": ["ok", "bad\\troom"]}']
        self.answer = lambda call: (200, {}, bodies[int(call.header("WSGate-Path")[5:])])
        self.start()
        for i, body in enumerate(bodies):
            self.assert_unavailable(self.up(f"/app/{i}"), f"hook answered 200 {body!r}")
        self.assertEqual(self.admin.auth_results(), {"error": float(len(bodies))})
        # The same shapes without the control character are accepted.
        self.answer = lambda call: json_answer({"user": "ann é", "rooms": ["ok", "good room"]})
        self.assertEqual(self.up("/app/0").status, 101)

    def test_hook_down_is_a_503_at_once(self) -> None:
        self.start(hook_url=f"http://127.0.0.1:{free_port()}/auth")
        a = self.up()
        self.assert_unavailable(a, "nothing listening")
        self.assertLess(a.elapsed, 2.0, "a refused connection does not wait for the timeout")
        self.assertEqual(self.admin.auth_results(), {"error": 1.0})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_error"), 1.0)
        self.assert_logged(r"refused \(503\): hook unreachable or broken")

    def test_hook_closing_without_answer_is_a_503(self) -> None:
        # A raw listener that reads the request and closes: a "reset", not a timeout.
        srv = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(srv.close)
        stop = threading.Event()
        self.addCleanup(stop.set)

        def serve() -> None:
            srv.settimeout(0.1)
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    continue
                with c:
                    c.settimeout(2)
                    try:
                        c.recv(65536)
                    except OSError:
                        pass
        threading.Thread(target=serve, daemon=True).start()
        self.start(hook_url=f"http://127.0.0.1:{srv.getsockname()[1]}/auth")
        self.assert_unavailable(self.up(), "hook closed")
        self.assertEqual(self.admin.auth_results(), {"error": 1.0})

    def test_refusal_log_is_rate_limited(self) -> None:
        self.answer = lambda call: (403, {}, "no\n")
        self.start()
        start = time.monotonic()
        for _ in range(60):
            self.assertEqual(self.up().status, 403)
        seconds = int(time.monotonic() - start) + 2  # calendar seconds the burst touched
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_denied"), 60.0)
        lines = [ln for ln in self.gw.stderr.splitlines() if "refused (403)" in ln]
        self.assertLessEqual(len(lines), min(59, 10 * seconds), "at most 10 lines a second")
        time.sleep(1.1)  # the next second: a line again, with the count of those left out
        self.assertEqual(self.up().status, 403)
        self.assert_logged(r"refused \(403\): hook answered 403 \(\d+ similar lines suppressed\)")
        self.assertNotIn(b"hook answered", self.up().body, "the reason is not sent to the client")


# ---------------------------------------------------------------------------- the cache
class CacheTest(HookTest):
    def answer(self, call: Call):
        cookie = "; ".join(call.all("Cookie"))
        m = re.search(r"sid=(\w+)", cookie)
        sid = m[1] if m else ""
        if sid.startswith("bad"):
            return 403, {"WWW-Authenticate": 'Bearer realm="t"'}, f"no {sid}\n"
        if sid.startswith("err"):
            return 500, {}, "hook broke\n"
        if sid.startswith("junk"):
            return 200, {}, "{junk"
        return json_answer({"user": sid or "anon"})

    def test_same_request_one_call_then_cache_hits(self) -> None:
        self.start(auth=", cache_ttl: 30s")
        self.assertEqual(self.up(headers=[("Cookie", "sid=alice")]).status, 101)
        self.assertEqual(self.up(headers=[("Cookie", "sid=alice")]).status, 101)
        self.assertEqual(self.hook.call_count(), 1, "the second handshake was a cache hit")
        self.assertEqual(self.admin.auth_results(), {"ok": 1.0, "cache_hit": 1.0})
        self.assertEqual(self.up(headers=[("Cookie", "sid=bob")]).status, 101)
        self.assertEqual(self.hook.call_count(), 2, "another cookie: another call")
        self.assertEqual(self.up("/app/other", [("Cookie", "sid=alice")]).status, 101)
        self.assertEqual(self.hook.call_count(), 3, "another path: another call")
        self.assertEqual(self.up(headers=[("Cookie", "sid=alice"),
                                          ("Authorization", "Bearer x")]).status, 101)
        self.assertEqual(self.hook.call_count(), 4, "another forwarded header: another call")
        self.assertEqual(self.up(headers=[("Cookie", "sid=alice"),
                                          ("X-Other", "y")]).status, 101)
        self.assertEqual(self.hook.call_count(), 4, "a header not forwarded is not in the key")
        self.assertEqual(self.admin.auth_results(), {"ok": 4.0, "cache_hit": 2.0})

    def test_cached_identity_is_the_hooks(self) -> None:
        asyncio.run(self.cached_identity_is_the_hooks())

    async def cached_identity_is_the_hooks(self) -> None:
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start(auth=", cache_ttl: 30s", backend_url=backend.url("/ws"), rooms=["user:{user}"])
        for _ in range(2):
            async with websockets.connect(self.gw.url(0, "/app/lobby"), open_timeout=TIMEOUT,
                                          extra_headers={"Cookie": "sid=carol"}) as ws:
                conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)
                _, info = self.admin.call("GET", f"/v1/connections/{conn_id}")
                self.assertEqual((info["user"], info["rooms"]), ("carol", ["user:carol"]))
        self.assertEqual(self.hook.call_count(), 1)
        self.assertEqual(self.admin.auth_results(), {"ok": 1.0, "cache_hit": 1.0})

    def test_key_covers_every_field_of_a_repeated_header(self) -> None:
        # Two Cookie fields: the hook sees both, so the cache key must hold both. Otherwise
        # bob, sending the same first field as alice, would be let in as alice.
        self.start(auth=", cache_ttl: 30s")
        a = self.up(headers=[("Cookie", "theme=dark"), ("Cookie", "sid=alice")])
        self.assertEqual(a.status, 101)
        a = self.up(headers=[("Cookie", "theme=dark"), ("Cookie", "sid=bad_bob")])
        self.assertEqual(a.status, 403, "bob's own answer, not alice's cached one")
        self.assertEqual(self.hook.call_count(), 2)

    def test_entries_expire_after_the_ttl(self) -> None:
        self.start(auth=", cache_ttl: 1s")
        hdr = [("Cookie", "sid=dave")]
        self.assertEqual(self.up(headers=hdr).status, 101)
        self.assertEqual(self.up(headers=hdr).status, 101)
        self.assertEqual(self.hook.call_count(), 1)
        time.sleep(1.2)
        self.assertEqual(self.up(headers=hdr).status, 101)
        self.assertEqual(self.hook.call_count(), 2, "after cache_ttl the hook is asked again")
        self.assertEqual(self.admin.auth_results(), {"ok": 2.0, "cache_hit": 1.0})

    def test_refusals_not_cached_by_default(self) -> None:
        self.start(auth=", cache_ttl: 30s")
        for _ in range(2):
            a = self.up(headers=[("Cookie", "sid=bad1")])
            self.assertEqual((a.status, a.body), (403, b"no bad1\n"))
        self.assertEqual(self.hook.call_count(), 2)
        self.assertEqual(self.admin.auth_results(), {"denied": 2.0})

    def test_refusals_cached_with_cache_negative(self) -> None:
        self.start(auth=", cache_ttl: 30s, cache_negative: true")
        for _ in range(2):
            a = self.up(headers=[("Cookie", "sid=bad2")])
            self.assertEqual((a.status, a.body), (403, b"no bad2\n"))
            self.assertEqual(a.header("WWW-Authenticate"), 'Bearer realm="t"')
        self.assertEqual(self.hook.call_count(), 1, "the refusal came from the cache")
        self.assertEqual(self.admin.auth_results(), {"denied": 1.0, "cache_hit": 1.0})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_denied"), 2.0)

    def test_errors_never_cached(self) -> None:
        self.start(auth=", cache_ttl: 30s, cache_negative: true")
        for _ in range(2):
            self.assert_unavailable(self.up(headers=[("Cookie", "sid=junk")]), "malformed")
        self.assertEqual(self.hook.call_count(), 2, "a malformed answer is not cached")
        for _ in range(2):
            a = self.up(headers=[("Cookie", "sid=err")])
            self.assertEqual((a.status, a.body), (500, b"hook broke\n"))
        self.assertEqual(self.hook.call_count(), 4, "a hook's 5xx is not cached")
        self.assertEqual(self.admin.auth_results(), {"error": 2.0, "denied": 2.0})

    def test_cache_is_bounded_by_cache_size(self) -> None:
        self.start(auth=", cache_ttl: 30s, cache_size: 2")
        for sid in ["a", "b", "a", "b", "c", "a"]:  # c pushes out the least recently used: a
            self.assertEqual(self.up(headers=[("Cookie", f"sid={sid}")]).status, 101)
        calls = [re.search(r"sid=(\w+)", c.header("Cookie"))[1] for c in self.hook.calls]
        self.assertEqual(calls, ["a", "b", "c", "a"])
        self.assertEqual(self.admin.auth_results(), {"ok": 4.0, "cache_hit": 2.0})

    def test_keep_alive_connection_reused(self) -> None:
        self.start()  # no cache: every handshake calls the hook
        for i in range(8):
            self.assertEqual(self.up(headers=[("Cookie", f"sid=u{i}")]).status, 101)
        self.assertEqual(self.hook.call_count(), 8)
        self.assertLessEqual(self.hook.connections, 2, "one pooled connection per worker at most")
        self.assertLess(self.hook.connections, self.hook.call_count())


if __name__ == "__main__":
    unittest.main()
