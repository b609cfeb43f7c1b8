"""test_users: users and rooms from an auth hook's identity, through the control API (SPEC §5–§6).

A real hook (test_auth_hook.HttpServer) names the user from `Authorization: Bearer NAME`:
alice (tenant acme, hook room "vip"), bob (tenant globex), carol (tenant acme). A gateway with
2 workers (connections are dealt to workers in turn, so alice's three land on both) and the
route rooms ["tenant:{claims.tenant}", "user:{user}"]; a tiny http backend tells each client
its connection id. Checked:

- POST /v1/users/alice/messages reaches exactly alice's 3 connections and answers
  202 {"user":"alice","connections":3}; bob and carol get nothing (a broadcast sent right after
  is the next thing they receive: each worker runs the two sends in order);
- after one of alice's connections closes, the same call reaches the other 2 and says 2;
  after all close, 0 (and bob is untouched);
- a user nobody holds: 202 with 0;
- `{claims.tenant}`: a publish to tenant:acme reaches alice's and carol's connections only;
  `{user}`: user:bob holds bob's connection;
- the identity's `rooms` are joined: a publish to "vip" reaches alice's connections only;
- GET /v1/connections/{id} shows each connection's user and rooms.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_users
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import unittest
import urllib.parse

import websockets
from websockets.exceptions import InvalidStatusCode

import harness
from test_auth_hook import TIMEOUT, Admin, Call, HttpServer, backend_answer, gateway_yaml, json_answer

IDENTITIES = {
    "alice": {"user": "alice", "rooms": ["vip"], "claims": {"tenant": "acme"}},
    "bob": {"user": "bob", "claims": {"tenant": "globex"}},
    "carol": {"user": "carol", "claims": {"tenant": "acme", "role": "admin"}},
}


def hook_answer(call: Call):
    auth = call.header("Authorization") or ""
    name = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
    if name not in IDENTITIES:
        return 401, {"WWW-Authenticate": 'Bearer realm="test"'}, "who are you?\n"
    return json_answer(IDENTITIES[name])


class UsersTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.token = secrets.token_urlsafe(18)
        self.hook = HttpServer(hook_answer, self.addCleanup)
        self.backend = HttpServer(backend_answer, self.addCleanup)
        self.gw = harness.start_gateway(
            gateway_yaml(self.hook.url(), self.token, workers=2, backend_url=self.backend.url("/ws"),
                         rooms=["tenant:{claims.tenant}", "user:{user}"]),
            self.addCleanup)
        self.admin = Admin(self.gw, self.token)

    async def connect(self, stack: contextlib.AsyncExitStack, name: str):
        """A client authenticated as `name`; returns (websocket, connection id)."""
        ws = await stack.enter_async_context(websockets.connect(
            self.gw.url(0, "/app/lobby"), open_timeout=TIMEOUT, close_timeout=TIMEOUT,
            extra_headers={"Authorization": f"Bearer {name}"}))
        conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)  # the backend's connect reply
        return ws, conn_id

    async def post(self, path: str, body: str):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.admin.call, "POST", path, body.encode())

    async def get(self, path: str):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.admin.call, "GET", path)

    async def expect(self, clients: dict, want: dict) -> None:
        """Each client (name -> websocket) receives exactly the messages in want[name], then the
        broadcast marker sent now: nothing else was queued for it before the marker."""
        marker = f"marker-{secrets.token_hex(4)}"
        status, ans = await self.post("/v1/broadcast", marker)
        self.assertEqual(status, 202, ans)
        for who, ws in clients.items():
            got = []
            while True:
                msg = await asyncio.wait_for(ws.recv(), TIMEOUT)
                if msg == marker:
                    break
                got.append(msg)
            self.assertEqual(got, want.get(who, []), f"what {who} received")

    async def closed(self, conn_id: str) -> None:
        """Waits until the gateway has let go of `conn_id` (its user index entry with it)."""
        deadline = time.monotonic() + TIMEOUT
        while (await self.get(f"/v1/connections/{conn_id}"))[0] != 404:
            self.assertLess(time.monotonic(), deadline, f"{conn_id} still open")
            await asyncio.sleep(0.02)

    async def test_user_messages_tenant_and_identity_rooms(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            # Dealt to the 2 workers in turn: alice on both, bob and carol apart.
            order = ["alice", "alice", "alice", "bob", "carol"]
            conns = [await self.connect(stack, name) for name in order]
            ids = {f"{name}{i}": c for i, (name, c) in enumerate(zip(order, conns))}
            clients = {k: ws for k, (ws, _) in ids.items()}  # alice0 alice1 alice2 bob3 carol4
            alices = ["alice0", "alice1", "alice2"]
            others = ["bob3", "carol4"]

            for key, (_, conn_id) in ids.items():
                status, info = await self.get(f"/v1/connections/{conn_id}")
                self.assertEqual(status, 200, info)
                name = key.rstrip("0123456789")
                tenant = IDENTITIES[name]["claims"]["tenant"]
                rooms = [f"tenant:{tenant}", f"user:{name}", *IDENTITIES[name].get("rooms", [])]
                self.assertEqual((info["user"], info["rooms"]), (name, sorted(rooms)), key)

            # To a user: all of alice's connections, on both workers, and no one else.
            status, ans = await self.post("/v1/users/alice/messages", "hi alice")
            self.assertEqual((status, ans), (202, {"user": "alice", "connections": 3}))
            await self.expect(clients, {k: ["hi alice"] for k in alices})

            status, ans = await self.post("/v1/users/nobody/messages", "hello?")
            self.assertEqual((status, ans), (202, {"user": "nobody", "connections": 0}))

            # {claims.tenant}: tenant:acme is alice's and carol's, not bob's.
            status, ans = await self.post("/v1/rooms/tenant:acme/messages", "acme news")
            self.assertEqual((status, ans["members"]), (202, 4))
            await self.expect(clients, {k: ["acme news"] for k in [*alices, "carol4"]})
            status, ans = await self.post("/v1/rooms/tenant%3Aglobex/messages", "globex news")
            self.assertEqual((status, ans["members"]), (202, 1))
            await self.expect(clients, {"bob3": ["globex news"]})

            # The identity's rooms: "vip" came from the hook, for alice only.
            status, ans = await self.post("/v1/rooms/vip/messages", "vip only")
            self.assertEqual((status, ans["members"]), (202, 3))
            await self.expect(clients, {k: ["vip only"] for k in alices})
            # {user}: user:bob.
            status, ans = await self.get("/v1/rooms/" + urllib.parse.quote("user:bob"))
            self.assertEqual(ans["members"], 1)

            # One of alice's connections closes: the next send reaches the other two.
            await clients["alice1"].close(1000, "bye")
            await self.closed(ids["alice1"][1])
            del clients["alice1"]
            status, ans = await self.post("/v1/users/alice/messages", "still there?")
            self.assertEqual((status, ans), (202, {"user": "alice", "connections": 2}))
            await self.expect(clients, {"alice0": ["still there?"], "alice2": ["still there?"]})
            status, ans = await self.post("/v1/rooms/vip/messages", "vip again")
            self.assertEqual(ans["members"], 2, "the closed connection left the hook's room")

            for key in ("alice0", "alice2"):
                await clients.pop(key).close(1000, "bye")
                await self.closed(ids[key][1])
            status, ans = await self.post("/v1/users/alice/messages", "anyone?")
            self.assertEqual((status, ans), (202, {"user": "alice", "connections": 0}))
            status, ans = await self.post("/v1/users/bob/messages", "hi bob")
            self.assertEqual((status, ans), (202, {"user": "bob", "connections": 1}))
            await self.expect(clients, {"bob3": ["hi bob"]})

        self.assertEqual(self.hook.call_count(), 5, "one hook call per handshake (no cache)")

    async def call(self, method: str, path: str):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.admin.call, method, path)

    async def test_user_wide_calls_list_join_leave_and_close(self) -> None:
        """SPEC §6: GET /v1/users/{user}, PUT/DELETE /v1/users/{user}/rooms/{room} and
        DELETE /v1/users/{user}/connections reach every connection of the user, on both
        workers, and nobody else's."""
        async with contextlib.AsyncExitStack() as stack:
            order = ["alice", "bob", "alice", "alice"]
            conns = [await self.connect(stack, name) for name in order]
            alice_ids = sorted(cid for (name, (_, cid)) in zip(order, conns) if name == "alice")
            status, ans = await self.get("/v1/users/alice")
            self.assertEqual(status, 200, ans)
            self.assertEqual(ans, {"user": "alice", "connections": [
                {"id": cid, "user": "alice", "node": cid[:6]} for cid in alice_ids]})

            status, ans = await self.call("PUT", "/v1/users/alice/rooms/squad")
            self.assertEqual((status, ans), (200, {"user": "alice", "room": "squad", "connections": 3}))
            status, ans = await self.get("/v1/rooms/squad/connections")
            self.assertEqual([m["id"] for m in ans["connections"]], alice_ids)
            clients = {f"{name}{i}": ws for i, (name, (ws, _)) in enumerate(zip(order, conns))}
            status, ans = await self.post("/v1/rooms/squad/messages", "squad up")
            self.assertEqual(ans["members"], 3)
            await self.expect(clients, {k: ["squad up"] for k in clients if k.startswith("alice")})

            status, ans = await self.call("DELETE", "/v1/users/alice/rooms/squad")
            self.assertEqual((status, ans), (200, {"user": "alice", "room": "squad", "connections": 3}))
            await self.expect(clients, {})  # the leaves are done once the marker is through
            status, ans = await self.get("/v1/rooms/squad")
            self.assertEqual(ans["members"], 0)

            status, ans = await self.call("DELETE", "/v1/users/alice/connections?code=4001&reason=bye")
            self.assertEqual((status, ans), (202, {"user": "alice", "connections": 3}))
            for name, (ws, cid) in zip(order, conns):
                if name != "alice":
                    continue
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    while True:
                        await asyncio.wait_for(ws.recv(), TIMEOUT)
                self.assertEqual((cm.exception.rcvd.code, cm.exception.rcvd.reason), (4001, "bye"))
                await self.closed(cid)
            status, ans = await self.get("/v1/users/alice")
            self.assertEqual(ans["connections"], [])
            status, ans = await self.get("/v1/users/bob")
            self.assertEqual(len(ans["connections"]), 1, "bob was not closed")
            status, ans = await self.call("DELETE", "/v1/users/bob/connections?code=999")
            self.assertEqual(status, 400, ans)

    async def test_refused_user_is_not_indexed(self) -> None:
        with self.assertRaises(InvalidStatusCode) as cm:
            async with websockets.connect(self.gw.url(0, "/app/lobby"), open_timeout=TIMEOUT,
                                          extra_headers={"Authorization": "Bearer mallory"}):
                pass
        self.assertEqual(cm.exception.status_code, 401)
        status, ans = await self.post("/v1/users/mallory/messages", "x")
        self.assertEqual((status, ans), (202, {"user": "mallory", "connections": 0}))


if __name__ == "__main__":
    unittest.main()
