"""test_http_backend: wsgated's `http` backend (SPEC §4, docs/backends.md) against real servers.

The backends are real HTTP servers in child processes (http_backend_servers.py): the standard
library's ThreadingHTTPServer (HTTP/1.1 keep-alive) over TCP and over a Unix socket, and aiohttp
over TCP. They record every request and answer as each test tells them. The clients are real
WebSocket clients (Debian's python3-websockets); the gateway is the real binary, from inline
YAML, on port 0.

Per server kind (StdlibTcp, StdlibUnix, Aiohttp):
- order: 50 clients x 1,000 messages reach the backend in per-connection order, every reply
  comes back in order, and each connection's events are connect, its messages, one disconnect;
- the request: headers (WSGate-Event, -Connection-Id = the id in the log and the control API,
  -Route, -Params, no -User when anonymous, Content-Type), the connect and disconnect bodies, a
  binary payload 0x00..0xFF byte for byte;
- the answer: text or binary by Content-Type, 204 and an empty 200 = no reply, WSGate-Join acts
  before the reply (a publish right after the reply arrives), WSGate-Leave, WSGate-Close;
- restart: the backend stopped and a new one started on the same port/socket: new connections
  work again, without restarting wsgated.
Failures (stdlib): killed mid-stream (1011 reset, then 1013 unreachable), timeout, 5xx/4xx/3xx/
101, garbage, an answer cut off, nothing listening, a backend that accepts no connection, each
counted by outcome; interim 1xx answers read past (never taken for the next request's answer);
the disconnect exactly once, also on a drain (1001), which waits for it, and for a message
still at the backend.
The pool: keep-alive reuse under max_connections (the server's and the kernel's count), a slow
connection does not stall another, a busy worker does not starve the other of connections,
backpressure pauses a client and loses nothing, messages sent just before a client left still
reach the backend before its disconnect; the route's `events:` list.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_http_backend
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import websockets

import harness
from http_backend_servers import BackendProcess

TIMEOUT = 10.0  # seconds for any single step
TOKEN = secrets.token_urlsafe(18)
CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{28}$")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from env
_OPEN = re.compile(r"connection (\S+) open route=(\S+) remote=(\S+)")


def gateway_yaml(backends: str, routes: str, level: str = "info", server_extra: str = "") -> str:
    """Two workers (connections land on both, so pools on both workers draw on one budget)."""
    return ("server:\n  workers: 2\n"
            '  listen: [{address: "127.0.0.1:0"}]\n'
            f"  log: {{level: {level}, format: text}}\n{server_extra}"
            f'admin:\n  listen: "127.0.0.1:0"\n  token: "{TOKEN}"\n'
            f"backends:\n{backends}routes:\n{routes}")


def backend_url(b: BackendProcess, path: str = "/ws") -> str:
    if b.address.startswith("unix:"):
        return f"{b.address}:{path}"
    return f"http://127.0.0.1:{b.port}{path}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec(**kw) -> str:
    """A text message that tells the backend how to answer it (see http_backend_servers)."""
    return "!" + json.dumps(kw)


class GatewayCase(unittest.IsolatedAsyncioTestCase):
    """Starting backends and the gateway, the control API, metrics, clients."""

    async def asyncSetUp(self) -> None:
        # unittest runs the loop in debug mode, which costs the 50,000-message tests dearly
        # and reports the (short, deliberate) blocking gateway starts as slow callbacks.
        asyncio.get_running_loop().set_debug(False)

    def start_backend(self, kind: str = "stdlib", address: str = "127.0.0.1:0") -> BackendProcess:
        b = BackendProcess(kind, address)
        self.addCleanup(b.stop)
        return b

    def start_gateway(self, yaml: str) -> harness.Gateway:
        self.gw = harness.start_gateway(yaml, self.addCleanup)
        self.admin = harness.admin_base(self.gw)
        return self.gw

    def fail_with_logs(self, e: BaseException):
        raise AssertionError(f"{e!r}\n--- gateway log:\n{self.gw.stderr[-6000:]}") from e

    # ---------------------------------------------------------------- admin
    def _admin(self, method: str, path: str, body: bytes | None = None,
               ctype: str = "text/plain; charset=utf-8") -> tuple[int, bytes]:
        req = urllib.request.Request(self.admin + path, data=body, method=method, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": ctype})
        try:
            with _DIRECT.open(req, timeout=TIMEOUT) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    async def admin_call(self, method: str, path: str, body: bytes | None = None,
                         ctype: str = "text/plain; charset=utf-8") -> tuple[int, bytes]:
        return await asyncio.to_thread(self._admin, method, path, body, ctype)

    async def publish(self, room: str, text: str) -> None:
        status, body = await self.admin_call(
            "POST", f"/v1/rooms/{urllib.parse.quote(room, safe='')}/messages", text.encode())
        self.assertEqual(status // 100, 2, f"publish to {room}: {status} {body!r}")

    def _metrics(self) -> dict[tuple, float]:
        with _DIRECT.open(self.admin + "/metrics", timeout=TIMEOUT) as res:
            text = res.read().decode()
        out = {}
        for line in text.splitlines():
            m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$", line)
            if m:
                labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[2] or "")))
                out[(m[1], labels)] = float(m[3])
        return out

    async def metric(self, name: str, **labels) -> float:
        m = await asyncio.to_thread(self._metrics)
        return m.get((name, tuple(sorted(labels.items()))), 0.0)

    async def outcomes(self, backend: str = "app") -> dict[str, float]:
        """wsgate_backend_requests_total{backend} by outcome, zero cells left out."""
        m = await asyncio.to_thread(self._metrics)
        out = {}
        for (name, labels), v in m.items():
            d = dict(labels)
            if name == "wsgate_backend_requests_total" and d.get("backend") == backend and v:
                out[d["outcome"]] = v
        return out

    async def eventually(self, probe, pred, what: str, timeout: float = TIMEOUT):
        """Polls `await probe()` until pred(value); the last value on failure."""
        deadline = time.monotonic() + timeout
        while True:
            v = await probe()
            if pred(v):
                return v
            if time.monotonic() > deadline:
                self.fail(f"{what}: still {v!r} after {timeout}s")
            await asyncio.sleep(0.05)

    async def sequences(self, b: BackendProcess) -> dict[str, list[str]]:
        return await asyncio.to_thread(b.sequences)

    async def events(self, b: BackendProcess, conn: str | None = None) -> list[dict]:
        return await asyncio.to_thread(b.events, conn)

    # ---------------------------------------------------------------- clients
    def connect(self, path: str, **kw):
        return websockets.connect(self.gw.url(0, path), open_timeout=TIMEOUT,
                                  close_timeout=TIMEOUT, compression=None, max_size=None, **kw)

    async def open_client(self, path: str):
        """A client outside `async with`, closed when the test ends."""
        ws = await self.connect(path)
        self.addAsyncCleanup(ws.close)
        return ws

    async def recv(self, ws):
        return await asyncio.wait_for(ws.recv(), TIMEOUT)

    async def closed_with(self, ws) -> tuple[int, str]:
        """Waits for the server's close; (code, reason). Nothing else may arrive first."""
        try:
            extra = await asyncio.wait_for(ws.recv(), TIMEOUT)
        except websockets.exceptions.ConnectionClosed:
            return ws.close_code, ws.close_reason
        self.fail(f"got {extra!r} where a close was expected")

    async def whoami(self, ws) -> str:
        """The connection id, as the backend saw it (its WSGate-Connection-Id)."""
        await ws.send(spec(whoami=True))
        cid = await self.recv(ws)
        self.assertRegex(cid, CONNECTION_ID)
        return cid


