"""cluster_harness: a real redis-server and several wsgated nodes sharing it (SPEC §8).

RedisServer starts Debian's redis-server on a free 127.0.0.1 port (no persistence), can be
stopped (SIGKILL) and started again on the same port, as a Redis crash and restart would be.
start_nodes() starts N gateways on it with HS256 JWT users (sub = user, rooms claim joined)
and waits until each says /readyz 200, which means its own probe went through Redis.

Used by test_cluster.py and bench/run's cluster workload.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
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


def _resp(*args: str) -> bytes:
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        b = a.encode()
        out += f"${len(b)}\r\n".encode() + b + b"\r\n"
    return out


def node_yaml(redis_url: str, token: str, key_file: str, node_id: str, node_ttl: str = "3s",
              extra_cluster: str = "") -> str:
    return f"""server:
  workers: 2
  listen: [{{address: "127.0.0.1:0"}}]
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

    def ready(self) -> int:
        try:
            with _DIRECT.open(self.admin.base + "/readyz", timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0


def wait_for(pred, timeout: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"not within {timeout}s: {what}")


def start_nodes(redis: RedisServer, n: int, token: str, cleanup, node_ttl: str = "3s",
                extra_cluster: str = "", url: str | None = None, wait: bool = True) -> list[Node]:
    d = harness.temp_dir(cleanup)
    key_file = os.path.join(d, "jwt.secret")
    with open(key_file, "w") as f:
        f.write(SECRET)
    nodes = []
    for i in range(n):
        node_id = f"node-{chr(ord('a') + i)}"
        gw = harness.start_gateway(node_yaml(url or redis.url, token, key_file, node_id, node_ttl, extra_cluster),
                                   cleanup)
        nodes.append(Node(gw, Admin(gw, token), node_id))
    for node in nodes if wait else []:
        wait_for(lambda: node.ready() == 200, 10, f"{node.node_id} /readyz 200")
    return nodes
