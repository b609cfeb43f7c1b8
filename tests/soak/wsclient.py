"""wsclient.py: a small asyncio RFC 6455 client for the churn soak (standard library only).

Only what the soak needs, strictly: masked frames, fragmentation, ping/pong, the closing
handshake, and the ways a client can leave (a close frame, a plain FIN, an RST with SO_LINGER
0). Frames from the server are checked as RFC 6455 asks of a client: no mask, no reserved bits,
control frames final and at most 125 bytes, continuation only inside a message, text valid
UTF-8, a close code an endpoint may send. A violation raises ProtocolViolation (the soak counts
it as a failure: wsgated sent something a conforming client must reject).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import struct
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class ProtocolViolation(Exception):
    """wsgated sent something that RFC 6455 forbids a server to send."""


class HandshakeRefused(Exception):
    def __init__(self, status: int, head: bytes):
        super().__init__(f"handshake answered {status}")
        self.status = status
        self.head = head


def mask_bytes(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def frame(op: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    n = len(payload)
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | op
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def valid_close_code(code: int) -> bool:
    """A code an endpoint may put in a close frame (RFC 6455 §7.4, IANA registry)."""
    if code < 1000 or code >= 5000:
        return False
    if code in (1004, 1005, 1006, 1015):
        return False
    if 1016 <= code <= 2999:
        return False
    return True


class Connection:
    """One client connection. `open()` does the TCP connect and the upgrade; then `recv()`
    returns (opcode, payload) of each data message (answering pings on the way) and raises
    `Closed` after the closing handshake or when the TCP connection ends."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.sock: socket.socket | None = None
        self.close_code: int | None = None  # from the server's close frame (1005: none given)
        self.close_reason = ""
        self.close_sent = False
        self.close_received = False
        self.eof = False
        self.reset = False  # the TCP connection failed (ECONNRESET, EPIPE)
        self.deflate: dict | None = None  # the agreed permessage-deflate parameters
        self._inflater = None
        self._deflater = None
        self.compressed_in = 0  # messages that arrived compressed

    async def open(self, host: str, port: int, path: str, src: str = "127.0.0.1",
                   rcvbuf: int | None = None, limit: int = 1 << 16,
                   timeout: float = 15.0, deflate_offer: str | None = None) -> None:
        """`deflate_offer`: a Sec-WebSocket-Extensions value offering permessage-deflate
        (e.g. "permessage-deflate; client_max_window_bits"); the answer is checked and used."""
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.bind((src, 0))
            await asyncio.wait_for(loop.sock_connect(s, (host, port)), timeout)
            self.reader, self.writer = await asyncio.open_connection(sock=s, limit=limit)
        except BaseException:
            s.close()
            raise
        self.sock = s
        key = base64.b64encode(os.urandom(16))
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
               f"Sec-WebSocket-Version: 13\r\n"
               + (f"Sec-WebSocket-Extensions: {deflate_offer}\r\n" if deflate_offer else "")
               + "\r\n").encode()
        self.writer.write(req)
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        status_line = head.split(b"\r\n", 1)[0].split()
        status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
        if status != 101:
            self.abort()
            raise HandshakeRefused(status, head)
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            if b":" in line:
                k, v = line.split(b":", 1)
                headers[k.strip().lower()] = v.strip()
        if headers.get(b"sec-websocket-accept") != want:
            self.abort()
            raise ProtocolViolation(f"bad Sec-WebSocket-Accept in {head!r}")
        ext = headers.get(b"sec-websocket-extensions")
        if ext is not None:
            if not deflate_offer:
                self.abort()
                raise ProtocolViolation(f"an extension nobody offered: {ext!r}")
            self.deflate = self._agree(ext.decode(), deflate_offer)

    def _agree(self, answer: str, offer: str) -> dict:
        """RFC 7692 §7.1: the answer's parameters, checked against the offer."""
        items = [x.strip() for x in answer.split(";")]
        if items[0] != "permessage-deflate" or "," in answer:
            raise ProtocolViolation(f"extension answer {answer!r}")
        offered = {x.strip().split("=")[0]: x.strip() for x in offer.split(";")[1:]}
        got: dict = {}
        for it in items[1:]:
            k, _, v = it.partition("=")
            k = k.strip()
            if k in got:
                raise ProtocolViolation(f"{k} twice in {answer!r}")
            if k in ("server_no_context_takeover", "client_no_context_takeover"):
                if v:
                    raise ProtocolViolation(f"{k} with a value in {answer!r}")
                got[k] = True
            elif k in ("server_max_window_bits", "client_max_window_bits"):
                if not v.strip('"').isdigit() or not 8 <= int(v.strip('"')) <= 15:
                    raise ProtocolViolation(f"{k}={v} in {answer!r}")
                if k == "client_max_window_bits" and k not in offered:
                    raise ProtocolViolation(f"client_max_window_bits not offered: {answer!r}")
                got[k] = int(v.strip('"'))
            else:
                raise ProtocolViolation(f"unknown parameter {k!r} in {answer!r}")
        sm = offered.get("server_max_window_bits")
        if sm and "=" in sm and got.get("server_max_window_bits", 15) > int(sm.split("=")[1]):
            raise ProtocolViolation(f"offer {offer!r} answered {answer!r} (RFC 7692 §7.1.2.1)")
        if "server_no_context_takeover" in offered and not got.get("server_no_context_takeover"):
            raise ProtocolViolation(f"offer {offer!r} answered {answer!r} (RFC 7692 §7.1.1.1)")
        return got

    def _compress(self, payload: bytes) -> bytes:
        d = self.deflate
        if self._deflater is None or d.get("client_no_context_takeover"):
            self._deflater = zlib.compressobj(6, zlib.DEFLATED, -d.get("client_max_window_bits", 15))
        out = self._deflater.compress(payload) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out

    def _inflate(self, data: bytes) -> bytes:
        d = self.deflate
        if self._inflater is None or d.get("server_no_context_takeover"):
            self._inflater = zlib.decompressobj(-max(9, d.get("server_max_window_bits", 15)))
        try:
            return self._inflater.decompress(data + b"\x00\x00\xff\xff")
        except zlib.error as e:
            raise ProtocolViolation(f"a compressed message that does not inflate: {e}")

    # ------------------------------------------------------------------ sending
    def send_nowait(self, op: int, payload: bytes, fragments: int = 1,
                    compress: bool = True) -> None:
        """Queues one message (in `fragments` frames) on the transport; compressed when
        permessage-deflate was agreed and `compress` (a sender may send any message plain)."""
        w = self.writer
        rsv1 = self.deflate is not None and compress and len(payload) > 0
        if rsv1:
            payload = self._compress(payload)
        if fragments <= 1 or len(payload) < fragments:
            w.write(frame(op, payload, rsv1=rsv1))
            return
        step = len(payload) // fragments
        parts = [payload[i * step:(i + 1) * step] for i in range(fragments - 1)]
        parts.append(payload[(fragments - 1) * step:])
        out = [frame(op, parts[0], fin=False, rsv1=rsv1)]
        for i, p in enumerate(parts[1:], 1):
            out.append(frame(OP_CONT, p, fin=(i == len(parts) - 1)))
        w.write(b"".join(out))

    async def send(self, op: int, payload: bytes, fragments: int = 1,
                   timeout: float = 30.0, compress: bool = True) -> None:
        self.send_nowait(op, payload, fragments, compress)
        await asyncio.wait_for(self.writer.drain(), timeout)

    def ping(self, payload: bytes = b"") -> None:
        self.writer.write(frame(OP_PING, payload))

    def send_close(self, code: int | None = 1000, reason: str = "") -> None:
        if self.close_sent:
            return
        self.close_sent = True
        body = b"" if code is None else struct.pack("!H", code) + reason.encode()
        try:
            self.writer.write(frame(OP_CLOSE, body))
        except (ConnectionError, RuntimeError):
            pass

    # ------------------------------------------------------------------ receiving
    async def _frame(self) -> tuple[bool, int, bytes, bool]:
        r = self.reader
        b = await r.readexactly(2)
        fin, rsv, op = b[0] & 0x80, b[0] & 0x70, b[0] & 0x0F
        if b[1] & 0x80:
            raise ProtocolViolation("a masked frame from the server")
        rsv1 = bool(rsv & 0x40)
        if rsv & 0x30 or (rsv1 and (self.deflate is None or op not in (OP_TEXT, OP_BINARY))):
            raise ProtocolViolation(f"reserved bits {rsv:#x} set on opcode {op} "
                                    f"(permessage-deflate agreed: {self.deflate is not None})")
        n = b[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", await r.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await r.readexactly(8))[0]
        if op >= 8 and (not fin or n > 125):
            raise ProtocolViolation(f"control frame {op} fin={bool(fin)} len={n}")
        if op not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
            raise ProtocolViolation(f"reserved opcode {op}")
        payload = await r.readexactly(n) if n else b""
        return bool(fin), op, payload, rsv1

    async def recv(self) -> tuple[int, bytes]:
        """The next data message; raises Closed when the connection ended (see the fields)."""
        op0, parts, compressed = None, [], False
        try:
            while True:
                fin, op, payload, rsv1 = await self._frame()
                if op == OP_PING:
                    if not self.close_sent:
                        self.writer.write(frame(OP_PONG, payload))
                    continue
                if op == OP_PONG:
                    continue
                if op == OP_CLOSE:
                    self._on_close(payload)
                    # Everything after the close frame must be the end of the TCP stream.
                    rest = await self.reader.read(1)
                    if rest:
                        raise ProtocolViolation("data after the server's close frame")
                    self.eof = True
                    raise Closed()
                if op == OP_CONT:
                    if op0 is None:
                        raise ProtocolViolation("continuation frame outside a message")
                else:
                    if op0 is not None:
                        raise ProtocolViolation("a new message inside a fragmented one")
                    op0, compressed = op, rsv1
                parts.append(payload)
                if fin:
                    data = parts[0] if len(parts) == 1 else b"".join(parts)
                    if compressed:
                        data = self._inflate(data)
                        self.compressed_in += 1
                    if op0 == OP_TEXT:
                        try:
                            data.decode("utf-8")
                        except UnicodeDecodeError:
                            raise ProtocolViolation("a text message that is not UTF-8")
                    return op0, data
        except asyncio.IncompleteReadError:
            self.eof = True
            raise Closed()
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            self.reset = True
            raise Closed()

    def _on_close(self, payload: bytes) -> None:
        self.close_received = True
        if len(payload) == 0:
            self.close_code = 1005
        elif len(payload) == 1:
            raise ProtocolViolation("a close frame with a 1-byte payload")
        else:
            code = struct.unpack("!H", payload[:2])[0]
            if not valid_close_code(code):
                raise ProtocolViolation(f"close code {code} may not be sent")
            try:
                self.close_reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolViolation("a close reason that is not UTF-8")
            self.close_code = code
        if not self.close_sent:  # the server started the closing handshake: answer it
            self.send_close(self.close_code if self.close_code != 1005 else None)

    # ------------------------------------------------------------------ leaving
    def abort(self, rst: bool = True) -> None:
        """Ends the TCP connection now: with an RST (SO_LINGER 0) or a plain FIN."""
        if self.writer is None:
            return
        try:
            if rst:
                self.writer.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.writer.transport.abort()
            else:
                self.writer.close()
        except (OSError, RuntimeError):
            pass

    def fin(self) -> None:
        """A TCP FIN without any close frame (the client process died politely)."""
        self.abort(rst=False)


class Closed(Exception):
    """The connection ended; the Connection's fields say how."""
