"""wsframe.py: a raw-frame WebSocket client for the conformance suite (RFC 6455 + RFC 7692).

Python 3 standard library only; run with /usr/bin/python3.

Unlike a normal client library this one lets a test build any frame, valid or not (reserved bits,
reserved opcodes, lying lengths, non-minimal length encodings, unmasked frames), send it whole
or in chops with delays, and it reads the server's frames strictly: everything the server sends is
checked against RFC 6455 / RFC 7692 and a breach comes back as a ("violation", why) event.

Events returned by Conn.next_event():
  ("message", "text"|"binary", payload)   a complete data message (decompressed if needed)
  ("ping", payload) / ("pong", payload)   control frames (pings are also answered automatically)
  ("close", code|None, reason)            the server's close frame (None: empty close payload)
  ("eof",) / ("reset",)                   the TCP connection ended without (further) frames
  ("timeout",)                            nothing complete arrived before the deadline
  ("violation", text)                     the server broke the protocol; the text says how
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPCODE_NAMES = {CONT: "continuation", TEXT: "text", BINARY: "binary", CLOSE: "close",
                PING: "ping", PONG: "pong"}

# RSV values use Autobahn's numbering: a 3-bit number whose 4 is RSV1 (0x40), 2 is RSV2 (0x20),
# 1 is RSV3 (0x10).
RSV1, RSV2, RSV3 = 4, 2, 1

DEFLATE_TAIL = b"\x00\x00\xff\xff"

TERMINAL = ("close", "eof", "reset", "timeout", "violation")


class HandshakeError(Exception):
    """The opening handshake failed; .response holds what came back (may be b"")."""

    def __init__(self, msg: str, response: bytes = b""):
        super().__init__(msg)
        self.response = response


class _Timeout(Exception):
    pass


class _Eof(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Frames

def xor_mask(data: bytes, key: bytes) -> bytes:
    """Mask/unmask `data` with the 4-byte `key` (fast for megabytes: one big-int XOR)."""
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def encode_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
                 mask: bool = True, key: bytes | None = None, declared_len: int | None = None,
                 len_form: int | None = None) -> bytes:
    """One frame. `declared_len` overrides the length in the header (to lie about it);
    `len_form` forces the 7, 16 or 64-bit length encoding (default: the minimal one)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    n = len(payload) if declared_len is None else declared_len
    form = len_form or (7 if n <= 125 else 16 if n <= 0xFFFF else 64)
    mbit = 0x80 if mask else 0
    if form == 7:
        hdr = bytes([b0, mbit | n])
    elif form == 16:
        hdr = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return hdr + bytes(payload)
    key = key if key is not None else os.urandom(4)
    return hdr + key + xor_mask(bytes(payload), key)


def close_payload(code: int | None = None, reason: bytes | str = b"") -> bytes:
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    if code is None:
        return b""
    return struct.pack("!H", code) + reason


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes
    masked: bool
    minimal_length: bool


# ---------------------------------------------------------------------------------------------
# permessage-deflate (RFC 7692)

