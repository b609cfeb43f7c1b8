"""test_fd_limit: wsgated at its open-file limit (issue 16).

The gateway runs with RLIMIT_NOFILE 96. Clients open and hold WebSocket connections until the
limit is reached: from then on a new client is answered at once with 503 and `Retry-After: 1`
(through a descriptor the listener keeps in reserve), not left unanswered in the kernel's
backlog; each is counted in wsgate_handshake_failures_total{reason="fd_limit"}, and the log says
so at most once a second. When clients leave, service recovers by itself: new upgrades succeed,
and the gateway still exits cleanly.

(The sanitizer build leaves out UBSan's vptr check: it needs a descriptor itself, see
CMakeLists.txt.)

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_fd_limit
"""
from __future__ import annotations

import base64
import os
import resource
import socket
import time
import unittest

import harness
from test_auth_hook import Admin

LIMIT = 96
TIMEOUT = 10.0


def upgrade(addr) -> tuple[socket.socket, bytes]:
    """A raw upgrade; the socket (kept open) and the answer's head."""
    s = socket.create_connection(addr, timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return s, data


class FdLimit(unittest.TestCase):
    def setUp(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, hard))  # inherited by the gateway
        try:
            yaml = harness.echo_config(extra_server="  heartbeat: {interval: 0}\n").replace(
                'admin:\n  listen: "127.0.0.1:0"\n', 'admin:\n  listen: "127.0.0.1:0"\n  token: "t"\n')
            self.gw = harness.start_gateway(yaml, self.addCleanup)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        self.admin = Admin(self.gw, "t")
        self.held: list[socket.socket] = []
        self.addCleanup(lambda: [s.close() for s in self.held])

    def test_at_the_limit_clients_get_503_and_service_recovers(self):
        addr = self.gw.addr()
        refused = []
        for _ in range(LIMIT + 20):
            s, head = upgrade(addr)
            if head.startswith(b"HTTP/1.1 101"):
                self.held.append(s)
                continue
            refused.append(head)
            s.close()
            if len(refused) >= 5:
                break
        self.assertGreater(len(self.held), 10)
        self.assertEqual(len(refused), 5, "at the limit new clients must be answered, not left waiting")
        for head in refused:
            self.assertTrue(head.startswith(b"HTTP/1.1 503"), head)
            self.assertIn(b"Retry-After: 1", head)
        # Half the clients leave: the admin listener (which needs a descriptor too) answers
        # again, the refusals are counted, and new clients are served.
        for s in self.held[: len(self.held) // 2]:
            s.close()
        del self.held[: len(self.held) // 2]
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                count = self.admin.counter("wsgate_handshake_failures_total", reason="fd_limit")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.assertGreaterEqual(count, 5)
        s, head = upgrade(addr)
        self.held.append(s)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        self.assertIn("out of file descriptors", self.gw.stderr)
        lines = [l for l in self.gw.stderr.splitlines() if "out of file descriptors" in l]
        self.assertLessEqual(len(lines), 3, "rate-limited to one line a second")
        for s in self.held:
            s.close()
        self.held.clear()
        self.assertEqual(self.gw.stop(), 0)


if __name__ == "__main__":
    unittest.main()
