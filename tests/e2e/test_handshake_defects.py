"""test_handshake_defects: the four defects an outside attack suite found (issue 16), each
against a real gateway, a real auth hook and a real HTTP backend:

- a request without Host (or with two) is 400 with Connection: close and a Content-Type,
  counted as handshake_failures_total{reason="bad_host"}, and the auth hook is never asked
  (before the fix: the hook was asked, the auth counted "ok", then Beast wrote a bare 400 that
  no reason counted);
- a second Sec-WebSocket-Key (RFC 6455 §11.3.1) or Sec-WebSocket-Version (§11.3.5) is 400,
  counted, before the hook (before: 101 with the first key);
- a route parameter that is not UTF-8 once decoded (/app/%ff%fe%80) does not match the route
  (404), so it never reaches a backend; a UTF-8 one reaches it as JSON text in WSGate-Params
  (before: the raw bytes, not JSON text);
- the admin listener checks the bearer token on the request header, before the body: an
  unauthenticated 2 MB POST is 401, not 413 (before: 413); with the token the same POST is 413
  (over max_message_size), and `Expect: 100-continue` gets its 100 at once.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_handshake_defects
"""
from __future__ import annotations

import json
import secrets
import socket
import time
import unittest

import harness
from test_auth_hook import Admin, HttpServer, backend_answer, gateway_yaml, json_answer, raw_request, read_head

TIMEOUT = 10.0


def raw_answer(addr, request: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    """(status, headers by lower-case name, body) of the answer to `request` on a new socket."""
    a = raw_request(addr, request, TIMEOUT)
    headers: dict[str, list[str]] = {}
    for k, v in a.headers:
        headers.setdefault(k.lower(), []).append(v)
    return a.status, headers, a.body


def upgrade_request(target: str = "/app/lobby", host: list[str] | None = None,
                    extra: list[str] | None = None) -> bytes:
    lines = [f"GET {target} HTTP/1.1"] + [f"Host: {h}" for h in (host if host is not None else ["x"])]
    lines += ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
              "Sec-WebSocket-Version: 13"] + (extra or [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Handshake(unittest.TestCase):
    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        self.hook = HttpServer(lambda call: json_answer({"user": "ann"}), self.addCleanup)
        self.backend = HttpServer(backend_answer, self.addCleanup)
        yaml = gateway_yaml(self.hook.url(), self.token, backend_url=self.backend.url("/ws"))
        self.gw = harness.start_gateway(yaml, self.addCleanup)
        self.addr = self.gw.addr()
        self.admin = Admin(self.gw, self.token)

    def refused(self, request: bytes, status: int, reason: str) -> None:
        before = self.admin.counter("wsgate_handshake_failures_total", reason=reason)
        got, headers, body = raw_answer(self.addr, request)
        self.assertEqual(got, status, body)
        self.assertEqual(headers.get("connection"), ["close"])
        self.assertTrue(headers.get("content-type", [""])[0].startswith("text/plain"), headers)
        self.assertTrue(body, "a refusal says why")
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total", reason=reason), before + 1)

    def test_a_request_without_host_or_with_two_is_400_before_the_auth_hook(self):
        self.refused(upgrade_request(host=[]), 400, "bad_host")
        self.refused(upgrade_request(host=["a", "b"]), 400, "bad_host")
        self.refused(b"GET /app/lobby HTTP/1.1\r\n\r\n", 400, "bad_host")
        self.assertEqual(self.hook.call_count(), 0)
        self.assertEqual(self.admin.auth_results(), {})

    def test_a_second_key_or_version_is_400_before_the_auth_hook(self):
        self.refused(upgrade_request(extra=["Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=="]), 400, "bad_key")
        self.refused(upgrade_request(extra=["Sec-WebSocket-Version: 13"]), 400, "version")
        self.assertEqual(self.hook.call_count(), 0)
        # The same request with one of each upgrades (the hook is asked once).
        status, _, _ = raw_answer(self.addr, upgrade_request())
        self.assertEqual(status, 101)
        self.assertEqual(self.hook.call_count(), 1)

    def test_a_parameter_that_is_not_utf8_does_not_reach_the_backend(self):
        for target in ("/app/%ff%fe%80", "/app/%C3", "/app/%ED%A0%80"):
            status, _, _ = raw_answer(self.addr, upgrade_request(target))
            self.assertEqual(status, 404, target)
        self.assertEqual(self.hook.call_count(), 0)
        status, _, _ = raw_answer(self.addr, upgrade_request("/app/caf%C3%A9"))
        self.assertEqual(status, 101)
        calls = self.backend.wait_calls(1)
        connect = [c for c in calls if c.header("WSGate-Event") == "connect"]
        self.assertEqual(len(connect), 1, calls)
        params = connect[0].header("WSGate-Params")
        # http.server decodes header bytes as latin-1; the gateway sent UTF-8 JSON text.
        self.assertEqual(json.loads(params.encode("latin-1").decode("utf-8")), {"room": "café"})


class AdminTokenFirst(unittest.TestCase):
    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        hook = HttpServer(lambda call: json_answer({"user": "ann"}), self.addCleanup)
        self.gw = harness.start_gateway(gateway_yaml(hook.url(), self.token,
                                                     extra_server="  limits: {max_message_size: 1MiB}\n")
                                        .replace("  limits: {handshake_timeout: 5s}\n", ""), self.addCleanup)
        self.admin = Admin(self.gw, self.token)
        host, port = self.admin.base.removeprefix("http://").rsplit(":", 1)
        self.addr = (host, int(port))

    def post(self, token: str | None, size: int, expect_continue: bool = False):
        """Sends the header, then (unless the answer came first) the body; the answer's status
        and how long the header alone waited for a first answer line."""
        head = [f"POST /v1/rooms/lobby/messages HTTP/1.1", "Host: x", f"Content-Length: {size}",
                "Content-Type: application/octet-stream"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if expect_continue:
            head.append("Expect: 100-continue")
        with socket.create_connection(self.addr, timeout=TIMEOUT) as s:
            s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            s.settimeout(0.5)
            first = b""
            try:
                first = s.recv(65536)  # an answer to the header alone, if any
            except socket.timeout:
                pass
            s.settimeout(TIMEOUT)
            if first.startswith(b"HTTP/1.1 100"):
                first = first.partition(b"\r\n\r\n")[2]
                interim = True
            else:
                interim = False
            if not first:
                try:
                    s.sendall(b"x" * size)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                first = read_head(s)
            return int(first.split(b" ", 2)[1]), interim

    def test_an_unauthenticated_large_post_is_401_before_its_body_is_read(self):
        status, _ = self.post(None, 2 * 1024 * 1024)
        self.assertEqual(status, 401)
        status, _ = self.post("wrong-token", 2 * 1024 * 1024)
        self.assertEqual(status, 401)

    def test_with_the_token_a_body_over_the_limit_is_413_and_expect_continue_is_answered(self):
        status, _ = self.post(self.token, 2 * 1024 * 1024)
        self.assertEqual(status, 413)
        start = time.monotonic()
        status, interim = self.post(self.token, 2000, expect_continue=True)
        self.assertTrue(interim, "100 Continue before the body")
        self.assertEqual(status, 202)
        self.assertLess(time.monotonic() - start, 5)


if __name__ == "__main__":
    unittest.main()
