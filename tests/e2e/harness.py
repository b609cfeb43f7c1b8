"""harness.py: start the real wsgated binary from inline YAML (Python side of tests/e2e).

Stdlib only (plus `websockets` in the tests that use it); run with /usr/bin/python3.
Every gateway listens on port 0; the real ports come from its `listening on HOST:PORT (ws|wss)`
log lines. A started gateway is killed by the test's cleanup, by an atexit hook, and (through
`setpriv --pdeathsig`) by the kernel if this process dies first: no stray daemons.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("WSGATED_SOURCE_DIR", HERE.parent.parent))


def find_binary() -> str:
    env = os.environ.get("WSGATED_BIN")
    if env:
        return env
    for d in ("build-asan", "build-e2e", "build"):
        p = SOURCE_DIR / d / "wsgated"
        if p.exists():
            return str(p)
    raise RuntimeError("wsgated binary not found: set WSGATED_BIN")


BIN = find_binary()
SETPRIV = next((p for p in ("/usr/bin/setpriv", "/bin/setpriv") if os.path.exists(p)), None)
SAN_ENV = {
    "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1"),
    "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
}

_live: set[subprocess.Popen] = set()


@atexit.register
def _kill_all() -> None:
    for p in list(_live):
        if p.poll() is None:
            p.kill()


def _spawn(args: list[str], env: dict | None = None, cwd: str | None = None,
           stdin=subprocess.DEVNULL) -> subprocess.Popen:
    argv = [BIN, *args]
    if SETPRIV:
        argv = [SETPRIV, "--pdeathsig", "SIGKILL", "--", *argv]
    proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **SAN_ENV, **(env or {})},
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _live.add(proc)
    return proc


def parse_log_line(line: str) -> dict | None:
    """One stderr line -> {time, level, msg} for both `text` and `json` formats; else None."""
    s = line.strip()
    if s.startswith("{"):
        try:
            o = json.loads(s)
        except ValueError:
            return None
        return o if isinstance(o.get("msg"), str) else None
    m = re.match(r"^(\S+)\s+([a-z]+)\s+(.*)$", s)
    return {"time": m[1], "level": m[2], "msg": m[3]} if m else None


_LISTENING = re.compile(r"listening on (\[[0-9a-fA-F:.%\w]+\]|[^\s\[\]]+):(\d+) \((wss?)\)$")


@dataclass
class Listener:
    host: str
    port: int
    scheme: str

    @property
    def family(self) -> int:
        return 6 if ":" in self.host else 4


def parse_listening(msg: str) -> Listener | None:
    m = _LISTENING.search(msg)
    if not m:
        return None
    host = m[1][1:-1] if m[1].startswith("[") else m[1]
    return Listener(host, int(m[2]), m[3])


class Gateway:
    """A running wsgated. Use start_gateway(); stop()/kill() end it."""

    def __init__(self, proc: subprocess.Popen, config_path: str, tmp: str):
        self.proc = proc
        self.config_path = config_path
        self.dir = tmp
        self.lines: list[str] = []
        self.listeners: list[Listener] = []
        self._cond = threading.Condition()
        self._ready = False
        self._eof = False
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            rec = parse_log_line(line)
            with self._cond:
                self.lines.append(line)
                if rec:
                    lst = parse_listening(rec["msg"])
                    if lst:
                        self.listeners.append(lst)
                    if rec["msg"] == "ready":
                        self._ready = True
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_ready(self, timeout: float = 10.0) -> None:
        with self._cond:
            ok = self._cond.wait_for(lambda: self._ready or self._eof, timeout)
        if not ok or not self._ready:
            self.kill()
            raise AssertionError(f"wsgated not ready after {timeout}s (exit {self.proc.poll()}):\n"
                                 f"{self.stderr}")

    def listener(self, i: int = 0) -> Listener:
        if i >= len(self.listeners):
            raise AssertionError(f"no listener #{i}: {self.listeners}\n{self.stderr}")
        return self.listeners[i]

    def url(self, i: int = 0, path: str = "/echo") -> str:
        lst = self.listener(i)
        host = f"[{lst.host}]" if lst.family == 6 else lst.host
        return f"{lst.scheme}://{host}:{lst.port}{path}"

    def addr(self, i: int = 0) -> tuple[str, int]:
        lst = self.listener(i)
        return lst.host, lst.port

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig`, wait for the exit (SIGKILL + raise on timeout); returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 15.0) -> int:
        """Wait for the exit without signalling (SIGKILL + raise on timeout); the exit status."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"wsgated did not exit within {timeout}s:\n{self.stderr}")
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        _live.discard(self.proc)
        self._reader.join(5)  # it ends at EOF, once the process (and its children) are gone
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()


