"""test_cluster_failures: what a cluster does when part of it fails (SPEC §8, docs/cluster.md).

Three wsgated nodes and one real redis-server; node c reaches Redis through a TCP proxy that
the test controls (cluster_harness.TcpProxy):

- c cut off from Redis (its connections reset, new ones refused) while its members are still
  counted: a publish to their room answers 503 all along — right away, after c has been silent
  for more than 3 s, and after its liveness key expired — never a 202 for members it cannot
  reach; a call for one of c's connections answers 503 (c is alive, only unreachable), not 404;
  once healed, publishes answer 202 again and reach c's member;
- c's path blackholed (connections stay open, nothing passes): c notices that its own probe no
  longer comes back, says /readyz 503, drops and reconnects its links, and is ready again soon
  after the path heals;
- a node drained with SIGTERM takes its members out of the counts at once, not after node_ttl;
- an extra listener on the cluster's channels (`redis-cli PSUBSCRIBE 'wsg:*'`) does not hold
  publishes: they answer 202 with the exact count without waiting out the 3 s answer timeout.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_cluster_failures
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import signal
import subprocess
import time
import unittest

import websockets

import cluster_harness as ch

TIMEOUT = 10.0


class ClusterFailures(unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        self.redis = ch.RedisServer(self.addCleanup)
        self.proxy = ch.TcpProxy(self.redis.port, self.addCleanup)
        # node_ttl 15s: c's share outlives its liveness key (5 s) by far, as in production.
        self.a, self.b = ch.start_nodes(self.redis, 2, self.token, self.addCleanup, node_ttl="15s")
        (self.c,) = ch.start_nodes(self.redis, 1, self.token, self.addCleanup, node_ttl="15s",
                                   url=f"redis://127.0.0.1:{self.proxy.port}/0", first=2)

    async def connect(self, node: ch.Node, path: str):
        ws = await websockets.connect(node.url(path), open_timeout=TIMEOUT)
        self.addAsyncCleanup(ws.close)
        return ws

    async def call(self, node: ch.Node, method: str, path: str, body: bytes | None = None):
        return await asyncio.to_thread(node.admin.call, method, path, body)

    async def members(self, room: str) -> list:
        status, body = await self.call(self.a, "GET", f"/v1/rooms/{room}/connections")
        return body.get("connections", []) if status == 200 else []

    async def lobby(self) -> tuple[list, str]:
        """A member of "lobby" on each node; the id of another connection on c (its own room)."""
        socks = [await self.connect(n, "/room/lobby") for n in (self.a, self.b, self.c)]
        await self.connect(self.c, "/room/c-only")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            lobby, c_only = await self.members("lobby"), await self.members("c-only")
            if len(lobby) == 3 and len(c_only) == 1:
                return socks, c_only[0]["id"]
            await asyncio.sleep(0.05)
        self.fail("the lobby never had its 3 members")

    async def publish(self, text: str) -> int:
        status, _ = await self.call(self.a, "POST", "/v1/rooms/lobby/messages", text.encode())
        return status

    async def test_a_node_cut_off_from_redis_is_never_answered_202_for(self) -> None:
        socks, c_id = await self.lobby()
        self.assertEqual(await self.publish("before"), 202)
        self.proxy.cut()
        cut = time.monotonic()
        answers = {}
        for at in (0.5, 3.5, 6.5):  # c heard lately; silent but alive; its liveness key expired
            await asyncio.sleep(max(0, cut + at - time.monotonic()))
            answers[at] = await self.publish(f"during {at}")
        self.assertEqual(answers, {0.5: 503, 3.5: 503, 6.5: 503}, "c's member is still counted and unreachable")
        status, body = await self.call(self.a, "POST", f"/v1/connections/{c_id}/messages", b"direct")
        self.assertEqual(status, 503, f"c is alive, only cut off: not 404 ({body})")
        status, body = await self.call(self.a, "GET", "/v1/rooms/lobby")
        self.assertEqual(body["members"], 3, "the count still holds c's member")
        self.proxy.heal()
        ch.wait_for(lambda: self.c.ready() == 200, TIMEOUT, "c ready again")
        deadline = time.monotonic() + 5
        while await self.publish("after") != 202:
            self.assertLess(time.monotonic(), deadline, "publishes never answered 202 again")
            await asyncio.sleep(0.2)
        got_c = []
        while True:
            try:
                got_c.append(await asyncio.wait_for(socks[2].recv(), 1))
            except asyncio.TimeoutError:
                break
        self.assertIn("after", got_c)
        self.assertNotIn("during 3.5", got_c, "nothing answered 503 was delivered to c later")

    async def test_a_blackholed_path_is_noticed_and_reconnected(self) -> None:
        self.proxy.blackhole()
        ch.wait_for(lambda: self.c.ready() == 503, TIMEOUT, "c not ready once its probes stop coming back")
        ch.wait_for(lambda: "no probe came back through Redis" in self.c.gw.stderr, 12, "c reconnects by itself")
        self.proxy.heal()
        ch.wait_for(lambda: self.c.ready() == 200, 12, "c ready again after the path heals")

    async def test_a_drained_node_leaves_the_counts_at_once(self) -> None:
        await self.lobby()
        self.b.gw.stop(signal.SIGTERM)
        stopped = time.monotonic()
        status, body = await self.call(self.a, "GET", "/v1/rooms/lobby")
        self.assertEqual((status, body["members"]), (200, 2), "b's member left with b, not node_ttl (15 s) later")
        self.assertLess(time.monotonic() - stopped, 5)
        status, body = await self.call(self.a, "POST", "/v1/rooms/lobby/messages", b"without b")
        self.assertEqual((status, body["members"]), (202, 2))

    @unittest.skipUnless(shutil.which("redis-cli"), "redis-cli (Debian package redis-tools) not installed")
    async def test_an_extra_listener_does_not_hold_publishes(self) -> None:
        await self.lobby()
        cli = subprocess.Popen(["redis-cli", "-p", str(self.redis.port), "PSUBSCRIBE", "wsg:*"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(cli.kill)
        ch.wait_for(lambda: self.redis.command("PUBSUB", "NUMPAT").strip().endswith(b"1"), TIMEOUT, "PSUBSCRIBE in place")
        t0 = time.monotonic()
        status, body = await self.call(self.a, "POST", "/v1/rooms/lobby/messages", b"with a spy")
        self.assertEqual((status, body["members"]), (202, 3))
        self.assertLess(time.monotonic() - t0, 2.0, "not held until the 3 s answer timeout")


if __name__ == "__main__":
    unittest.main()


class ClusterRefusedSubscription(unittest.IsolatedAsyncioTestCase):
    """Redis's ACL refuses node b the channel of one room (NOPERM): b counts it, the others
    answer 503 for that room's publishes (b's member there is counted and cannot hear), the rest
    of the cluster works; once the ACL allows it, b subscribes again by itself."""

    async def test_a_refused_room_channel_is_503_until_the_acl_allows_it(self) -> None:
        token = secrets.token_urlsafe(18)
        redis = ch.RedisServer(self.addCleanup)
        allowed = ["&wsg:0:{all}", "&wsg:0:{n:*}", "&wsg:0:{r:lobby}"]
        self.assertIn(b"OK", redis.command("ACL", "SETUSER", "gw", "on", ">gw-pass", "~*", "+@all", "resetchannels",
                                           *allowed))
        (a,) = ch.start_nodes(redis, 1, token, self.addCleanup)
        (b,) = ch.start_nodes(redis, 1, token, self.addCleanup, url=f"redis://gw:gw-pass@127.0.0.1:{redis.port}/0",
                              first=1)
        socks = []
        for path in ("/room/lobby", "/room/secret"):
            socks.append(await websockets.connect(b.url(path), open_timeout=TIMEOUT))
            self.addAsyncCleanup(socks[-1].close)
        ch.wait_for(lambda: a.admin.call("GET", "/v1/rooms/secret")[1]["members"] == 1, TIMEOUT, "b's member counted")
        ch.wait_for(lambda: b.admin.counter("wsgate_messages_dropped_total", reason="cluster_refused") >= 1, TIMEOUT,
                    "b counts the refusal")
        status, _ = await asyncio.to_thread(a.admin.call, "POST", "/v1/rooms/secret/messages", b"unheard")
        self.assertEqual(status, 503, "b's member of secret cannot hear it")
        self.assertIn("Redis refused a subscription", b.gw.stderr)
        redis.command("ACL", "SETUSER", "gw", "allchannels")
        deadline = time.monotonic() + 15
        while (await asyncio.to_thread(a.admin.call, "POST", "/v1/rooms/secret/messages", b"heard"))[0] != 202:
            self.assertLess(time.monotonic(), deadline, "b never subscribed again")
            await asyncio.sleep(0.5)
        self.assertEqual(await asyncio.wait_for(socks[1].recv(), TIMEOUT), "heard")
