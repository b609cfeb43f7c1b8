"""test_python_client: the Python `websockets` client (Debian's 10.4) against wsgated.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_python_client
"""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import unittest

import websockets

import harness

TIMEOUT = 10.0  # seconds for any single client step


class EchoTest(unittest.IsolatedAsyncioTestCase):
    """Echo over ws:// with the asyncio websockets client."""

    def setUp(self) -> None:
        self.gw = harness.start_gateway(harness.echo_config(), self.addCleanup)

    async def round_trip(self, ws, message):
        await asyncio.wait_for(ws.send(message), TIMEOUT)
        return await asyncio.wait_for(ws.recv(), TIMEOUT)

    async def test_text_binary_empty_64k_1m_echo(self) -> None:
        async with websockets.connect(self.gw.url(0), max_size=2 ** 21,
                                      open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
            cases = [
                "hello from python ✓",
                b"\x00\x01\x02\xfe\xff",
                "",
                b"",
                os.urandom(64 * 1024),
                "t" * (64 * 1024),
                os.urandom(1024 * 1024),  # exactly the default max_message_size
            ]
            for msg in cases:
                got = await self.round_trip(ws, msg)
                self.assertIs(type(got), type(msg), f"type of a {len(msg)}-byte message")
                self.assertEqual(got, msg, f"{len(msg)}-byte {type(msg).__name__} message")
            await ws.close(1000, "done")
            self.assertEqual(ws.close_code, 1000)

    async def test_pipelined_messages_keep_order(self) -> None:
        async with websockets.connect(self.gw.url(0), open_timeout=TIMEOUT) as ws:
            for i in range(500):
                await ws.send(f"m{i}")
            for i in range(500):
                self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), f"m{i}")

    async def test_deflate_offer_with_server_window_15_is_answered_with_it(self) -> None:
        # websockets checks the answer strictly (RFC 7692 §7.1.2.1): an offer naming
        # server_max_window_bits must be accepted by naming it, 15 too.
        from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
        gw = harness.start_gateway(harness.echo_config(routes=(
            "  - path: /deflate\n    backend: echo\n"
            "    compression: {enabled: true, threshold: 0}\n")), self.addCleanup)
        for bits in (15, 12):
            offer = ClientPerMessageDeflateFactory(server_max_window_bits=bits)
            async with websockets.connect(gw.url(0, "/deflate"), extensions=[offer],
                                          compression=None, open_timeout=TIMEOUT) as ws:
                answer = ws.response_headers["Sec-WebSocket-Extensions"]
                self.assertIn(f"server_max_window_bits={bits}", answer)
                self.assertEqual(await self.round_trip(ws, "x" * 5000), "x" * 5000)

    async def test_unknown_path_is_rejected_404(self) -> None:
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            await websockets.connect(self.gw.url(0, "/nope"), open_timeout=TIMEOUT)
        self.assertEqual(cm.exception.status_code, 404)


class TlsTest(unittest.IsolatedAsyncioTestCase):
    """wss:// with a verifying context built from the test CA."""

    def setUp(self) -> None:
        d = harness.temp_dir(self.addCleanup)
        self.pki = harness.make_certs(d)
        self.other = harness.make_certs(d, "other")
        tls = {"address": "127.0.0.1:0", "tls": {"cert": self.pki.cert, "key": self.pki.key}}
        self.gw = harness.start_gateway(harness.echo_config(listen=[tls]), self.addCleanup, tmp=d)

    async def test_wss_echo_with_verifying_context(self) -> None:
        self.assertEqual(self.gw.listener(0).scheme, "wss")
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        self.assertEqual(ctx.verify_mode, ssl.CERT_REQUIRED)
        self.assertTrue(ctx.check_hostname)
        async with websockets.connect(self.gw.url(0), ssl=ctx, max_size=2 ** 21,
                                      open_timeout=TIMEOUT) as ws:
            for msg in ["secure", b"\x00secure\xff", os.urandom(1024 * 1024)]:
                await ws.send(msg)
                self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), msg)
            peer = ws.transport.get_extra_info("ssl_object")
            self.assertIsNotNone(peer)
            self.assertIn(peer.version(), ("TLSv1.2", "TLSv1.3"))

    async def test_wss_by_hostname_localhost(self) -> None:
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        port = self.gw.listener(0).port
        # Connect to 127.0.0.1 but verify the name "localhost" (DNS:localhost in the cert).
        async with websockets.connect(f"wss://localhost:{port}/echo", ssl=ctx,
                                      host="127.0.0.1", port=port,
                                      server_hostname="localhost", open_timeout=TIMEOUT) as ws:
            await ws.send("by name")
            self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "by name")

    def test_a_second_connection_resumes_the_tls_session_by_ticket(self) -> None:
        # The server keeps no session cache (tls_context): resumption must work by ticket, in
        # TLS 1.2 and in 1.3 (whose ticket arrives after the handshake, read with the 101).
        import socket
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.create_default_context(cafile=self.pki.ca)
            ctx.minimum_version = ctx.maximum_version = version
            session, reused = None, []
            for _ in range(2):
                raw = socket.create_connection(self.gw.addr(0), timeout=TIMEOUT)
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls:
                    tls.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                    self.assertTrue(tls.recv(4096).startswith(b"HTTP/1.1 101"))
                    reused.append(tls.session_reused)
                    session = tls.session
            self.assertEqual(reused, [False, True], version)

    async def test_wss_with_another_ca_fails_verification(self) -> None:
        ctx = ssl.create_default_context(cafile=self.other.ca)
        with self.assertRaises(ssl.SSLCertVerificationError):
            await websockets.connect(self.gw.url(0), ssl=ctx, open_timeout=TIMEOUT)