_ADMIN_LISTENING = re.compile(r"^admin listening on (\S+):(\d+) \(http\)$")


def admin_base(gw: Gateway) -> str:
    """http://HOST:PORT of the gateway's admin listener, from its "admin listening on" line."""
    for line in gw.lines:
        rec = parse_log_line(line)
        m = rec and _ADMIN_LISTENING.search(rec["msg"])
        if m:
            return f"http://{m[1]}:{m[2]}"
    raise AssertionError(f"no 'admin listening on' line in the log:\n{gw.stderr}")


def temp_dir(cleanup=None) -> str:
    d = tempfile.mkdtemp(prefix="wsgated-e2e-")
    if cleanup:
        cleanup(shutil.rmtree, d, True)
    return d


def start_gateway(yaml: str, cleanup=None, *, tmp: str | None = None, env: dict | None = None,
                  ready_timeout: float = 10.0, expect_listeners: int = 1) -> Gateway:
    """Write `yaml` and start wsgated on it; returns once it logged `ready`.

    `cleanup` is a unittest addCleanup; the gateway is killed (and the temp dir removed) there.
    """
    tmp = tmp or temp_dir(cleanup)
    cfg = os.path.join(tmp, "gateway.yaml")
    Path(cfg).write_text(yaml)
    proc = _spawn(["--config", cfg], env=env, cwd=tmp)
    gw = Gateway(proc, cfg, tmp)
    if cleanup:
        cleanup(gw.kill)
    gw.wait_ready(ready_timeout)
    if len(gw.listeners) < expect_listeners:
        gw.kill()
        raise AssertionError(f"expected {expect_listeners} listeners:\n{gw.stderr}")
    return gw


def echo_config(listen: list | None = None, extra_server: str = "", routes: str = "",
                log_format: str = "text") -> str:
    """A config with route /echo -> echo, the given listen entries, admin on port 0."""
    items = []
    for entry in listen or ["127.0.0.1:0"]:
        if isinstance(entry, str):
            items.append(f'    - address: "{entry}"')
        else:
            items.append(f"    - {json.dumps(entry)}")
    return ("server:\n  workers: 2\n  listen:\n" + "\n".join(items) + "\n"
            f"  log: {{level: info, format: {log_format}}}\n{extra_server}"
            'admin:\n  listen: "127.0.0.1:0"\n'
            "routes:\n  - path: /echo\n    backend: echo\n" + routes)


@dataclass
class Certs:
    ca: str
    ca_key: str
    cert: str
    key: str


def _openssl(*args: str, cwd: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certs(d: str, name: str = "test") -> Certs:
    """A throw-away CA (CA:TRUE) and a server cert for IP:127.0.0.1, IP:::1, DNS:localhost."""
    p = lambda s: os.path.join(d, f"{name}-{s}")  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2",
             "-subj", f"/CN=wsgated e2e {name} CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-new", *ec, "-keyout", p("server.key"), "-out", p("server.csr"),
             "-subj", "/CN=localhost", cwd=d)
    Path(p("server.ext")).write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
             "-set_serial", "0x" + secrets.token_hex(8), "-days", "2",
             "-extfile", p("server.ext"), "-out", p("server.crt"), cwd=d)
    return Certs(p("ca.crt"), p("ca.key"), p("server.crt"), p("server.key"))


def have_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def raw_http(addr: tuple[str, int], request: bytes, timeout: float = 5.0) -> bytes:
    """Send `request` on a new TCP connection; return what came back until the head ended."""
    fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(addr)
        s.sendall(request)
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
