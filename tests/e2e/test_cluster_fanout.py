"""test_cluster_fanout: 10,000 members spread over 3 nodes, one publish (SPEC §8).

Each member is a minimal raw WebSocket client (asyncio streams: a real RFC 6455 handshake, then
frames read and parsed here), because 10,000 library clients would cost the test more than the
gateway. One publish on a node, and every member gets it exactly once; the answer counts all of
them; Redis saw the payload cross once per node (wsgate_cluster_messages_total{direction="out"}
on the publishing node grows by a handful, not by 10,000).

WSGATED_CLUSTER_MEMBERS overrides the 10,000 (e.g. for a quick run).

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_cluster_fanout
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import struct
import time
import unittest

import cluster_harness as ch

MEMBERS = int(os.environ.get("WSGATED_CLUSTER_MEMBERS", "10000"))


async def raw_client(host: str, port: int, path: str):
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise AssertionError(head[:200])
    return reader, writer


async def read_frame(reader) -> bytes:
    b0, b1 = await reader.readexactly(2)
    if b0 & 0x0F >= 0x8:  # a control frame: these clients expect none (the heartbeat is off)
        raise AssertionError(f"control frame 0x{b0:02x}")
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return await reader.readexactly(n)


class ClusterFanoutTest(unittest.IsolatedAsyncioTestCase):
    async def test_ten_thousand_members_over_three_nodes_get_one_publish_once(self) -> None:
        token = secrets.token_urlsafe(18)
        redis = ch.RedisServer(self.addCleanup)
        # Heartbeat off: these minimal clients do not answer pings, and joining 10,000 of them
        # takes more than an interval on a 2-core machine (the first ones were pinged, then reaped).
        nodes = ch.start_nodes(redis, 3, token, self.addCleanup, heartbeat="0")
        gate = asyncio.Semaphore(200)

        async def join(i: int):
            node = nodes[i % 3]
            host, port = node.gw.addr(0)
            async with gate:
                return await raw_client(host, port, "/room/big")

        clients = await asyncio.gather(*(join(i) for i in range(MEMBERS)))
        for _, w in clients:
            self.addCleanup(w.close)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, body = await asyncio.to_thread(nodes[0].admin.call, "GET", "/v1/rooms/big")
            if body.get("members") == MEMBERS:
                break
            await asyncio.sleep(0.2)
        self.assertEqual(body.get("members"), MEMBERS, body)
        out_before = nodes[1].admin.counter("wsgate_cluster_messages_total", direction="out")
        t0 = time.monotonic()
        status, body = await asyncio.to_thread(nodes[1].admin.call, "POST", "/v1/rooms/big/messages", b"once")
        self.assertEqual((status, body["members"]), (202, MEMBERS))
        got = await asyncio.gather(*(asyncio.wait_for(read_frame(r), 60) for r, _ in clients))
        self.assertEqual(set(got), {b"once"})
        self.assertEqual(len(got), MEMBERS)
        # Nothing more comes: a second copy would be read here.
        extra = await asyncio.gather(*(asyncio.wait_for(read_frame(r), 1.0) for r, _ in clients[:300]),
                                     return_exceptions=True)
        self.assertTrue(all(isinstance(e, asyncio.TimeoutError) for e in extra), extra[:3])
        out = nodes[1].admin.counter("wsgate_cluster_messages_total", direction="out") - out_before
        # The publish, plus what a node sends anyway: its probe, once a second (the reading
        # above takes seconds on a loaded machine) — not one envelope per member.
        allowed = 5 + 2 * (time.monotonic() - t0)
        self.assertLess(out, allowed, "the payload crossed Redis once, not once per member")


if __name__ == "__main__":
    unittest.main()
