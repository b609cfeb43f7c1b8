#!/usr/bin/env python3
"""bench/cluster_fanout.py: what a delivery to a member on another node costs (issue 19).

A redis-server and wsgated nodes (Release) on 127.0.0.1. Two runs, same members, same publishes:

  local   one node holds every member; the publishes are made on it;
  remote  the members are spread over nodes 2..N; the publishes are made on node 1, which holds
          none, so every delivery crosses Redis.

Each run publishes P messages of S bytes to one room of M members at a steady rate and reports
deliveries/s, the p50/p99 time from a publish call to its last member receiving it, the server
CPU per delivery (user+sys of every node, from /proc) and Redis's CPU per publish. The issue's
targets: remote CPU per delivery within 1.5x of local, Redis CPU per publish independent of M.

  bench/cluster_fanout.py --wsgated build/wsgated [--members 2000] [--publishes 300] [--size 64]

Prints one JSON object (a summary on stderr). Python stdlib only; stops by itself.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOKEN = "cluster-bench-token"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Node:
    def __init__(self, exe: str, redis_port: int, tmp: str, name: str):
        cfg = os.path.join(tmp, f"{name}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""server:
  workers: 1
  listen: [{{address: "127.0.0.1:0"}}]
  log: {{level: info, format: text}}
  limits: {{max_connections_per_ip: 100000}}
admin: {{listen: "127.0.0.1:0", token: {TOKEN}}}
routes:
  - {{path: "/room/{{room}}", backend: echo, rooms: ["{{room}}"]}}
cluster: {{redis: "redis://127.0.0.1:{redis_port}/0", node_id: {name}}}
""")
        self.proc = subprocess.Popen([exe, "--config", cfg], stderr=subprocess.PIPE, text=True)
        self.port = self.admin = None
        for line in self.proc.stderr:
            if m := re.search(r"admin listening on 127.0.0.1:(\d+)", line):
                self.admin = int(m[1])
            elif m := re.search(r"listening on 127.0.0.1:(\d+) \(ws\)", line):
                self.port = int(m[1])
            if self.port and self.admin:
                break
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.get("/readyz") != 200:
            time.sleep(0.05)

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}{path}", timeout=5) as r:
                return r.status
        except Exception:
            return 0

    def publish(self, room: str, body: bytes) -> int:
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin}/v1/rooms/{room}/messages", data=body,
                                     method="POST", headers={"Authorization": f"Bearer {TOKEN}",
                                                             "Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["members"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


def connect(port: int, room: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(f"GET /room/{room} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head[:100]
    s.setblocking(False)
    return s


def receive(members: list[socket.socket], expect: int, size: int, last_seen: dict, stop: threading.Event):
    """Counts whole frames per member; last_seen[seq] = time the last member got publish seq."""
    sel = selectors.DefaultSelector()
    buf = {s: b"" for s in members}
    got = {}
    for s in members:
        sel.register(s, selectors.EVENT_READ)
    frame = 2 + (2 if size >= 126 else 0) + size
    while not stop.is_set():
        for key, _ in sel.select(0.2):
            s = key.fileobj
            data = s.recv(1 << 16)
            buf[s] += data
            while len(buf[s]) >= frame:
                payload, buf[s] = buf[s][frame - size:frame], buf[s][frame:]
                seq = int(payload[:10])
                got[seq] = got.get(seq, 0) + 1
                if got[seq] == expect:
                    last_seen[seq] = time.monotonic()


def run(exe: str, redis, spread: str, n_nodes: int, members: int, publishes: int, size: int, rate: float):
    tmp = tempfile.mkdtemp(prefix="wsgated-cluster-bench-")
    nodes = [Node(exe, redis.port, tmp, f"n{i}") for i in range(1 if spread == "local" else n_nodes)]
    holders = nodes if spread == "local" else nodes[1:]
    socks = [connect(holders[i % len(holders)].port, "bench") for i in range(members)]
    while nodes[0].publish("bench", b"0" * 10) != members:  # presence caught up (a warm-up publish)
        time.sleep(0.1)
    time.sleep(0.5)
    for s in socks:  # drain the warm-up
        try:
            while s.recv(1 << 16):
                pass
        except BlockingIOError:
            pass
    last_seen, sent, stop = {}, {}, threading.Event()
    t = threading.Thread(target=receive, args=(socks, members, size, last_seen, stop), daemon=True)
    t.start()
    cpu0 = [cpu_seconds(n.proc.pid) for n in nodes]
    r0 = cpu_seconds(redis.proc.pid)
    start = time.monotonic()
    for seq in range(1, publishes + 1):
        sent[seq] = time.monotonic()
        nodes[0].publish("bench", f"{seq:010d}".encode().ljust(size, b"x"))
        time.sleep(max(0.0, start + seq / rate - time.monotonic()))
    deadline = time.monotonic() + 10
    while len(last_seen) < publishes and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    cpu = sum(cpu_seconds(n.proc.pid) for n in nodes) - sum(cpu0)
    redis_cpu = cpu_seconds(redis.proc.pid) - r0
    stop.set()
    t.join()
    lat = sorted(last_seen[s] - sent[s] for s in last_seen)
    for s in socks:
        s.close()
    for n in nodes:
        n.stop()
    shutil.rmtree(tmp, True)
    deliveries = len(last_seen) * members
    return {"spread": spread, "nodes": len(nodes), "members": members, "publishes": publishes,
            "complete": len(last_seen), "deliveries_per_s": round(deliveries / elapsed),
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
            "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2) if lat else None,
            "server_cpu_us_per_delivery": round(cpu / max(deliveries, 1) * 1e6, 3),
            "redis_cpu_us_per_publish": round(redis_cpu / publishes * 1e6, 1)}


class Redis:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL)
        time.sleep(0.3)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wsgated", default="build/wsgated")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--publishes", type=int, default=300)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--rate", type=float, default=100.0, help="publishes per second")
    a = ap.parse_args()
    redis = Redis()
    try:
        out = [run(a.wsgated, redis, spread, a.nodes, a.members, a.publishes, a.size, a.rate)
               for spread in ("local", "remote")]
        small = run(a.wsgated, redis, "remote", a.nodes, max(10, a.members // 10), a.publishes, a.size, a.rate)
        out.append(small)
    finally:
        redis.proc.terminate()
    local, remote = out[0], out[1]
    ratio = remote["server_cpu_us_per_delivery"] / max(local["server_cpu_us_per_delivery"], 1e-9)
    result = {"runs": out, "remote_vs_local_cpu_per_delivery": round(ratio, 2),
              "redis_cpu_per_publish_small_vs_large_room": [small["redis_cpu_us_per_publish"],
                                                            remote["redis_cpu_us_per_publish"]]}
    print(json.dumps(result, indent=1))
    for r in out:
        print(f"{r['spread']:6} {r['members']:6} members: {r['deliveries_per_s']:9} deliveries/s, p99 {r['p99_ms']} ms, "
              f"{r['server_cpu_us_per_delivery']} us CPU/delivery, Redis {r['redis_cpu_us_per_publish']} us/publish",
              file=sys.stderr)
    print(f"remote/local CPU per delivery: {ratio:.2f}x (target <= 1.5x)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
