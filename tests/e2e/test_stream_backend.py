"""test_stream_backend: wsgated's `stream` backend (SPEC §4, docs/backends.md#stream-backends)
against a real stream backend (stream_backends.StreamBackend: a Unix socket, or TCP on
127.0.0.1, in threads of this process) and real WebSocket clients (Debian's python3-websockets).
Every gateway has two workers, so two streams.

- order: 100 clients x 1,000 pipelined messages echoed by `send`: every one back, in order per
  client; the backend got each client's messages in order, between its connect and disconnect;
- bytes: binary payloads with \\n, NUL, invalid UTF-8 (and exactly max_message_size) and text
  with \\n survive both ways, byte for byte, with their type;
- events: hello is the first frame of each stream (workers 0 and 1, one node tag), connect has
  exactly the contract's keys (route pattern, decoded params, rooms, remote), the disconnect the
  client's close code and reason, and per connection: connect < messages < disconnect;
- restart: the backend killed mid-stream, restarted on the same path: the clients stay, each
  new stream starts with hello then a replay:true connect for every open connection of its
  worker (rooms joined by actions included), then the messages sent meanwhile; killed for
  good: after `timeout` the clients are closed 1013 and a new upgrade is answered 503;
- backpressure: a backend that stops reading while clients push 208 MiB: the clients are
  paused (their sends block, wsgate_backend_backlog_pauses_total), wsgated's RSS grows < 64 MiB,
  and once the backend reads again every byte arrives, in order; the same with the heartbeat
  off (a paused client is not read, never cut); a backend that writes 200,000 actions but does
  not read their acks is not read either (its writes block, memory bounded), and gets every
  ack, in order, once it reads;
- bad frames: each kind (not JSON, not UTF-8, not an object, a header over 64 KiB, a negative /
  string / fractional size, a size over max_message_size) is counted by reason and that
  worker's stream is dropped and reconnected (hello + replay); the clients stay open;
- acks: not_found (an unknown id of this node, a foreign one), unknown_action, bad_code,
  bad_user, ids kept with their JSON type, no ack without an id; wait:written acks only once the
  client took the bytes, and `gone` when it left first;
- actions across the two workers: publish (exclude), join, leave, broadcast, close (4000 and the
  default 1000), send_user to an authenticated user's connections (an http auth hook), with
  the counts in the acks;
- a TCP `address` backend works like a Unix socket one.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_stream_backend
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import time
import unittest
from dataclasses import dataclass

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

import harness
from stream_backends import Frame, Stream, StreamBackend, encode
from test_auth_hook import Admin, Call, HttpServer, json_answer

TIMEOUT = 10.0  # seconds for any single step
TOKEN = secrets.token_urlsafe(18)
CONN_ID = re.compile(r"^[A-Za-z0-9_-]{28}$")
NODE_TAG = re.compile(r"^[A-Za-z0-9_-]{6}$")

HELLO_KEYS = {"event", "node", "worker", "version", "size"}
CONNECT_KEYS = {"event", "conn", "route", "params", "user", "rooms", "remote", "headers",
                "claims", "replay", "size"}
MESSAGE_KEYS = {"event", "conn", "binary", "size"}
DISCONNECT_KEYS = {"event", "conn", "code", "reason", "size"}

IDENTITIES = {
    "alice": {"user": "alice", "claims": {"tenant": "acme"}},
    "bob": {"user": "bob", "claims": {"tenant": "globex"}},
}


def hook_answer(call: Call):
    """An auth hook: `Authorization: Bearer NAME` is user NAME (alice or bob), else 401."""
    auth = call.header("Authorization") or ""
    name = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
    if name not in IDENTITIES:
        return 401, {}, "who are you?\n"
    return json_answer(IDENTITIES[name])


def gateway_yaml(be: StreamBackend, *, timeout: str = "3s", max_buffer: str = "4MiB",
                 limits: str = "", server_extra: str = "", hook_url: str | None = None) -> str:
    """Two workers; route /chat/{room} -> the stream backend `chat` (rooms room:{room}); with
    `hook_url`, also /app/{room} behind that http auth hook (rooms room:{room}, user:{user})."""
    routes = ('  - path: "/chat/{room}"\n    backend: chat\n'
              '    rooms: ["room:{room}"]\n')
    if hook_url:
        routes += ('  - path: "/app/{room}"\n    backend: chat\n'
                   f'    auth: {{type: http, url: "{hook_url}", forward_headers: [authorization]}}\n'
                   '    rooms: ["room:{room}", "user:{user}"]\n')
    return ("server:\n  workers: 2\n"
            '  listen: [{address: "127.0.0.1:0"}]\n'
            "  log: {level: info, format: text}\n"
            + (f"  limits: {{{limits}}}\n" if limits else "") + server_extra +
            f'admin:\n  listen: "127.0.0.1:0"\n  token: "{TOKEN}"\n'
            "backends:\n"
            f"  chat: {{type: stream, {be.address}, timeout: {timeout}, max_buffer: {max_buffer}}}\n"
            "routes:\n" + routes)


def vm_rss(pid: int) -> int:
    """The process's resident set, in bytes (VmRSS of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


@dataclass
class Client:
    ws: websockets.WebSocketClientProtocol
    id: str  # the connection id, from the backend's connect event
    connect: Frame

    @property
    def stream(self) -> Stream:
        return self.connect.stream

    @property
    def worker(self) -> int:
        return self.connect.stream.worker


