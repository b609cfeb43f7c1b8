"""cluster_harness: a real redis-server and several wsgated nodes sharing it (SPEC §8).

RedisServer starts Debian's redis-server on a free 127.0.0.1 port (no persistence), can be
stopped (SIGKILL) and started again on the same port, as a Redis crash and restart would be.
start_nodes() starts N gateways on it with HS256 JWT users (sub = user, rooms claim joined)
and waits until each says /readyz 200, which means its own probe went through Redis.

RedisCluster builds a Redis Cluster of 3 masters from `redis-server --cluster-enabled yes`
processes on free ports and `redis-cli --cluster create`, and can migrate a slot or kill a master.

TcpProxy stands between a node and Redis, to cut the node off (connections reset, new ones
refused) or blackhole it (connections stay open, nothing passes), then heal it.

Used by test_cluster.py, test_cluster_failures.py and bench/cluster_fanout.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import struct
import tempfile
import threading
import time
import urllib.error
import urllib.request

import harness
from test_auth_hook import Admin

SECRET = "cluster-test-secret-0123456789abcdef0123456789abcdef"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, cleanup=None, password: str | None = None, tls: harness.Certs | None = None):
        self.dir = tempfile.mkdtemp(prefix="wsgated-redis-")
        self.port = free_port()
        self.password = password
        self.tls = tls
        self.proc: subprocess.Popen | None = None
        if cleanup:
            cleanup(shutil.rmtree, self.dir, True)
            cleanup(self.kill)
        self.start()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"{'rediss' if self.tls else 'redis'}://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            raise AssertionError("redis-server is missing: scripts/install-deps --test installs it")
        port = ["--port", str(self.port)]
        if self.tls:
            port = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", self.tls.cert,
                    "--tls-key-file", self.tls.key, "--tls-auth-clients", "no"]
        args = [exe, *port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--daemonize", "no", "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited {self.proc.returncode}")
            time.sleep(0.05)
        raise AssertionError("redis-server did not answer PING")

    def command(self, *args: str) -> bytes:
        """One command over a fresh connection; the raw RESP answer."""
        with self._connect() as s:
            out = b""
            if self.password:
                out += _resp("AUTH", self.password)
            out += _resp(*args)
            s.sendall(out)
            time.sleep(0.05)
            s.settimeout(1)
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if data.endswith(b"\r\n"):
                        break
            except socket.timeout:
                pass
            return data

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if not self.tls:
            return s
        ctx = ssl.create_default_context(cafile=self.tls.ca)
        return ctx.wrap_socket(s, server_hostname="127.0.0.1")

    def ping(self) -> bool:
        try:
            return b"PONG" in self.command("PING")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class RedisCluster:
    """A Redis Cluster of `shards` masters (no replicas), each a redis-server with
    --cluster-enabled yes on a free port, joined by `redis-cli --cluster create`."""

    def __init__(self, cleanup, shards: int = 3):
        self.dir = tempfile.mkdtemp(prefix="wsgated-rcluster-")
        cleanup(shutil.rmtree, self.dir, True)
        self.ports = [free_port() for _ in range(shards)]
        # The cluster bus needs a port of its own (port + 10000 by default, which may be taken or
        # past 65535): a free one, chosen like the others.
        self.bus_ports = {p: free_port() for p in self.ports}
        self.procs: dict[int, subprocess.Popen] = {}
        cleanup(self.kill_all)
        for p in self.ports:
            self.start(p)
        cli = shutil.which("redis-cli")
        if not cli:
            raise AssertionError("redis-cli is missing: scripts/install-deps --test installs redis-tools")
        subprocess.run([cli, "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        self.wait_ok()

    def start(self, port: int) -> None:
        d = os.path.join(self.dir, str(port))
        os.makedirs(d, exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-port", str(self.bus_ports[port]),
             "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--save", "",
             "--appendonly", "no", "--dir", d, "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: b"PONG" in self.command(port, "PING"), 10, f"redis-server :{port} PING")

    def kill(self, port: int) -> None:
        p = self.procs.pop(port, None)
        if p and p.poll() is None:
            p.kill()
            p.wait(5)

    def kill_all(self) -> None:
        for port in list(self.procs):
            self.kill(port)

    def url(self, seeds: int | None = None) -> str:
        return ", ".join(f"redis://127.0.0.1:{p}/0" for p in self.ports[:seeds or len(self.ports)])

    def command(self, port: int, *args: str) -> bytes:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(_resp(*args))
                time.sleep(0.05)
                s.settimeout(1)
                data = b""
                with contextlib.suppress(socket.timeout):
                    while not data.endswith(b"\r\n"):
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                return data
        except OSError:
            return b""

    def cli(self, port: int, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                              timeout=30).stdout.strip()

    def wait_ok(self, timeout: float = 20) -> None:
        for p in self.ports:
            wait_for(lambda: "cluster_state:ok" in self.cli(p, "CLUSTER", "INFO"), timeout, f":{p} cluster_state:ok")

    def slot(self, key: str) -> int:
        return int(self.cli(self.ports[0], "CLUSTER", "KEYSLOT", key))

    def owner(self, slot: int) -> int:
        """The port of the master serving `slot`."""
        for line in self.cli(self.ports[0], "CLUSTER", "NODES").splitlines():
            f = line.split()
            if "master" not in f[2]:
                continue
            for r in f[8:]:
                if r.startswith("["):
                    continue
                lo, _, hi = r.partition("-")
                if int(lo) <= slot <= int(hi or lo):
                    return int(f[1].split(":")[1].split("@")[0])
        raise AssertionError(f"no master serves slot {slot}")

    def move_slot(self, slot: int, to: int) -> None:
        """Migrates `slot` (its keys too) to the master on port `to`, as a resharding does."""
        src = self.owner(slot)
        ids = {p: self.cli(p, "CLUSTER", "MYID") for p in self.ports}
        self.cli(to, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", ids[src])
        self.cli(src, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", ids[to])
        while True:
            keys = self.cli(src, "CLUSTER", "GETKEYSINSLOT", str(slot), "100").split()
            if not keys:
                break
            self.cli(src, "MIGRATE", "127.0.0.1", str(to), "", "0", "5000", "KEYS", *keys)
        for p in self.ports:
            self.cli(p, "CLUSTER", "SETSLOT", str(slot), "NODE", ids[to])


class TcpProxy:
    """127.0.0.1:port → 127.0.0.1:target, one thread pair per connection. Modes: forward,
    cut (every connection reset, new ones reset at once) and blackhole (nothing passes either
    way, connections stay open: a path that died without a reset)."""

    def __init__(self, target_port: int, cleanup=None):
        self.target = target_port
        self.mode = "forward"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(64)
        self.port = self._srv.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()
        if cleanup:
            cleanup(self.stop)

    @staticmethod
    def _reset(s: socket.socket) -> None:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._srv.accept()
            except OSError:
                return
            if self.mode == "cut":
                self._reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                upstream.settimeout(None)  # the connect's bound only: an idle link is no error
            except OSError:
                self._reset(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._reset(dst)
                return
            if self.mode == "blackhole":
                continue
            try:
                dst.sendall(data)
            except OSError:
                self._reset(src)
                return

    def cut(self) -> None:
        self.mode = "cut"
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            self._reset(a)
            self._reset(b)

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def heal(self) -> None:
        self.mode = "forward"

    def stop(self) -> None:
        self._stopped = True
        self._srv.close()
        self.cut()


def _resp(*args: str) -> bytes:
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        b = a.encode()
        out += f"${len(b)}\r\n".encode() + b + b"\r\n"
    return out


def node_yaml(redis_url: str, token: str, key_file: str, node_id: str, node_ttl: str = "3s",
              extra_cluster: str = "", heartbeat: str = "30s") -> str:
    return f"""server:
  workers: 2
  listen: [{{address: "127.0.0.1:0"}}]
  heartbeat: {{interval: {heartbeat}}}
  log: {{level: info, format: text}}
  limits: {{max_connections_per_ip: 20000}}  # the fan-out test's members come from one address
