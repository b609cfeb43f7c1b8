"""test_wsbench: bench/wsbench, the load generator, runs every mode against real servers.

A smoke test so the benchmark does not rot (issue 8): each mode for about half a second on
tiny sizes against a real wsgated from inline YAML (a plain and a TLS listener, /echo, a
/deflate route with permessage-deflate, a /chat/{room} route that puts clients in a room, the
control API), `echo tcp://` against bench/wsbench's tcp_echo, and fanout's WebSocket publisher
against a small broadcast server (Debian's python3-websockets; wsgated does not broadcast what
a client sends). It checks correctness only — ops > 0, no errors, bytes back == bytes sent,
every subscriber reached — never speed. wsbench and tcp_echo are built next to wsgated.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_wsbench
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import threading
import unittest
from pathlib import Path

import websockets

import harness

TOKEN = secrets.token_urlsafe(18)
SHORT = ["--warmup", "0.1", "--duration", "0.5", "--drain", "3", "--quiet"]
_ADMIN = re.compile(r"admin listening on (\S+):(\d+) \(http\)$")


def tool(name: str) -> str:
    env = os.environ.get(f"{name.upper()}_BIN")
    if env:
        return env
    p = Path(harness.BIN).resolve().parent / name
    if not p.exists():
        raise RuntimeError(f"{name} not found next to {harness.BIN} (WSGATED_BENCH=OFF?)")
    return str(p)


WSBENCH = tool("wsbench")
TCP_ECHO = tool("tcp_echo")


def gateway_yaml(certs: harness.Certs) -> str:
    return f"""server:
  workers: 2
  listen:
    - address: "127.0.0.1:0"
    - address: "127.0.0.1:0"
      tls: {{cert: "{certs.cert}", key: "{certs.key}"}}
  log: {{level: info, format: text}}
admin:
  listen: "127.0.0.1:0"
  token: "{TOKEN}"
routes:
  - path: /echo
    backend: echo
  - path: /deflate
    backend: echo
    compression: {{enabled: true}}
  - path: /chat/{{room}}
    backend: echo
    rooms: ["room:{{room}}"]
"""


class Broadcaster:
    """A WebSocket server that sends every message it gets to every client (like `ws` demos)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise AssertionError("broadcast server did not start")

    def _run(self):
        asyncio.set_event_loop(self.loop)
        clients = set()

        async def handler(ws, path=None):
            clients.add(ws)
            try:
                async for m in ws:
                    websockets.broadcast(clients, m)
            finally:
                clients.discard(ws)

        async def main():
            self.stop = asyncio.Event()
            async with websockets.serve(handler, "127.0.0.1", 0) as server:
                self.port = server.sockets[0].getsockname()[1]
                self.ready.set()
                await self.stop.wait()

        self.loop.run_until_complete(main())

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


