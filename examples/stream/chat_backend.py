#!/usr/bin/env python3
"""A chat room behind wsgated's stream backend (docs/backends.md#stream-backends), asyncio and the
Python standard library only.

    python3 examples/stream/chat_backend.py [--unix PATH | --tcp HOST:PORT]
    wsgated --config config/chat-stream.yaml

wsgated connects one stream per worker. connect: say welcome (the route already joined the
client to room:<room>); text message: publish "<who>: <text>" to the others in the room;
"/quit": close 4000 "bye"; hello: forget what that stream said before (a replay follows).
"""
import argparse, asyncio, json, os, sys

MAX_HEADER = 64 * 1024


class Stream:
    """One wsgated worker's stream: reads events, writes actions."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.conns = {}  # conn id -> (room, who)

    def act(self, header, payload=b""):
        header["size"] = len(payload)
        self.writer.write(json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload)

    def say(self, conn, text):
        self.act({"action": "send", "conn": conn, "binary": False}, text.encode())

    async def frames(self):
        while True:
            line = await self.reader.readuntil(b"\n")  # the stream's limit bounds it
            header = json.loads(line)
            payload = await self.reader.readexactly(header.get("size", 0))
            yield header, payload

    def on_event(self, h, payload):
        event, conn = h.get("event"), h.get("conn")
        if event == "hello":
            self.conns.clear()  # the connect events that follow are the whole list
        elif event == "connect":
            room = h.get("params", {}).get("room", "lobby")
            who = h.get("user") or conn
            self.conns[conn] = (room, who)
            if not h.get("replay"):
                self.say(conn, f"welcome to {room}, {who}")
        elif event == "message" and conn in self.conns and not h.get("binary"):
            room, who = self.conns[conn]
            text = payload.decode("utf-8")
            if text.strip() == "/quit":
                self.act({"action": "close", "conn": conn, "code": 4000, "reason": "bye"})
            else:
                self.act({"action": "publish", "room": f"room:{room}", "exclude": conn,
                          "binary": False}, f"{who}: {text}".encode())
        elif event == "disconnect":
            self.conns.pop(conn, None)
        elif event == "ack" and not h.get("ok"):
            print(f"action {h.get('id')} refused: {h.get('error')}", file=sys.stderr)

    async def run(self):
        try:
            async for header, payload in self.frames():
                self.on_event(header, payload)
                await self.writer.drain()  # backpressure: wait while wsgated is not reading
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # wsgated went away; it reconnects and replays
        except (ValueError, asyncio.LimitOverrunError) as e:
            print(f"bad frame from wsgated: {e}", file=sys.stderr)
        finally:
            self.writer.close()


async def serve(reader, writer):
    await Stream(reader, writer).run()


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--unix", default="/tmp/wsgated-chat.sock", help="Unix socket to listen on")
    g.add_argument("--tcp", help="HOST:PORT to listen on instead")
    a = p.parse_args()
    limit = MAX_HEADER + 1  # a header line is at most 64 KiB
    if a.tcp:
        host, port = a.tcp.rsplit(":", 1)
        server = await asyncio.start_server(serve, host, int(port), limit=limit)
    else:
        if os.path.exists(a.unix):
            os.unlink(a.unix)  # a stale socket from an earlier run
        server = await asyncio.start_unix_server(serve, a.unix, limit=limit)
    print(f"listening on {a.tcp or a.unix}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