# ====================================================================================== per kind
class BackendKind:
    """The tests every server kind must pass; a subclass says which server it is."""

    kind = "stdlib"

    def address(self) -> str:
        return "127.0.0.1:0"

    def setUp(self) -> None:
        self.listen_at = self.address()
        self.backend = self.start_backend(self.kind, self.listen_at)

    def routes_yaml(self, extra: str = "") -> str:
        return ('  - path: "/chat/{room}"\n    backend: app\n'
                '  - path: "/bin"\n    backend: app\n' + extra)

    def start(self, level: str = "info", max_connections: int = 64, timeout: str = "5s"):
        return self.start_gateway(gateway_yaml(
            f'  app: {{type: http, url: "{backend_url(self.backend)}", timeout: {timeout}, '
            f"max_connections: {max_connections}}}\n", self.routes_yaml(), level))

    # ------------------------------------------------------------------------ order (2)
    async def test_50_clients_1000_messages_arrive_and_return_in_order(self) -> None:
        self.start(max_connections=64)
        clients, n = 50, 1000

        async def one(k: int) -> str:
            async with self.connect(f"/chat/r{k % 5}") as ws:
                sent = [f"c{k}:{i}" for i in range(n)]
                got: list[str] = []

                async def sender() -> None:
                    for m in sent:
                        await ws.send(m)

                async def receiver() -> None:
                    while len(got) < n:
                        got.append(await ws.recv())

                await asyncio.gather(sender(), receiver())
                self.assertEqual(got, sent, f"client {k}: replies in order")
                return f"c{k}"

        t0 = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.gather(*(one(k) for k in range(clients))), 90)
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            self.fail_with_logs(e)
        took = time.monotonic() - t0
        seqs = await self.eventually(
            lambda: self.sequences(self.backend),
            lambda s: sum(1 for v in s.values() if v and v[-1] == "disconnect") == clients,
            "a disconnect for every connection")
        self.assertEqual(len(seqs), clients, "one connection id per client")
        seen = set()
        for cid, seq in seqs.items():
            self.assertRegex(cid, CONNECTION_ID)
            self.assertEqual(seq[0], "connect", cid)
            self.assertEqual(seq[-1], "disconnect", cid)
            msgs = [s[2:] for s in seq[1:-1]]
            self.assertTrue(all(s.startswith("m:") for s in seq[1:-1]), f"{cid}: only messages")
            who = msgs[0].split(":")[0]
            self.assertEqual(msgs, [f"{who}:{i}" for i in range(n)],
                             f"{cid}: the backend got {who}'s messages in order, each once")
            seen.add(who)
        self.assertEqual(len(seen), clients, "every client's messages, on its own connection")
        total = clients * (n + 2)
        got = await self.eventually(self.outcomes, lambda o: o.get("ok", 0) >= total,
                                    "every request counted ok")
        self.assertEqual(got, {"ok": float(total)})
        print(f"\n  {type(self).__name__}: {clients}x{n} messages in {took:.1f}s", end=" ")

    # ------------------------------------------------------------------------ request (3)
    async def test_request_headers_and_bodies(self) -> None:
        self.start(level="debug")
        before = len(self.gw.lines)
        try:
            async with self.connect("/chat/caf%C3%A9",
                                    extra_headers={"Cookie": "sid=1"}) as ws:
                cid = await self.whoami(ws)
                await ws.send("héllo ✓")
                self.assertEqual(await self.recv(ws), "héllo ✓")
                everything = bytes(range(256))
                await ws.send(everything)
                echoed = await self.recv(ws)
                self.assertEqual(echoed, everything, "binary echoed byte for byte, as binary")
                status, info = await self.admin_call("GET", f"/v1/connections/{cid}")
                self.assertEqual(status, 200, f"GET /v1/connections/{cid}: {info!r}")
                await ws.close(4321, "bye now ✓")
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            self.fail_with_logs(e)
        opened = [m for m in (_OPEN.search(line) for line in self.gw.lines[before:]) if m]
        self.assertEqual([m[1] for m in opened], [cid], "the id in the log is the header's")
        self.assertEqual(json.loads(info)["route"], "/chat/{room}")
        evs = await self.eventually(lambda: self.events(self.backend, cid),
                                    lambda e: len(e) == 5, f"5 events of {cid}")
        self.assertEqual([e["event"] for e in evs],
                         ["connect", "message", "message", "message", "disconnect"])
        for e in evs:
            h = {}
            for k, v in e["headers"]:
                self.assertNotIn(k.lower(), h, f"{k} sent twice")
                h[k.lower()] = v
            e["h"] = h
            self.assertEqual(h["wsgate-event"], e["event"])
            self.assertEqual(h["wsgate-connection-id"], cid)
            self.assertEqual(h["wsgate-route"], "/chat/{room}", "the pattern, not the path")
            self.assertEqual(json.loads(h["wsgate-params"]), {"room": "café"}, "decoded")
            self.assertNotIn("wsgate-user", h, "anonymous: no WSGate-User")
            self.assertEqual(int(h["content-length"]), len(e["body"]))
            self.assertNotIn("transfer-encoding", h)
        connect, whoami, text, binary, disconnect = evs
        self.assertEqual(connect["h"]["content-type"], "application/json")
        body = json.loads(connect["body"])
        self.assertEqual(body, {"remote_address": "127.0.0.1", "headers": {}, "user": None,
                                "claims": {}}, "connect body (no auth: no forwarded headers)")
        self.assertEqual(text["h"]["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(text["body"], "héllo ✓".encode())
        self.assertEqual(binary["h"]["content-type"], "application/octet-stream")
        self.assertEqual(binary["body"], bytes(range(256)), "byte for byte")
        self.assertEqual(disconnect["h"]["content-type"], "application/json")
        self.assertEqual(json.loads(disconnect["body"]), {"code": 4321, "reason": "bye now ✓"})

    # ------------------------------------------------------------------------ answer (4)
    async def test_answers_reply_join_leave_close(self) -> None:
        self.start()
        try:
            async with self.connect("/chat/lobby") as ws:
                await ws.send(spec(body="plain ✓", type="text/plain"))
                self.assertEqual(await self.recv(ws), "plain ✓", "text/plain: a text frame")
                await ws.send(spec(body="<p>", type="text/html; charset=utf-8"))
                self.assertEqual(await self.recv(ws), "<p>", "any text/*: a text frame")
                await ws.send(spec(body='{"a":1}', type="application/json"))
                self.assertEqual(await self.recv(ws), b'{"a":1}', "application/json: binary")
                raw = bytes(range(255, -1, -1))
                await ws.send(spec(body_b64=base64.b64encode(raw).decode()))
                self.assertEqual(await self.recv(ws), raw, "octet-stream: binary, exact")
                await ws.send(spec(status=204))
                await ws.send(spec(status=200, body="", type="text/plain"))
                await ws.send(spec(status=201, body="after the empty ones"))
                self.assertEqual(await self.recv(ws), "after the empty ones",
                                 "204 and an empty 200 are no reply; any 2xx body is")
                # Joined before the reply: a publish right after the reply reaches the client.
                await ws.send(spec(body="joined", headers={"WSGate-Join": " red , blue,green"}))
                self.assertEqual(await self.recv(ws), "joined")
                for room in ("red", "blue", "green"):
                    await self.publish(room, f"to {room}")
                    self.assertEqual(await self.recv(ws), f"to {room}", f"member of {room}")
                await ws.send(spec(body="left", headers={"WSGate-Leave": "red, blue"}))
                self.assertEqual(await self.recv(ws), "left")
                await self.publish("red", "to red again")
                await self.publish("blue", "to blue again")
                await self.publish("green", "to green again")
                self.assertEqual(await self.recv(ws), "to green again",
                                 "left red and blue, still in green")
                # Join, reply, then close: the reply comes before the close frame.
                await ws.send(spec(body="last words",
                                   headers={"WSGate-Close": "4000 go away ✓"}))
                self.assertEqual(await self.recv(ws), "last words")
                self.assertEqual(await self.closed_with(ws), (4000, "go away ✓"))
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            self.fail_with_logs(e)
        seqs = await self.eventually(lambda: self.sequences(self.backend),
                                     lambda s: any(v[-1] == "disconnect" for v in s.values()),
                                     "the disconnect")
        (seq,) = seqs.values()
        self.assertEqual(seq.count("disconnect"), 1)
        evs = await self.events(self.backend)
        self.assertEqual(json.loads(evs[-1]["body"]), {"code": 4000, "reason": "go away ✓"})

    async def test_join_on_connect_then_publish(self) -> None:
        self.backend.rules(connect={"status": 200, "body": "welcome",
                                    "headers": {"WSGate-Join": "lobby"}})
        self.start()
        async with self.connect("/chat/x") as a, self.connect("/chat/y") as b:
            self.assertEqual(await self.recv(a), "welcome")
            self.assertEqual(await self.recv(b), "welcome")
            await self.publish("lobby", "hi all")
            self.assertEqual(await self.recv(a), "hi all")
            self.assertEqual(await self.recv(b), "hi all")

    # ------------------------------------------------------------------------ restart (7)
    async def test_backend_restarted_on_same_address(self) -> None:
        self.start()
        async with self.connect("/chat/a") as ws:
            await ws.send("before")
            self.assertEqual(await self.recv(ws), "before")
        await asyncio.sleep(0.2)  # its disconnect is answered, the pooled connection idle
        old_port = self.backend.port
        self.backend.kill()
        address = self.listen_at.replace(":0", f":{old_port}")  # a Unix socket: the same path
        async with self.connect("/chat/a") as ws:  # nothing listens: 1013 unavailable
            self.assertEqual(await self.closed_with(ws), (1013, "backend unavailable"))
        self.backend = self.start_backend(self.kind, address)
        self.assertEqual(self.backend.port, old_port)
        try:
            for i in range(3):
                async with self.connect("/chat/a") as ws:
                    for j in range(5):
                        await ws.send(f"after {i}.{j}")
                        self.assertEqual(await self.recv(ws), f"after {i}.{j}")
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            self.fail_with_logs(e)
        self.assertTrue(self.gw.proc.poll() is None, "the same wsgated process")
        seqs = await self.eventually(lambda: self.sequences(self.backend),
                                     lambda s: len(s) == 3 and all(
                                         v[-1] == "disconnect" for v in s.values()),
                                     "3 complete connections on the new backend")
        for seq in seqs.values():
            self.assertEqual(seq[0], "connect")
            self.assertEqual(len(seq), 7)


class StdlibTcp(BackendKind, GatewayCase):
    kind = "stdlib"


class StdlibUnix(BackendKind, GatewayCase):
    kind = "stdlib"

    def address(self) -> str:
        self.tmp = harness.temp_dir(self.addCleanup)
        return f"unix:{os.path.join(self.tmp, 'app.sock')}"


class Aiohttp(BackendKind, GatewayCase):
    kind = "aiohttp"


# ====================================================================================== failures
class Failures(GatewayCase):
    """What the client sees and what is counted when the backend fails (docs/backends.md)."""

    def start(self, backend: BackendProcess | None, timeout: str = "5s", url: str = "",
              routes: str = "", server_extra: str = "", max_connections: int = 64):
        url = url or backend_url(backend)
        routes = routes or '  - path: "/chat/{room}"\n    backend: app\n'
        return self.start_gateway(gateway_yaml(
            f'  app: {{type: http, url: "{url}", timeout: {timeout}, '
            f"max_connections: {max_connections}}}\n", routes, server_extra=server_extra))

    async def expect_close(self, message: str, code: int, reason: str) -> None:
        async with self.connect("/chat/a") as ws:
            await ws.send(message)
            self.assertEqual(await self.closed_with(ws), (code, reason), message)

    async def test_answer_status_decides_the_close_code(self) -> None:
        b = self.start_backend()
        self.start(b)
        table = [(500, 1011, "backend error"), (502, 1011, "backend error"),
                 (503, 1013, "backend unavailable"), (429, 1013, "backend unavailable"),
                 (404, 1011, "backend error"), (302, 1011, "backend error"),
                 (101, 1011, "backend error")]
        for status, code, reason in table:
            await self.expect_close(spec(status=status, body="nope"), code, reason)
        want = {"ok": 2.0 * len(table), "http_5xx": 3.0, "http_4xx": 2.0, "malformed": 2.0}
        got = await self.eventually(self.outcomes, lambda o: o == want, "outcomes")
        self.assertEqual(got, want, "connect+disconnect ok for each; the message by status")
        seqs = await self.sequences(b)
        self.assertEqual(len(seqs), len(table))
        for seq in seqs.values():
            self.assertEqual([s.split(":")[0] for s in seq], ["connect", "m", "disconnect"],
                             "the failed connection's disconnect is still sent, once")

    async def test_interim_1xx_answers_are_skipped(self) -> None:
        """RFC 9110 §15.2: a client must read past 1xx answers it did not ask for. Taken for
        the answer, the final one stays in the buffer and answers the next request on that
        pooled connection: another client's."""
        b = self.start_backend()
        self.start(b, max_connections=1)  # one pooled connection: every request reuses it
        # The listener deals connections to the two workers in turn: a and c share one.
        async with self.connect("/chat/a") as a, self.connect("/chat/b"), \
                self.connect("/chat/c") as c:
            await self.eventually(lambda: asyncio.to_thread(b.stats),
                                  lambda s: s["requests"] == 3, "the connects")
            await a.send(spec(interim=[100, 103], body="for a", delay=0.3))
            await asyncio.sleep(0.1)  # c's message waits for the one connection
            await c.send("for c")
            try:
                self.assertEqual(await self.recv(a), "for a")
                self.assertEqual(await self.recv(c), "for c", "c's own answer")
                for i in range(3):
                    await c.send(f"next {i}")
                    self.assertEqual(await self.recv(c), f"next {i}")
            except websockets.exceptions.ConnectionClosed as e:
                self.fail_with_logs(e)
        want = {"ok": 11.0}  # 3 connects, 5 messages, 3 disconnects
        self.assertEqual(await self.eventually(self.outcomes, lambda o: o == want, "outcomes"),
                         want)

    async def test_slow_backend_times_out_1011(self) -> None:
        b = self.start_backend()
        self.start(b, timeout="300ms")
        t0 = time.monotonic()
        await self.expect_close(spec(delay=3, body="too late"), 1011, "backend timeout")
        took = time.monotonic() - t0
        self.assertLess(took, 2.5, "closed at the timeout, not when the answer came")
        # The disconnect goes on another connection (the late answer's was closed): at once.
        want = {"ok": 2.0, "timeout": 1.0}
        self.assertEqual(await self.eventually(self.outcomes, lambda o: o == want, "outcomes"),
                         want)
        evs = await self.events(b)
        self.assertEqual([e["event"] for e in evs], ["connect", "message", "disconnect"])
        self.assertEqual(json.loads(evs[-1]["body"]), {"code": 1011, "reason": "backend timeout"})

    async def test_garbage_answer_is_malformed_1011(self) -> None:
        b = self.start_backend()
        self.start(b)
        await self.expect_close(spec(garbage=True), 1011, "backend error")
        want = {"ok": 2.0, "malformed": 1.0}  # connect, disconnect; the message
        self.assertEqual(await self.eventually(self.outcomes, lambda o: o == want, "outcomes"),
                         want)

    async def test_connection_cut_after_request_is_reset_1011(self) -> None:
        b = self.start_backend()
        self.start(b)
        await self.expect_close(spec(drop=True), 1011, "backend error")
        want = {"ok": 2.0, "reset": 1.0}  # connect, disconnect; the message, not retried
        self.assertEqual(await self.eventually(self.outcomes, lambda o: o == want, "outcomes"),
                         want)
        (seq,) = (await self.sequences(b)).values()
        self.assertEqual(seq.count(f"m:{spec(drop=True)}"), 1, "sent once, never again")

    async def test_nothing_listening_is_unreachable_1013(self) -> None:
        self.start(None, url=f"http://127.0.0.1:{free_port()}/ws")
        for _ in range(3):
            async with self.connect("/chat/a") as ws:  # the connect event fails
                self.assertEqual(await self.closed_with(ws), (1013, "backend unavailable"))
        got = await self.eventually(self.outcomes, lambda o: o.get("unreachable") == 3.0,
                                    "unreachable counted")
        self.assertEqual(got, {"unreachable": 3.0}, "no disconnect without a connect")

    async def test_backend_that_accepts_nothing_is_overloaded_1013(self) -> None:
        """A listen backlog of 0 that nobody accepts from: the kernel completes one handshake
        and queues it, and drops the SYNs after it. The request on the queued connection gets
        no answer (timeout); a connection that never completes leaves its request waiting for
        a connection until the timeout (overloaded)."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as stuck:
            stuck.bind(("127.0.0.1", 0))
            stuck.listen(0)
            self.start(None, timeout="500ms", url=f"http://127.0.0.1:{stuck.getsockname()[1]}/")
            async with self.connect("/chat/a") as a:  # its connect event: on the queued one
                await asyncio.sleep(0.1)
                async with self.connect("/chat/b") as b:  # its connect event: SYN dropped
                    self.assertEqual(await self.closed_with(a), (1011, "backend timeout"))
                    self.assertEqual(await self.closed_with(b), (1013, "backend unavailable"))
            # a's connect may have reached the backend: its disconnect is sent (and waits too).
            want = {"timeout": 1.0, "overloaded": 2.0}
            self.assertEqual(await self.eventually(self.outcomes, lambda o: o == want,
                                                   "outcomes"), want)

    async def test_backend_killed_mid_stream(self) -> None:
        b = self.start_backend()
        b.rules(message={"hold": True})
        b.call("hold")
        self.start(b)
        n = 6
        clients = [await self.open_client(f"/chat/k{i}") for i in range(n)]
        for i, ws in enumerate(clients):
            await ws.send(f"held {i}")
        await self.eventually(lambda: asyncio.to_thread(b.stats),
                              lambda s: s["held"] == n, "every message at the backend")
        b.kill()
        for ws in clients:  # the request was written: the cut connection is a reset
            self.assertEqual(await self.closed_with(ws), (1011, "backend error"))
        # The connects were ok; the disconnects find nothing listening: counted, no client to
        # close (and no retry beyond the one on a fresh connection).
        want = {"ok": n, "reset": n, "unreachable": n}
        self.assertEqual(await self.eventually(self.outcomes, lambda o: o == want, "outcomes"),
                         want)
        # A new client: its connect finds nothing listening: 1013.
        async with self.connect("/chat/late") as ws:
            self.assertEqual(await self.closed_with(ws), (1013, "backend unavailable"))

    async def test_disconnect_once_per_connection_and_drain_waits_for_it(self) -> None:
        b = self.start_backend()
        b.rules(disconnect={"status": 204, "delay": 0.7})
        self.start(b)
        n = 8
        clients = [await self.open_client(f"/chat/d{i}") for i in range(n)]
        for i, ws in enumerate(clients):
            await ws.send(f"m{i}")
            self.assertEqual(await self.recv(ws), f"m{i}")
        # One more client that already left: its disconnect says how it ended.
        async with self.connect("/chat/gone") as ws:
            gone = await self.whoami(ws)
        # And one whose message is at the backend when the drain begins: its disconnect waits
        # behind that message, and the drain waits for both.
        b.call("hold")
        held = await self.open_client("/chat/held")
        await held.send(spec(hold=True, body="late"))
        await self.eventually(lambda: asyncio.to_thread(b.stats), lambda s: s["held"] == 1,
                              "the message held at the backend")
        self.gw.proc.send_signal(signal.SIGTERM)
        for ws in [*clients, held]:
            self.assertEqual(await self.closed_with(ws), (1001, "going away"))
        await asyncio.sleep(0.5)
        self.assertIsNone(self.gw.proc.poll(), "the drain waits for the held message")
        b.call("release")
        code = await asyncio.to_thread(self.gw.wait, 15)
        exited = time.time()
        self.assertEqual(code, 0, self.gw.stderr)
        evs = await self.events(b)
        disconnects = [e for e in evs if e["event"] == "disconnect"]
        by_conn: dict[str, list] = {}
        for e in disconnects:
            by_conn.setdefault(e["conn"], []).append(e)
        self.assertEqual(len(by_conn), n + 2, "a disconnect for every connection")
        for cid, ds in by_conn.items():
            self.assertEqual(len(ds), 1, f"{cid}: exactly once")
        self.assertEqual(json.loads(by_conn[gone][0]["body"]), {"code": 1000, "reason": ""})
        drained = [ds[0] for cid, ds in by_conn.items() if cid != gone]
        for e in drained:
            self.assertEqual(json.loads(e["body"]), {"code": 1001, "reason": "going away"})
        latest = max(e["t"] for e in drained)
        self.assertGreaterEqual(exited, latest + 0.6,
                                "wsgated exited only after the disconnects were answered")


# ====================================================================================== the pool
class Pool(GatewayCase):
    """Keep-alive reuse, the connection bound, concurrency between connections, backpressure."""

    def start(self, b: BackendProcess, max_connections: int = 64, timeout: str = "5s"):
        routes = '  - path: "/chat/{room}"\n    backend: app\n'
        routes += '  - path: "/other"\n    backend: other\n'
        return self.start_gateway(gateway_yaml(
            f'  app: {{type: http, url: "{backend_url(b)}", timeout: {timeout}, '
            f"max_connections: {max_connections}}}\n"
            f'  other: {{type: http, url: "{backend_url(b, "/other")}"}}\n', routes))

    async def test_keep_alive_reused_within_max_connections(self) -> None:
        b = self.start_backend()
        self.start(b, max_connections=4, timeout="10s")
        stop = threading.Event()
        most = [0]

        # The kernel's view: ESTABLISHED sockets of the gateway towards the backend's port,
        # counted on the gateway's side (dport), the side that decides: its close() leaves
        # ESTABLISHED inside the syscall, before the budget hands the slot to another worker.
        # The backend's side (sport) lags under load — a closed connection's FIN and its
        # successor's handshake may be processed on two CPUs' backlogs in either order — and
        # counted 5 in loaded runs.
        def sample() -> None:
            while not stop.is_set():
                out = subprocess.run(
                    ["ss", "-Htn", "state", "established", f"( dport = :{b.port} )"],
                    capture_output=True, text=True).stdout
                most[0] = max(most[0], len([x for x in out.splitlines() if x.strip()]))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        clients, n = 50, 100

        async def one(k: int) -> None:
            async with self.connect(f"/chat/p{k}") as ws:
                for i in range(n):
                    await ws.send(f"{k}.{i}")
                for i in range(n):
                    self.assertEqual(await self.recv(ws), f"{k}.{i}")

        try:
            await asyncio.wait_for(asyncio.gather(*(one(k) for k in range(clients))), 60)
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            self.fail_with_logs(e)
        finally:
            stop.set()
            sampler.join(5)
        requests = clients * (n + 2)
        st = await self.eventually(lambda: asyncio.to_thread(b.stats),
                                   lambda s: s["requests"] == requests, "every request")
        self.assertLessEqual(st["max_in_flight"], 4, f"requests at once: {st}")
        self.assertLessEqual(most[0], 4, "ESTABLISHED connections to the backend at once")
        self.assertGreaterEqual(st["max_in_flight"], 2, "the clients did run concurrently")
        self.assertLess(st["accepted"], requests / 20,
                        f"keep-alive: {st['accepted']} connections for {requests} requests")
        self.assertEqual(await self.outcomes(), {"ok": float(requests)})

    async def test_slow_connection_does_not_stall_others(self) -> None:
        b = self.start_backend()
        self.start(b, max_connections=4)
        async with self.connect("/chat/slow") as slow, self.connect("/chat/fast") as fast, \
                self.connect("/other") as other:
            await slow.send(spec(delay=3, body="finally"))
            await asyncio.sleep(0.1)  # the slow request is at the backend
            t0 = time.monotonic()
            for i in range(20):
                await fast.send(f"f{i}")
                self.assertEqual(await self.recv(fast), f"f{i}")
                await other.send(f"o{i}")
                self.assertEqual(await self.recv(other), f"o{i}")
            took = time.monotonic() - t0
            self.assertLess(took, 2.0, "the same backend and another one answer meanwhile")
            self.assertEqual(await self.recv(slow), "finally")

    async def test_busy_worker_does_not_starve_another(self) -> None:
        """max_connections is one budget for both workers: a worker whose clients keep its
        connections busy must still let the other worker have its share."""
        b = self.start_backend()
        self.start(b, max_connections=2, timeout="1500ms")
        # The listener deals connections to the workers in turn: even ones on one worker.
        clients = [await self.open_client(f"/chat/w{i}") for i in range(20)]
        await self.eventually(lambda: asyncio.to_thread(b.stats),
                              lambda s: s["requests"] == 20, "every connect answered")
        busy, victim, n = clients[0::2], clients[1], 400

        async def hammer(k: int, ws) -> None:
            for i in range(n):
                await ws.send(f"{k}.{i}")
            for i in range(n):
                self.assertEqual(await self.recv(ws), f"{k}.{i}")

        load = asyncio.gather(*(hammer(k, ws) for k, ws in enumerate(busy)))
        try:
            await self.eventually(lambda: asyncio.to_thread(b.stats),
                                  lambda s: s["requests"] > 300, "the busy worker at work")
            t0 = time.monotonic()
            await victim.send("me too")
            try:
                self.assertEqual(await self.recv(victim), "me too")
            except websockets.exceptions.ConnectionClosed:
                self.fail(f"the other worker's client was closed {victim.close_code} "
                          f"{victim.close_reason!r} while the backend answered the busy ones")
            took = time.monotonic() - t0
            done = (await asyncio.to_thread(b.stats))["requests"]
            self.assertLess(done, 20 + len(busy) * n, "answered while the busy worker was busy")
            self.assertLess(took, 1.0)
            await asyncio.wait_for(load, 60)
        finally:
            load.cancel()  # after a failure: no stray task
        self.assertEqual(await self.metric("wsgate_backend_requests_total", backend="app",
                                           outcome="overloaded"), 0)

    async def test_messages_sent_before_the_client_left_still_reach_the_backend(self) -> None:
        b = self.start_backend()
        b.rules(message={"hold": True})
        b.call("hold")
        self.start(b)
        async with self.connect("/chat/gone") as ws:
            for i in range(10):
                await ws.send(f"m{i}")
            await self.eventually(lambda: asyncio.to_thread(b.stats),
                                  lambda s: s["held"] == 1, "the first message at the backend")
        await asyncio.sleep(0.2)  # the client is gone, 9 messages and the disconnect queued
        b.call("release")
        seqs = await self.eventually(lambda: self.sequences(b),
                                     lambda s: any(v[-1] == "disconnect" for v in s.values()),
                                     "the disconnect")
        (seq,) = seqs.values()
        self.assertEqual(seq, ["connect", *[f"m:m{i}" for i in range(10)], "disconnect"],
                         "every message, in order, then the disconnect")

    async def test_full_backlog_pauses_the_client_and_loses_nothing(self) -> None:
        b = self.start_backend()
        b.rules(message={"hold": True})
        b.call("hold")
        self.start(b)
        n = 200
        async with self.connect("/chat/bp") as ws:
            sent = [f"bp{i}:" + "x" * 100 for i in range(n)]
            for m in sent:
                await ws.send(m)
            await self.eventually(lambda: asyncio.to_thread(b.stats),
                                  lambda s: s["held"] == 1, "the first message is at the backend")
            pauses = await self.eventually(
                lambda: self.metric("wsgate_backend_backlog_pauses_total", backend="app"),
                lambda v: v >= 1, "a backlog pause")
            await asyncio.sleep(0.3)
            self.assertEqual((await asyncio.to_thread(b.stats))["requests"], 2,
                             "connect and one message: the rest wait at the gateway")
            self.assertEqual(
                await self.metric("wsgate_messages_received_total", route="/chat/{room}"),
                16, "16 read (the backlog), the rest left in the socket")
            b.call("release")
            got = [await self.recv(ws) for _ in range(n)]
            self.assertEqual(got, sent, "every reply, in order")
        seqs = await self.eventually(lambda: self.sequences(b),
                                     lambda s: any(v[-1] == "disconnect" for v in s.values()),
                                     "the disconnect")
        (seq,) = seqs.values()
        self.assertEqual(seq, ["connect", *[f"m:{m}" for m in sent], "disconnect"])
        self.assertGreaterEqual(pauses, 1)
        self.assertEqual(await self.metric("wsgate_messages_dropped_total",
                                           reason="backend_error"), 0)


# ====================================================================================== events:
class Events(GatewayCase):
    """The route's `events:` list chooses what is POSTed."""

    async def test_events_subset(self) -> None:
        b = self.start_backend()
        url = backend_url(b)
        routes = "".join(f'  - path: "/{name}"\n    backend: app\n    events: {ev}\n'
                         for name, ev in (("msg", "[message]"), ("life", "[connect, disconnect]"),
                                          ("nocon", "[message, disconnect]"), ("none", "[]")))
        self.start_gateway(gateway_yaml(f'  app: {{type: http, url: "{url}"}}\n', routes))
        ids = {}
        for name in ("msg", "life", "nocon", "none"):
            async with self.connect(f"/{name}") as ws:
                await ws.send(spec(whoami=True))
                await ws.send("ping")
                if name in ("msg", "nocon"):
                    ids[name] = await self.recv(ws)
                    self.assertEqual(await self.recv(ws), "ping")
                else:
                    with self.assertRaises(asyncio.TimeoutError, msg=f"{name}: no reply"):
                        await asyncio.wait_for(ws.recv(), 0.5)
        seqs = await self.eventually(lambda: self.sequences(b),
                                     lambda s: len(s) == 3 and "disconnect" in s.get(
                                         ids["nocon"], []), "the events")
        self.assertEqual(seqs[ids["msg"]], ["m:" + spec(whoami=True), "m:ping"])
        self.assertEqual(seqs[ids["nocon"]], ["m:" + spec(whoami=True), "m:ping", "disconnect"],
                         "without connect in events: a disconnect for every connection")
        (life,) = [v for k, v in seqs.items() if k not in ids.values()]
        self.assertEqual(life, ["connect", "disconnect"])


if __name__ == "__main__":
    unittest.main()
