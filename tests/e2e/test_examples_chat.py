"""test_examples_chat: the browser chat of examples/chat/ without a browser (issue 20).

For each backend (Python, PHP, Node.js): wsgated runs the shipped examples/chat/gateway.yaml (its
${CHAT_*_PORT} variables: the public and admin listeners on port 0, the backend on a free port),
the backend serves the page and answers the auth hook and the events, and real WebSocket clients
(Debian's python3-websockets) play the page's part:

- the page, its script and config.json (the gateway URL from CHAT_WS_URL) are served;
- the hook: the name from ?name= or the chat_name cookie; none, or a bad one, is 401 (with the
  hook's text), a bad room 400, another site's Origin 403 (the route's `origins`);
- connect: {"type":"presence","count":N,"event":"join"} to the room (the count from
  GET /v1/rooms/room:lobby) and a welcome naming the user; the others see the count follow;
- a message is published to the whole room as {"type":"chat","user":…,"text":…}, the sender
  included, and to no other room; a line over 500 characters is refused to the sender alone;
- a disconnect pushes the new count ("leave") to those left;
- every event was answered 2xx (wsgate_backend_requests_total).

And `examples/chat/run node`: it starts both, prints the address to open, the chat works, and
a Ctrl-C (SIGINT to its process group) stops both.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_examples_chat
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import websockets
import websockets.exceptions

import harness
from test_examples import BackendProcess, admin_url, free_port, settled_outcomes

TIMEOUT = 10.0
CHAT = harness.SOURCE_DIR / "examples" / "chat"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(extra)
    return env


def http_get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with _DIRECT.open(url, timeout=TIMEOUT) as res:
            return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def wait_listening(port: int, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode}:\n{log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"port {port} not listening after {TIMEOUT}s:\n{log()}")
            time.sleep(0.05)


class ChatExample(BackendProcess):
    """The test, run against one backend; a subclass says how to start it."""

    interpreter = ""

    def backend_argv(self, exe: str) -> list[str]:
        raise NotImplementedError

    def setUp(self) -> None:
        exe = self.prepare()
        self.origin = f"http://127.0.0.1:{self.port}"
        env = {"CHAT_HTTP_PORT": str(self.port), "CHAT_WS_PORT": "0", "CHAT_ADMIN_PORT": "0",
               "WSGATED_ADMIN_TOKEN": self.token}
        self.gw = harness.start_gateway((CHAT / "gateway.yaml").read_text(), self.addCleanup,
                                        tmp=self.tmp, env=env)
        self.admin = admin_url(self.gw)
        self.ws_url = self.gw.url(0, "/chat/{room}")
        self.log_path = os.path.join(self.tmp, "backend.log")
        log = open(self.log_path, "wb")
        self.addCleanup(log.close)
        argv = self.backend_argv(exe)
        if harness.SETPRIV:
            argv = [harness.SETPRIV, "--pdeathsig", "SIGKILL", "--", *argv]
        self.backend = subprocess.Popen(
            argv, cwd=str(harness.SOURCE_DIR), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
            env=clean_env(PORT=str(self.port), WSGATED_ADMIN_URL=self.admin,
                          WSGATED_ADMIN_TOKEN=self.token, CHAT_WS_URL=self.ws_url))
        self.addCleanup(self.stop_backend)
        wait_listening(self.port, self.backend, self.backend_log)

    # ------------------------------------------------------------------ helpers
    def connect(self, room: str, query: str = "", origin: str | None = None, **kw):
        url = self.ws_url.replace("{room}", room) + query
        return websockets.connect(url, origin=origin or self.origin, open_timeout=TIMEOUT,
                                  close_timeout=TIMEOUT, **kw)

    async def recv(self, ws) -> dict:
        text = await asyncio.wait_for(ws.recv(), TIMEOUT)
        self.assertIsInstance(text, str, "the chat speaks JSON in text frames")
        return json.loads(text)

    async def joined(self, ws, user: str, count: int) -> None:
        """What a new connection receives: its welcome and the room's new count."""
        got = sorted([await self.recv(ws), await self.recv(ws)], key=lambda m: m["type"])
        self.assertEqual(got, [
            {"type": "presence", "room": "lobby", "count": count, "event": "join", "user": user},
            {"type": "welcome", "user": user, "room": "lobby"}])

    async def refused(self, status: int, room: str = "lobby", query: str = "", **kw) -> Exception:
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            async with self.connect(room, query, **kw):
                pass
        self.assertEqual(cm.exception.status_code, status, f"/chat/{room}{query} {kw}")
        return cm.exception

    # ------------------------------------------------------------------ the test
    async def test_chat(self) -> None:
        await self.with_logs(self.chat)

    async def chat(self) -> None:
        loop = asyncio.get_running_loop()
        base = f"http://127.0.0.1:{self.port}"
        status, headers, body = await loop.run_in_executor(None, http_get, base + "/")
        self.assertEqual((status, headers["content-type"]), (200, "text/html; charset=utf-8"))
        self.assertIn(b'<script src="chat.js"></script>', body)
        status, headers, body = await loop.run_in_executor(None, http_get, base + "/chat.js")
        self.assertEqual((status, headers["content-type"]), (200, "text/javascript; charset=utf-8"))
        self.assertEqual(body, (CHAT / "public" / "chat.js").read_bytes())
        status, _, body = await loop.run_in_executor(None, http_get, base + "/config.json")
        self.assertEqual((status, json.loads(body)), (200, {"ws_url": self.ws_url}))
        status, _, _ = await loop.run_in_executor(None, http_get, base + "/../gateway.yaml")
        self.assertEqual(status, 404)

        # The hook's refusals reach the client as the hook wrote them; the route's origins.
        await self.refused(401)                                   # no name
        await self.refused(401, query="?name=")                   # empty
        await self.refused(401, query="?name=" + "x" * 33)        # too long
        await self.refused(401, query="?name=a%20b")              # outside the safe set
        await self.refused(401, query="?name=%C3%A9")
        await self.refused(400, room="a%20b", query="?name=ann")  # a bad room
        await self.refused(403, query="?name=ann", origin="http://evil.example")

        async with self.connect("lobby", "?name=ann") as ann:
            await self.joined(ann, "ann", 1)
            # The cookie works as well as the query.
            async with self.connect("lobby", extra_headers={"Cookie": "x=1; chat_name=bob"}) as bob, \
                    self.connect("other", "?name=carol") as carol:
                await self.joined(bob, "bob", 2)
                self.assertEqual(await self.recv(ann), {"type": "presence", "room": "lobby",
                                                        "count": 2, "event": "join", "user": "bob"})
                got = sorted([await self.recv(carol), await self.recv(carol)], key=lambda m: m["type"])
                self.assertEqual([m["type"] for m in got], ["presence", "welcome"])
                self.assertEqual((got[0]["room"], got[0]["count"]), ("other", 1))

                await ann.send("  hello from ann ✓  ")
                for ws in (ann, bob):  # the whole room, the sender included
                    m = await self.recv(ws)
                    self.assertEqual({k: m[k] for k in ("type", "user", "text")},
                                     {"type": "chat", "user": "ann", "text": "hello from ann ✓"})
                    self.assertRegex(m["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                await bob.send(b"\x00binary")       # ignored
                await bob.send("   ")               # ignored
                await bob.send("é" * 501)           # refused to bob alone
                m = await self.recv(bob)
                self.assertEqual(m["type"], "error")
                self.assertIn("500", m["text"])
                await bob.send("é" * 500)           # 500 characters (1000 bytes) pass
                for ws in (ann, bob):
                    self.assertEqual((await self.recv(ws))["text"], "é" * 500)
                await carol.send("carol in another room")
                self.assertEqual((await self.recv(carol))["text"], "carol in another room")
            # bob and carol closed: ann hears bob leave, and nothing from room:other.
            self.assertEqual(await self.recv(ann), {"type": "presence", "room": "lobby",
                                                    "count": 1, "event": "leave", "user": "bob"})
            await ann.send("alone")
            self.assertEqual((await self.recv(ann))["text"], "alone")

        # Every event answered 2xx: connect, the messages (binary ones too), disconnect: ann
        # 1+2+1, bob 1+4+1, carol 1+1+1 (the refused handshakes never became connections).
        want = {"ok": 13.0}
        got = await settled_outcomes(self.admin, want, "chat")
        self.assertEqual(got, want, 'wsgate_backend_requests_total{backend="chat"}')


class PythonChatTest(ChatExample, unittest.IsolatedAsyncioTestCase):
    interpreter = "python3"

    def backend_argv(self, exe: str) -> list[str]:
        return [sys.executable, str(CHAT / "backend.py")]


class PhpChatTest(ChatExample, unittest.IsolatedAsyncioTestCase):
    interpreter = "php"

    def backend_argv(self, exe: str) -> list[str]:
        return [exe, "-S", f"127.0.0.1:{self.port}", str(CHAT / "backend.php")]


class NodeChatTest(ChatExample, unittest.IsolatedAsyncioTestCase):
    interpreter = "node"

    def backend_argv(self, exe: str) -> list[str]:
        return [exe, str(CHAT / "backend.js")]


class RunScriptTest(unittest.IsolatedAsyncioTestCase):
    """examples/chat/run: both start, the address is printed, Ctrl-C stops both."""

    async def test_run_node(self) -> None:
        if not shutil.which("node"):
            self.skipTest("node is not installed")
        ports = {"CHAT_HTTP_PORT": free_port(), "CHAT_WS_PORT": free_port(),
                 "CHAT_ADMIN_PORT": free_port()}
        env = clean_env(WSGATED_BIN=harness.BIN, **harness.SAN_ENV,
                        **{k: str(v) for k, v in ports.items()})
        env.pop("WSGATED_ADMIN_TOKEN", None)  # the script makes one
        proc = subprocess.Popen([str(CHAT / "run"), "node"], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group, as in a terminal

        def kill_group() -> None:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
            proc.stdout.close()
        self.addCleanup(kill_group)
        output = []
        loop = asyncio.get_running_loop()

        async def line_with(pattern: str) -> str:
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                line = await asyncio.wait_for(loop.run_in_executor(None, proc.stdout.readline),
                                              TIMEOUT)
                if not line:
                    break
                output.append(line.decode("utf-8", "replace"))
                if re.search(pattern, output[-1]):
                    return output[-1]
            raise AssertionError(f"no line matching {pattern!r}:\n{''.join(output)}")

        await line_with(rf"open http://127\.0\.0\.1:{ports['CHAT_HTTP_PORT']}/ in two browser windows")
        url = f"ws://127.0.0.1:{ports['CHAT_WS_PORT']}/chat/lobby?name=dora"
        async with websockets.connect(url, origin=f"http://127.0.0.1:{ports['CHAT_HTTP_PORT']}",
                                      open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
            got = sorted([json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(2)],
                         key=lambda m: m["type"])
            self.assertEqual([m["type"] for m in got], ["presence", "welcome"])
            await ws.send("hi")
            self.assertEqual(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["text"], "hi")
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            self.assertEqual(ws.close_code, 1001, "the gateway drained")
        rest = await loop.run_in_executor(None, proc.stdout.read)
        code = await loop.run_in_executor(None, proc.wait, TIMEOUT)
        self.assertEqual(code, 130, "".join(output) + rest.decode("utf-8", "replace"))
        for port in ports.values():
            with self.assertRaises(OSError, msg=f"port {port} still open after Ctrl-C"):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()


if __name__ == "__main__":
    unittest.main()
