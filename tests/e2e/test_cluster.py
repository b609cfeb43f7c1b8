"""test_cluster: three wsgated nodes sharing one real redis-server (SPEC §8).

Clients (Python `websockets`) connect to different nodes; every control API call is issued to
a node other than the one holding the connections, and must act and answer as SPEC §6 says:

- a room publish reaches every member on every node exactly once and answers the exact count;
  `exclude` leaves one out; a publish to a room with no member elsewhere answers its local count;
- GET /v1/rooms/{room} and /connections are cluster-wide (ids, users, nodes);
- a call for one connection on another node: send (202, and 200 with ?wait=written), view,
  join/leave (then a publish to the new room reaches it), close (the client sees the code);
  an unknown id on a live node and an id of no node are 404;
- users: send, list, join, close across nodes; broadcast counts every node's connections;
- Redis killed: /readyz 503 and wsgate_cluster_connected 0 on every node, a publish answers 503
  (its local members still get it, and nobody gets it twice), a call for a connection on another
  node answers 503; Redis back on the same port: /readyz 200 within 5 s and publishes cross
  nodes again;
- a node killed with SIGKILL: its members leave the counts within node_ttl.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_cluster
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import signal
import time
import unittest

import jwt
import websockets

import cluster_harness as ch
import harness

TIMEOUT = 10.0


async def recv_all(ws, quiet: float = 0.4) -> list:
    """Every message that arrives until `quiet` seconds pass without one."""
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(ws.recv(), quiet))
        except asyncio.TimeoutError:
            return got


def user_token(user: str, rooms: list[str] | None = None) -> str:
    claims = {"sub": user, "exp": int(time.time()) + 3600}
    if rooms:
        claims["rooms"] = rooms
    return jwt.encode(claims, ch.SECRET, algorithm="HS256")


class ClusterTest(ch.NodeCalls, unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        self.redis = ch.RedisServer(self.addCleanup)
        # node_ttl 3s makes the killed-node test quick; the Redis restart needs the default's
        # margin (a node heard within node_ttl / 2 whose share is missing makes a publish 503).
        ttl = "15s" if "redis" in self._testMethodName else "3s"
        self.nodes = ch.start_nodes(self.redis, 3, self.token, self.addCleanup, node_ttl=ttl)
        self.a, self.b, self.c = self.nodes

    async def members(self, node: ch.Node, room: str) -> list:
        status, body = await self.call(node, "GET", f"/v1/rooms/{room}/connections")
        self.assertEqual(status, 200, body)
        return body["connections"]

    async def wait_members(self, node: ch.Node, room: str, n: int) -> list:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            ms = await self.members(node, room)
            if len(ms) == n:
                return ms
            await asyncio.sleep(0.05)
        self.fail(f"{room} never had {n} members: {ms}")

    async def lobby(self):
        """Two members on node a, one on b, one on c; their ids by socket."""
        socks = [await self.connect(n, "/room/lobby") for n in (self.a, self.a, self.b, self.c)]
        ms = await self.wait_members(self.c, "lobby", 4)
        return socks, ms

    async def test_room_publish_reaches_every_node_once_with_exact_count(self) -> None:
        socks, _ = await self.lobby()
        status, body = await self.call(self.b, "POST", "/v1/rooms/lobby/messages", b"hello all")
        self.assertEqual((status, body), (202, {"room": "lobby", "members": 4}))
        for ws in socks:
            self.assertEqual(await recv_all(ws), ["hello all"])
        # A node without members of the room publishes to the others only.
        lone = await self.connect(self.c, "/room/lonely")
        await self.wait_members(self.a, "lonely", 1)
        status, body = await self.call(self.a, "POST", "/v1/rooms/lonely/messages", b"just you")
        self.assertEqual((status, body["members"]), (202, 1))
        self.assertEqual(await recv_all(lone), ["just you"])

    async def test_exclude_and_membership_views_are_cluster_wide(self) -> None:
        socks, ms = await self.lobby()
        self.assertEqual(len({m["node"] for m in ms}), 3, ms)
        for m in ms:  # each id names its node
            self.assertEqual(m["id"][:6], m["node"])
        status, body = await self.call(self.a, "GET", "/v1/rooms/lobby")
        self.assertEqual((status, body), (200, {"room": "lobby", "members": 4}))
        # The member on c, excluded by a publish made on b.
        on_c = await self.connect(self.c, "/room/cee")
        (c_member,) = await self.wait_members(self.a, "cee", 1)
        c_id = c_member["id"]
        status, body = await self.call(self.b, "POST", f"/v1/rooms/lobby/messages?exclude={c_id}", b"not c")
        self.assertEqual((status, body["members"]), (202, 4))
        got = [await recv_all(ws) for ws in socks]
        self.assertEqual(sorted(map(len, got)), [1, 1, 1, 1])  # lobby's c member is another socket
        status, body = await self.call(self.b, "PUT", f"/v1/rooms/lobby/connections/{c_id}")
        self.assertEqual(status, 200, body)
        status, body = await self.call(self.b, "POST", f"/v1/rooms/lobby/messages?exclude={c_id}", b"not c")
        self.assertEqual((status, body["members"]), (202, 5))
        self.assertEqual(await recv_all(on_c), [])
        status, body = await self.call(self.a, "GET", "/v1/connections/" + c_id)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["id"], body["route"], body["rooms"]), (c_id, "/room/{room}", ["cee", "lobby"]))
        self.assertEqual(body["params"], {"room": "cee"})

    async def test_calls_for_a_connection_on_another_node(self) -> None:
        ws = await self.connect(self.a, "/room/solo")
        (m,) = await self.wait_members(self.b, "solo", 1)
        cid = m["id"]
        status, body = await self.call(self.b, "POST", f"/v1/connections/{cid}/messages", b"direct")
        self.assertEqual((status, body), (202, {"queued": True}))
        self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "direct")
        status, body = await self.call(self.c, "POST", f"/v1/connections/{cid}/messages?wait=written", b"w")
        self.assertEqual((status, body), (200, {"written": True}))
        self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "w")
        status, body = await self.call(self.c, "PUT", f"/v1/rooms/extra/connections/{cid}")
        self.assertEqual((status, body["joined"]), (200, True))
        status, body = await self.call(self.c, "PUT", f"/v1/rooms/extra/connections/{cid}")
        self.assertEqual((status, body["joined"]), (200, False))
        await self.wait_members(self.b, "extra", 1)
        status, body = await self.call(self.b, "POST", "/v1/rooms/extra/messages", b"in extra")
        self.assertEqual((status, body["members"]), (202, 1))
        self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "in extra")
        status, body = await self.call(self.b, "DELETE", f"/v1/rooms/extra/connections/{cid}")
        self.assertEqual((status, body["left"]), (200, True))
        # An id on a live node that holds no such connection, and an id of no node: 404.
        status, _ = await self.call(self.b, "POST", f"/v1/connections/{cid[:6]}{'A' * 22}/messages", b"x")
        self.assertEqual(status, 404)
        status, _ = await self.call(self.b, "GET", f"/v1/connections/ZZZZZZ{'A' * 22}")
        self.assertEqual(status, 404)
        status, body = await self.call(self.c, "DELETE", f"/v1/connections/{cid}?code=4001&reason=bye")
        self.assertEqual((status, body), (202, {"closing": True}))
        with self.assertRaises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        self.assertEqual((closed.exception.rcvd.code, closed.exception.rcvd.reason), (4001, "bye"))

    async def test_users_and_broadcast_across_nodes(self) -> None:
        alice = [await self.connect(n, "/user?token=" + user_token("alice")) for n in (self.a, self.c)]
        bob = await self.connect(self.b, "/user?token=" + user_token("bob", ["vip"]))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            status, body = await self.call(self.b, "GET", "/v1/users/alice")
            if len(body["connections"]) == 2:
                break
            await asyncio.sleep(0.05)
        self.assertEqual({c["user"] for c in body["connections"]}, {"alice"})
        self.assertEqual(len({c["node"] for c in body["connections"]}), 2)
        status, body = await self.call(self.b, "POST", "/v1/users/alice/messages", b"for alice")
        self.assertEqual((status, body), (202, {"user": "alice", "connections": 2}))
        for ws in alice:
            self.assertEqual(await recv_all(ws), ["for alice"])
        self.assertEqual(await recv_all(bob, 0.1), [])
        status, body = await self.call(self.b, "PUT", "/v1/users/alice/rooms/vip")
        self.assertEqual((status, body["connections"]), (200, 2))
        status, body = await self.call(self.a, "POST", "/v1/rooms/vip/messages", b"vips")
        self.assertEqual((status, body["members"]), (202, 3))
        for ws in alice + [bob]:
            self.assertEqual(await recv_all(ws), ["vips"])
        status, body = await self.call(self.c, "POST", "/v1/broadcast", b"everyone")
        self.assertEqual((status, body["connections"]), (202, 3))
        for ws in alice + [bob]:
            self.assertEqual(await recv_all(ws), ["everyone"])
        status, body = await self.call(self.b, "DELETE", "/v1/users/alice/connections?code=4002")
        self.assertEqual((status, body["connections"]), (202, 2))
        for ws in alice:
            with self.assertRaises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            self.assertEqual(closed.exception.rcvd.code, 4002)

    async def test_redis_lost_then_back(self) -> None:
        socks, _ = await self.lobby()
        await self.connect(self.b, "/room/bee")
        (b_member,) = await self.wait_members(self.a, "bee", 1)
        self.redis.kill()
        for node in self.nodes:
            ch.wait_for(lambda: node.ready() == 503, 5, f"{node.node_id} /readyz 503")
            self.assertEqual(node.admin.counter("wsgate_cluster_connected"), 0)
        status, body = await self.call(self.a, "POST", "/v1/rooms/lobby/messages", b"local only")
        self.assertEqual(status, 503, body)
        self.assertEqual(body["this_node_members"], 2)
        self.assertEqual(await recv_all(socks[0]), ["local only"])  # local delivery goes on
        self.assertEqual(await recv_all(socks[1]), ["local only"])
        self.assertEqual(await recv_all(socks[2], 0.1), [])
        status, _ = await self.call(self.a, "POST", f"/v1/connections/{b_member['id']}/messages", b"x")
        self.assertEqual(status, 503)
        self.assertGreaterEqual(self.a.admin.counter("wsgate_cluster_publish_failures_total"), 2)
        back = time.monotonic()
        self.redis.start()
        for node in self.nodes:
            ch.wait_for(lambda: node.ready() == 200, 6, f"{node.node_id} ready again")
        self.assertLess(time.monotonic() - back, 5.0)
        await self.wait_members(self.a, "lobby", 4)  # presence written again
        status, body = await self.call(self.c, "POST", "/v1/rooms/lobby/messages", b"again")
        self.assertEqual((status, body["members"]), (202, 4))
        for ws in socks:
            self.assertEqual(await recv_all(ws), ["again"])
        self.assertGreaterEqual(self.a.admin.counter("wsgate_cluster_reconnects_total"), 1)

    async def test_steady_publishes_through_a_redis_restart_lose_nothing_silently(self) -> None:
        socks = [await self.connect(n, "/room/stream") for n in self.nodes]
        await self.wait_members(self.a, "stream", 3)
        received: list[list[str]] = [[], [], []]

        async def read(i: int) -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for m in socks[i]:
                    received[i].append(m)

        readers = [asyncio.create_task(read(i)) for i in range(3)]
        answers: dict[int, int] = {}
        seq = 0

        async def publish_for(seconds: float) -> None:
            nonlocal seq
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                seq += 1
                status, _ = await self.call(self.a, "POST", "/v1/rooms/stream/messages", str(seq).encode())
                answers[seq] = status
                await asyncio.sleep(0.02)

        await publish_for(1.0)
        self.redis.kill()
        await publish_for(1.5)
        self.redis.start()
        back, first_again = time.monotonic(), None
        while time.monotonic() - back < 8:
            await publish_for(0.2)
            if answers[seq] == 202 and first_again is None:
                first_again = time.monotonic()
            if first_again and time.monotonic() - first_again > 1:
                break
        await asyncio.sleep(0.5)
        for r in readers:
            r.cancel()
        self.assertIsNotNone(first_again, "publishes never crossed nodes again")
        self.assertLess(first_again - back, 5.0)
        self.assertIn(503, answers.values())
        self.assertEqual(set(answers.values()), {202, 503})
        accepted = {str(k) for k, v in answers.items() if v == 202}
        for i, got in enumerate(received):
            self.assertEqual(len(got), len(set(got)), f"client {i} got a message twice")
            self.assertLessEqual(accepted, set(got), f"client {i} missed a publish answered 202")
        self.assertEqual(received[0], [str(k) for k in sorted(answers)])  # on the publishing node: every one

    async def test_a_killed_node_leaves_the_counts_within_node_ttl(self) -> None:
        await self.lobby()
        self.c.gw.kill()  # SIGKILL: no goodbye
        killed = time.monotonic()
        await self.wait_members(self.a, "lobby", 3)
        self.assertLess(time.monotonic() - killed, 3.0 + 1.5)  # node_ttl 3s
        status, body = await self.call(self.b, "GET", "/v1/rooms/lobby")
        self.assertEqual(body["members"], 3)


class ClusterRedisTlsAuthTest(unittest.IsolatedAsyncioTestCase):
    """rediss:// with a password: two nodes reach each other through a TLS Redis that needs AUTH."""

    async def test_tls_and_auth(self) -> None:
        token = secrets.token_urlsafe(18)
        certs = harness.make_certs(harness.temp_dir(self.addCleanup), "redis")
        redis = ch.RedisServer(self.addCleanup, password="s3cret:pw", tls=certs)
        url = f"rediss://:s3cret%3Apw@127.0.0.1:{redis.port}/0"
        a, b = ch.start_nodes(redis, 2, token, self.addCleanup, extra_cluster=f"  tls_ca_file: {certs.ca}\n",
                              url=url)
        ws = await websockets.connect(b.url("/room/secure"), open_timeout=TIMEOUT)
        self.addAsyncCleanup(ws.close)
        ch.wait_for(lambda: a.admin.call("GET", "/v1/rooms/secure")[1]["members"] == 1, TIMEOUT, "member seen")
        status, body = await asyncio.to_thread(a.admin.call, "POST", "/v1/rooms/secure/messages", b"over tls")
        self.assertEqual((status, body["members"]), (202, 1))
        self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "over tls")

    async def test_a_wrong_password_or_an_untrusted_certificate_is_not_ready(self) -> None:
        token = secrets.token_urlsafe(18)
        certs = harness.make_certs(harness.temp_dir(self.addCleanup), "redis")
        other = harness.make_certs(harness.temp_dir(self.addCleanup), "other")
        redis = ch.RedisServer(self.addCleanup, password="right", tls=certs)
        bad_pw = f"rediss://:wrong@127.0.0.1:{redis.port}/0"
        (n1,) = ch.start_nodes(redis, 1, token, self.addCleanup, extra_cluster=f"  tls_ca_file: {certs.ca}\n",
                               url=bad_pw, wait=False)
        good_pw = f"rediss://:right@127.0.0.1:{redis.port}/0"
        (n2,) = ch.start_nodes(redis, 1, token, self.addCleanup, extra_cluster=f"  tls_ca_file: {other.ca}\n",
                               url=good_pw, wait=False)
        time.sleep(1.5)
        for n in (n1, n2):
            self.assertEqual(n.ready(), 503)
            self.assertEqual(n.admin.counter("wsgate_cluster_connected"), 0)
            # Refused after each connect: the backoff still grows (100 ms, 200, 400, 800 … per
            # link), it does not start over at every TCP connect (that was ~20 tries a second).
            tries = n.admin.counter("wsgate_cluster_reconnects_total")
            self.assertGreaterEqual(tries, 1)
            self.assertLessEqual(tries, 16, f"{n.node_id}: {tries} attempts in 1.5 s")
        self.assertIn("Redis answered: WRONGPASS", n1.gw.stderr)  # the log says why, in Redis's words
        self.assertIn("certificate verify failed", n2.gw.stderr)


if __name__ == "__main__":
    unittest.main()
