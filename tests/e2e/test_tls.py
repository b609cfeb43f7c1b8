"""TLS on a public listener (our own OpenSSL driving, net/tls_engine): what clients that misbehave
or do the rarer parts of TLS get. Real clients: Python's ssl and `openssl s_client` (the only
client at hand that sends a KeyUpdate or renegotiates on command)."""
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import unittest
import urllib.request

import harness

TIMEOUT = 10
UPGRADE = (b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


def client_frame(payload: bytes, opcode: int = 0x2) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_exact(s, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise AssertionError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def read_frame(s) -> tuple[int, bytes]:
    b0, b1 = read_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(read_exact(s, 2), "big")
    elif n == 127:
        n = int.from_bytes(read_exact(s, 8), "big")
    return b0 & 0x0F, read_exact(s, n)


def client_hello() -> bytes:
    """A real ClientHello, from Python's ssl through memory BIOs."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with_want = None
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError as e:
        with_want = e
    assert with_want is not None
    return outgoing.read()


class TlsTest(unittest.TestCase):
    def setUp(self) -> None:
        d = harness.temp_dir(self.addCleanup)
        self.pki = harness.make_certs(d)
        tls = {"address": "127.0.0.1:0", "tls": {"cert": self.pki.cert, "key": self.pki.key}}
        self.gw = harness.start_gateway(
            harness.echo_config(listen=[tls], extra_server="  limits: {handshake_timeout: 1s}\n"),
            self.addCleanup, tmp=d)
        self.addr = self.gw.addr(0)

    def failures(self, reason: str) -> float:
        with urllib.request.urlopen(harness.admin_base(self.gw) + "/metrics", timeout=TIMEOUT) as res:
            text = res.read().decode()
        m = re.search(rf'^wsgate_handshake_failures_total\{{reason="{reason}"\}} (\S+)$', text, re.M)
        return float(m[1]) if m else 0.0

    def wait_failures(self, reason: str, at_least: float) -> float:
        deadline = time.monotonic() + TIMEOUT
        while (n := self.failures(reason)) < at_least and time.monotonic() < deadline:
            time.sleep(0.05)
        return n

    def client_context(self, version=None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        if version:
            ctx.minimum_version = ctx.maximum_version = version
        return ctx

    def connect(self, version=None, ragged_ok=True, session=None, ctx=None) -> ssl.SSLSocket:
        ctx = ctx or self.client_context(version)
        raw = socket.create_connection(self.addr, timeout=TIMEOUT)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1", suppress_ragged_eofs=ragged_ok,
                            session=session)
        s.sendall(UPGRADE)
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        return s

    def s_client(self, version: str, commands: list[bytes]) -> bytes:
        """`openssl s_client -msg`: the upgrade, then each command a line on its own, then a
        text frame "after"; what it printed."""
        p = subprocess.Popen(["openssl", "s_client", "-connect", f"{self.addr[0]}:{self.addr[1]}", version,
                              "-msg", "-CAfile", self.pki.ca], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            for chunk in [UPGRADE, *commands, client_frame(b"after", 0x1)]:
                p.stdin.write(chunk)
                p.stdin.flush()
                time.sleep(0.4)  # s_client takes a command only at the start of a read
        except BrokenPipeError:
            pass
        time.sleep(0.3)
        p.terminate()
        return p.communicate(timeout=TIMEOUT)[0]

    def test_a_key_update_on_tls13_is_answered_and_the_connection_goes_on(self) -> None:
        out = self.s_client("-tls1_3", [b"K\n"])
        self.assertIn(b">>> TLS 1.3, Handshake [length 0005], KeyUpdate", out)
        self.assertIn(b"<<< TLS 1.3, Handshake [length 0005], KeyUpdate", out, "the update it asked for")
        self.assertIn(b"\x81\x05after", out, "the echo, under the new keys")

    def test_renegotiation_on_tls12_is_refused(self) -> None:
        out = self.s_client("-tls1_2", [b"R\n"])
        self.assertIn(b"RENEGOTIATING", out)
        self.assertIn(b"warning no_renegotiation", out)
        hellos = re.findall(rb"<<< TLS 1.2, Handshake \[length [0-9a-f]+\], ServerHello\n", out)
        self.assertEqual(len(hellos), 1, "the first handshake's only: no second one")

    def test_a_client_that_stops_mid_handshake_is_dropped_at_the_handshake_timeout(self) -> None:
        before = self.failures("timeout")
        hello = client_hello()
        with socket.create_connection(self.addr, timeout=TIMEOUT) as s:
            s.sendall(hello[: len(hello) // 2])
            start = time.monotonic()
            self.assertEqual(s.recv(100), b"", "closed, nothing said")
            took = time.monotonic() - start
        self.assertGreater(took, 0.7)
        self.assertLess(took, 3.0)
        self.assertEqual(self.wait_failures("timeout", before + 1), before + 1)

    def test_garbage_instead_of_a_client_hello_is_answered_with_an_alert(self) -> None:
        before = self.failures("tls")
        with socket.create_connection(self.addr, timeout=TIMEOUT) as s:
            s.sendall(b"\x16\x03\x01\x00\x04\x02\x00\x00\x00")  # a ServerHello, from a client
            start = time.monotonic()
            answer = s.recv(100)
            self.assertLess(time.monotonic() - start, 0.9, "at once, not at the handshake timeout")
        self.assertEqual(answer[:1], b"\x15", f"an alert record: {answer!r}")
        self.assertEqual(self.wait_failures("tls", before + 1), before + 1)

    def test_a_record_that_does_not_decrypt_before_the_request_is_a_tls_failure(self) -> None:
        tls_before, bad_before = self.failures("tls"), self.failures("bad_request")
        raw = socket.create_connection(self.addr, timeout=TIMEOUT)
        with self.client_context().wrap_socket(raw, server_hostname="127.0.0.1") as s:
            # An application-data record the server cannot decrypt, on the socket under TLS.
            os.write(s.fileno(), b"\x17\x03\x03\x00\x20" + os.urandom(32))
            with self.assertRaises((ssl.SSLError, ConnectionError)) as cm:
                while s.recv(100):
                    pass
        self.assertIn("BAD_RECORD_MAC", str(cm.exception).upper().replace(" ", "_"), "our alert")
        self.assertEqual(self.wait_failures("tls", tls_before + 1), tls_before + 1)
        self.assertEqual(self.failures("bad_request"), bad_before, "not an HTTP matter: no 400 attempted")

    def test_plain_http_on_the_tls_port_is_answered_400_in_plain_http(self) -> None:
        before = self.failures("tls")
        answer = b""
        with socket.create_connection(self.addr, timeout=TIMEOUT) as s:
            s.sendall(UPGRADE)  # ws:// to a wss:// port
            while chunk := s.recv(4096):
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer)
        self.assertIn(b"this port speaks TLS: use wss://", answer)
        self.assertEqual(self.wait_failures("tls", before + 1), before + 1)

    def test_large_messages_in_many_small_records_echo_whole(self) -> None:
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.connect(version) as s:
                for size, piece in ((64 * 1024, 700), (1024 * 1024, 16 * 1024 - 3)):
                    payload = os.urandom(size)
                    frame = client_frame(payload)
                    for at in range(0, len(frame), piece):  # each sendall is a record of its own
                        s.sendall(frame[at:at + piece])
                    self.assertEqual(read_frame(s), (0x2, payload), (version, size))

    def test_a_close_ends_with_our_close_notify_after_the_close_frame(self) -> None:
        with self.connect(ragged_ok=False) as s:
            s.sendall(client_frame((1000).to_bytes(2, "big"), 0x8))
            self.assertEqual(read_frame(s), (0x8, (1000).to_bytes(2, "big")))
            # b"" is a close_notify; a TCP end without one would raise SSLEOFError here.
            self.assertEqual(s.recv(100), b"")

    def test_a_ticket_from_before_a_reload_resumes_after_it(self) -> None:
        # A reload builds new TLS contexts; the ticket keys are the process's (net/ticket_keys).
        for n, version in enumerate((ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3), start=1):
            ctx = self.client_context(version)  # a session resumes only with its own context
            with self.connect(ctx=ctx) as s:
                s.sendall(client_frame(b"before"))
                self.assertEqual(read_frame(s), (0x2, b"before"))  # the 1.3 ticket has arrived
                session = s.session
            self.gw.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + TIMEOUT
            while self.gw.stderr.count("configuration reloaded") < n and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual(self.gw.stderr.count("configuration reloaded"), n, self.gw.stderr)
            with self.connect(ctx=ctx, session=session) as s:
                self.assertTrue(s.session_reused, f"{version}: resumed after the reload")

    def test_many_connections_at_once_each_echo_their_own(self) -> None:
        socks = [self.connect() for _ in range(20)]
        try:
            for i, s in enumerate(socks):
                s.sendall(client_frame(f"conn {i}".encode() * 100))
            for i, s in enumerate(socks):
                self.assertEqual(read_frame(s), (0x2, f"conn {i}".encode() * 100))
        finally:
            for s in socks:
                s.close()


if __name__ == "__main__":
    unittest.main()
