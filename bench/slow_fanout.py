#!/usr/bin/env python3
"""bench/slow_fanout.py: fan-out to members that never read (issue 16's scenario).

N room members (default 10,000) connect, finish the upgrade and then never read again (a small
receive buffer, so the kernel fills at once). The control API publishes P payloads of S bytes to
their room (default 60 x 16 KiB) with `send_queue: 256KiB`. Measured: wsgated's RSS before, at
its peak and after every member left; how long each publish call took to answer; how many
members were closed as slow consumers. What a copy per member would cost: N x P x S bytes
(bounded per member by send_queue); what a shared payload costs: P x S.

  bench/slow_fanout.py --wsgated build/wsgated [--members 10000] [--publishes 60] [--size 16384]

Prints one JSON object (and a summary on stderr). Run by `bench/run --only slow-fanout`, or by
itself. Python stdlib only; everything on 127.0.0.1; stops by itself.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOKEN = "slow-fanout-token"


def rss_bytes(pid: int) -> int:
    m = re.search(r"^Rss:\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M)
    return int(m.group(1)) * 1024


def start_wsgated(binary: str, workdir: Path, workers: int) -> tuple[subprocess.Popen, int, int]:
    cfg = workdir / "slow-fanout.yaml"
    cfg.write_text(f"""server:
  workers: {workers}
  listen: [{{address: "127.0.0.1:0"}}]
  heartbeat: {{interval: 0}}
  limits: {{max_connections: 100000, max_connections_per_ip: 100000, send_queue: 256KiB,
            max_message_size: 1MiB}}
  log: {{level: info, format: text}}
admin: {{listen: "127.0.0.1:0", token: "{TOKEN}"}}
routes:
  - {{path: /sub, backend: echo, rooms: [slow], events: []}}
""")
    log = open(workdir / "wsgated.log", "w+")
    p = subprocess.Popen([binary, "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        text = (workdir / "wsgated.log").read_text()
        public = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
        admin = re.search(r"admin listening on 127\.0\.0\.1:(\d+)", text)
        if public and admin:
            ports = [int(x) for x in re.findall(r"(?<!admin )listening on 127\.0\.0\.1:(\d+)", text)]
            return p, ports[0], int(admin.group(1))
        if p.poll() is not None:
            raise RuntimeError(f"wsgated exited: {text[-2000:]}")
        time.sleep(0.05)
    p.kill()
    raise RuntimeError("wsgated did not say where it listens")


def admin_call(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, float]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.monotonic()
    c.request(method, path, body=body, headers={"Authorization": f"Bearer {TOKEN}",
                                                "Content-Type": "application/octet-stream"})
    r = c.getresponse()
    data = r.read()
    took = time.monotonic() - t0
    c.close()
    return r.status, data, took


def metric(port: int, name: str) -> float:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def connect_members(port: int, n: int, rcvbuf: int) -> list[socket.socket]:
    """n upgraded connections that will never be read again (handshakes in parallel)."""
    sel = selectors.DefaultSelector()
    pending, done = {}, []
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /sub HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    started, deadline = 0, time.monotonic() + 120
    while len(done) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(done)} of {n} members upgraded in 120 s")
        while started < n and len(pending) < 500:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.connect(("127.0.0.1", port))
            s.sendall(request)
            s.setblocking(False)
            pending[s] = b""
            sel.register(s, selectors.EVENT_READ)
            started += 1
        for k, _ in sel.select(timeout=1):
            s = k.fileobj
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("a member's upgrade was refused (closed)")
            pending[s] += chunk
            if b"\r\n\r\n" in pending[s]:
                if not pending[s].startswith(b"HTTP/1.1 101"):
                    raise RuntimeError(f"upgrade refused: {pending[s][:200]!r}")
                sel.unregister(s)
                del pending[s]
                done.append(s)
    sel.close()
    return done


def wait_gauge(admin: int, name: str, want: float, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if metric(admin, name) == want:
            return True
        time.sleep(0.2)
    return False


def run(a) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="slow-fanout-") as tmp:
        p, port, admin = start_wsgated(a.wsgated, Path(tmp), a.workers)
        try:
            base = rss_bytes(p.pid)
            members = connect_members(port, a.members, a.rcvbuf)
            if not wait_gauge(admin, "wsgate_rooms", 1, 30):
                raise RuntimeError("the members' room did not appear")
            joined = rss_bytes(p.pid)
            payload = os.urandom(a.size)
            took, peak = [], joined
            for _ in range(a.publishes):
                status, body, t = admin_call(admin, "POST", "/v1/rooms/slow/messages", payload)
                if status not in (200, 202):
                    raise RuntimeError(f"publish answered {status}: {body[:200]!r}")
                took.append(t)
                peak = max(peak, rss_bytes(p.pid))
            settle_end = time.monotonic() + 3
            while time.monotonic() < settle_end:  # the members' writes and 1008s settle
                peak = max(peak, rss_bytes(p.pid))
                time.sleep(0.2)
            slow = metric(admin, "wsgate_slow_consumer_closes_total")
            for s in members:  # abrupt: RST, as a crowd of dead clients would
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            drained = wait_gauge(admin, "wsgate_connections", 0, 60)
            time.sleep(a.after_wait)
            after = rss_bytes(p.pid)
            result = dict(members=a.members, publishes=a.publishes, size=a.size, workers=a.workers,
                          rss_start=base, rss_joined=joined, rss_peak=peak, rss_after=after,
                          publish_max_s=max(took), publish_median_s=sorted(took)[len(took) // 2],
                          publish_total_s=sum(took), slow_consumer_closes=slow, drained=drained,
                          copy_per_member_bound=a.members * min(a.publishes * a.size, 256 * 1024),
                          distinct_payload_bytes=a.publishes * a.size)
        finally:
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # A clean SIGTERM exits 0; under ASan a leak or error report makes it non-zero.
        result["exit_status"] = p.returncode
        result["log_tail"] = (Path(tmp) / "wsgated.log").read_text()[-3000:]
        return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wsgated", default=str(Path(__file__).resolve().parent.parent / "build" / "wsgated"))
    ap.add_argument("--members", type=int, default=10000)
    ap.add_argument("--publishes", type=int, default=60)
    ap.add_argument("--size", type=int, default=16384)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("--after-wait", type=float, default=2.0, help="seconds idle before the last RSS")
    a = ap.parse_args(argv)
    r = run(a)
    log_tail = r.pop("log_tail")
    if r["exit_status"] != 0:
        print(f"wsgated exited {r['exit_status']}:\n{log_tail}", file=sys.stderr)
    mb = 1 << 20
    print(f"slow fan-out: {r['members']} members x {r['publishes']} x {r['size']} B: RSS "
          f"{r['rss_start'] / mb:.0f} -> {r['rss_joined'] / mb:.0f} (joined) -> peak {r['rss_peak'] / mb:.0f}"
          f" -> after {r['rss_after'] / mb:.0f} MB; publish max {r['publish_max_s'] * 1000:.0f} ms, "
          f"median {r['publish_median_s'] * 1000:.1f} ms; slow-consumer closes {r['slow_consumer_closes']:.0f}",
          file=sys.stderr)
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