def parse_extensions(value: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Sec-WebSocket-Extensions value -> [(name, [(param, value|None), ...]), ...]."""
    out = []
    for ext in _split_outside_quotes(value, ","):
        ext = ext.strip()
        if not ext:
            continue
        parts = [p.strip() for p in _split_outside_quotes(ext, ";")]
        name = parts[0].lower()
        params = []
        for p in parts[1:]:
            if not p:
                continue
            if "=" in p:
                k, v = p.split("=", 1)
                v = v.strip()
                if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                    v = v[1:-1]
                params.append((k.strip().lower(), v))
            else:
                params.append((p.lower(), None))
        out.append((name, params))
    return out


def _split_outside_quotes(s: str, sep: str) -> list[str]:
    parts, cur, q = [], [], False
    for ch in s:
        if ch == '"':
            q = not q
        if ch == sep and not q:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def offer_params(offer: str) -> dict[str, str | None]:
    """One permessage-deflate offer string -> {param: value|None}."""
    exts = parse_extensions(offer)
    assert len(exts) == 1 and exts[0][0] == "permessage-deflate", offer
    return dict(exts[0][1])


@dataclass
class Deflate:
    """The negotiated permessage-deflate state of one connection (client side)."""
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    response: str = ""
    _comp: object = None
    _decomp: object = None
    compressed_in: int = 0     # messages received with RSV1
    messages_in: int = 0
    notes: list = field(default_factory=list)   # acceptable-but-not-ideal negotiation details

    def compress(self, data: bytes, *, level: int = 6, split_flush_at: tuple = ()) -> bytes:
        """Compress one message: deflate, Z_SYNC_FLUSH, strip the trailing 00 00 ff ff.

        `split_flush_at`: offsets at which an extra Z_SYNC_FLUSH is done inside the message (the
        payload then carries 00 00 ff ff in the middle, which must not be stripped)."""
        if self._comp is None or self.client_no_context_takeover or level == 0:
            bits = max(9, self.client_max_window_bits)
            # zlib cannot deflate with an 8-bit window; with no matches at all (Huffman only) the
            # stream never refers back, so it fits any window the server allows.
            strategy = (zlib.Z_HUFFMAN_ONLY if self.client_max_window_bits < 9
                        else zlib.Z_DEFAULT_STRATEGY)
            self._comp = zlib.compressobj(level, zlib.DEFLATED, -bits, 8, strategy)
        out = bytearray()
        pos = 0
        for cut in list(split_flush_at) + [len(data)]:
            out += self._comp.compress(data[pos:cut])
            out += self._comp.flush(zlib.Z_SYNC_FLUSH)
            pos = cut
        out = bytes(out)
        if out.endswith(DEFLATE_TAIL):
            out = out[:-4]
        return out

    def decompress(self, data: bytes) -> bytes:
        """Decompress one message from the server (raises zlib.error).

        Window-size compliance of the server's output is not checked: zlib accepts distances
        beyond the declared window within one call, so a 15-bit inflater is used throughout."""
        if self._decomp is None or self.server_no_context_takeover:
            self._decomp = zlib.decompressobj(-15)
        return self._decomp.decompress(data + DEFLATE_TAIL)


def validate_pmd_response(offers: list[str],
                          response: str | None) -> tuple[Deflate | None, str | None]:
    """Judge the server's Sec-WebSocket-Extensions against our permessage-deflate offers.

    Returns (state, None) when accepted correctly, (None, None) when declined, and
    (None, why) when the response breaks RFC 6455 §9.1 / RFC 7692 §7."""
    if not response:
        return None, None
    exts = parse_extensions(response)
    offered_names = {parse_extensions(o)[0][0] for o in offers} if offers else set()
    pmds = []
    for name, params in exts:
        if name not in offered_names:
            return None, f"response names extension {name!r} that was not offered"
        if name == "permessage-deflate":
            pmds.append(params)
    if not pmds:
        return None, None
    if len(pmds) > 1:
        return None, "permessage-deflate appears more than once in the response"
    params = pmds[0]
    seen = {}
    for k, v in params:
        if k in seen:
            return None, f"parameter {k} repeated in the response"
        seen[k] = v
        if k in ("server_no_context_takeover", "client_no_context_takeover"):
            if v is not None:
                return None, f"{k} must not have a value (got {v!r})"
        elif k in ("server_max_window_bits", "client_max_window_bits"):
            if v is None or not v.isdigit() or v != str(int(v)) or not 8 <= int(v) <= 15:
                return None, f"{k} in a response needs a value 8..15 (got {v!r})"
        else:
            return None, f"unknown parameter {k!r} in the response"
    reasons = []
    for o in offers:
        op = offer_params(o)
        why = None
        if "server_no_context_takeover" in op and "server_no_context_takeover" not in seen:
            why = "offer asked for server_no_context_takeover, response lacks it"
        elif op.get("server_max_window_bits") is not None:
            want = int(op["server_max_window_bits"])
            got = seen.get("server_max_window_bits")
            if got is None:   # RFC 7692 §7.1.2.1: accepting that offer means answering with it
                why = (f"offer asked for server_max_window_bits={want}, response lacks it "
                       "(RFC 7692 §7.1.2.1: the server accepts it by including it; strict clients "
                       "such as Python websockets fail the handshake)")
            elif int(got) > want:
                why = (f"offer asked for server_max_window_bits={want}, response says {got} "
                       "(RFC 7692 §7.1.2.1: same or smaller value)")
        if why is None and "client_max_window_bits" in seen and "client_max_window_bits" not in op:
            why = ("response has client_max_window_bits that the offer did not have "
                   "(RFC 7692 §7.1.2.2)")
        if why is None:
            d = Deflate(response=response)
            d.server_no_context_takeover = "server_no_context_takeover" in seen
            d.client_no_context_takeover = "client_no_context_takeover" in seen
            if seen.get("server_max_window_bits"):
                d.server_max_window_bits = int(seen["server_max_window_bits"])
            limit = 15
            if op.get("client_max_window_bits"):
                limit = int(op["client_max_window_bits"])
            if seen.get("client_max_window_bits"):
                limit = min(limit, int(seen["client_max_window_bits"]))
            d.client_max_window_bits = limit
            return d, None
        reasons.append(why)
    return None, "; ".join(reasons) or "response matches no offer"


# ---------------------------------------------------------------------------------------------
# Connection

class Conn:
    """One WebSocket connection, opened with connect()."""

    def __init__(self, url: str, *, timeout: float = 5.0, extensions: list[str] | None = None,
                 headers: list[tuple[str, str]] | None = None, connect_timeout: float = 5.0):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise ValueError(f"only ws:// URLs are supported: {url}")
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self.deadline = time.monotonic() + timeout
        self.offers = list(extensions or [])
        self.buf = bytearray()
        self.eof = False
        self.was_reset = False
        self.send_error: str | None = None
        self.pmd: Deflate | None = None
        self.pmd_error: str | None = None
        self.close_sent = False
        self.close_received = False
        self.server_pings: list[bytes] = []
        self.last_message: dict = {}
        self._msg: dict | None = None      # the server message being assembled
        self.sock = socket.create_connection((self.host, self.port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.status, self.headers, self.raw_response = self._handshake(headers or [])
        if self.offers:
            self.pmd, self.pmd_error = validate_pmd_response(
                self.offers, self.headers.get("sec-websocket-extensions"))
        elif self.headers.get("sec-websocket-extensions"):
            self.pmd_error = ("server answered Sec-WebSocket-Extensions "
                              f"{self.headers['sec-websocket-extensions']!r} to no offer")

    # -- handshake ------------------------------------------------------------------------

    def _handshake(self, extra: list[tuple[str, str]]):
        key = base64.b64encode(os.urandom(16)).decode()
        host = f"{self.host}:{self.port}"
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if self.offers:
            lines.append("Sec-WebSocket-Extensions: " + ", ".join(self.offers))
        lines += [f"{k}: {v}" for k, v in extra]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = bytearray()
        while b"\r\n\r\n" not in data:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise HandshakeError("no handshake response in time", bytes(data))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise HandshakeError("no handshake response in time", bytes(data))
            except OSError as e:
                raise HandshakeError(f"handshake read failed: {e}", bytes(data))
            if not chunk:
                raise HandshakeError("connection closed during the handshake", bytes(data))
            data += chunk
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        self.buf += rest
        text = head.decode("latin-1")
        status_line, *hlines = text.split("\r\n")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers: dict[str, str] = {}
        for h in hlines:
            k, _, v = h.partition(":")
            k = k.strip().lower()
            v = v.strip()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        if status != 101:
            raise HandshakeError(f"expected 101, got {status_line!r}", head)
        if headers.get("upgrade", "").lower() != "websocket":
            raise HandshakeError(f"bad Upgrade header {headers.get('upgrade')!r}", head)
        if "upgrade" not in [t.strip().lower() for t in headers.get("connection", "").split(",")]:
            raise HandshakeError(f"bad Connection header {headers.get('connection')!r}", head)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise HandshakeError("wrong Sec-WebSocket-Accept", head)
        return status, headers, head

    # -- sending --------------------------------------------------------------------------

    def send_raw(self, data: bytes, chop: int | None = None, delay: float = 0.0) -> None:
        """Send bytes, whole or in chops of `chop` bytes with `delay` seconds between chops.
        A failed send is remembered in .send_error (the server may have closed already)."""
        if self.send_error:
            return
        try:
            self.sock.settimeout(max(0.5, self.deadline - time.monotonic()))
            if not chop:
                self.sock.sendall(data)
                return
            for i in range(0, len(data), chop):
                self.sock.sendall(data[i:i + chop])
                if delay and i + chop < len(data):
                    time.sleep(delay)
        except OSError as e:
            self.send_error = f"{type(e).__name__}: {e}"

    def send_frame(self, opcode: int, payload: bytes | str = b"", *, fin: bool = True,
                   rsv: int = 0, mask: bool = True, chop: int | None = None,
                   delay: float = 0.0, **kw) -> None:
        if opcode == CLOSE:
            self.close_sent = True
        self.send_raw(encode_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, **kw), chop, delay)

    def frames_for_message(self, opcode: int, data: bytes | str, *, compress: bool = True,
                           frag: int | None = None, **ckw) -> list[bytes]:
        """The frames of one message: compressed when permessage-deflate was negotiated (and
        `compress`), split into frames of `frag` payload bytes (RSV1 on the first only)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        rsv = 0
        if compress and self.pmd is not None:
            data = self.pmd.compress(data, **ckw)
            rsv = RSV1
        if not frag or len(data) <= frag:
            return [encode_frame(opcode, data, rsv=rsv)]
        out = []
        for i in range(0, len(data), frag):
            first, last = i == 0, i + frag >= len(data)
            out.append(encode_frame(opcode if first else CONT, data[i:i + frag], fin=last,
                                    rsv=rsv if first else 0))
        return out

    def send_message(self, opcode: int, data: bytes | str, *, compress: bool = True,
                     frag: int | None = None, chop: int | None = None, delay: float = 0.0,
                     **ckw) -> None:
        frames = self.frames_for_message(opcode, data, compress=compress, frag=frag, **ckw)
        self.send_raw(b"".join(frames), chop, delay)

    def send_close(self, code: int | None = 1000, reason: bytes | str = b"") -> None:
        self.send_frame(CLOSE, close_payload(code, reason))

    # -- receiving ------------------------------------------------------------------------

    def _fill(self, deadline: float) -> None:
        """Read more bytes into buf; raises _Timeout at the deadline, _Eof at the end."""
        if self.eof:
            raise _Eof()
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Timeout()
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 18)
        except socket.timeout:
            raise _Timeout()
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            self.eof = True
            self.was_reset = True
            raise _Eof()
        except OSError:
            self.eof = True
            raise _Eof()
        if not chunk:
            self.eof = True
            raise _Eof()
        self.buf += chunk

    def _need(self, n: int, deadline: float) -> None:
        while len(self.buf) < n:
            self._fill(deadline)

    def recv_frame(self, deadline: float | None = None) -> Frame:
        """The next complete frame (raises _Timeout / _Eof). Partial frames stay buffered, so a
        timed-out call can be resumed by a later one."""
        deadline = self.deadline if deadline is None else deadline
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        minimal = True
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack_from("!H", self.buf, 2)[0]
            pos = 4
            minimal = n > 125
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack_from("!Q", self.buf, 2)[0]
            pos = 10
            minimal = n > 0xFFFF and not n >> 63
        masked = bool(b1 & 0x80)
        key = b""
        if masked:
            self._need(pos + 4, deadline)
            key = bytes(self.buf[pos:pos + 4])
            pos += 4
        self._need(pos + n, deadline)
        payload = bytes(self.buf[pos:pos + n])
        del self.buf[:pos + n]
        if masked:
            payload = xor_mask(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload, masked, minimal)

    def _violation(self, f: Frame) -> str | None:
        op = OPCODE_NAMES.get(f.opcode, f"reserved opcode {f.opcode}")
        if self.close_received:
            return f"server sent a {op} frame after its close frame"
        if f.masked:
            return f"server sent a masked {op} frame (RFC 6455 §5.1)"
        if not f.minimal_length:
            return f"server used a non-minimal length encoding for {len(f.payload)} bytes (§5.2)"
        if f.opcode not in OPCODE_NAMES:
            return f"server sent a frame with {op}"
        if f.rsv & (RSV2 | RSV3):
            return f"server set RSV2/RSV3 ({f.rsv:03b}) on a {op} frame"
        if f.rsv & RSV1:
            if self.pmd is None:
                return f"server set RSV1 on a {op} frame without permessage-deflate"
            if f.opcode not in (TEXT, BINARY):
                return f"server set RSV1 on a {op} frame (RFC 7692 §6: only the first frame)"
        if f.opcode >= 8:
            if not f.fin:
                return f"server fragmented a {op} frame"
            if len(f.payload) > 125:
                return f"server sent a {op} frame of {len(f.payload)} bytes (> 125)"
        return None

    def next_event(self, deadline: float | None = None) -> tuple:
        """The next event (see the module docstring). Pings are answered automatically (not
        while closing) and recorded in .server_pings, not returned."""
        deadline = self.deadline if deadline is None else deadline
        while True:
            try:
                f = self.recv_frame(deadline)
            except _Timeout:
                return ("timeout",)
            except _Eof:
                if self.buf and not self.close_received:
                    return ("violation", f"connection ended inside a frame ({len(self.buf)} bytes "
                                         "of it buffered)")
                return ("reset",) if self.was_reset else ("eof",)
            why = self._violation(f)
            if why:
                return ("violation", why)
            if f.opcode == CLOSE:
                self.close_received = True
                return self._close_event(f.payload)
            if f.opcode == PING:
                self.server_pings.append(f.payload)
                if not self.close_sent:
                    self.send_frame(PONG, f.payload)
                continue
            if f.opcode == PONG:
                return ("pong", f.payload)
            if f.opcode in (TEXT, BINARY):
                if self._msg is not None:
                    return ("violation",
                            "server started a new data message inside a fragmented one")
                self._msg = {"op": f.opcode, "parts": [], "rsv1": bool(f.rsv & RSV1), "frames": 0}
            elif self._msg is None:
                return ("violation", "server sent a continuation frame with no message to continue")
            self._msg["parts"].append(f.payload)
            self._msg["frames"] += 1
            if not f.fin:
                continue
            m, self._msg = self._msg, None
            data = b"".join(m["parts"])
            if m["rsv1"]:
                try:
                    data = self.pmd.decompress(data)
                except zlib.error as e:
                    return ("violation", f"server's compressed message does not inflate: {e}")
                self.pmd.compressed_in += 1
            if self.pmd is not None:
                self.pmd.messages_in += 1
            self.last_message = {"frames": m["frames"], "compressed": m["rsv1"]}
            if m["op"] == TEXT:
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as e:
                    return ("violation", f"server sent a text message that is not UTF-8: {e}")
                return ("message", "text", data)
            return ("message", "binary", data)

    def _close_event(self, p: bytes) -> tuple:
        if len(p) == 0:
            return ("close", None, b"")
        if len(p) == 1:
            return ("violation", "server sent a close frame with a 1-byte payload")
        code = struct.unpack("!H", p[:2])[0]
        reason = p[2:]
        try:
            reason.decode("utf-8")
        except UnicodeDecodeError:
            return ("violation", f"server's close reason is not UTF-8 (code {code})")
        if code < 1000 or code in (1004, 1005, 1006, 1015) or 1016 <= code <= 2999:
            return ("violation", f"server sent close code {code}, which must not be sent (§7.4)")
        return ("close", code, reason)

    def collect(self, n: int, deadline: float | None = None) -> list[tuple]:
        """Read until `n` non-terminal events arrived, or a terminal one (which is included)."""
        out = []
        while len(out) < n:
            ev = self.next_event(deadline)
            out.append(ev)
            if ev[0] in TERMINAL:
                break
        return out

    def until_terminal(self, deadline: float | None = None) -> list[tuple]:
        """Read every event up to and including the first terminal one."""
        out = []
        while True:
            ev = self.next_event(deadline)
            out.append(ev)
            if ev[0] in TERMINAL:
                return out

    def wait_eof(self, timeout: float = 2.0) -> tuple[bool, str | None]:
        """After the close handshake: wait for the server to close TCP.
        Returns (closed, violation-or-None)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.recv_frame(deadline)
            except _Timeout:
                return False, None
            except _Eof:
                return True, None
            return True, self._violation(f) or "server sent a frame after the close handshake"

    def close_handshake(self, code: int | None = 1000, reason: bytes | str = b"",
                        deadline: float | None = None):
        """Client-initiated close: send close(code), read to the server's close.
        Returns (events before it, the terminal event, tcp closed by server, violation)."""
        self.send_close(code, reason)
        evs = self.until_terminal(deadline)
        closed, viol = (False, None)
        if evs[-1][0] == "close":
            closed, viol = self.wait_eof()
        return evs[:-1], evs[-1], closed, viol

    def answer_close(self, code: int | None) -> tuple[bool, str | None]:
        """Server-initiated close: echo it (unless we sent one), wait for TCP to close."""
        if not self.close_sent:
            self.send_close(code)
        return self.wait_eof()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
