"""test_examples_stream: the chat examples of examples/stream/ behind wsgated's stream backend
(docs/backends.md#stream-backends), in Python (asyncio) and Node.js.

For each: start the example on a Unix socket in a temp dir, start wsgated (two workers, so two
streams) with route /chat/{room} -> that backend, and chat through real WebSocket clients
(Debian's python3-websockets): a welcome naming the connection, a message published to the room
excluding its sender, nothing for a client of another room, "/quit" closed 4000 "bye". Then the
example is killed and restarted: the clients stay connected and the chat goes on (the replay
rebuilt the example's state).

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_examples_stream
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import time
import unittest

import websockets

import harness

TIMEOUT = 10.0
EXAMPLES = harness.SOURCE_DIR / "examples" / "stream"
CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{28}")


def config(sock: str) -> str:
    return ("server:\n  workers: 2\n  listen:\n    - address: \"127.0.0.1:0\"\n"
            "  log: {level: info, format: text}\n"
            'admin:\n  listen: "127.0.0.1:0"\n'
            f"backends:\n  chat: {{type: stream, path: \"{sock}\", timeout: 10s}}\n"
            "routes:\n  - path: /chat/{room}\n    backend: chat\n    rooms: [\"room:{room}\"]\n")


class StreamExampleChat:
    interpreter = ""
    script = ""

    def setUp(self) -> None:
        self.exe = shutil.which(self.interpreter)
        if not self.exe:
            self.skipTest(f"{self.interpreter} is not installed")
        self.tmp = harness.temp_dir(self.addCleanup)
        self.sock = os.path.join(self.tmp, "chat.sock")
        self.start_backend()
        self.gw = harness.start_gateway(config(self.sock), self.addCleanup, tmp=self.tmp)

    def start_backend(self) -> None:
        argv = [self.exe, str(EXAMPLES / self.script), "--unix", self.sock]
        if harness.SETPRIV:
            argv = [harness.SETPRIV, "--pdeathsig", "SIGKILL", "--", *argv]
        self.log = open(os.path.join(self.tmp, "backend.log"), "ab")
        self.addCleanup(self.log.close)
        self.backend = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_backend)
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(self.sock):
            if self.backend.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{argv} is not listening")
            time.sleep(0.05)

    def stop_backend(self) -> None:
        if self.backend.poll() is None:
            self.backend.kill()
            self.backend.wait(5)

    async def recv(self, ws):
        return await asyncio.wait_for(ws.recv(), TIMEOUT)

    def connect(self, room: str):
        return websockets.connect(self.gw.url(0, f"/chat/{room}"), open_timeout=TIMEOUT,
                                  close_timeout=TIMEOUT)

    async def welcome(self, ws, room: str) -> str:
        text = await self.recv(ws)
        m = re.fullmatch(rf"welcome to {room}, (\S+)", text)
        self.assertIsNotNone(m, f"welcome: {text!r}")
        self.assertRegex(m[1], CONNECTION_ID)
        return m[1]

    async def test_chat_through_the_example(self) -> None:
        async with contextlib.AsyncExitStack() as clients:
            a, b, c = [await clients.enter_async_context(self.connect(r))
                       for r in ("lobby", "lobby", "other")]
            id_a = await self.welcome(a, "lobby")
            id_b = await self.welcome(b, "lobby")
            await self.welcome(c, "other")
            await a.send("hello from A ✓")
            self.assertEqual(await self.recv(b), f"{id_a}: hello from A ✓")
            await b.send("hi A")
            self.assertEqual(await self.recv(a), f"{id_b}: hi A", "A never gets its own message")
            # The example dies and comes back: the clients stay, the replay rebuilds its state.
            self.stop_backend()
            os.unlink(self.sock)
            self.start_backend()
            deadline = time.monotonic() + TIMEOUT
            while True:
                await a.send("after restart")
                try:
                    got = await asyncio.wait_for(b.recv(), 1.0)
                    break
                except asyncio.TimeoutError:
                    self.assertLess(time.monotonic(), deadline, "the chat did not resume")
            self.assertEqual(got, f"{id_a}: after restart")
            await a.send("/quit")
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await self.recv(a)
            self.assertEqual((a.close_code, a.close_reason), (4000, "bye"))
            with self.assertRaises(asyncio.TimeoutError):  # room:other got nothing of it
                await asyncio.wait_for(c.recv(), 0.3)


class PythonStreamExampleTest(StreamExampleChat, unittest.IsolatedAsyncioTestCase):
    interpreter = "/usr/bin/python3"
    script = "chat_backend.py"


class NodeStreamExampleTest(StreamExampleChat, unittest.IsolatedAsyncioTestCase):
    interpreter = "node"
    script = "chat_backend.js"


if __name__ == "__main__":
    unittest.main()