class StreamCase(unittest.IsolatedAsyncioTestCase):
    """A stream backend and a gateway in front of it; clients, metrics, waiting."""

    async def asyncSetUp(self) -> None:
        # Debug mode costs the 100,000-message test dearly and reports the short, deliberate
        # blocking steps (the gateway start) as slow callbacks.
        asyncio.get_running_loop().set_debug(False)

    def start(self, *, tcp: bool = False, hook_url: str | None = None, **yaml_kw) -> StreamBackend:
        """The backend (kwargs of StreamBackend under `backend=`), then wsgated; returns once
        both workers' streams said hello."""
        be_kw = yaml_kw.pop("backend", {})
        self.tmp = harness.temp_dir(self.addCleanup)
        self.sock = None if tcp else os.path.join(self.tmp, "chat.sock")
        self.be = StreamBackend(self.sock, cleanup=self.addCleanup, **be_kw)
        self.gw = harness.start_gateway(gateway_yaml(self.be, hook_url=hook_url, **yaml_kw),
                                        self.addCleanup, tmp=self.tmp)
        self.admin = Admin(self.gw, TOKEN)
        self.be.wait_for(lambda: len(self.hellos(self.be)) == 2, TIMEOUT,
                         "a hello on both workers' streams")
        return self.be

    def fail_with_logs(self, e: BaseException):
        raise AssertionError(f"{e!r}\n--- gateway log:\n{self.gw.stderr[-6000:]}") from e

    # ------------------------------------------------------------------ the backend
    @staticmethod
    def hellos(be: StreamBackend) -> list[Frame]:
        return be.events("hello")

    async def until(self, be: StreamBackend, pred, what: str, timeout: float = TIMEOUT):
        """be.wait_for off the event loop (the clients keep running meanwhile)."""
        return await asyncio.to_thread(be.wait_for, pred, timeout, what)

    async def ack(self, be: StreamBackend, ack_id, timeout: float = TIMEOUT) -> dict:
        return await asyncio.to_thread(be.ack, ack_id, timeout)

    # ------------------------------------------------------------------ clients
    def connect(self, path: str = "/chat/a", **kw):
        kw.setdefault("max_size", None)
        return websockets.connect(self.gw.url(0, path), open_timeout=TIMEOUT, close_timeout=3,
                                  compression=None, ping_interval=None, **kw)

    async def client(self, path: str = "/chat/a", be: StreamBackend | None = None,
                     **kw) -> Client:
        """A client whose connect the backend has seen (open clients one at a time: the
        next new connect is this one's). Closed when the test ends."""
        be = be or self.be
        fresh = lambda: [f for f in be.events("connect") if not f.h.get("replay")]  # noqa: E731
        before = len(fresh())
        ws = await self.connect(path, **kw)
        self.addAsyncCleanup(ws.close)
        await self.until(be, lambda: len(fresh()) > before, f"the connect of a client of {path}")
        f = fresh()[before]
        return Client(ws, f.conn, f)

    async def clients_on_both_workers(self, n: int, path: str = "/chat/a") -> list[Client]:
        """n clients (n >= 2) that the gateway spread over both workers."""
        cs = [await self.client(path) for _ in range(n)]
        while len({c.worker for c in cs}) < 2:
            self.assertLess(len(cs), n + 8, "every connection landed on one worker")
            cs.append(await self.client(path))
        return cs

    async def recv(self, ws, timeout: float = TIMEOUT):
        return await asyncio.wait_for(ws.recv(), timeout)

    async def closed_with(self, ws, timeout: float = TIMEOUT) -> tuple[int, str]:
        """Waits for the server's close; (code, reason). Nothing else may arrive first."""
        try:
            extra = await asyncio.wait_for(ws.recv(), timeout)
        except ConnectionClosed:
            return ws.close_code, ws.close_reason
        self.fail(f"got {extra!r} where a close was expected")

    async def expect(self, st: Stream, clients: dict[str, Client], want: dict[str, list]) -> None:
        """Each client receives exactly want[name] (nothing when absent), then a marker that a
        broadcast sent now on stream `st` carries: actions are applied in the order the stream
        sent them, so nothing else was queued for it before the marker."""
        marker = f"marker-{secrets.token_hex(4)}"
        st.act({"action": "broadcast", "binary": False}, marker)
        for name, c in clients.items():
            got = []
            while True:
                m = await self.recv(c.ws)
                if m == marker:
                    break
                got.append(m)
            self.assertEqual(got, want.get(name, []), f"what {name} received")

    async def gone(self, conn: str) -> None:
        """Waits until the gateway has let go of `conn` (the control API answers 404)."""
        await self.eventually(
            lambda: asyncio.to_thread(self.admin.call, "GET", f"/v1/connections/{conn}"),
            lambda ans: ans[0] == 404, f"{conn} still open")

    # ------------------------------------------------------------------ metrics
    async def metric(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels`."""
        return await asyncio.to_thread(self.admin.counter, name, **labels)

    async def eventually(self, probe, pred, what: str, timeout: float = TIMEOUT):
        """Polls `await probe()` until pred(value); fails with the last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = await probe()
            if pred(v):
                return v
            if time.monotonic() > deadline:
                self.fail(f"{what}: still {v!r} after {timeout}s")
            await asyncio.sleep(0.05)

    def protocol_errors(self, reason: str):
        return lambda: self.metric("wsgate_backend_protocol_errors_total", backend="chat",
                                   reason=reason)


# ========================================================================== order and bytes
class Echo(StreamCase):
    async def test_100_clients_1000_messages_come_back_in_order(self) -> None:
        be = self.start()
        n_clients, n = 100, 1000
        wss = await asyncio.gather(*(self.connect(f"/chat/r{k % 10}") for k in range(n_clients)))
        for ws in wss:
            self.addAsyncCleanup(ws.close)

        async def one(k: int, ws) -> None:
            sent = [f"c{k}:{i}" for i in range(n)]
            got: list[str] = []

            async def sender() -> None:  # pipelined: no waiting for the echoes
                for m in sent:
                    await ws.send(m)

            async def receiver() -> None:
                while len(got) < n:
                    got.append(await ws.recv())

            await asyncio.gather(sender(), receiver())
            self.assertEqual(got, sent, f"client {k}: every echo, in order")

        t0 = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.gather(*(one(k, ws) for k, ws in enumerate(wss))), 90)
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            self.fail_with_logs(e)
        took = time.monotonic() - t0
        await asyncio.gather(*(ws.close(1000, "done") for ws in wss))
        await self.until(be, lambda: len(be.events("disconnect")) == n_clients,
                         "a disconnect for every client", 30)

        by_conn: dict[str, list[Frame]] = {}
        for f in be.snapshot():
            if f.conn:
                by_conn.setdefault(f.conn, []).append(f)
        self.assertEqual(len(by_conn), n_clients, "one connection id per client")
        seen = set()
        for cid, frames in by_conn.items():
            self.assertRegex(cid, CONN_ID)
            kinds = [f.event for f in frames]
            self.assertEqual(kinds, ["connect", *["message"] * n, "disconnect"], cid)
            self.assertEqual(len({f.stream.index for f in frames}), 1, f"{cid}: one stream")
            texts = [f.payload.decode() for f in frames[1:-1]]
            who = texts[0].split(":")[0]
            self.assertEqual(texts, [f"{who}:{i}" for i in range(n)],
                             f"{cid}: {who}'s messages at the backend in order, each once")
            seen.add(who)
        self.assertEqual(len(seen), n_clients, "each client's messages on its own connection")
        workers = {frames[0].stream.worker for frames in by_conn.values()}
        self.assertEqual(workers, {0, 1}, "clients on both workers' streams")
        print(f"\n  {n_clients}x{n} messages echoed in {took:.1f}s", end=" ")

    async def test_payload_bytes_survive_both_ways(self) -> None:
        be = self.start()
        c = await self.client("/chat/bytes")
        cases = [
            b"\n\x00\xff\xfe\n{\"size\":99}\n\x00",  # a fake header inside a payload
            b"\x80\xc3\x28\xed\xa0\x80",  # invalid UTF-8 (a lone continuation, a surrogate)
            bytes(range(256)) * 4,
            b"",
            b"\n",
            "line one\nline two {\"size\":99}\n",
            "nul \x00 inside, é ✓ \u2028 end\r\n",
            "",
            os.urandom(1 << 20),  # exactly the default max_message_size: one frame of it
        ]
        try:
            for msg in cases:
                await c.ws.send(msg)
                got = await self.recv(c.ws)
                self.assertIs(type(got), type(msg), f"the type of a {len(msg)}-byte message")
                self.assertEqual(got, msg, f"{len(msg)}-byte {type(msg).__name__}, both ways")
        except (AssertionError, asyncio.TimeoutError, ConnectionClosed) as e:
            self.fail_with_logs(e)
        msgs = [f for f in be.of(c.id) if f.event == "message"]
        self.assertEqual(len(msgs), len(cases))
        for f, msg in zip(msgs, cases):
            raw = msg if isinstance(msg, bytes) else msg.encode()
            self.assertEqual(f.h["binary"], isinstance(msg, bytes))
            self.assertEqual(f.h["size"], len(raw))
            self.assertEqual(f.payload, raw, "at the backend, byte for byte")
            self.assertEqual(set(f.h), MESSAGE_KEYS, f.h)

    async def test_tcp_address_backend(self) -> None:
        be = self.start(tcp=True)
        self.assertIsNotNone(be.port)
        c = await self.client("/chat/tcp")
        await c.ws.send(b"over tcp\n\x00")
        self.assertEqual(await self.recv(c.ws), b"over tcp\n\x00")
        self.assertEqual(sorted(f.stream.worker for f in self.hellos(be)), [0, 1])


# ========================================================================== events
class Events(StreamCase):
    async def test_hello_connect_messages_disconnect(self) -> None:
        be = self.start()
        hellos = self.hellos(be)
        self.assertEqual(sorted(f.h["worker"] for f in hellos), [0, 1])
        for f in hellos:
            self.assertIs(f.stream.frames[0], f, "hello is the first frame of its stream")
            self.assertEqual(set(f.h), HELLO_KEYS, f.h)
            self.assertEqual((f.h["version"], f.h["size"]), (1, 0))
            self.assertRegex(f.h["node"], NODE_TAG)
        self.assertEqual(len({f.h["node"] for f in hellos}), 1, "one node")
        node = hellos[0].h["node"]

        c = await self.client("/chat/caf%C3%A9", extra_headers={"Cookie": "sid=1"})
        h = c.connect.h
        self.assertEqual(set(h), CONNECT_KEYS, h)
        self.assertRegex(c.id, CONN_ID)
        self.assertTrue(c.id.startswith(node), "a connection id starts with its node's tag")
        self.assertEqual(h["route"], "/chat/{room}", "the pattern, not the path")
        self.assertEqual(h["params"], {"room": "café"}, "decoded")
        self.assertEqual(h["rooms"], ["room:café"])
        self.assertEqual(h["remote"], "127.0.0.1")
        self.assertIsNone(h["user"], "anonymous")
        self.assertEqual(h["headers"], {}, "no auth: no forwarded headers (not the cookie)")
        self.assertEqual(h["claims"], {})
        self.assertIs(h["replay"], False)
        self.assertEqual(h["size"], 0)
        status, info = await asyncio.to_thread(self.admin.call, "GET", f"/v1/connections/{c.id}")
        self.assertEqual(status, 200, f"the backend's conn is the control API's id: {info}")

        for i in range(3):
            await c.ws.send(f"m{i}")
            self.assertEqual(await self.recv(c.ws), f"m{i}")
        await c.ws.close(4001, "bye now ✓")
        await self.until(be, lambda: be.events("disconnect"), "the disconnect")
        frames = be.of(c.id)
        self.assertEqual([f.event for f in frames],
                         ["connect", "message", "message", "message", "disconnect"])
        self.assertEqual([f.payload for f in frames[1:4]], [b"m0", b"m1", b"m2"])
        self.assertEqual([f.seq for f in frames], sorted(f.seq for f in frames))
        self.assertEqual(len({f.stream.index for f in frames}), 1, "all on its worker's stream")
        d = frames[-1].h
        self.assertEqual(set(d), DISCONNECT_KEYS, d)
        self.assertEqual((d["code"], d["reason"]), (4001, "bye now ✓"), "the client's close")
        await asyncio.sleep(0.2)
        self.assertEqual(len(be.of(c.id)), 5, "one disconnect, nothing after it")


# ========================================================================== restart
class Restart(StreamCase):
    async def test_killed_restarted_replayed_then_down_for_good(self) -> None:
        be = self.start(timeout="3s")
        a, b = await self.clients_on_both_workers(2)
        worker_of = {a.id: a.worker, b.id: b.worker}
        be.streams[0].act({"action": "join", "conn": a.id, "room": "extra", "id": "j"})
        self.assertEqual((await self.ack(be, "j"))["ok"], True)
        self.assertEqual(await self.metric("wsgate_backend_streams", backend="chat"), 2)

        # Killed mid-stream: the clients stay; what they send waits for the backend.
        be.kill()
        await self.eventually(lambda: self.metric("wsgate_backend_streams", backend="chat"),
                              lambda v: v == 0, "both streams seen lost")
        await a.ws.send("while down a")
        await b.ws.send(b"while down b\n\x00")
        await asyncio.sleep(0.3)  # an outage of some length, well within `timeout`
        self.assertIsNone(a.ws.close_code, "a stays connected")
        self.assertIsNone(b.ws.close_code, "b stays connected")
        be2 = StreamBackend(self.sock, cleanup=self.addCleanup)  # the same path
        try:
            await self.until(be2, lambda: len(self.hellos(be2)) == 2, "hello on both new streams")
            await self.until(be2, lambda: len(be2.events("message")) == 2,
                             "the messages held during the outage")
            self.assertEqual(await self.recv(a.ws), "while down a", "echoed by the new backend")
            self.assertEqual(await self.recv(b.ws), b"while down b\n\x00")
        except (AssertionError, asyncio.TimeoutError, ConnectionClosed) as e:
            self.fail_with_logs(e)
        for st in be2.streams:
            self.assertEqual(st.frames[0].event, "hello", "hello first on every new stream")
            replays = [f for f in st.frames if f.event == "connect"]
            self.assertEqual({f.conn for f in replays},
                             {cid for cid, w in worker_of.items() if w == st.worker},
                             f"worker {st.worker}: a replay of each of its open connections")
            for f in replays:
                self.assertIs(f.h["replay"], True)
                self.assertEqual(set(f.h), CONNECT_KEYS)
                self.assertEqual(f.h["route"], "/chat/{room}")
        for c, want_rooms in ((a, {"room:a", "extra"}), (b, {"room:a"})):
            frames = be2.of(c.id)
            self.assertEqual([f.event for f in frames], ["connect", "message"],
                             "the replayed connect, then what was sent meanwhile")
            self.assertEqual(set(frames[0].h["rooms"]), want_rooms,
                             "the rooms as they are now, the action's join included")
        await a.ws.send("after")
        self.assertEqual(await self.recv(a.ws), "after", "messages flow again")
        self.assertEqual(await self.metric("wsgate_backend_streams", backend="chat"), 2)
        self.assertGreaterEqual(await self.metric("wsgate_backend_stream_connects_total",
                                                  backend="chat", result="lost"), 2)
        self.assertGreaterEqual(await self.metric("wsgate_backend_stream_connects_total",
                                                  backend="chat", result="ok"), 4)

        # Down for good: after `timeout` the clients are closed 1013, new upgrades get 503.
        t0 = time.monotonic()
        be2.kill()
        await self.eventually(lambda: self.metric("wsgate_backend_streams", backend="chat"),
                              lambda v: v == 0, "both streams seen lost again")
        await a.ws.send("into the void a")
        await b.ws.send("into the void b")
        for c in (a, b):
            self.assertEqual(await self.closed_with(c.ws, 3 + TIMEOUT),
                             (1013, "backend unavailable"))
        self.assertGreaterEqual(time.monotonic() - t0, 2.5, "not before `timeout` (3s)")
        with self.assertRaises(InvalidStatusCode) as cm:
            async with self.connect("/chat/late"):
                pass
        self.assertEqual(cm.exception.status_code, 503)
        self.assertGreaterEqual(await self.metric("wsgate_backend_requests_total",
                                                  backend="chat", outcome="unreachable"), 2)
        self.assertGreaterEqual(await self.metric("wsgate_messages_dropped_total",
                                                  reason="backend_unavailable"), 2)
        self.assertIsNone(self.gw.proc.poll(), "the same wsgated process all along")


# ========================================================================== backpressure
class Backpressure(StreamCase):
    CHUNK = 256 * 1024

    async def flood(self, cs: list[Client], chunks: int) -> dict:
        """The backend stops reading; each client pushes `chunks` chunks as fast as its socket
        takes them. Checks: a backlog pause, the clients pushed back (no progress for 1 s),
        wsgated's RSS meanwhile; then the backend reads again and every byte must arrive, in
        order. Returns the figures (sent when stalled, total, RSS growth)."""
        be, size = self.be, self.CHUNK
        total = len(cs) * chunks * size

        def chunk(k: int, i: int) -> bytes:
            head = f"client {k} chunk {i}|".encode()
            return head + bytes([(k * 31 + i) % 251]) * (size - len(head))

        want = {}
        for k, c in enumerate(cs):
            h = hashlib.sha256()
            for i in range(chunks):
                h.update(chunk(k, i))
            want[c.id] = h.hexdigest()
        sent = [0] * len(cs)

        async def push(k: int, c: Client) -> None:
            for i in range(chunks):
                await c.ws.send(chunk(k, i))  # waits while the socket does not drain
                sent[k] += size

        be.pause_reading()
        rss0 = vm_rss(self.gw.proc.pid)
        pushes = asyncio.gather(*(push(k, c) for k, c in enumerate(cs)))
        try:
            await self.eventually(
                lambda: self.metric("wsgate_backend_backlog_pauses_total", backend="chat"),
                lambda v: v >= 1, "a backlog pause", 30)
            # The clients are pushed back: nothing more leaves them for a while.
            deadline, last, still_since = time.monotonic() + 60, -1, time.monotonic()
            rss_max = 0
            while time.monotonic() - still_since < 1.0:
                self.assertLess(time.monotonic(), deadline, f"still sending: {sum(sent)}")
                if pushes.done():
                    self.fail(f"a client stopped pushing while paused: {pushes.exception()!r}, "
                              f"close codes {[c.ws.close_code for c in cs]} "
                              "(1006: the connection was cut or reset, no close frame)")
                rss_max = max(rss_max, vm_rss(self.gw.proc.pid))
                if sum(sent) != last:
                    last, still_since = sum(sent), time.monotonic()
                await asyncio.sleep(0.1)
            stalled_at = sum(sent)
            self.assertLess(stalled_at, total, "the clients' sends block")
            grown = max(rss_max, vm_rss(self.gw.proc.pid)) - rss0
            for c in cs:
                self.assertIsNone(c.ws.close_code, f"{c.id} still connected while paused")

            be.resume_reading()
            await asyncio.wait_for(pushes, 120)
            await self.until(be, lambda: sum(be.bytes_by_conn.values()) >= total,
                             "every byte at the backend", 120)
        except (AssertionError, asyncio.TimeoutError, ConnectionClosed) as e:
            pushes.cancel()
            if pushes.done() and not pushes.cancelled():
                pushes.exception()  # retrieved: reported above
            be.resume_reading()
            self.fail_with_logs(e)
        for c in cs:
            self.assertEqual(be.bytes_by_conn[c.id], chunks * size, c.id)
            self.assertEqual(be.digest(c.id), want[c.id], f"{c.id}: every chunk, in order")
            self.assertIsNone(c.ws.close_code, "nobody was closed")
        self.assertEqual(await self.metric("wsgate_messages_dropped_total"), 0)
        return {"stalled_at": stalled_at, "total": total, "grown": grown}

    async def test_backend_that_stops_reading_pauses_clients_memory_bounded(self) -> None:
        # A long heartbeat: a paused client's pongs are not read either.
        self.start(max_buffer="1MiB", server_extra="  heartbeat: {interval: 5m, timeout: 1m}\n",
                   backend={"echo": False, "keep_payloads": False})
        cs = await self.clients_on_both_workers(4, "/chat/flood")
        got = await self.flood(cs, 208)  # 52 MiB a client, 208 MiB and more in all
        self.assertLess(got["grown"], 64 << 20,
                        f"wsgated grew {got['grown'] >> 20} MiB, {got['stalled_at'] >> 20} MiB "
                        "sent, while the backend did not read")
        print(f"\n  paused after {got['stalled_at'] >> 20} of {got['total'] >> 20} MiB, "
              f"wsgated grew {got['grown'] >> 20} MiB", end=" ")

    async def test_paused_client_with_heartbeat_off_stays_connected(self) -> None:
        """`heartbeat.interval: 0s` (no heartbeat): a paused client is only not read; it is
        neither closed nor reset while the backend does not read."""
        self.start(max_buffer="1MiB", server_extra="  heartbeat: {interval: 0s}\n",
                   backend={"echo": False, "keep_payloads": False})
        cs = await self.clients_on_both_workers(2, "/chat/flood")
        await self.flood(cs, 64)  # 16 MiB a client


    async def test_backend_that_does_not_read_its_acks_is_not_read_either(self) -> None:
        """Acks pile up for a backend that writes actions but stops reading: past the bound
        wsgated stops reading the backend (its writes block), its memory stays bounded, and
        once the backend reads again every action is applied and acked."""
        be = self.start(max_buffer="1MiB", backend={"echo": False})
        a = await self.client("/chat/a")
        st, n = a.stream, 200_000
        blob = b"".join(encode({"action": "join", "conn": a.id, "room": "j", "id": i})
                        for i in range(n))  # ~35 bytes of ack each: 7 MB of acks in all
        be.pause_reading()
        rss0 = vm_rss(self.gw.proc.pid)
        st.send_raw(blob)
        try:
            deadline, last, still_since = time.monotonic() + 60, -1, time.monotonic()
            while time.monotonic() - still_since < 1.0:
                self.assertLess(time.monotonic(), deadline, f"still writing: {st.written}")
                if st.written != last:
                    last, still_since = st.written, time.monotonic()
                await asyncio.sleep(0.1)
            self.assertLess(st.written, len(blob), "wsgated stopped reading the backend")
            grown = vm_rss(self.gw.proc.pid) - rss0
            self.assertLess(grown, 64 << 20, f"wsgated grew {grown >> 20} MiB")
            be.resume_reading()
            await self.until(be, lambda: len(be.events("ack", st)) == n, "every ack", 120)
        except AssertionError as e:
            be.resume_reading()
            self.fail_with_logs(e)
        acks = be.events("ack", st)
        self.assertEqual([f.h["id"] for f in acks], list(range(n)),
                         "one ack per action, in order (all on the stream's own worker)")
        self.assertTrue(all(f.h["ok"] is True for f in acks))
        self.assertEqual(st.written, len(blob))
        self.assertEqual(len(self.hellos(be)), 2, "the same streams")
        self.assertIsNone(a.ws.close_code)


# ========================================================================== bad frames
class BadFrames(StreamCase):
    async def test_each_malformed_frame_drops_the_stream_and_replays(self) -> None:
        max_msg = 64 * 1024
        be = self.start(timeout="10s", limits="max_message_size: 64KiB")
        a, b = await self.clients_on_both_workers(2)
        cases = [
            ("not_json", b"this is not json\n"),
            ("not_json", b'{"action":"broadcast","binary":false,"x":"\xff\xfe"}\n'),
            ("not_object", b"[1,2,3]\n"),
            ("not_object", b'"a string"\n'),
            ("header_too_long", b'{"action":"broadcast","pad":"' + b"x" * (70 * 1024)),
            ("bad_size", b'{"action":"broadcast","binary":false,"size":-1}\n'),
            ("bad_size", b'{"action":"broadcast","binary":false,"size":"3"}\nabc'),
            ("bad_size", b'{"action":"broadcast","binary":false,"size":1.5}\n'),
            ("size_too_large",
             f'{{"action":"broadcast","binary":true,"size":{max_msg + 1}}}\n'.encode()),
        ]
        for reason, raw in cases:
            st = be.stream_of(a.id)
            w = st.worker
            before = await self.protocol_errors(reason)()
            other_hellos = len([f for f in self.hellos(be) if f.stream.worker != w])
            st.send_raw(raw)
            try:
                await self.eventually(self.protocol_errors(reason), lambda v: v > before,
                                      f"{reason} counted")
                await self.until(be, lambda: st.closed, f"{reason}: the stream dropped")
                new = await self.until(be, lambda: next(
                    (s for s in be.streams if s.index > st.index and s.worker == w and any(
                        f.event == "connect" and f.conn == a.id and f.h.get("replay")
                        for f in s.frames)), None), f"{reason}: a new stream with a replay")
            except AssertionError as e:
                self.fail_with_logs(e)
            self.assertEqual(new.frames[0].event, "hello", "the new stream starts with hello")
            self.assertEqual(len([f for f in self.hellos(be) if f.stream.worker != w]),
                             other_hellos, "the other worker's stream was not touched")
        # The clients stayed; both streams carry messages; a payload of exactly
        # max_message_size is no error.
        for c in (a, b):
            self.assertIsNone(c.ws.close_code)
            await c.ws.send(f"still here {c.id}")
            self.assertEqual(await self.recv(c.ws), f"still here {c.id}")
        errors = await self.metric("wsgate_backend_protocol_errors_total", backend="chat")
        be.stream_of(a.id).act({"action": "broadcast", "binary": True}, b"\x00" * max_msg)
        for c in (a, b):
            self.assertEqual(await self.recv(c.ws), b"\x00" * max_msg)
        self.assertEqual(await self.metric("wsgate_backend_protocol_errors_total",
                                           backend="chat"), errors)


# ========================================================================== acks
class Acks(StreamCase):
    async def test_errors_in_acks(self) -> None:
        be = self.start(backend={"echo": False})
        a = await self.client("/chat/a")
        st = a.stream
        local = a.id[:6] + "B" * 22  # of this node, never issued (ids are random)
        foreign = "A" * 28  # of a node that does not exist
        st.act({"action": "send", "conn": local, "binary": False, "id": "nf-local"}, "x")
        st.act({"action": "close", "conn": foreign, "code": 4000, "id": 7})
        st.act({"action": "dance", "id": "7"})
        st.act({"action": "dance"})  # no id: skipped, counted, never acked
        st.act({"action": "close", "conn": a.id, "code": 1001, "id": "c1001"})
        st.act({"action": "close", "conn": a.id, "code": 5000, "id": "c5000"})
        st.act({"action": "close", "conn": a.id, "code": 2999, "id": "c2999"})
        st.act({"action": "send_user", "user": "", "binary": False, "id": "nouser"}, "x")
        st.send_raw(b'{"action":"join","conn":"' + a.id.encode() + b'","room":"nosize",'
                    b'"id":"nosize"}\n')  # size absent = 0
        st.act({"action": "send", "conn": a.id, "binary": False, "id": "last"}, "still open")
        self.assertEqual(await self.ack(be, "nf-local"),
                         {"event": "ack", "id": "nf-local", "ok": False, "error": "not_found"})
        self.assertEqual(await self.ack(be, 7),
                         {"event": "ack", "id": 7, "ok": False, "error": "not_found"},
                         "a foreign id; a numeric id comes back a number")
        self.assertEqual(await self.ack(be, "7"),
                         {"event": "ack", "id": "7", "ok": False, "error": "unknown_action"})
        for code in (1001, 5000, 2999):
            ack = await self.ack(be, f"c{code}")
            self.assertEqual((ack["ok"], ack.get("error")), (False, "bad_code"), code)
        ack = await self.ack(be, "nouser")
        self.assertEqual((ack["ok"], ack.get("error")), (False, "bad_user"))
        self.assertEqual((await self.ack(be, "nosize"))["ok"], True, "size absent = 0")
        self.assertEqual((await self.ack(be, "last"))["ok"], True)
        self.assertEqual(await self.recv(a.ws), "still open", "no bad close code was applied")
        # One ack per action with an id (in no promised order: an action for a connection
        # that is not on this stream's worker is answered once the delivery has looked).
        ids = sorted(repr(f.h["id"]) for f in be.events("ack"))
        self.assertEqual(ids, sorted(map(repr, ["nf-local", 7, "7", "c1001", "c5000", "c2999",
                                                "nouser", "nosize", "last"])),
                         "one ack per action with an id, and none for the one without")
        self.assertEqual(len(self.hellos(be)), 2, "a frame that cannot apply keeps the stream")
        self.assertGreaterEqual(await self.protocol_errors("not_found")(), 2)
        self.assertEqual(await self.protocol_errors("unknown_action")(), 2)
        self.assertEqual(await self.protocol_errors("bad_code")(), 3)
        self.assertEqual(await self.protocol_errors("bad_user")(), 1)

    async def test_wait_written_acks_once_the_client_took_the_bytes(self) -> None:
        be = self.start(limits="send_queue: 64MiB", backend={"echo": False})
        a = await self.client("/chat/a")
        st = a.stream
        st.act({"action": "send", "conn": a.id, "binary": False, "id": "w1",
                "wait": "written"}, "hi")
        self.assertEqual(await self.recv(a.ws), "hi")
        self.assertEqual(await self.ack(be, "w1"), {"event": "ack", "id": "w1", "ok": True})

        # A client that stops reading (max_queue=1, a 64 KiB read buffer): 24 MiB for it cannot
        # all be on its socket, so the last one's ack waits until the client reads.
        slow = await self.client("/chat/slow", max_queue=1, read_limit=1 << 16)
        n, big = 24, 1 << 20
        for i in range(n):
            h = {"action": "send", "conn": slow.id, "binary": True}
            if i == n - 1:
                h.update(id="w-last", wait="written")
            slow.stream.act(h, bytes([i]) * big)
        await asyncio.sleep(1.0)  # time enough for an early ack to show
        self.assertEqual([f for f in be.events("ack") if f.h.get("id") == "w-last"], [],
                         "no ack while the bytes cannot reach the client's socket")
        for i in range(n):
            self.assertEqual(await self.recv(slow.ws), bytes([i]) * big)
        self.assertEqual(await self.ack(be, "w-last"),
                         {"event": "ack", "id": "w-last", "ok": True})

        # The client leaves before its bytes could be written: `gone`.
        gone = await self.client("/chat/gone", max_queue=1, read_limit=1 << 16)
        for i in range(n):
            h = {"action": "send", "conn": gone.id, "binary": True}
            if i == n - 1:
                h.update(id="w-gone", wait="written")
            gone.stream.act(h, b"g" * big)
        await asyncio.sleep(0.5)
        gone.ws.transport.abort()  # the TCP connection reset, nothing read
        ack = await self.ack(be, "w-gone")
        self.assertEqual((ack["ok"], ack.get("error")), (False, "gone"))


# ========================================================================== actions
class Actions(StreamCase):
    async def test_publish_join_leave_broadcast_close_across_workers(self) -> None:
        be = self.start(backend={"echo": False})
        cs = await self.clients_on_both_workers(6, "/chat/r")
        self.assertEqual({c.worker for c in cs}, {0, 1}, "connects on both streams")
        names = {f"c{i}": c for i, c in enumerate(cs)}
        st = cs[0].stream
        x = next(c for c in cs if c.worker != cs[0].worker)  # on the other worker
        y = next((c for c in cs[1:] if c.worker == cs[0].worker), None)  # on st's worker
        self.assertIsNotNone(y, f"a second client on worker {cs[0].worker}")
        name_of = {c.id: n for n, c in names.items()}
        try:
            # publish, excluding the sender, reaches the members on both workers
            st.act({"action": "publish", "room": "room:r", "exclude": cs[0].id,
                    "binary": False, "id": "p1"}, "pub ✓")
            ack = await self.ack(be, "p1")
            # docs/backends.md: the count is the room's members, an excluded one included
            self.assertEqual((ack["ok"], ack["count"]), (True, 6), ack)
            await self.expect(st, names, {n: ["pub ✓"] for n in names if n != "c0"})
            # the same from the other worker's stream
            x.stream.act({"action": "publish", "room": "room:r", "binary": True}, b"\x00\n")
            await self.expect(x.stream, names, {n: [b"\x00\n"] for n in names})

            # join, then a publish to the new room: both joined, on both workers
            st.act({"action": "join", "conn": x.id, "room": "extra", "id": "jx"})
            st.act({"action": "join", "conn": y.id, "room": "extra", "id": "jy"})
            self.assertEqual((await self.ack(be, "jx"))["ok"], True)
            self.assertEqual((await self.ack(be, "jy"))["ok"], True)
            st.act({"action": "publish", "room": "extra", "binary": True, "id": "p2"},
                   b"\x01\x02")
            self.assertEqual((await self.ack(be, "p2"))["count"], 2)
            await self.expect(st, names, {name_of[x.id]: [b"\x01\x02"],
                                          name_of[y.id]: [b"\x01\x02"]})
            # leave, then the publish misses the one that left
            st.act({"action": "leave", "conn": x.id, "room": "extra", "id": "lx"})
            self.assertEqual((await self.ack(be, "lx"))["ok"], True)
            st.act({"action": "publish", "room": "extra", "binary": False, "id": "p3"},
                   "only y")
            self.assertEqual((await self.ack(be, "p3"))["count"], 1)
            await self.expect(st, names, {name_of[y.id]: ["only y"]})

            # broadcast: everyone, counted
            st.act({"action": "broadcast", "binary": False, "id": "b1"}, "to all")
            self.assertEqual((await self.ack(be, "b1"))["count"], 6)
            await self.expect(st, names, {n: ["to all"] for n in names})

            # close: 4000 with its reason (x, the other worker), and the default 1000 (y)
            st.act({"action": "close", "conn": x.id, "code": 4000, "reason": "kicked",
                    "id": "kx"})
            st.act({"action": "close", "conn": y.id, "id": "ky"})
            self.assertEqual(await self.closed_with(x.ws), (4000, "kicked"))
            self.assertEqual((await self.closed_with(y.ws))[0], 1000, "no code: 1000")
            self.assertEqual((await self.ack(be, "kx"))["ok"], True)
            self.assertEqual((await self.ack(be, "ky"))["ok"], True)
            d = await self.until(be, lambda: next((f for f in be.of(x.id)
                                                   if f.event == "disconnect"), None),
                                 "x's disconnect")
            self.assertEqual((d.h["code"], d.h["reason"]), (4000, "kicked"))
            await self.until(be, lambda: any(f.event == "disconnect" for f in be.of(y.id)),
                             "y's disconnect")
            await self.gone(x.id)
            await self.gone(y.id)
            left = {n: c for n, c in names.items() if c not in (x, y)}
            st.act({"action": "broadcast", "binary": False, "id": "b2"}, "fewer")
            self.assertEqual((await self.ack(be, "b2"))["count"], 4)
            await self.expect(st, left, {n: ["fewer"] for n in left})
            st.act({"action": "join", "conn": x.id, "room": "extra", "id": "late"})
            self.assertEqual((await self.ack(be, "late")).get("error"), "not_found")
        except (AssertionError, asyncio.TimeoutError, ConnectionClosed) as e:
            self.fail_with_logs(e)

    async def test_send_user_reaches_every_connection_of_the_user(self) -> None:
        hook = HttpServer(hook_answer, self.addCleanup)
        be = self.start(hook_url=hook.url(), backend={"echo": False})
        order = ["alice", "bob", "alice", "alice"]  # dealt to the workers in turn
        cs = {}
        for i, name in enumerate(order):
            cs[f"{name}{i}"] = await self.client(
                "/app/lobby", extra_headers={"Authorization": f"Bearer {name}"})
        alices = [k for k in cs if k.startswith("alice")]
        self.assertEqual({cs[k].worker for k in alices}, {0, 1}, "alice on both workers")
        for k, c in cs.items():
            name = k.rstrip("0123456789")
            h = c.connect.h
            self.assertEqual(h["user"], name)
            self.assertEqual(h["claims"], IDENTITIES[name]["claims"])
            self.assertEqual(h["headers"], {"authorization": f"Bearer {name}"},
                             "the forwarded headers")
            self.assertEqual(set(h["rooms"]), {"room:lobby", f"user:{name}"})
        st = cs["bob1"].stream
        try:
            st.act({"action": "send_user", "user": "alice", "binary": False, "id": "su"},
                   "hi alice")
            self.assertEqual(await self.ack(be, "su"),
                             {"event": "ack", "id": "su", "ok": True, "count": 3})
            await self.expect(st, cs, {k: ["hi alice"] for k in alices})
            st.act({"action": "send_user", "user": "bob", "binary": True, "id": "sb"}, b"\xff")
            self.assertEqual((await self.ack(be, "sb"))["count"], 1)
            await self.expect(st, cs, {"bob1": [b"\xff"]})
            st.act({"action": "send_user", "user": "nobody", "binary": False, "id": "sn"}, "?")
            self.assertEqual(await self.ack(be, "sn"),
                             {"event": "ack", "id": "sn", "ok": True, "count": 0})
            # the user's room from the route's rooms: user:{user}
            st.act({"action": "publish", "room": "user:alice", "binary": False, "id": "pu"},
                   "via room")
            self.assertEqual((await self.ack(be, "pu"))["count"], 3)
            await self.expect(st, cs, {k: ["via room"] for k in alices})
        except (AssertionError, asyncio.TimeoutError, ConnectionClosed) as e:
            self.fail_with_logs(e)


if __name__ == "__main__":
    unittest.main()