admin:
  listen: "127.0.0.1:0"
  token: "{token}"
routes:
  - path: /room/{{room}}
    backend: echo
    rooms: ["{{room}}"]
  - path: /user
    backend: echo
    auth: {{type: jwt, algorithms: [HS256], key_file: {key_file}, token_from: ["query:token"]}}
cluster:
  redis: "{redis_url}"
  node_id: {node_id}
  node_ttl: {node_ttl}
{extra_cluster}"""


class Node:
    def __init__(self, gw: harness.Gateway, admin: Admin, node_id: str):
        self.gw, self.admin, self.node_id = gw, admin, node_id

    def url(self, path: str) -> str:
        return self.gw.url(0, path)

    @property
    def tag(self) -> str:
        """The node tag its connection ids begin with (from its log)."""
        for line in self.gw.lines:
            m = re.search(r"\(tag ([A-Za-z0-9_-]+)\)", line)
            if m:
                return m[1]
        raise AssertionError("no 'cluster: node … (tag …)' line in the log")

    def ready(self) -> int:
        try:
            with _DIRECT.open(self.admin.base + "/readyz", timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0


class NodeCalls:
    """For IsolatedAsyncioTestCase tests of nodes: a client connection closed at the test's end,
    and a /v1 call that does not block the event loop."""

    async def connect(self, node: Node, path: str):
        import websockets  # not needed by bench/cluster_fanout.py, which imports this module too
        ws = await websockets.connect(node.url(path), open_timeout=10.0, max_size=None)
        self.addAsyncCleanup(ws.close)
        return ws

    async def call(self, node: Node, method: str, path: str, body: bytes | None = None):
        import asyncio
        return await asyncio.to_thread(node.admin.call, method, path, body)


def wait_for(pred, timeout: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"not within {timeout}s: {what}")


def start_nodes(redis: RedisServer, n: int, token: str, cleanup, node_ttl: str = "3s",
                extra_cluster: str = "", url: str | None = None, wait: bool = True, first: int = 0,
                heartbeat: str = "30s") -> list[Node]:
    d = harness.temp_dir(cleanup)
    key_file = os.path.join(d, "jwt.secret")
    with open(key_file, "w") as f:
        f.write(SECRET)
    nodes = []
    for i in range(n):
        node_id = f"node-{chr(ord('a') + first + i)}"
        gw = harness.start_gateway(node_yaml(url or redis.url, token, key_file, node_id, node_ttl, extra_cluster,
                                             heartbeat), cleanup)
        nodes.append(Node(gw, Admin(gw, token), node_id))
    for node in nodes if wait else []:
        wait_for(lambda: node.ready() == 200, 10, f"{node.node_id} /readyz 200")
    return nodes
