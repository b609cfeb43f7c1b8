"""stream_backends: test backends for wsgated's `stream` backend (SPEC §4, docs/backends.md).

Stdlib only, threads. A StreamBackend listens (a Unix socket path, or 127.0.0.1 port 0) and
accepts every stream wsgated opens (one per worker, again after every reconnect). Each stream
gets a reader thread, which cuts the frames (a JSON header line, `\\n`, `size` payload bytes)
and records them in arrival order, and a writer thread, which sends what the test (or the echo)
queued, so the reader never blocks on a write. What it can do:

- record every frame (per stream and globally, with a global arrival number);
- echo each `message` back with a `send` (optionally with an `id` and `"wait":"written"`);
- stop reading (the kernel buffers fill and push back on wsgated) and resume;
- send any frame or any raw bytes (malformed frames) on a stream, counting what the kernel took
  (`Stream.written`: a writer that wsgated stops reading makes no progress);
- be killed (every socket closed at once, like a crashed process) and restarted on the same
  path or port (`restart()` returns a new backend);
- wait_for(predicate, timeout) on what it recorded.

With `keep_payloads=False` it keeps, per connection, only the byte count and a SHA-256 of every
message payload (in order), for floods of hundreds of MiB.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field

MAX_HEADER = 64 * 1024  # the protocol's header bound (without the newline)


@dataclass
class Frame:
    """One frame from wsgated: its header, its payload, where and when it arrived."""

    stream: "Stream" = field(repr=False, compare=False)
    seq: int  # arrival order over every stream of the backend
    h: dict
    payload: bytes = field(repr=False)
    size: int
    t: float

    @property
    def event(self) -> str | None:
        return self.h.get("event")

    @property
    def conn(self) -> str | None:
        return self.h.get("conn")


def encode(header: dict, payload: bytes = b"") -> bytes:
    """One frame: `size` set to the payload's length (a frame for wsgated)."""
    h = dict(header)
    h["size"] = len(payload)
    return json.dumps(h, separators=(",", ":")).encode() + b"\n" + payload


class Stream:
    """One connection from wsgated (one worker's stream, one connect of it)."""

    def __init__(self, backend: "StreamBackend", sock: socket.socket, index: int):
        self.backend = backend
        self.sock = sock
        self.index = index  # accept order over the backend's life
        self.frames: list[Frame] = []
        self.error: str | None = None  # why the reader stopped on a bad frame from wsgated
        self.closed = False  # EOF or an error: wsgated dropped (or we killed) this stream
        self._out: list[bytes] = []
        self.queued = 0  # bytes handed to send_raw / act
        self.written = 0  # of those, bytes the kernel took (wsgated reads them)
        self._out_cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"sb-read-{index}")
        self._writer = threading.Thread(target=self._write, daemon=True, name=f"sb-write-{index}")

    def start(self) -> None:
        self._reader.start()
        self._writer.start()

    @property
    def worker(self) -> int | None:
        """The `worker` of this stream's hello (None before it arrived)."""
        return self.frames[0].h.get("worker") if self.frames and self.frames[0].event == "hello" \
            else None

    # ------------------------------------------------------------------ writing
    def send_raw(self, data: bytes) -> None:
        """Queue bytes as they are (the writer thread sends them in order)."""
        with self._out_cond:
            self._out.append(bytes(data))
            self.queued += len(data)
            self._out_cond.notify()

    def act(self, header: dict, payload: bytes | str = b"") -> None:
        """Queue one action frame; a str payload is UTF-8 encoded."""
        if isinstance(payload, str):
            payload = payload.encode()
        self.send_raw(encode(header, payload))

    def _write(self) -> None:
        while True:
            with self._out_cond:
                self._out_cond.wait_for(lambda: self._out or self.closed)
                if not self._out:
                    return  # closed with nothing left to send
                data, self._out = b"".join(self._out), []
            try:
                view = memoryview(data)
                for i in range(0, len(view), 1 << 16):  # in slices: `written` shows progress
                    self.sock.sendall(view[i:i + (1 << 16)])
                    with self._out_cond:
                        self.written += len(view[i:i + (1 << 16)])
            except OSError:
                self._set_closed()
                return

    # ------------------------------------------------------------------ reading
    def _read(self) -> None:
        b = self.backend
        head = b""  # a header line cut by a recv boundary
        header: dict | None = None  # the header whose payload is being read
        need = 0
        parts: list[bytes] = []
        try:
            while True:
                b._reading.wait()  # pause_reading(): stop calling recv, the kernel pushes back
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return
                pos, end = 0, len(chunk)
                while pos < end:
                    if header is None:
                        limit = min(end, pos + MAX_HEADER + 1 - len(head))
                        nl = chunk.find(b"\n", pos, limit)
                        if nl < 0:
                            head += chunk[pos:limit]
                            pos = limit
                            if len(head) > MAX_HEADER:
                                self.error = "a header over 64 KiB from wsgated"
                                return
                            continue
                        line, head = head + chunk[pos:nl], b""
                        pos = nl + 1
                        header = json.loads(line)
                        if not isinstance(header, dict):
                            raise ValueError(f"header is not an object: {line[:200]!r}")
                        need = header.get("size", 0)
                        if not isinstance(need, int) or isinstance(need, bool) or need < 0:
                            raise ValueError(f"bad size in {header}")
                        parts = []
                    take = min(need, end - pos)
                    if take:
                        parts.append(chunk[pos:pos + take])
                        pos += take
                        need -= take
                    if need == 0:
                        b._record(self, header, parts[0] if len(parts) == 1 else b"".join(parts))
                        header = None
        except (OSError, ValueError) as e:
            if not self.closed:
                self.error = f"{type(e).__name__}: {e}"
        finally:
            self._set_closed()

    def _set_closed(self) -> None:
        with self._out_cond:
            self.closed = True
            self._out_cond.notify_all()
        with self.backend._cond:
            self.backend._cond.notify_all()

    def kill(self) -> None:
        """Close the socket at once (what a crashed backend process does)."""
        self._set_closed()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def join(self, timeout: float = 5.0) -> None:
        self._reader.join(timeout)
        self._writer.join(timeout)