class WsbenchModes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = harness.temp_dir(cls.addClassCleanup)
        certs = harness.make_certs(d)
        cls.gw = harness.start_gateway(gateway_yaml(certs), cls.addClassCleanup, tmp=d,
                                       expect_listeners=2)
        admin = next(m for m in (_ADMIN.search(line) for line in cls.gw.lines) if m)
        cls.admin = f"http://{admin[1]}:{admin[2]}"
        cls.echo = subprocess.Popen([TCP_ECHO], stdout=subprocess.PIPE, text=True)
        cls.addClassCleanup(cls.echo.wait, 5)
        cls.addClassCleanup(cls.echo.kill)
        line = cls.echo.stdout.readline()
        cls.echo_port = int(re.search(r"listening on [\d.]+:(\d+)", line)[1])
        cls.bcast = Broadcaster()
        cls.addClassCleanup(cls.bcast.close)

    def bench(self, mode: str, url: str, *args: str, expect_rc: int = 0) -> dict:
        r = subprocess.run([WSBENCH, mode, url, *SHORT, *args], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, expect_rc, f"wsbench {mode} {url}: {r.stderr}\n{r.stdout}")
        out = json.loads(r.stdout)
        self.assertEqual((out["tool"], out["schema"], out["mode"]), ("wsbench", 1, mode))
        return out

    def assert_echoed(self, out: dict, connections: int):
        self.assertEqual(out["errors"]["total"], 0, out["errors"])
        self.assertGreater(out["ops"], 0)
        self.assertEqual(out["latency_us"]["samples"], out["ops"])
        self.assertEqual(out["connections"]["established"], connections)
        t = out["totals"]
        self.assertGreater(t["bytes_sent"], 0)
        self.assertEqual(t["bytes_received"], t["bytes_sent"], t)
        self.assertEqual(t["messages_received"], t["messages_sent"], t)

    def test_echo_ws_pipelined(self):
        out = self.bench("echo", self.gw.url(0, "/echo"), "-c", "4", "-s", "32", "-d", "8")
        self.assert_echoed(out, 4)
        self.assertEqual(out["messages_per_s"], out["ops_per_s"])

    def test_echo_ws_batched_refill(self):
        out = self.bench("echo", self.gw.url(0, "/echo"), "-c", "2", "-d", "8", "--batch", "4")
        self.assert_echoed(out, 2)
        self.assertEqual(out["params"]["batch"], 4)

    def test_echo_ws_large_messages_use_the_64_bit_length(self):
        out = self.bench("echo", self.gw.url(0, "/echo"), "-c", "2", "-s", "70000", "-d", "2")
        self.assert_echoed(out, 2)

    def test_echo_wss(self):
        out = self.bench("echo", self.gw.url(1, "/echo"), "-c", "2", "-d", "4")
        self.assert_echoed(out, 2)
        self.assertTrue(out["tls"]["version"].startswith("TLSv1."), out["tls"])

    def test_echo_raw_tcp_against_tcp_echo(self):
        out = self.bench("echo", f"tcp://127.0.0.1:{self.echo_port}", "-c", "4", "-d", "8",
                         "--threads", "2")
        self.assert_echoed(out, 4)

    def test_deflate_replies_inflate_to_what_was_sent(self):
        out = self.bench("deflate", self.gw.url(0, "/deflate"), "-c", "2", "-s", "1KiB", "-d", "4")
        self.assert_echoed(out, 2)
        self.assertEqual(out["deflate"]["negotiated"], 2)
        self.assertGreater(out["deflate"]["compressed_replies"], 0)
        self.assertLess(out["deflate"]["frame_payload_bytes"], 1024)

    def test_deflate_against_a_route_without_compression_is_a_handshake_error(self):
        out = self.bench("deflate", self.gw.url(0, "/echo"), "-c", "1", expect_rc=1)
        self.assertEqual(out["errors"]["handshake"], 1)
        self.assertEqual(out["ops"], 0)

    def test_idle_holds_every_connection(self):
        out = self.bench("idle", self.gw.url(0, "/echo"), "-c", "50")
        self.assertEqual(out["errors"]["total"], 0, out["errors"])
        self.assertEqual(out["ops"], 50)
        self.assertEqual(out["connections"]["established"], 50)
        self.assertEqual(out["connections"]["held"], 50)

    def test_storm_loops_connect_upgrade_close(self):
        out = self.bench("storm", self.gw.url(0, "/echo"), "-c", "2")
        self.assertEqual(out["errors"]["total"], 0, out["errors"])
        self.assertGreater(out["handshakes"], 0)
        self.assertEqual(out["handshakes"], out["ops"])
        self.assertGreater(out["cycles"], 0)

    def test_tls_storm(self):
        out = self.bench("tls-storm", self.gw.url(1, "/echo"), "-c", "2")
        self.assertEqual(out["errors"]["total"], 0, out["errors"])
        self.assertGreater(out["handshakes"], 0)
        self.assertIn("version", out["tls"])

    def assert_fanout(self, out: dict, subscribers: int):
        self.assertEqual(out["errors"]["total"], 0, out["errors"])
        self.assertEqual(out["subscribers"], subscribers)
        total = 0
        for step in out["steps"]:
            self.assertGreater(step["publishes"], 0, step)
            self.assertEqual(step["reached_min"], 1.0, step)
            self.assertEqual(step["reached_mean"], 1.0, step)
            self.assertEqual(step["deliveries"], step["publishes"] * subscribers, step)
            total += step["deliveries"]
        self.assertEqual(out["ops"], total)

    def test_fanout_through_the_control_api(self):
        out = self.bench("fanout", self.gw.url(0, "/chat/lobby"), "-c", "20",
                         "--publish-http", f"{self.admin}/v1/rooms/room:lobby/messages",
                         "--token", TOKEN, "--rates", "20,40")
        self.assert_fanout(out, 20)
        self.assertEqual(out["publisher"], "http")
        self.assertEqual(len(out["steps"]), 2)

    def test_fanout_through_a_broadcasting_peer(self):
        url = f"ws://127.0.0.1:{self.bcast.port}/"
        out = self.bench("fanout", url, "-c", "10", "--publish-ws", url, "--rates", "20")
        self.assert_fanout(out, 10)
        self.assertEqual(out["publisher"], "ws")

    def test_http_requests(self):
        out = self.bench("http", f"{self.admin}/v1/rooms/nobody/messages", "-c", "2", "-d", "2",
                         "--header", f"Authorization: Bearer {TOKEN}")
        self.assertEqual(out["errors"]["total"], 0, out["errors"])
        self.assertGreater(out["ops"], 0)
        self.assertEqual(out["totals"]["messages_received"], out["totals"]["messages_sent"])

    def test_nothing_listening_is_counted_and_bounded(self):
        out = self.bench("echo", "ws://127.0.0.1:1/echo", "-c", "2", expect_rc=1)
        self.assertEqual(out["errors"]["connect"], 2)
        self.assertEqual(out["connections"]["failed"], 2)

    def test_bad_command_line_exits_2_without_json(self):
        r = subprocess.run([WSBENCH, "nonsense", "ws://127.0.0.1:1/"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("unknown mode", r.stderr)


if __name__ == "__main__":
    unittest.main()
