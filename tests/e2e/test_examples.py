"""test_examples: the chat examples of examples/ behind wsgated's http backend (docs/backends.md).

For each example (Python, PHP, Node.js, and the Python one again over a Unix socket): start it on
a free port, start wsgated with route /chat/{room} -> that backend and an admin token, and chat
through real WebSocket clients (Debian's python3-websockets):

- connect: the backend answers `WSGate-Join: room:lobby` and a welcome text naming the connection;
- a message from A is published by the backend to room:lobby through the control API, excluding
  A: B receives "<A's id>: <text>", A does not (and the other way round);
- a client in another room (/chat/other) receives nothing;
- "/quit" is answered `WSGate-Close: 4000 bye`: the client is closed 4000 "bye";
- every event reached the backend and was answered 2xx: connect, message and disconnect of each
  connection, counted in wsgate_backend_requests_total{backend="app",outcome="ok"}.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_examples
Needs python3-websockets, php-cli and nodejs; an example whose interpreter is missing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import websockets

import harness

TIMEOUT = 10.0  # seconds for any single step
EXAMPLES = harness.SOURCE_DIR / "examples"
CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{28}")
_ADMIN_LISTENING = re.compile(r"^admin listening on (\S+):(\d+) \(http\)$")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_url(gw: harness.Gateway) -> str:
    """http://HOST:PORT of the gateway's admin listener, from its `admin listening on` line."""
    for line in gw.stderr.splitlines():
        rec = harness.parse_log_line(line)
        m = rec and _ADMIN_LISTENING.search(rec["msg"])
        if m:
            return f"http://{m[1]}:{m[2]}"
    raise AssertionError(f"no 'admin listening on' line in the log:\n{gw.stderr}")


def chat_config(backend_url: str, token: str) -> str:
    return (
        "server:\n"
        "  workers: 2\n"  # A and B may land on different workers: the publish crosses them
        '  listen: [{address: "127.0.0.1:0"}]\n'
        "  log: {level: info, format: text}\n"
        "admin:\n"
        '  listen: "127.0.0.1:0"\n'
        f'  token: "{token}"\n'
        "backends:\n"
        f'  app: {{type: http, url: "{backend_url}", timeout: 5s, max_connections: 8}}\n'
        "routes:\n"
        '  - path: "/chat/{room}"\n'
        "    backend: app\n")


def backend_outcomes(admin: str, backend: str = "app") -> dict[str, float]:
    """wsgate_backend_requests_total{backend=BACKEND} by outcome, from /metrics (cells at 0,
    which the gateway exposes for every outcome from the start, left out)."""
    with _DIRECT.open(f"{admin}/metrics", timeout=TIMEOUT) as res:
        text = res.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r"^wsgate_backend_requests_total\{([^}]*)\}\s+(\S+)$", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[1]))
        if labels.get("backend") == backend and float(m[2]) != 0:
            out[labels.get("outcome", "")] = out.get(labels.get("outcome", ""), 0) + float(m[2])
    return out


