"""test_fanout_tls: room publishes over wss:// reach every member byte for byte and in order,
small and large payloads mixed (issue 16: shared payloads are referenced while queued and
flattened into the TLS write when it starts; over plain TCP they are gathered with writev).

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_fanout_tls
"""
from __future__ import annotations

import asyncio
import os
import ssl
import unittest
import urllib.request

import websockets

import harness
from test_auth_hook import Admin


class FanoutTls(unittest.TestCase):
    def test_publishes_reach_every_member_in_order_over_tls_and_plain(self):
        d = harness.temp_dir(self.addCleanup)
        certs = harness.make_certs(d)
        yaml = harness.echo_config(
            listen=["127.0.0.1:0", {"address": "127.0.0.1:0", "tls": {"cert": certs.cert, "key": certs.key}}],
            routes="  - {path: /room, backend: echo, rooms: [r], events: []}\n").replace(
            'admin:\n  listen: "127.0.0.1:0"\n', 'admin:\n  listen: "127.0.0.1:0"\n  token: "t"\n')
        gw = harness.start_gateway(yaml, self.addCleanup, expect_listeners=2)
        admin = Admin(gw, "t")
        ctx = ssl.create_default_context(cafile=certs.ca)
        # Sizes around the shared threshold (128 B) and across TLS records (16 KiB).
        payloads = [os.urandom(n) for n in (1, 127, 128, 129, 1000, 16383, 16384, 16385, 70000, 300000)] * 3

        async def main():
            plain = [await websockets.connect(gw.url(0, "/room"), max_size=None) for _ in range(3)]
            tls = [await websockets.connect(gw.url(1, "/room").replace("ws://", "wss://"), ssl=ctx, max_size=None)
                   for _ in range(3)]
            await asyncio.sleep(0.2)
            loop = asyncio.get_running_loop()
            for p in payloads:
                req = urllib.request.Request(admin.base + "/v1/rooms/r/messages", data=p, method="POST",
                                             headers={"Authorization": "Bearer t",
                                                      "Content-Type": "application/octet-stream"})
                status = await loop.run_in_executor(None, lambda: urllib.request.urlopen(req, timeout=10).status)
                self.assertEqual(status, 202)
            for c in plain + tls:
                for i, p in enumerate(payloads):
                    got = await asyncio.wait_for(c.recv(), 10)
                    self.assertEqual(got, p, f"message {i} ({len(p)} B)")
                await c.close()

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
