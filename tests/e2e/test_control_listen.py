"""test_control_listen: admin.control_listen (SPEC §6, docs/configuration.md).

The control API on its own listener — a Unix socket (mode 0660) or host:port — while
admin.listen keeps /metrics, /healthz and /readyz: each listener answers 404 (naming where to
go) for the other's endpoints; a stale socket file is replaced, a live one is refused (exit 1,
the key named); the file is removed on exit; a reload that adds, moves or removes
control_listen, or moves admin.listen, moves the endpoints without a restart.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_control_listen
"""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import stat
import subprocess
import time
import unittest
from pathlib import Path

import harness

TOKEN = "control-listen-test-token"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 5.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def call(conn: http.client.HTTPConnection, method: str, path: str, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request(method, path, headers=headers)
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body


def config(admin: str) -> str:
    return ("server:\n  workers: 1\n  listen:\n    - address: \"127.0.0.1:0\"\n"
            "  log: {level: info, format: text}\n"
            f"admin:\n  token: {TOKEN}\n{admin}"
            "routes:\n  - {path: /echo, backend: echo}\n")


def admin_ports(gw) -> list[int]:
    return [int(m[1]) for m in re.finditer(r"admin listening on 127\.0\.0\.1:(\d+)", gw.stderr)]


def control_tcp_ports(gw) -> list[int]:
    return [int(m[1]) for m in re.finditer(r"control API listening on 127\.0\.0\.1:(\d+)", gw.stderr)]


def reload(gw, text: str) -> None:
    Path(gw.config_path).write_text(text)
    before = gw.stderr.count("configuration reloaded")
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while gw.stderr.count("configuration reloaded") == before:
        if time.time() > deadline or "reload rejected" in gw.stderr:
            raise AssertionError(f"no reload:\n{gw.stderr}")
        time.sleep(0.02)


class ControlListen(unittest.TestCase):
    def setUp(self):
        self.dir = harness.temp_dir(self.addCleanup)
        self.sock = os.path.join(self.dir, "control.sock")

    def start(self, admin: str):
        return harness.start_gateway(config(admin), self.addCleanup, tmp=self.dir)

    def test_unix_socket_serves_v1_and_admin_listen_the_rest(self):
        gw = self.start(f'  listen: "127.0.0.1:0"\n  control_listen: "unix:{self.sock}"\n')
        mode = stat.S_IMODE(os.stat(self.sock).st_mode)
        self.assertTrue(stat.S_ISSOCK(os.stat(self.sock).st_mode))
        self.assertEqual(mode, 0o660, oct(mode))
        status, body = call(UnixHTTPConnection(self.sock), "GET", "/v1/rooms/lobby")
        self.assertEqual((status, json.loads(body)["members"]), (200, 0), body)
        self.assertEqual(call(UnixHTTPConnection(self.sock), "GET", "/v1/rooms/lobby", token="no")[0], 401)
        status, body = call(UnixHTTPConnection(self.sock), "GET", "/metrics")
        self.assertEqual(status, 404)
        self.assertIn("only the control API", body)

        port = admin_ports(gw)[0]
        admin = lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        status, body = call(admin(), "GET", "/v1/rooms/lobby")
        self.assertEqual(status, 404, body)
        self.assertIn("admin.control_listen", body)
        for p in ("/metrics", "/healthz", "/readyz"):
            self.assertEqual(call(admin(), "GET", p, token=None)[0], 200, p)

        self.assertEqual(gw.stop(), 0)
        self.assertFalse(os.path.exists(self.sock), "the socket file is removed on exit")

    def test_stale_socket_is_replaced_and_a_live_one_refused(self):
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(self.sock)
        stale.close()  # the file stays, nobody listens: what a killed process leaves
        gw = self.start(f'  listen: "127.0.0.1:0"\n  control_listen: "unix:{self.sock}"\n')
        self.assertEqual(call(UnixHTTPConnection(self.sock), "GET", "/v1/rooms/x")[0], 200)
        # A second gateway on the same socket must not steal it.
        other = os.path.join(self.dir, "second.yaml")
        Path(other).write_text(config(f'  listen: "127.0.0.1:0"\n  control_listen: "unix:{self.sock}"\n'))
        r = subprocess.run([harness.BIN, "--config", other], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"cannot listen on unix:{self.sock}: another process listens there (admin.control_listen)",
                      r.stderr)
        self.assertEqual(call(UnixHTTPConnection(self.sock), "GET", "/v1/rooms/x")[0], 200, "still ours")
        gw.stop()

    def test_bad_values_are_config_errors(self):
        cases = {
            'control_listen: "unix:relative.sock"': "admin.control_listen: socket path must be absolute",
            'control_listen: "nowhere"': "admin.control_listen:",
        }
        for line, want in cases.items():
            f = os.path.join(self.dir, "bad.yaml")
            Path(f).write_text(config(f'  listen: "127.0.0.1:9999"\n  {line}\n'))
            r = subprocess.run([harness.BIN, "--config", f, "--check"], capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 1, line)
            self.assertIn(want, r.stderr, line)
        Path(f).write_text(config('  listen: "127.0.0.1:9999"\n  control_listen: "127.0.0.1:9999"\n'))
        r = subprocess.run([harness.BIN, "--config", f, "--check"], capture_output=True, text=True, timeout=20)
        self.assertIn("is admin.listen's", r.stderr)

    def test_reload_adds_moves_and_removes_the_control_listener(self):
        gw = self.start('  listen: "127.0.0.1:0"\n')
        port = admin_ports(gw)[0]
        admin = lambda p=port: http.client.HTTPConnection("127.0.0.1", p, timeout=5)
        self.assertEqual(call(admin(), "GET", "/v1/rooms/x")[0], 200, "/v1 on admin.listen at first")

        reload(gw, config(f'  listen: "127.0.0.1:0"\n  control_listen: "unix:{self.sock}"\n'))
        self.assertEqual(call(UnixHTTPConnection(self.sock), "GET", "/v1/rooms/x")[0], 200)
        self.assertEqual(call(admin(), "GET", "/v1/rooms/x")[0], 404, "/v1 left admin.listen")

        reload(gw, config('  listen: "127.0.0.1:0"\n  control_listen: "127.0.0.1:0"\n'))
        self.assertFalse(os.path.exists(self.sock), "the old socket is closed and removed")
        tcp = control_tcp_ports(gw)[-1]
        self.assertEqual(call(admin(tcp), "GET", "/v1/rooms/x")[0], 200, "the control API on TCP")
        self.assertEqual(call(admin(tcp), "GET", "/healthz", token=None)[0], 404)

        reload(gw, config('  listen: "127.0.0.1:0"\n'))
        self.assertEqual(call(admin(), "GET", "/v1/rooms/x")[0], 200, "/v1 back on admin.listen")
        with self.assertRaises(OSError):
            call(admin(tcp), "GET", "/v1/rooms/x")

    def test_reload_moves_admin_listen(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            fixed = s.getsockname()[1]
        gw = self.start('  listen: "127.0.0.1:0"\n')
        old = admin_ports(gw)[0]
        reload(gw, config(f'  listen: "127.0.0.1:{fixed}"\n'))
        self.assertEqual(admin_ports(gw)[-1], fixed)
        self.assertEqual(call(http.client.HTTPConnection("127.0.0.1", fixed, timeout=5), "GET", "/healthz",
                              token=None)[0], 200)
        with self.assertRaises(OSError):
            call(http.client.HTTPConnection("127.0.0.1", old, timeout=2), "GET", "/healthz", token=None)


if __name__ == "__main__":
    unittest.main()
