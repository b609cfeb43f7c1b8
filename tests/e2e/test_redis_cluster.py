"""test_redis_cluster: three wsgated nodes over a 3-shard Redis Cluster (SPEC §8, docs/cluster.md).

The cluster is built by the test from `redis-server --cluster-enabled yes` processes on free
ports and `redis-cli --cluster create` (cluster_harness.RedisCluster). The nodes are given two
of the three masters as seeds (`cluster.redis: "redis://…/0, redis://…/0"`) and find the third
from CLUSTER SHARDS. Clients are Python `websockets`; every call goes to a node other than the one
holding the connections:

- rooms whose channels hash to each of the three masters: a publish reaches every member on
  every node exactly once with the exact count, and the channels are sharded channels on their
  slot's master (PUBSUB SHARDNUMSUB there, nothing on the classic PUBSUB), each master holding
  its own rooms only — a room's publish touches one shard;
- counts and member lists, a send / close to a connection on another node, broadcasts, users;
- a slot migrated to another master while its room has members (resharding): the nodes follow
  (sunsubscribe / MOVED, wsgate_cluster_redirects_total), the channel is subscribed on the new
  master, publishes and counts work again within seconds, nothing twice;
- a master killed: its slots unserved, every node's /readyz 503 and calls 503 (never a 202 for
  a message that cannot travel); the master restarted: ready again, publishes cross again.
- one seed URL also finds the whole cluster; a seed list whose server is no cluster is an error
  in the log, and that server is used alone.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_redis_cluster
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import unittest

import websockets

import cluster_harness as ch
from test_cluster import TIMEOUT, recv_all, user_token


class RedisClusterTest(ch.NodeCalls, unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        self.rc = ch.RedisCluster(self.addCleanup)
        url = self.rc.url(seeds=1) if "one_seed" in self._testMethodName else self.rc.url(seeds=2)
        self.nodes = ch.start_nodes(None, 3, self.token, self.addCleanup, node_ttl="15s", url=url)
        self.a, self.b, self.c = self.nodes
        # One room per master: names whose channel slot each master serves.
        self.rooms: dict[int, str] = {}
        for i in range(200):
            room = f"r{i}"
            port = self.rc.owner(self.rc.slot(f"{{r:{room}}}"))
            self.rooms.setdefault(port, room)
            if len(self.rooms) == len(self.rc.ports):
                break
        self.assertEqual(len(self.rooms), 3, "rooms on every master")

    async def wait_count(self, node: ch.Node, room: str, n: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        body = None
        while time.monotonic() < deadline:
            status, body = await self.call(node, "GET", f"/v1/rooms/{room}")
            if status == 200 and body.get("members") == n:
                return
            await asyncio.sleep(0.05)
        self.fail(f"{room} never counted {n} on {node.node_id}: {body}")

    def shard_subscribers(self, port: int, channel: str) -> int:
        raw = self.rc.command(port, "PUBSUB", "SHARDNUMSUB", channel).decode()
        m = re.findall(r":(\d+)\r\n", raw)
        return int(m[-1]) if m else -1

    async def test_rooms_on_every_shard_reach_every_node_once(self) -> None:
        socks = {}
        for port, room in self.rooms.items():
            socks[room] = [await self.connect(n, f"/room/{room}") for n in self.nodes]
        for room in self.rooms.values():
            await self.wait_count(self.c, room, 3)
        # Sharded pub/sub: each room's channel on its own master, three nodes subscribed there.
        for port, room in self.rooms.items():
            channel = f"wsg:0:{{r:{room}}}"
            self.assertEqual(self.shard_subscribers(port, channel), 3, f"{room} on :{port}")
            others = [p for p in self.rc.ports if p != port]
            for p in others:
                self.assertEqual(self.shard_subscribers(p, channel), 0, f"{room} not on :{p}")
            classic = self.rc.command(port, "PUBSUB", "NUMSUB", channel).decode()
            self.assertTrue(classic.endswith(":0\r\n"), f"no classic subscription: {classic!r}")
        for k, (port, room) in enumerate(self.rooms.items()):
            publisher = self.nodes[k % 3]
            status, body = await self.call(publisher, "POST", f"/v1/rooms/{room}/messages", f"to {room}".encode())
            self.assertEqual((status, body), (202, {"room": room, "members": 3}))
            for ws in socks[room]:
                self.assertEqual(await recv_all(ws), [f"to {room}"])
        # A connection on node c, reached through node a: send, view, close.
        status, body = await self.call(self.a, "GET", f"/v1/rooms/{self.rooms[self.rc.ports[0]]}/connections")
        self.assertEqual(status, 200, body)
        on_c = [m for m in body["connections"] if m["node"] == self.c.tag]
        self.assertEqual(len(on_c), 1, body)
        cid = on_c[0]["id"]
        status, _ = await self.call(self.a, "POST", f"/v1/connections/{cid}/messages", b"just c")
        self.assertEqual(status, 202)
        self.assertEqual(await recv_all(socks[self.rooms[self.rc.ports[0]]][2]), ["just c"])
        status, body = await self.call(self.b, "POST", "/v1/broadcast", b"everyone")
        self.assertEqual((status, body.get("connections")), (202, 9), body)
        status, body = await self.call(self.a, "DELETE", f"/v1/connections/{cid}?code=4001&reason=bye")
        self.assertEqual((status, body), (202, {"closing": True}))
        ws = socks[self.rooms[self.rc.ports[0]]][2]
        with self.assertRaises(websockets.ConnectionClosed) as cm:
            while True:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        self.assertEqual(cm.exception.rcvd.code, 4001)
        self.assertEqual(self.a.admin.counter("wsgate_cluster_redirects_total"), 0,
                         "steady state: every command went to its slot's master at once")

    async def test_a_migrated_slot_is_followed(self) -> None:
        port, room = next(iter(self.rooms.items()))
        socks = [await self.connect(n, f"/room/{room}") for n in self.nodes]
        await self.wait_count(self.a, room, 3)
        slot = self.rc.slot(f"{{r:{room}}}")
        to = next(p for p in self.rc.ports if p != port)
        await asyncio.to_thread(self.rc.move_slot, slot, to)
        channel = f"wsg:0:{{r:{room}}}"
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and self.shard_subscribers(to, channel) != 3:
            await asyncio.sleep(0.1)
        self.assertEqual(self.shard_subscribers(to, channel), 3, "every node subscribed on the new master")
        answers = []
        for i in range(20):
            status, body = await self.call(self.nodes[i % 3], "POST", f"/v1/rooms/{room}/messages", f"m{i}".encode())
            answers.append(status)
            await asyncio.sleep(0.05)
        self.assertEqual(set(answers), {202}, answers)
        for ws in socks:
            self.assertEqual(await recv_all(ws), [f"m{i}" for i in range(20)])
        await self.wait_count(self.b, room, 3)  # the presence keys moved with the slot
        self.assertEqual(self.shard_subscribers(port, channel), 0, "nobody left on the old master")
        for n in self.nodes:
            self.assertEqual(n.ready(), 200)

    async def test_a_moved_answer_is_followed(self) -> None:
        # A user's presence key has no subscription, so no sunsubscribe tells the nodes that its
        # slot moved: their next write there gets MOVED, must follow it, and count it.
        first = await self.connect(self.a, "/user?token=" + user_token("alice"))
        slot = self.rc.slot("{u:alice}")
        src = self.rc.owner(slot)
        to = next(p for p in self.rc.ports if p != src)
        await asyncio.to_thread(self.rc.move_slot, slot, to)
        second = await self.connect(self.a, "/user?token=" + user_token("alice"))
        deadline = time.monotonic() + TIMEOUT
        body = None
        while time.monotonic() < deadline:
            status, body = await self.call(self.b, "GET", "/v1/users/alice")
            if status == 200 and len(body.get("connections", [])) == 2:
                break
            await asyncio.sleep(0.1)
        self.assertEqual(len(body["connections"]), 2, body)
        self.assertGreaterEqual(self.a.admin.counter("wsgate_cluster_redirects_total", kind="moved"), 1)
        status, body = await self.call(self.c, "POST", "/v1/users/alice/messages", b"for alice")
        self.assertEqual((status, body.get("connections")), (202, 2), body)
        for ws in (first, second):
            self.assertEqual(await recv_all(ws), ["for alice"])

    async def test_a_master_lost_is_said_and_its_return_heals(self) -> None:
        port, room = next(iter(self.rooms.items()))
        socks = [await self.connect(n, f"/room/{room}") for n in self.nodes]
        await self.wait_count(self.a, room, 3)
        self.rc.kill(port)
        ch.wait_for(lambda: all(n.ready() == 503 for n in self.nodes), 10, "every node /readyz 503")
        status, _ = await self.call(self.b, "POST", f"/v1/rooms/{room}/messages", b"lost")
        self.assertEqual(status, 503)
        self.assertGreaterEqual(self.b.admin.counter("wsgate_cluster_publish_failures_total"), 1)
        got_local = await recv_all(socks[1])
        self.assertEqual(got_local, ["lost"], "local members still get it")
        self.rc.start(port)
        self.rc.wait_ok()
        ch.wait_for(lambda: all(n.ready() == 200 for n in self.nodes), 20, "every node /readyz 200 again")
        # The master came back empty: every node writes its share again (refused with CLUSTERDOWN
        # while the master rejoins, then again 500 ms later), so the counts come back whole.
        for n in self.nodes:
            await self.wait_count(n, room, 3)
        for ws in socks:
            await recv_all(ws, 0.1)
        status, body = await self.call(self.c, "POST", f"/v1/rooms/{room}/messages", b"back")
        self.assertEqual((status, body.get("members")), (202, 3), body)
        for ws in socks:
            self.assertEqual(await recv_all(ws), ["back"])

    async def test_one_seed_finds_the_whole_cluster(self) -> None:
        socks = {room: [await self.connect(n, f"/room/{room}") for n in self.nodes] for room in self.rooms.values()}
        for port, room in self.rooms.items():
            await self.wait_count(self.a, room, 3)
            self.assertEqual(self.shard_subscribers(port, f"wsg:0:{{r:{room}}}"), 3)
            status, body = await self.call(self.b, "POST", f"/v1/rooms/{room}/messages", b"hi")
            self.assertEqual((status, body["members"]), (202, 3))
            for ws in socks[room]:
                self.assertEqual(await recv_all(ws), ["hi"])


class NotAClusterTest(unittest.TestCase):
    def test_several_seeds_on_a_single_redis_say_so_and_use_it(self) -> None:
        redis = ch.RedisServer(self.addCleanup)
        url = f"redis://127.0.0.1:{redis.port}/0, redis://127.0.0.1:{ch.free_port()}/0"
        nodes = ch.start_nodes(redis, 1, "tok-" + secrets.token_urlsafe(8), self.addCleanup, url=url)
        self.assertEqual(nodes[0].ready(), 200)
        self.assertTrue(any("is not a Redis Cluster" in line or "using it as the only Redis" in line
                            for line in nodes[0].gw.lines), nodes[0].gw.lines[-10:])


if __name__ == "__main__":
    unittest.main()