async def settled_outcomes(admin: str, want: dict[str, float], backend: str = "app") -> dict[str, float]:
    """backend_outcomes once they equal `want` (the last events are still being answered when a
    client's close returns), or as they are after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    loop = asyncio.get_running_loop()
    while True:
        got = await loop.run_in_executor(None, backend_outcomes, admin, backend)
        if got == want or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.1)


class BackendProcess:
    """A test's example backend: `self.backend` (its process) writing to `self.log_path`."""

    interpreter = ""  # what runs the backend (skipped when it is not installed)

    def prepare(self) -> str:
        """The interpreter's path; a temp dir, the backend's port and an admin token."""
        exe = shutil.which(self.interpreter)
        if not exe:
            self.skipTest(f"{self.interpreter} is not installed")
        self.tmp = harness.temp_dir(self.addCleanup)
        self.port = free_port()
        self.token = secrets.token_urlsafe(18)
        return exe

    def stop_backend(self) -> None:
        if self.backend.poll() is None:
            self.backend.terminate()
            try:
                self.backend.wait(5)
            except subprocess.TimeoutExpired:
                self.backend.kill()
                self.backend.wait(5)

    def backend_log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    async def with_logs(self, steps) -> None:
        """Runs `steps()`; a failure is told with the ends of the backend's and gateway's logs."""
        try:
            await steps()
        except (AssertionError, asyncio.TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            raise AssertionError(f"{e!r}\n--- {type(self).__name__} backend log:\n"
                                 f"{self.backend_log()[-4000:]}\n--- gateway log:\n"
                                 f"{self.gw.stderr[-4000:]}") from e


class ExampleChat(BackendProcess):
    """The test, run against one example; a subclass says how to start it."""

    interpreter = ""  # looked up on PATH; the test is skipped without it

    def backend_argv(self, exe: str) -> list[str]:
        raise NotImplementedError

    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ws"

    def connect_backend(self) -> None:
        """Returns once the backend accepts a connection (raises OSError before)."""
        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()

    def setUp(self) -> None:
        exe = self.prepare()
        self.gw = harness.start_gateway(chat_config(self.backend_url(), self.token),
                                        self.addCleanup, tmp=self.tmp)
        self.admin = admin_url(self.gw)
        self.start_backend(exe)

    # ------------------------------------------------------------------ the example's process
    def start_backend(self, exe: str) -> None:
        self.log_path = os.path.join(self.tmp, "backend.log")
        log = open(self.log_path, "wb")
        self.addCleanup(log.close)
        argv = self.backend_argv(exe)
        if harness.SETPRIV:  # killed with this process, whatever happens
            argv = [harness.SETPRIV, "--pdeathsig", "SIGKILL", "--", *argv]
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update(PORT=str(self.port), WSGATED_ADMIN_URL=self.admin,
                   WSGATED_ADMIN_TOKEN=self.token)
        self.backend = subprocess.Popen(argv, cwd=str(harness.SOURCE_DIR), env=env,
                                        stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_backend)
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.backend.poll() is not None:
                raise AssertionError(f"{argv} exited with {self.backend.returncode}:\n"
                                     f"{self.backend_log()}")
            try:
                self.connect_backend()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{argv} not listening after {TIMEOUT}s:\n"
                                         f"{self.backend_log()}")
                time.sleep(0.05)

    # ------------------------------------------------------------------ the test
    async def test_chat_through_the_example(self) -> None:
        await self.with_logs(self.chat)

    def connect(self, room: str):
        return websockets.connect(self.gw.url(0, f"/chat/{room}"),
                                  open_timeout=TIMEOUT, close_timeout=TIMEOUT)

    async def recv(self, ws):
        return await asyncio.wait_for(ws.recv(), TIMEOUT)

    async def welcome(self, ws, room: str) -> str:
        """The welcome text that answers the connect event; returns the connection id in it."""
        text = await self.recv(ws)
        self.assertIsInstance(text, str, "the welcome is a text frame (Content-Type text/plain)")
        m = re.fullmatch(rf"welcome to {room}, (\S+)", text)
        self.assertIsNotNone(m, f"welcome: {text!r}")
        self.assertRegex(m[1], CONNECTION_ID, "an anonymous client is named by its id")
        return m[1]

    async def quit(self, ws, who: str) -> None:
        """'/quit' closes `ws` 4000 "bye"; nothing else may arrive before the close."""
        await ws.send("/quit")
        try:
            extra = await self.recv(ws)
        except websockets.exceptions.ConnectionClosed:
            pass
        else:
            self.fail(f"{who} received {extra!r} where the close 4000 was expected")
        self.assertEqual((ws.close_code, ws.close_reason), (4000, "bye"), who)

    async def chat(self) -> None:
        async with contextlib.AsyncExitStack() as clients:
            a, b, c = [await clients.enter_async_context(self.connect(room))
                       for room in ("lobby", "lobby", "other")]
            id_a = await self.welcome(a, "lobby")
            id_b = await self.welcome(b, "lobby")
            id_c = await self.welcome(c, "other")
            self.assertEqual(len({id_a, id_b, id_c}), 3, "connection ids are unique")
            # Both welcomes arrived, so both joins are done (a join acts before the reply).
            await a.send("hello from A ✓")
            got = await self.recv(b)
            self.assertEqual(got, f"{id_a}: hello from A ✓", "B gets A's message via the room")
            await b.send("hi A")
            got = await self.recv(a)
            self.assertNotEqual(got, f"{id_a}: hello from A ✓", "A got its own message back")
            self.assertEqual(got, f"{id_b}: hi A", "A gets B's message")
            # A's own message, had it been published to A, would be queued before the answer to
            # it, hence before the /quit is even sent: the next frame A sees must be the close.
            await self.quit(a, "A")
            await self.quit(b, "B")
            await self.quit(c, "C (another room: nothing from room:lobby)")
        # Each connection: connect, its messages, one disconnect, all answered 2xx:
        # A and B: 1 + 2 + 1; C: 1 + 1 + 1.
        want = {"ok": 11.0}
        got = await settled_outcomes(self.admin, want)
        self.assertEqual(got, want, "wsgate_backend_requests_total{backend=\"app\"} by outcome")


class PythonExampleTest(ExampleChat, unittest.IsolatedAsyncioTestCase):
    interpreter = "python3"

    def backend_argv(self, exe: str) -> list[str]:
        return [sys.executable, str(EXAMPLES / "python" / "chat_backend.py")]


class PythonUnixSocketExampleTest(ExampleChat, unittest.IsolatedAsyncioTestCase):
    """The Python example again, with the backend URL unix:/path/to.sock:/ws."""

    interpreter = "python3"

    def backend_url(self) -> str:
        self.sock = os.path.join(self.tmp, "chat.sock")
        return f"unix:{self.sock}:/ws"

    def backend_argv(self, exe: str) -> list[str]:
        return [sys.executable, str(EXAMPLES / "python" / "chat_backend.py"), "--unix", self.sock]

    def connect_backend(self) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(self.sock)


class PhpExampleTest(ExampleChat, unittest.IsolatedAsyncioTestCase):
    interpreter = "php"

    def backend_argv(self, exe: str) -> list[str]:
        return [exe, "-S", f"127.0.0.1:{self.port}", str(EXAMPLES / "php" / "index.php")]


class NodeExampleTest(ExampleChat, unittest.IsolatedAsyncioTestCase):
    interpreter = "node"

    def backend_argv(self, exe: str) -> list[str]:
        return [exe, str(EXAMPLES / "node" / "chat_backend.js")]


if __name__ == "__main__":
    unittest.main()