class StreamBackend:
    """A stream backend for the tests (see the module's docstring).

    `path`: listen on this Unix socket (a stale file is removed first); else TCP on
    127.0.0.1:`port` (0 = the kernel's pick; `.port` is the real one). `cleanup` (a unittest
    addCleanup) stops it when the test ends. `echo`: answer each message with a `send` of the
    same payload and type; `echo_id`: give each echo an id (f"echo-{n}", n counting from 0)
    so wsgated acks it; `echo_wait`: and `"wait":"written"`."""

    def __init__(self, path: str | None = None, port: int = 0, *, cleanup=None,
                 echo: bool = True, echo_id: bool = False, echo_wait: bool = False,
                 keep_payloads: bool = True):
        self.path = path
        self.echo, self.echo_id, self.echo_wait = echo, echo_id, echo_wait
        self.keep_payloads = keep_payloads
        self.streams: list[Stream] = []
        self.frames: list[Frame] = []
        self.bytes_by_conn: dict[str, int] = {}
        self._digests: dict[str, "hashlib._Hash"] = {}
        self._echoes = 0
        self._cond = threading.Condition()
        self._reading = threading.Event()
        self._reading.set()
        self._stopped = False
        if path:
            if os.path.exists(path):
                os.unlink(path)
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(path)
        else:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(("127.0.0.1", port))
        self.port = None if path else self._listener.getsockname()[1]
        self._listener.listen(64)
        self._listener.settimeout(0.05)  # the accept loop polls: stop() needs no wake-up trick
        self._acceptor = threading.Thread(target=self._accept, daemon=True, name="sb-accept")
        self._acceptor.start()
        if cleanup:
            cleanup(self.stop)

    @property
    def address(self) -> str:
        """The gateway's backend config for it: `path: …` or `address: …`."""
        return f"path: {json.dumps(self.path)}" if self.path else \
            f'address: "127.0.0.1:{self.port}"'

    def restart(self, cleanup=None, **kw) -> "StreamBackend":
        """Kill this backend and start a new one on the same path / port, same options."""
        self.kill()
        opts = dict(echo=self.echo, echo_id=self.echo_id, echo_wait=self.echo_wait,
                    keep_payloads=self.keep_payloads)
        opts.update(kw)
        return StreamBackend(self.path, self.port or 0, cleanup=cleanup, **opts)

    # ------------------------------------------------------------------ life
    def _accept(self) -> None:
        while not self._stopped:
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._cond:
                if self._stopped:
                    sock.close()
                    return
                st = Stream(self, sock, len(self.streams))
                self.streams.append(st)
                self._cond.notify_all()
            st.start()

    def kill(self) -> None:
        """Stop listening and close every stream at once (the socket file is left, as a
        crashed process leaves it); what was recorded stays readable."""
        with self._cond:
            self._stopped = True
            streams = list(self.streams)
        self._reading.set()  # a paused reader must see its socket close
        try:
            self._listener.close()
        except OSError:
            pass
        for st in streams:
            st.kill()
        self._acceptor.join(5)
        for st in streams:
            st.join(5)

    def stop(self) -> None:
        """kill(), and the socket file removed."""
        self.kill()
        if self.path and os.path.exists(self.path):
            try:
                os.unlink(self.path)
            except OSError:
                pass

    # ------------------------------------------------------------------ controls
    def pause_reading(self) -> None:
        """Every stream stops reading (after the recv in progress, if any)."""
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    # ------------------------------------------------------------------ recording
    def _record(self, st: Stream, h: dict, payload: bytes) -> None:
        conn = h.get("conn")
        echo = None
        with self._cond:
            if h.get("event") == "message" and isinstance(conn, str):
                self.bytes_by_conn[conn] = self.bytes_by_conn.get(conn, 0) + len(payload)
                if not self.keep_payloads:
                    self._digests.setdefault(conn, hashlib.sha256()).update(payload)
            f = Frame(st, len(self.frames), h, payload if self.keep_payloads else b"",
                      len(payload), time.monotonic())
            st.frames.append(f)
            self.frames.append(f)
            if self.echo and h.get("event") == "message":
                echo = {"action": "send", "conn": conn, "binary": h.get("binary", False)}
                if self.echo_id:
                    echo["id"] = f"echo-{self._echoes}"
                    self._echoes += 1
                if self.echo_wait:
                    echo["wait"] = "written"
            self._cond.notify_all()
        if echo is not None:
            st.act(echo, payload)

    def digest(self, conn: str) -> str:
        """SHA-256 (hex) of every message payload of `conn`, in order (keep_payloads=False)."""
        with self._cond:
            d = self._digests.get(conn)
            return d.copy().hexdigest() if d else hashlib.sha256().hexdigest()

    def snapshot(self) -> list[Frame]:
        with self._cond:
            return list(self.frames)

    def wait_for(self, pred, timeout: float = 10.0, what: str = "a backend condition"):
        """Waits until pred() is truthy and returns its value; re-checked on every recorded
        frame and every closed stream (and every 0.1 s). pred runs under the backend's lock (a
        reentrant one: it may call events(), of() and the other queries). On timeout raises
        AssertionError naming `what`, with a summary of the streams."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                v = pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"stream backend: {what}: not within {timeout}s\n"
                                         f"{self._summary()}")
                self._cond.wait(min(left, 0.1))
            # At most ~200 looks a second: a predicate over 100,000 frames, re-run on every
            # frame, would cost more than the frames themselves.
            time.sleep(0.005)

    def _summary(self) -> str:
        out = []
        for st in self.streams:
            kinds: dict[str, int] = {}
            for f in st.frames:
                kinds[str(f.event)] = kinds.get(str(f.event), 0) + 1
            out.append(f"  stream {st.index} worker={st.worker} closed={st.closed} "
                       f"error={st.error} frames={kinds}")
        return "\n".join(out) or "  no stream"

    # ------------------------------------------------------------------ queries
    def events(self, name: str, stream: Stream | None = None) -> list[Frame]:
        with self._cond:
            src = stream.frames if stream else self.frames
            return [f for f in src if f.h.get("event") == name]

    def of(self, conn: str) -> list[Frame]:
        """Every frame about `conn`, in arrival order (over every stream)."""
        with self._cond:
            return [f for f in self.frames if f.h.get("conn") == conn]

    def live_streams(self) -> list[Stream]:
        with self._cond:
            return [st for st in self.streams if not st.closed]

    def stream_of(self, conn: str) -> Stream:
        """The stream whose latest connect (or replay) named `conn`."""
        with self._cond:
            for f in reversed(self.frames):
                if f.h.get("event") == "connect" and f.h.get("conn") == conn:
                    return f.stream
        raise AssertionError(f"no connect for {conn}")

    def ack(self, ack_id, timeout: float = 10.0) -> dict:
        """The header of the ack answering `ack_id` (compared with its JSON type: "1" != 1)."""
        def find():
            for f in self.frames:
                if f.h.get("event") == "ack" and f.h.get("id") == ack_id \
                        and type(f.h.get("id")) is type(ack_id):
                    return f.h
            return None
        return self.wait_for(find, timeout, f"the ack of {ack_id!r}")