class Ipv6Test(unittest.IsolatedAsyncioTestCase):
    async def test_ipv6_loopback_echo(self) -> None:
        if not harness.have_ipv6():
            self.skipTest("no IPv6 loopback")
        gw = harness.start_gateway(harness.echo_config(listen=["[::1]:0"]), self.addCleanup)
        self.assertEqual(gw.listener(0).host, "::1")
        self.assertTrue(gw.url(0).startswith("ws://[::1]:"), gw.url(0))
        async with websockets.connect(gw.url(0), open_timeout=TIMEOUT) as ws:
            self.assertEqual(ws.remote_address[0], "::1")
            await ws.send("over v6")
            self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "over v6")


class DrainTest(unittest.IsolatedAsyncioTestCase):
    async def test_sigterm_closes_1001_and_exits_0(self) -> None:
        gw = harness.start_gateway(harness.echo_config(extra_server="  drain_timeout: 5s\n"),
                                   self.addCleanup)
        async with websockets.connect(gw.url(0), open_timeout=TIMEOUT) as ws:
            await ws.send("x")
            self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "x")
            gw.proc.send_signal(signal.SIGTERM)
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            self.assertEqual(ws.close_code, 1001)
        code = await asyncio.get_running_loop().run_in_executor(None, gw.wait, 10)
        self.assertEqual(code, 0, gw.stderr)


class CliClientTest(unittest.TestCase):
    """`python3 -m websockets URI`, the interactive client, with stdin and stdout piped."""

    def test_interactive_client_sends_a_line_and_prints_the_echo(self) -> None:
        gw = harness.start_gateway(harness.echo_config(), self.addCleanup)
        proc = subprocess.Popen([sys.executable, "-m", "websockets", gw.url(0)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        out = bytearray()
        seen = threading.Event()

        def reader() -> None:
            for chunk in iter(lambda: proc.stdout.read1(4096), b""):
                out.extend(chunk)
                if b"< hello through the cli" in out:
                    seen.set()
            seen.set()  # EOF

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        proc.stdin.write(b"hello through the cli\n")
        proc.stdin.flush()
        # Keep stdin open until the echo is printed: EOF makes the client quit at once.
        seen.wait(TIMEOUT)
        proc.stdin.close()
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        t.join(5)
        proc.stdout.close()
        text = out.decode("utf-8", "replace")
        self.assertIn(f"Connected to {gw.url(0)}", text)
        self.assertIn("< hello through the cli", text)
        self.assertIn("Connection closed: 1000", text)
        self.assertEqual(proc.returncode, 0, text)


class ProcessLeakTest(unittest.TestCase):
    """The harness itself: stop() really ends the process (no stray daemons)."""

    def test_stop_reaps_the_process(self) -> None:
        gw = harness.start_gateway(harness.echo_config(), self.addCleanup)
        pid = gw.proc.pid
        t0 = time.monotonic()
        self.assertEqual(gw.stop(signal.SIGINT, 10), 0, gw.stderr)
        self.assertLess(time.monotonic() - t0, 10)
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)


if __name__ == "__main__":
    unittest.main()
