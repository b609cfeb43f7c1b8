"""cases.py: the conformance case table, grouped by Autobahn family.

Each case opens its own connection(s) through ctx.connect(), does what the Autobahn case of the
same id does (or, for ids Autobahn does not have, what `autobahn=False` cases describe), and
returns a Result with a verdict:

  OK          what RFC 6455 / RFC 7692 and the Autobahn case expect
  NON-STRICT  acceptable but not ideal (Autobahn's NON-STRICT: e.g. invalid UTF-8 noticed only
              at the end of the message instead of failing fast)
  FAILED      anything else: a wrong or missing close code, a close without a status where one
              was expected, the TCP connection dropped without a close frame, a wrong echo, a
              reply to something sent after a protocol error, a protocol violation by the server.

The judging is stricter than Autobahn in one respect, on purpose: where Autobahn accepts "close
with code X or drop the TCP connection" (requireClean False), we require the close frame with X.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

from wsframe import (BINARY, CLOSE, CONT, PING, PONG, RSV1, RSV2, TEXT, Conn, HandshakeError,
                     close_payload, encode_frame)

OK, NS, FAIL = "OK", "NON-STRICT", "FAILED"
LEVEL = {OK: 0, NS: 1, FAIL: 2}

FAIL_FAST_WAIT = 0.5   # seconds to wait for a fail-fast reaction (Autobahn: 1 s)


# ---------------------------------------------------------------------------------------------
# Infrastructure

@dataclass
class Result:
    verdict: str
    observed: str
    reasons: list = field(default_factory=list)


class Judge:
    """Collects what was seen and the worst verdict with its reasons."""

    def __init__(self):
        self.level = OK
        self.reasons: list[str] = []
        self.obs: list[str] = []

    def fail(self, why: str) -> None:
        self.level = FAIL
        self.reasons.append(f"FAILED: {why}")

    def nonstrict(self, why: str) -> None:
        if self.level == OK:
            self.level = NS
        self.reasons.append(f"NON-STRICT: {why}")

    def see(self, text: str) -> None:
        self.obs.append(text)

    def result(self) -> Result:
        return Result(self.level, "; ".join(self.obs), self.reasons)


@dataclass
class Case:
    id: str
    family: str
    description: str
    expected: str
    fn: Callable
    autobahn: bool = True
    timeout: float = 5.0


class Ctx:
    """What a case gets: the target and a connect() that remembers what to clean up."""

    def __init__(self, url: str, compression: bool, max_message_size: int, timeout: float = 5.0):
        self.url = url
        self.compression = compression
        self.max_message_size = max_message_size
        self.timeout = timeout
        self.conns: list[Conn] = []
        self.stats = {"pmd_messages_in": 0, "pmd_compressed_in": 0}

    def connect(self, extensions: list[str] | None = None, **kw) -> Conn:
        c = Conn(self.url, timeout=self.timeout, extensions=extensions, **kw)
        self.conns.append(c)
        return c

    def cleanup(self) -> None:
        for c in self.conns:
            if c.pmd is not None:
                self.stats["pmd_messages_in"] += c.pmd.messages_in
                self.stats["pmd_compressed_in"] += c.pmd.compressed_in
            c.close()
        self.conns.clear()


CASES: list[Case] = []
FAMILIES = {
    "1": "Framing", "2": "Pings/Pongs", "3": "Reserved bits", "4": "Opcodes",
    "5": "Fragmentation", "6": "UTF-8 handling", "7": "Close handling", "9": "Limits/Performance",
    "10": "Misc", "12": "WebSocket compression (messages)", "13": "WebSocket compression "
    "(negotiation)",
}


def add(cid: str, description: str, expected: str, fn: Callable, *, autobahn: bool = True,
        timeout: float = 5.0) -> None:
    if any(c.id == cid for c in CASES):
        raise ValueError(f"duplicate case id {cid}")
    CASES.append(Case(cid, cid.split(".")[0], description, expected, fn, autobahn, timeout))


# -- formatting -------------------------------------------------------------------------------

def show(b: bytes) -> str:
    if len(b) <= 24:
        try:
            s = b.decode("ascii")
            if s.isprintable():
                return repr(s)
        except UnicodeDecodeError:
            pass
        return "0x" + b.hex()
    return f"{len(b)}B sha1:{hashlib.sha1(b).hexdigest()[:10]}"


def fmt(ev) -> str:
    if isinstance(ev, list):
        return "[" + ", ".join(fmt(e) for e in ev) + "]" if ev else "nothing"
    k = ev[0]
    if k == "message":
        return f"{ev[1]}({show(ev[2])})"
    if k in ("ping", "pong"):
        return f"{k}({show(ev[1])})"
    if k == "close":
        r = f" {show(ev[2])}" if ev[2] else ""
        return f"close({'no status' if ev[1] is None else ev[1]}{r})"
    if k == "violation":
        return f"VIOLATION({ev[1]})"
    return k


def codes_str(codes) -> str:
    return "/".join("no status" if c is None else str(c) for c in codes)


def msg(kind: str, payload) -> tuple:
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return ("message", kind, bytes(payload))


def text(p) -> tuple:
    return msg("text", p)


def binary(p) -> tuple:
    return msg("binary", p)


def pong(p) -> tuple:
    return ("pong", p.encode() if isinstance(p, str) else bytes(p))


# -- actions ----------------------------------------------------------------------------------

def F(opcode, payload=b"", **kw):
    """An action: send one frame (see Conn.send_frame for the keywords)."""
    return lambda c: c.send_frame(opcode, payload, **kw)


def RAW(frames: list[bytes], chop=None, delay=0.0):
    """An action: send pre-encoded frames together, optionally in chops."""
    data = b"".join(frames)
    return lambda c: c.send_raw(data, chop, delay)


def SLEEP(s):
    return lambda c: time.sleep(s)


def E(opcode, payload=b"", **kw) -> bytes:
    return encode_frame(opcode, payload, **kw)


# -- judging ----------------------------------------------------------------------------------

def client_close(c: Conn, j: Judge, code=1000, ok_codes=(1000, None)) -> None:
    """We close (code); the server must echo a close (code in ok_codes) and close TCP."""
    before, term, closed, viol = c.close_handshake(code)
    if before:
        j.fail(f"unexpected {fmt(before)} before the close echo")
    judge_terminal(c, j, term, ok_codes, (), closed=closed, viol=viol)


def judge_terminal(c: Conn, j: Judge, term, codes, nonstrict_codes=(), *, closed=None,
                   viol=None, none_nonstrict=False) -> None:
    """Judge the terminal event of a case that expects a close frame with one of `codes`."""
    if term[0] == "close":
        code = term[1]
        j.see(fmt(term))
        if code in codes:
            pass
        elif code in nonstrict_codes:
            j.nonstrict(f"close code {codes_str([code])}; {codes_str(codes)} expected")
        elif code is None and none_nonstrict:
            j.nonstrict(f"close without a status code; {codes_str(codes)} expected")
        elif code is None:
            j.fail(f"close frame without a status code; {codes_str(codes)} expected")
        else:
            j.fail(f"close code {code}; {codes_str(codes)} expected")
        if closed is None:
            closed, viol = c.answer_close(code)
        if viol:
            j.fail(viol)
        elif not closed:
            j.nonstrict("server did not close the TCP connection within 2 s of the close handshake")
    elif term[0] == "violation":
        j.see(fmt(term))
        j.fail(term[1])
    elif term[0] == "timeout":
        j.see("timeout")
        j.fail(f"no close frame within the case timeout; {codes_str(codes)} expected")
    else:
        j.see(term[0])
        j.fail(f"TCP connection {'reset' if term[0] == 'reset' else 'closed'} without a close "
               f"frame; close {codes_str(codes)} expected")


def expect_echo(c: Conn, expected: list, j: Judge | None = None, close_ok=(1000, None)) -> Result:
    """The server must produce exactly `expected` (in order); then a clean close handshake."""
    j = j or Judge()
    got = c.collect(len(expected))
    j.see(fmt(got))
    if got != expected:
        j.fail(f"expected {fmt(expected)}")
        if got and got[-1][0] == "close":
            c.answer_close(got[-1][1])
        return j.result()
    client_close(c, j, 1000, close_ok)
    return j.result()


def expect_close(c: Conn, codes, *, before=(), before_nonstrict=None, nonstrict_codes=(),
                 j: Judge | None = None, none_nonstrict=False) -> Result:
    """The server must send `before` (in order) and then a close frame with a code in `codes`.
    `before_nonstrict`: an alternative that is NON-STRICT (Autobahn: failing before the echo)."""
    j = j or Judge()
    evs = c.until_terminal()
    data, term = evs[:-1], evs[-1]
    if data:
        j.see(fmt(data))
    if list(data) != list(before):
        if before_nonstrict is not None and list(data) == list(before_nonstrict):
            j.nonstrict(f"got {fmt(data)} before the close, {fmt(list(before))} preferred")
        else:
            j.fail(f"got {fmt(data)} before the close, expected {fmt(list(before))}")
    judge_terminal(c, j, term, codes, nonstrict_codes, none_nonstrict=none_nonstrict)
    return j.result()


def echo_case(actions, expected, **ckw):
    def run(ctx):
        c = ctx.connect(**ckw)
        for a in actions:
            a(c)
        return expect_echo(c, expected)
    return run


def fail_case(actions, codes=(1002,), before=(), before_nonstrict=None, nonstrict_codes=(),
              none_nonstrict=False):
    def run(ctx):
        c = ctx.connect()
        for a in actions:
            a(c)
        return expect_close(c, codes, before=before, before_nonstrict=before_nonstrict,
                            nonstrict_codes=nonstrict_codes, none_nonstrict=none_nonstrict)
    return run


# =============================================================================================
# 1 Framing

def length_form(n: int) -> str:
    return "7-bit" if n <= 125 else "16-bit" if n <= 0xFFFF else "64-bit"


FRAME_LENGTHS = [0, 125, 126, 127, 128, 65535, 65536]

for sub, kind, op, fill in ((1, "text", TEXT, b"*"), (2, "binary", BINARY, b"\xfe")):
    for i, n in enumerate(FRAME_LENGTHS, 1):
        add(f"1.{sub}.{i}", f"Send a {kind} message with a payload of {n} bytes "
            f"({length_form(n)} length).",
            f"Echo of the {kind} message, identical; clean close.",
            echo_case([F(op, fill * n)], [msg(kind, fill * n)]))
    add(f"1.{sub}.8", f"Send a {kind} message with a payload of 65536 bytes, the octets sent in "
        "chops of 997 octets.", f"Echo of the {kind} message, identical; clean close.",
        echo_case([F(op, fill * 65536, chop=997)], [msg(kind, fill * 65536)]))
    # Not in Autobahn: every length again, sent in small chops (1 octet up to 128 bytes).
    for i, n in enumerate(FRAME_LENGTHS, 1):
        chop = 1 if n <= 128 else 1021
        add(f"1.{sub + 2}.{i}", f"Send a {kind} message of {n} bytes ({length_form(n)} length), "
            f"the frame sent in chops of {chop} octet(s).",
            f"Echo of the {kind} message, identical; clean close.",
            echo_case([F(op, fill * n, chop=chop)], [msg(kind, fill * n)]), autobahn=False)


# =============================================================================================
# 2 Pings/Pongs

add("2.1", "Send a ping without payload.", "Pong without payload.",
    echo_case([F(PING)], [pong(b"")]))
add("2.2", "Send a ping with a small text payload.", "Pong with the same payload.",
    echo_case([F(PING, "Hello, world!")], [pong("Hello, world!")]))
BIN_PING = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
add("2.3", "Send a ping with a small binary (non UTF-8) payload.", "Pong with the same payload.",
    echo_case([F(PING, BIN_PING)], [pong(BIN_PING)]))
add("2.4", "Send a ping with a binary payload of 125 octets.", "Pong with the same payload.",
    echo_case([F(PING, b"\xfe" * 125)], [pong(b"\xfe" * 125)]))
add("2.5", "Send a ping with a binary payload of 126 octets.",
    "The connection is failed immediately (close 1002): control frames are at most 125 octets. "
    "No pong.", fail_case([F(PING, b"\xfe" * 126)]))
add("2.6", "Send a ping with a binary payload of 125 octets, sent in octet-wise chops.",
    "Pong with the same payload.",
    echo_case([F(PING, b"\xfe" * 125, chop=1)], [pong(b"\xfe" * 125)]))
add("2.7", "Send an unsolicited pong without payload.", "Nothing; clean close.",
    echo_case([F(PONG)], []))
add("2.8", "Send an unsolicited pong with payload.", "Nothing; clean close.",
    echo_case([F(PONG, "unsolicited pong payload")], []))
add("2.9", "Send an unsolicited pong with payload, then a ping with payload.",
    "Pong for the ping only.",
    echo_case([F(PONG, "unsolicited pong payload"), F(PING, "ping payload")],
              [pong("ping payload")]))
PINGS10 = [f"payload-{i}" for i in range(10)]
add("2.10", "Send 10 pings with payload.", "10 pongs, in order, with the same payloads.",
    echo_case([F(PING, p) for p in PINGS10], [pong(p) for p in PINGS10]))
add("2.11", "Send 10 pings with payload, the octets sent in octet-wise chops.",
    "10 pongs, in order, with the same payloads.",
    echo_case([RAW([E(PING, p) for p in PINGS10], chop=1)], [pong(p) for p in PINGS10]))
for i, n in enumerate([1, 2, 16, 64, 100, 124], 1):
    p = bytes((k * 7 + n) & 0xFF for k in range(n))
    add(f"2.12.{i}", f"Send a ping with a {n}-octet binary payload.", "Pong with the same payload.",
        echo_case([F(PING, p)], [pong(p)]), autobahn=False)
add("2.13.1", "Send a ping of 125 octets, then one of 126 octets, back to back.",
    "Pong for the first; then the connection is failed (1002).",
    fail_case([RAW([E(PING, b"a" * 125), E(PING, b"b" * 126)])], before=[pong(b"a" * 125)]),
    autobahn=False)
add("2.13.2", "Send a ping with a 64-bit length field of 200.",
    "The connection is failed (1002): control frames are at most 125 octets.",
    fail_case([F(PING, b"x" * 200, len_form=64)]), autobahn=False)
add("2.13.3", "Send a pong with a payload of 126 octets.",
    "The connection is failed (1002): control frames are at most 125 octets.",
    fail_case([F(PONG, b"x" * 126)]), autobahn=False)
add("2.13.4", "Send a text message, a ping, a binary message and another ping back to back.",
    "Echo, pong, echo, pong - in this order.",
    echo_case([RAW([E(TEXT, "one"), E(PING, "p1"), E(BINARY, b"\x01\x02"), E(PING, "p2")])],
              [text("one"), pong("p1"), binary(b"\x01\x02"), pong("p2")]), autobahn=False)


# =============================================================================================
# 3 Reserved bits

HW = "Hello, world!"
add("3.1", "Send a small text message with RSV = 1.",
    "The connection is failed immediately (1002): RSV must be 0 without a negotiated extension.",
    fail_case([F(TEXT, HW, rsv=1)]))
add("3.2", "Send a small text message, then again with RSV = 2, then a ping.",
    "Echo for the first message, then the connection is failed (1002). No pong.",
    fail_case([F(TEXT, HW), F(TEXT, HW, rsv=2), F(PING)], before=[text(HW)], before_nonstrict=[]))
add("3.3", "Send a small text message, then again with RSV = 3, then a ping; frame-wise chops.",
    "Echo for the first message, then the connection is failed (1002). No pong.",
    fail_case([F(TEXT, HW), SLEEP(0.05), F(TEXT, HW, rsv=3), SLEEP(0.05), F(PING)],
              before=[text(HW)], before_nonstrict=[]))
add("3.4", "Send a small text message, then again with RSV = 4 (RSV1), then a ping; octet-wise "
    "chops.", "Echo for the first message, then the connection is failed (1002). No pong.",
    fail_case([RAW([E(TEXT, HW), E(TEXT, HW, rsv=4), E(PING)], chop=1)],
              before=[text(HW)], before_nonstrict=[]))
add("3.5", "Send a small binary message with RSV = 5.", "The connection is failed (1002).",
    fail_case([F(BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5)]))
add("3.6", "Send a ping with RSV = 6.", "The connection is failed (1002). No pong.",
    fail_case([F(PING, HW, rsv=6)]))
add("3.7", "Send a close frame with RSV = 7.", "The connection is failed (1002).",
    fail_case([F(CLOSE, close_payload(1000), rsv=7)]))
add("3.8", "Send a text message in 2 fragments, the continuation frame with RSV1 set.",
    "The connection is failed (1002). No echo.",
    fail_case([F(TEXT, "fragment1", fin=False), F(CONT, "fragment2", rsv=RSV1)]), autobahn=False)
add("3.9", "Send a pong with RSV = 2.", "The connection is failed (1002).",
    fail_case([F(PONG, "x", rsv=2)]), autobahn=False)


# =============================================================================================
# 4 Opcodes

for sub, base in ((1, 3), (2, 11)):
    kind = "non-control" if sub == 1 else "control"
    o = base
    add(f"4.{sub}.1", f"Send a frame with reserved {kind} opcode {o}.",
        "The connection is failed (1002).", fail_case([F(o)]))
    o += 1
    add(f"4.{sub}.2", f"Send a frame with reserved {kind} opcode {o} and non-empty payload.",
        "The connection is failed (1002).", fail_case([F(o, "reserved opcode payload")]))
    o += 1
    add(f"4.{sub}.3", f"Send a small text message, then a frame with reserved {kind} opcode {o}, "
        "then a ping.", "Echo for the first message, then the connection is failed (1002).",
        fail_case([F(TEXT, HW), F(o), F(PING)], before=[text(HW)], before_nonstrict=[]))
    o += 1
    add(f"4.{sub}.4", f"Send a small text message, then a frame with reserved {kind} opcode {o} "
        "and payload, then a ping.",
        "Echo for the first message, then the connection is failed (1002).",
        fail_case([F(TEXT, HW), F(o, "reserved opcode payload"), F(PING)], before=[text(HW)],
                  before_nonstrict=[]))
    o += 1
    add(f"4.{sub}.5", f"Send a small text message, then a frame with reserved {kind} opcode {o} "
        "and payload, then a ping; octet-wise chops.",
        "Echo for the first message, then the connection is failed (1002).",
        fail_case([RAW([E(TEXT, HW), E(o, "reserved opcode payload"), E(PING)], chop=1)],
                  before=[text(HW)], before_nonstrict=[]))
add("4.3.1", "Send a text fragment, then a frame with reserved opcode 3 (FIN=0), then the final "
    "continuation.", "The connection is failed (1002). No echo.",
    fail_case([F(TEXT, "fragment1", fin=False), F(3, "x", fin=False), F(CONT, "fragment2")]),
    autobahn=False)


# =============================================================================================
# 5 Fragmentation

FR = [b"fragment1", b"fragment2", b"fragment3", b"fragment4", b"fragment5"]

add("5.1", "Send a ping in 2 fragments.", "The connection is failed (1002): control frames "
    "must not be fragmented. No pong.",
    fail_case([F(PING, FR[0], fin=False), F(CONT, FR[1])]))
add("5.2", "Send a pong in 2 fragments.", "The connection is failed (1002).",
    fail_case([F(PONG, FR[0], fin=False), F(CONT, FR[1])]))
TWO = [E(TEXT, FR[0], fin=False), E(CONT, FR[1])]
add("5.3", "Send a text message in 2 fragments.", "Echo of the whole message.",
    echo_case([RAW(TWO)], [text(FR[0] + FR[1])]))
add("5.4", "Send a text message in 2 fragments, frame-wise chops.", "Echo of the whole message.",
    echo_case([RAW(TWO[:1]), SLEEP(0.05), RAW(TWO[1:])], [text(FR[0] + FR[1])]))
add("5.5", "Send a text message in 2 fragments, octet-wise chops.", "Echo of the whole message.",
    echo_case([RAW(TWO, chop=1)], [text(FR[0] + FR[1])]))
TWO_PING = [E(TEXT, FR[0], fin=False), E(PING, "ping payload"), E(CONT, FR[1])]
add("5.6", "Send a text message in 2 fragments with a ping in between.",
    "Pong, then echo of the whole message.",
    echo_case([RAW(TWO_PING)], [pong("ping payload"), text(FR[0] + FR[1])]))
add("5.7", "Same as 5.6, octet-wise chops.", "Pong, then echo of the whole message.",
    echo_case([RAW(TWO_PING, chop=1)], [pong("ping payload"), text(FR[0] + FR[1])]))
add("5.8", "Same as 5.6, frame-wise chops.", "Pong, then echo of the whole message.",
    echo_case([RAW(TWO_PING[:1]), SLEEP(0.03), RAW(TWO_PING[1:2]), SLEEP(0.03),
               RAW(TWO_PING[2:])], [pong("ping payload"), text(FR[0] + FR[1])]))
for first, fin_desc, n0 in ((9, "FIN = true", True), (12, "FIN = false", False)):
    seq = [E(CONT, FR[0], fin=n0), E(TEXT, HW)]
    add(f"5.{first}", f"Send a continuation frame with {fin_desc} with nothing to continue, "
        "then a text message; one chop.", "The connection is failed (1002). No echo.",
        fail_case([RAW(seq)]))
    add(f"5.{first + 1}", f"Same as 5.{first}, octet-wise chops.",
        "The connection is failed (1002). No echo.", fail_case([RAW(seq, chop=1)]))
    add(f"5.{first + 2}", f"Same as 5.{first}, frame-wise chops.",
        "The connection is failed (1002). No echo.",
        fail_case([RAW(seq[:1]), SLEEP(0.03), RAW(seq[1:])]))
add("5.15", "Send a text message in 2 fragments, then a continuation frame with FIN = false with "
    "nothing to continue, then a text message; one chop.",
    "Echo of the first message, then the connection is failed (1002).",
    fail_case([RAW([E(TEXT, FR[0], fin=False), E(CONT, FR[1]), E(CONT, FR[2], fin=False),
                    E(TEXT, FR[3])])], before=[text(FR[0] + FR[1])], before_nonstrict=[]))
for n, fin in ((16, False), (17, True)):
    seq = [E(CONT, FR[0], fin=fin), E(TEXT, FR[1], fin=False), E(CONT, FR[2])] * 2
    add(f"5.{n}", f"Repeated 2 times: a continuation frame with FIN = {str(fin).lower()} with "
        "nothing to continue, then a text message in 2 fragments.",
        "The connection is failed immediately (1002). No echo.", fail_case([RAW(seq)]))
add("5.18", "Send a text message in 2 fragments, both with the text opcode.",
    "The connection is failed (1002). No echo.",
    fail_case([RAW([E(TEXT, FR[0], fin=False), E(TEXT, FR[1])])]))
FIVE = [E(TEXT, FR[0], fin=False), E(CONT, FR[1], fin=False), E(PING, "pongme 1!"),
        E(CONT, FR[2], fin=False), E(CONT, FR[3], fin=False), E(PING, "pongme 2!"), E(CONT, FR[4])]
FIVE_EXPECT = [pong("pongme 1!"), pong("pongme 2!"), text(b"".join(FR))]


def _c5_19(ctx):
    c = ctx.connect()
    j = Judge()
    got = []
    for i, f in enumerate(FIVE):
        c.send_raw(f)
        if i == 2:   # after the first ping: its pong must come while the message is open
            got += c.collect(1, time.monotonic() + 2.0)
        else:
            time.sleep(0.03)
    j.see(f"while the message was open: {fmt(got)}")
    if got != FIVE_EXPECT[:1]:
        j.fail("the pong for the first ping did not arrive before the message was complete")
        if got and got[-1][0] == "close":
            c.answer_close(got[-1][1])
        return j.result()
    return expect_echo(c, FIVE_EXPECT[1:], j)


add("5.19", "Send a text message in 5 fragments with 2 pings in between, waiting between frames "
    "(the first pong is awaited before the message continues).",
    "Pong, pong, then echo of the whole message.", _c5_19)
add("5.20", "Same as 5.19, all frames in one chop.", "Pong, pong, then echo of the whole message.",
    echo_case([RAW(FIVE)], FIVE_EXPECT))
for i, n in enumerate([2, 3, 10, 100], 1):
    p = bytes(range(256)) * 4
    parts = [p[k * len(p) // n:(k + 1) * len(p) // n] for k in range(n)]
    fr = [E(BINARY if k == 0 else CONT, parts[k], fin=k == n - 1) for k in range(n)]
    add(f"5.21.{i}", f"Send a 1024-byte binary message in {n} fragments.",
        "Echo of the whole message.", echo_case([RAW(fr)], [binary(p)]), autobahn=False)
EMPTY_CASES = [
    ("first fragment empty", TEXT, [b"", b"abc", b"def"]),
    ("last fragment empty", TEXT, [b"abc", b"def", b""]),
    ("middle fragment empty", BINARY, [b"\x01\x02", b"", b"\x03"]),
    ("all 3 fragments empty", TEXT, [b"", b"", b""]),
]
for i, (d, op, parts) in enumerate(EMPTY_CASES, 1):
    fr = [E(op if k == 0 else CONT, parts[k], fin=k == len(parts) - 1) for k in range(len(parts))]
    add(f"5.22.{i}", f"Send a fragmented message, {d}.", "Echo of the whole message.",
        echo_case([RAW(fr)], [msg("text" if op == TEXT else "binary", b"".join(parts))]),
        autobahn=False)
add("5.23.1", "Send a text message in 2 fragments with an unsolicited pong in between.",
    "Echo of the whole message (the pong is ignored).",
    echo_case([RAW([E(TEXT, FR[0], fin=False), E(PONG, "x"), E(CONT, FR[1])])],
              [text(FR[0] + FR[1])]), autobahn=False)
add("5.23.2", "Start a text message (FIN=0), then send a binary frame (a new message while "
    "fragmenting).", "The connection is failed (1002). No echo.",
    fail_case([RAW([E(TEXT, FR[0], fin=False), E(BINARY, FR[1])])]), autobahn=False)
P1000 = bytes(i % 251 for i in range(1000))
add("5.23.3", "Send a 1000-byte binary message in 1000 one-byte fragments.",
    "Echo of the whole message.",
    echo_case([RAW([E(BINARY if k == 0 else CONT, P1000[k:k + 1], fin=k == 999)
                    for k in range(1000)])], [binary(P1000)]), autobahn=False)
add("5.23.4", "Send a text message in 2 fragments, then a valid message, then a ping.",
    "Echo, echo, pong - in order.",
    echo_case([RAW(TWO + [E(BINARY, b"\x00"), E(PING, "p")])],
              [text(FR[0] + FR[1]), binary(b"\x00"), pong("p")]), autobahn=False)


# =============================================================================================
# 6 UTF-8 handling

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"     # κόσμε
HELLO_UTF8 = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode()
INVALID = KOSME + b"\xed\xa0\x80" + b"edited"                  # a surrogate in the middle


def frags(op, data: bytes, sizes) -> list[bytes]:
    """Frames of one message: `sizes` is a list of fragment sizes, or an int (every size)."""
    if isinstance(sizes, int):
        sizes = [sizes] * max(1, -(-len(data) // sizes))
    out, pos = [], 0
    for k, s in enumerate(sizes):
        last = k == len(sizes) - 1
        part = data[pos:] if last else data[pos:pos + s]
        out.append(E(op if k == 0 else CONT, part, fin=last))
        pos += s
    return out


def utf8_valid(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def utf8_case(payload: bytes, frames: list[bytes] | None = None):
    frames = frames or [E(TEXT, payload)]
    if utf8_valid(payload):
        return echo_case([RAW(frames)], [text(payload)])
    return fail_case([RAW(frames)], codes=(1007,))


add("6.1.1", "Send a text message of length 0.", "Echo of the empty text message.",
    echo_case([F(TEXT, b"")], [text(b"")]))
add("6.1.2", "Send a text message of length 0 in 3 empty fragments.",
    "Echo of the empty text message.",
    echo_case([RAW(frags(TEXT, b"", [0, 0, 0]))], [text(b"")]))
add("6.1.3", "Send a text message in 3 fragments, first and last empty.",
    "Echo of the middle payload.",
    echo_case([RAW([E(TEXT, b"", fin=False), E(CONT, "middle frame payload", fin=False),
                    E(CONT, b"")])], [text("middle frame payload")]))
add("6.2.1", "Send a valid UTF-8 text message in one fragment.", "Echo.",
    utf8_case(HELLO_UTF8))
add("6.2.2", "Send a valid UTF-8 text message in 2 fragments, split on a code point boundary.",
    "Echo.", utf8_case(HELLO_UTF8, frags(TEXT, HELLO_UTF8, [8, 99])))
add("6.2.3", "Send a valid UTF-8 text message in 1-octet fragments (code points split across "
    "frames).", "Echo.", utf8_case(HELLO_UTF8, frags(TEXT, HELLO_UTF8, 1)))
add("6.2.4", "Send a valid UTF-8 text message (κόσμε) in 1-octet fragments.", "Echo.",
    utf8_case(KOSME, frags(TEXT, KOSME, 1)))
add("6.3.1", "Send an invalid UTF-8 text message (a surrogate) in one fragment.",
    "The connection is failed (1007).", utf8_case(INVALID))
add("6.3.2", "Send the invalid UTF-8 text message of 6.3.1 in 1-octet fragments.",
    "The connection is failed (1007).", utf8_case(INVALID, frags(TEXT, INVALID, 1)))
# Not in Autobahn (found by tests/fuzz/ws_frame_fuzz.cpp): a text message whose last code point
# is cut, the cut falling at the end of a fragment and the final fragment empty. Beast checked the
# end of the UTF-8 only while payload remained, and delivered "caf\xC3" as text.
for i, (parts, what) in enumerate([((b"caf\xc3", b""), "a 2-octet sequence cut short, then an empty final fragment"),
                                    ((b"\xe2\x82", b""), "a 3-octet sequence cut short, then an empty final fragment"),
                                    ((b"ok\xf0\x9f\x98", b"", b""), "a 4-octet sequence cut short, then two empty fragments")], 1):
    frames = [E(TEXT if k == 0 else CONT, p, fin=k == len(parts) - 1) for k, p in enumerate(parts)]
    add(f"6.3.{2 + i}", f"Send a text message that ends in {what}.",
        "The connection is failed (1007).", fail_case([RAW(frames)], codes=(1007,)), autobahn=False)


def fail_fast_case(p1: bytes, p2: bytes, p3: bytes, chops_of_one_frame: bool):
    """Autobahn 6.4.x: send the parts with waits; the server must fail (1007) right after the
    part that makes the text invalid (OK) or at the latest after the last (NON-STRICT)."""
    def run(ctx):
        c = ctx.connect()
        j = Judge()
        if chops_of_one_frame:
            whole = E(TEXT, p1 + p2 + p3)
            hdr = len(whole) - len(p1 + p2 + p3)
            parts = [whole[:hdr + len(p1)], whole[hdr + len(p1):hdr + len(p1) + len(p2)],
                     whole[hdr + len(p1) + len(p2):]]
        else:
            parts = [E(TEXT, p1, fin=False), E(CONT, p2, fin=False), E(CONT, p3)]
        c.send_raw(parts[0])
        ev = c.next_event(time.monotonic() + FAIL_FAST_WAIT)
        if ev[0] != "timeout":
            j.see(f"after part 1: {fmt(ev)}")
            j.fail("the server reacted to the valid first part")
            if ev[0] == "close":
                c.answer_close(ev[1])
            return j.result()
        c.send_raw(parts[1])
        ev = c.next_event(time.monotonic() + FAIL_FAST_WAIT)
        if ev[0] != "timeout":
            j.see("failed fast (after part 2)")
            judge_terminal(c, j, ev, (1007,))
            return j.result()
        c.send_raw(parts[2])
        ev = c.next_event()
        j.see("no reaction to part 2 within %.1f s" % FAIL_FAST_WAIT)
        judge_terminal(c, j, ev, (1007,))
        if ev[0] == "close":
            j.nonstrict("the connection was failed only after the last part, not fast on the "
                        "invalid octet")
        return j.result()
    return run


F641 = (KOSME, b"\xf4\x90\x80\x80", b"edited")
F642 = (KOSME + b"\xf4", b"\x90", b"\x80\x80edited")
add("6.4.1", "Send invalid UTF-8 text in 3 fragments with waits; the 2nd fragment (f4 90 80 80, "
    "U+110000) makes it invalid.",
    "Fail fast (1007) after the 2nd fragment; NON-STRICT if only after the 3rd.",
    fail_fast_case(*F641, False), timeout=8)
add("6.4.2", "Like 6.4.1, the 2nd fragment is exactly the octet (0x90) that makes it invalid.",
    "Fail fast (1007) after the 2nd fragment; NON-STRICT if only after the 3rd.",
    fail_fast_case(*F642, False), timeout=8)
add("6.4.3", "Like 6.4.1, but 3 chops of one frame instead of 3 frames.",
    "Fail fast (1007) after the 2nd chop; NON-STRICT if only after the 3rd.",
    fail_fast_case(*F641, True), timeout=8)
add("6.4.4", "Like 6.4.2, but 3 chops of one frame instead of 3 frames.",
    "Fail fast (1007) after the 2nd chop; NON-STRICT if only after the 3rd.",
    fail_fast_case(*F642, True), timeout=8)


def _utf8_categories():
    """The UTF-8 test sequences of Autobahn 6.5-6.23 (after Markus Kuhn's UTF-8-test.txt),
    as (category, [(expected_valid, bytes), ...])."""
    cats = []
    cats.append(("Some valid UTF-8 sequences", [
        (True, b"hello\x24world"), (True, b"hello\xc2\xa2world"),
        (True, b"hello\xe2\x82\xacworld"), (True, b"hello\xf0\xa4\xad\xa2world"), (True, KOSME)]))
    cats.append(("All prefixes of a valid UTF-8 string with multi-byte code points",
                 [(utf8_valid(KOSME[:i]), KOSME[:i]) for i in range(1, len(KOSME) + 1)]))
    cats.append(("First possible sequence of a certain length", [
        (True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"),
        (True, b"\xf0\x90\x80\x80")]))
    cats.append(("First possible sequence length 5/6 (invalid code points)", [
        (False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]))
    cats.append(("Last possible sequence of a certain length", [
        (True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"),
        (True, b"\xf4\x8f\xbf\xbf")]))
    cats.append(("Last possible sequence length 4/5/6 (invalid code points)", [
        (False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"),
        (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]))
    cats.append(("Other boundary conditions", [
        (True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"),
        (True, b"\xf4\x8f\xbf\xbf"), (False, b"\xf4\x90\x80\x80")]))
    cont = [b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80", b"\x80\xbf\x80\xbf",
            b"\x80\xbf\x80\xbf\x80", b"\x80\xbf\x80\xbf\x80\xbf", bytes(range(0x80, 0xbf))]
    cats.append(("Unexpected continuation bytes", [(False, s) for s in cont]))
    lonely = [b"".join(bytes([i, 0x20]) for i in range(lo, hi))
              for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd))]
    cats.append(("Lonely start characters", [(False, s) for s in lonely]))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
               b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    cats.append(("Sequences with last continuation byte missing", [(False, s) for s in missing]))
    cats.append(("Concatenation of incomplete sequences", [(False, b"".join(missing))]))
    cats.append(("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"),
                                      (False, b"\xfe\xfe\xff\xff")]))
    cats.append(("Examples of an overlong ASCII character", [(False, s) for s in (
        b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x80\x80\x80\xaf",
        b"\xfc\x80\x80\x80\x80\xaf")]))
    cats.append(("Maximum overlong sequences", [(False, s) for s in (
        b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf8\x87\xbf\xbf\xbf",
        b"\xfc\x83\xbf\xbf\xbf\xbf")]))
    cats.append(("Overlong representation of the NUL character", [(False, s) for s in (
        b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf8\x80\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80\x80")]))
    cats.append(("Single UTF-16 surrogates", [(False, s) for s in (
        b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf", b"\xed\xb0\x80",
        b"\xed\xbe\x80", b"\xed\xbf\xbf")]))
    hi = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf"]
    cats.append(("Paired UTF-16 surrogates", [(False, h + lo) for h in hi
                                              for lo in (b"\xed\xb0\x80", b"\xed\xbf\xbf")]))
    nonchar = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"]
    for z1 in (0xf0, 0xf1, 0xf2, 0xf3, 0xf4):
        for z2 in (0x8f, 0x9f, 0xaf, 0xbf):
            if z1 == 0xf4 and z2 != 0x8f:
                continue            # beyond U+10FFFF
            if z1 == 0xf0 and z2 == 0x8f:
                continue            # overlong
            for z3 in (0xbe, 0xbf):
                nonchar.append(bytes([z1, z2, 0xbf, z3]))
    cats.append(("Non-character code points (valid UTF-8)", [(True, s) for s in nonchar]))
    cats.append(("Unicode specials (i.e. replacement char)",
                 [(True, bytes([0xef, 0xbf, b])) for b in range(0xb9, 0xc0)]))
    for name, seqs in cats:           # the table must agree with a strict decoder
        for valid, s in seqs:
            assert utf8_valid(s) == valid, (name, s)
    return cats


for ci, (cat, seqs) in enumerate(_utf8_categories(), 5):
    FAMILIES[f"6.{ci}"] = cat
    for si, (valid, s) in enumerate(seqs, 1):
        add(f"6.{ci}.{si}", f"{cat}: send a text message with payload 0x{s.hex()} in one frame.",
            "Echo." if valid else "The connection is failed (1007).", utf8_case(s))

add("6.24.1", "Send a binary message whose payload is not UTF-8 (binary is not validated).",
    "Echo.", echo_case([F(BINARY, INVALID)], [binary(INVALID)]), autobahn=False)
add("6.24.2", "Send a text message in 2 fragments whose final fragment ends in a truncated "
    "sequence (e2 82).", "The connection is failed (1007).",
    utf8_case(b"abc\xe2\x82", [E(TEXT, b"abc", fin=False), E(CONT, b"\xe2\x82")]),
    autobahn=False)
EURO = b"price: \xe2\x82\xac"
add("6.24.3", "Send a text message whose 3-byte code point (U+20AC) is split over 3 fragments.",
    "Echo.", utf8_case(EURO, frags(TEXT, EURO, [8, 1, 1])), autobahn=False)
SMILE = b"smile \xf0\x9f\x98\x80!"
add("6.24.4", "Send a text message whose 4-byte code point (U+1F600) is split over 2 fragments.",
    "Echo.", utf8_case(SMILE, frags(TEXT, SMILE, [8, 9])), autobahn=False)
add("6.24.5", "Send a text message whose overlong sequence (e0 80 80) is split over 2 fragments.",
    "The connection is failed (1007).",
    utf8_case(b"ab\xe0\x80\x80", [E(TEXT, b"ab\xe0", fin=False), E(CONT, b"\x80\x80")]),
    autobahn=False)
add("6.24.6", "Send a valid text message, then an invalid one (0xff) in one chop.",
    "Echo of the first, then the connection is failed (1007).",
    fail_case([RAW([E(TEXT, "valid"), E(TEXT, b"in\xffvalid")])], codes=(1007,),
              before=[text("valid")], before_nonstrict=[]), autobahn=False)


# =============================================================================================
# 7 Close handling

add("7.1.1", "Send a text message, then a close frame.",
    "Echo of the message, then a clean close (1000).",
    echo_case([F(TEXT, HW)], [text(HW)]))


def client_close_case(actions, codes, *, before=(), nonstrict_codes=(), none_nonstrict=False):
    """We send the close (in `actions`); the server must answer with a code in `codes`."""
    def run(ctx):
        c = ctx.connect()
        for a in actions:
            a(c)
        c.close_sent = True
        return expect_close(c, codes, before=before, nonstrict_codes=nonstrict_codes,
                            none_nonstrict=none_nonstrict)
    return run


CLOSE1000 = close_payload(1000)
add("7.1.2", "Send two close frames.", "One clean close (1000); nothing after it.",
    client_close_case([RAW([E(CLOSE, CLOSE1000), E(CLOSE, CLOSE1000)])], (1000,),
                      none_nonstrict=True))
add("7.1.3", "Send a close frame, then a ping.", "Clean close (1000); no pong.",
    client_close_case([RAW([E(CLOSE, CLOSE1000), E(PING, "ping after close")])], (1000,),
                      none_nonstrict=True))
add("7.1.4", "Send a close frame, then a text message.", "Clean close (1000); no echo.",
    client_close_case([RAW([E(CLOSE, CLOSE1000), E(TEXT, "text after close")])], (1000,),
                      none_nonstrict=True))
add("7.1.5", "Send the first fragment of a text message, a close frame, then the last fragment.",
    "Clean close (1000); no echo.",
    client_close_case([RAW([E(TEXT, FR[0], fin=False), E(CLOSE, CLOSE1000), E(CONT, FR[1])])],
                      (1000,), none_nonstrict=True))
BIG = (b"BAsd7&jh23" * 26215)[:256 * 1024]


def _c7_1_6(ctx):
    c = ctx.connect()
    j = Judge()
    c.send_raw(E(TEXT, BIG) + E(TEXT, "Hello World!") + E(CLOSE, CLOSE1000) + E(PING))
    c.close_sent = True
    evs = c.until_terminal()
    data, term = evs[:-1], evs[-1]
    j.see(fmt(data))
    judge_terminal(c, j, term, (1000, None))
    if data == [text(BIG), text("Hello World!")]:
        pass
    elif data in ([], [text(BIG)]):
        j.nonstrict("the close was processed before the messages were echoed (Autobahn: "
                    "informational)")
    else:
        j.fail("unexpected events before the close")
    return j.result()


add("7.1.6", "Send a 256 KiB text message, a small text message, a close frame and a ping "
    "back to back.", "Both echoes, then a clean close (1000), no pong. (Autobahn: "
    "informational; a close processed first is NON-STRICT here.)", _c7_1_6)
add("7.3.1", "Send a close frame with an empty payload.",
    "Clean close, empty or with 1000.", client_close_case([F(CLOSE, b"")], (None, 1000)))
add("7.3.2", "Send a close frame with a 1-octet payload.", "The connection is failed (1002).",
    client_close_case([F(CLOSE, b"*")], (1002,)))
add("7.3.3", "Send a close frame with code 1000 and no reason.", "Clean close with 1000.",
    client_close_case([F(CLOSE, CLOSE1000)], (1000,), none_nonstrict=True))
add("7.3.4", "Send a close frame with code 1000 and a reason.", "Clean close with 1000.",
    client_close_case([F(CLOSE, close_payload(1000, "Hello World!"))], (1000,),
                      none_nonstrict=True))
add("7.3.5", "Send a close frame with code 1000 and a 123-octet reason (125 octets in all).",
    "Clean close with 1000.",
    client_close_case([F(CLOSE, close_payload(1000, "*" * 123))], (1000,), none_nonstrict=True))
add("7.3.6", "Send a close frame with code 1000 and a 124-octet reason (126 octets: too long "
    "for a control frame).", "The connection is failed (1002).",
    client_close_case([F(CLOSE, close_payload(1000, "*" * 124))], (1002,)))
add("7.3.7", "Send a close frame with code 1000 and a multi-byte UTF-8 reason.",
    "Clean close with 1000.",
    client_close_case([F(CLOSE, close_payload(1000, KOSME * 3))], (1000,), none_nonstrict=True),
    autobahn=False)
add("7.3.8", "Send a close frame with FIN = 0.", "The connection is failed (1002).",
    client_close_case([F(CLOSE, CLOSE1000, fin=False)], (1002,)), autobahn=False)
add("7.5.1", "Send a close frame with code 1000 and a reason that is not UTF-8.",
    "The connection is failed: 1007 (1002: NON-STRICT; Autobahn accepts both).",
    client_close_case([F(CLOSE, struct.pack("!H", 1000) + INVALID)], (1007,),
                      nonstrict_codes=(1002,)))
VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
for i, code in enumerate(VALID_CODES, 1):
    add(f"7.7.{i}", f"Send a close frame with the valid close code {code}.",
        f"Clean close with {code if code == 1000 else f'{code} or 1000'} (no status: "
        "NON-STRICT).",
        client_close_case([F(CLOSE, close_payload(code))], (1000, code), none_nonstrict=True))
for i, code in enumerate([1012, 1013, 1014], 14):
    add(f"7.7.{i}", f"Send a close frame with close code {code} (IANA-registered; Autobahn "
        "tests it neither as valid nor as invalid).",
        f"Clean close with {code} or 1000; rejecting it (1002) is NON-STRICT.",
        client_close_case([F(CLOSE, close_payload(code))], (1000, code), nonstrict_codes=(1002,),
                          none_nonstrict=True), autobahn=False)
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999]
for i, code in enumerate(INVALID_CODES, 1):
    add(f"7.9.{i}", f"Send a close frame with the invalid close code {code}.",
        "The connection is failed (1002).", client_close_case([F(CLOSE, close_payload(code))],
                                                              (1002,)))
add("7.9.10", "Send a close frame with close code 1015 (TLS failure: must never be sent, "
    "RFC 6455 §7.4.1).", "The connection is failed (1002).",
    client_close_case([F(CLOSE, close_payload(1015))], (1002,)), autobahn=False)
for i, code in enumerate([5000, 65535], 1):
    add(f"7.13.{i}", f"Send a close frame with close code {code} (outside every range RFC 6455 "
        "defines).", "The connection is failed (1002), never echoed: an endpoint must not send "
        "an undefined code (Autobahn calls it informational; Node ws fails it).",
        client_close_case([F(CLOSE, close_payload(code))], (1002,)))


# =============================================================================================
# 9 Limits/Performance (sizes scaled to --max-message-size so the suite runs in seconds)

def _pattern(kind: str, n: int) -> bytes:
    if kind == "text":
        return (b"BAsd7&jh23" * (n // 10 + 1))[:n]
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def size_echo_case(kind: str, size_fn, frag=None, chop=None):
    op = TEXT if kind == "text" else BINARY

    def run(ctx):
        n = size_fn(ctx)
        p = _pattern(kind, n)
        c = ctx.connect()
        if frag:
            c.send_raw(b"".join(frags(op, p, frag)), chop)
        else:
            c.send_raw(E(op, p), chop)
        return expect_echo(c, [msg(kind, p)])
    return run


def capped(n):
    return lambda ctx: min(n, ctx.max_message_size)


def at_max(ctx):
    return ctx.max_message_size


KI, MI = 1024, 1024 * 1024
for sub, kind in ((1, "text"), (2, "binary")):
    for i, (n, label) in enumerate([(64 * KI, "64 KiB"), (256 * KI, "256 KiB"),
                                    (512 * KI, "512 KiB")], 1):
        add(f"9.{sub}.{i}", f"Send a {kind} message of {label} (capped at max_message_size).",
            "Echo, identical.", size_echo_case(kind, capped(n)), timeout=15)
    add(f"9.{sub}.4", f"Send a {kind} message of exactly max_message_size bytes.",
        "Echo, identical (the limit is inclusive).", size_echo_case(kind, at_max), timeout=15)
FRAGS = [64, 256, KI, 4 * KI, 16 * KI, 64 * KI, 256 * KI, MI]
for sub, kind in ((3, "text"), (4, "binary")):
    for i, fs in enumerate(FRAGS, 1):
        add(f"9.{sub}.{i}", f"Send a 1 MiB {kind} message (capped at max_message_size) in frames "
            f"of {fs} bytes.", "Echo, identical.",
            size_echo_case(kind, capped(MI), frag=fs), timeout=20)
CHOPS = [64, 128, 256, 512, 1024, 2048]
for sub, kind in ((5, "text"), (6, "binary")):
    for i, ch in enumerate(CHOPS, 1):
        add(f"9.{sub}.{i}", f"Send a 1 MiB {kind} message (capped at max_message_size) in one "
            f"frame, the octets sent in chops of {ch}.", "Echo, identical.",
            size_echo_case(kind, capped(MI), chop=ch), timeout=20)


def many_case(kind: str, size: int, count: int = 1000, batch: int = 50):
    op = TEXT if kind == "text" else BINARY

    def run(ctx):
        c = ctx.connect()
        j = Judge()
        sent = 0
        while sent < count:
            k = min(batch, count - sent)
            msgs = [_pattern(kind, size)[:size - 4] + b"%04d" % (sent + x) if size >= 4
                    else _pattern(kind, size) for x in range(k)]
            c.send_raw(b"".join(E(op, m) for m in msgs))
            got = c.collect(k)
            want = [msg(kind, m) for m in msgs]
            if got != want:
                bad = next(x for x in range(len(got)) if x >= len(want) or got[x] != want[x])
                j.see(f"message {sent + bad}: {fmt(got[bad])}")
                j.fail(f"expected {fmt(want[bad]) if bad < len(want) else 'nothing'}")
                if got and got[-1][0] == "close":
                    c.answer_close(got[-1][1])
                return j.result()
            sent += k
        j.see(f"{count} echoes in order")
        client_close(c, j)
        return j.result()
    return run


for sub, kind in ((7, "text"), (8, "binary")):
    for i, n in enumerate([0, 16, 64, 256, 1024, 4096], 1):
        add(f"9.{sub}.{i}", f"Send 1000 {kind} messages of {n} bytes (pipelined, 50 at a time).",
            "1000 echoes, identical and in order.", many_case(kind, n), timeout=20)


def over_limit_case(kind: str, frag=None):
    op = TEXT if kind == "text" else BINARY

    def run(ctx):
        p = _pattern(kind, ctx.max_message_size + 1)
        c = ctx.connect()
        c.send_raw(b"".join(frags(op, p, frag)) if frag else E(op, p))
        return expect_close(c, (1009,))
    return run


add("9.9.1", "Send a text message of max_message_size + 1 bytes in one frame.",
    "The connection is failed with 1009 (message too big).", over_limit_case("text"),
    autobahn=False, timeout=15)
add("9.9.2", "Send a binary message of max_message_size + 1 bytes in one frame.",
    "The connection is failed with 1009.", over_limit_case("binary"), autobahn=False, timeout=15)
add("9.9.3", "Send a text message of max_message_size + 1 bytes in 64 KiB frames.",
    "The connection is failed with 1009.", over_limit_case("text", 64 * KI), autobahn=False,
    timeout=15)


def _c9_9_4(ctx):
    """A header announcing twice the limit: the server should fail at once (1009), not wait."""
    c = ctx.connect()
    j = Judge()
    n = 2 * ctx.max_message_size
    p = _pattern("binary", n)
    frame = E(BINARY, p)
    c.send_raw(frame[:14 + 64 * KI])
    ev = c.next_event(time.monotonic() + 1.0)
    if ev[0] == "timeout":
        j.see("no reaction to the announced length within 1 s")
        j.nonstrict("the oversize message was not refused on its header")
        c.send_raw(frame[14 + 64 * KI:])
        ev = c.next_event()
    judge_terminal(c, j, ev, (1009,))
    return j.result()


add("9.9.4", "Send a binary frame header announcing 2 x max_message_size, then only 64 KiB.",
    "The connection is failed with 1009 at once (on the header); failing only after the whole "
    "payload is NON-STRICT.", _c9_9_4, autobahn=False, timeout=15)


def _c9_9_5(ctx):
    c = ctx.connect()
    m = ctx.max_message_size
    c.send_raw(E(BINARY, _pattern("binary", m), fin=False) + E(CONT, b"\x00" * 1024))
    return expect_close(c, (1009,))


add("9.9.5", "Send a binary fragment of max_message_size bytes (FIN=0), then a 1 KiB "
    "continuation.", "The connection is failed with 1009.", _c9_9_5, autobahn=False, timeout=15)


def _c9_9_6(ctx):
    c = ctx.connect()
    hdr = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", (1 << 63) | 16) + b"\x00\x00\x00\x00"
    c.send_raw(hdr + b"x" * 16)
    return expect_close(c, (1002,), nonstrict_codes=(1009,))


add("9.9.6", "Send a binary frame whose 64-bit length has the most significant bit set.",
    "The connection is failed: 1002 (the MSB MUST be 0, RFC 6455 §5.2); 1009 is NON-STRICT.",
    _c9_9_6, autobahn=False)


# =============================================================================================
# 10 Misc

add("10.1.1", "Send a 65536-byte text message auto-fragmented into 1300-byte frames.",
    "Echo, identical.", size_echo_case("text", lambda ctx: 65536, frag=1300))
add("10.1.2", "Send a 1 MiB text message (capped at max_message_size) in 64 KiB frames.",
    "Echo, identical.", size_echo_case("text", capped(MI), frag=64 * KI), autobahn=False,
    timeout=15)


# =============================================================================================
# 12/13 Compression (RFC 7692). With --compression the extension must be negotiated; without
# it the server must decline, and the same cases then run uncompressed (RSV1 frames -> 1002).

BROWSER_OFFER = "permessage-deflate; client_max_window_bits"
AUTOBAHN_DEFAULT = "permessage-deflate; client_no_context_takeover; client_max_window_bits"


def _json_corpus(n: int) -> bytes:
    rnd = random.Random(7)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    out, i = [], 0
    size = 0
    while size < n:
        o = {"id": i, "name": f"{rnd.choice(words)}-{rnd.randint(0, 9999)}",
             "tags": rnd.sample(words, 3), "score": round(rnd.random() * 100, 3),
             "active": rnd.random() < 0.5, "geo": {"lat": rnd.uniform(-90, 90),
                                                   "lon": rnd.uniform(-180, 180)}}
        s = json.dumps(o)
        out.append(s)
        size += len(s) + 2
        i += 1
    return ("[" + ",\n".join(out) + "]").encode()[:n]


def _html_corpus(n: int) -> bytes:
    rnd = random.Random(9)
    parts = ["<!DOCTYPE html><html><head><title>conformance</title></head><body>"]
    while sum(map(len, parts)) < n:
        k = rnd.randint(1, 500)
        parts.append(f'<div class="row r{k % 7}"><a href="/item/{k}">Item {k}</a>'
                     f'<span data-v="{rnd.random():.5f}">{"lorem ipsum " * (k % 5 + 1)}</span>'
                     "</div>\n")
    return "".join(parts).encode()[:n]


CORPUS = {"json": _json_corpus(400 * KI), "html": _html_corpus(400 * KI),
          "random": random.Random(11).randbytes(400 * KI)}


def pmd_connect(ctx, j: Judge, offers=(BROWSER_OFFER,), *, decline_ok=False,
                decline_nonstrict=False) -> Conn:
    """Connect offering `offers`; judge the answer against --compression."""
    c = ctx.connect(extensions=list(offers))
    got = c.headers.get("sec-websocket-extensions")
    j.see(f"response: {got or 'no extension'}")
    if c.pmd_error:
        j.fail(f"negotiation: {c.pmd_error}")
    elif ctx.compression and c.pmd is None:
        if decline_ok:
            pass
        elif decline_nonstrict:
            j.nonstrict("every offer declined although an acceptable one was made")
        else:
            j.fail("permessage-deflate was not negotiated (the route has compression on)")
    elif not ctx.compression and c.pmd is not None:
        j.fail("permessage-deflate was negotiated although the route has compression off")
    for n in (c.pmd.notes if c.pmd is not None else []):
        j.nonstrict(n)
    return c


def roundtrips(c: Conn, j: Judge, kind: str, msgs: list[bytes], frag=None, **ckw) -> bool:
    """Send each message (compressed when negotiated), wait for its echo, compare."""
    op = TEXT if kind == "text" else BINARY
    for k, m in enumerate(msgs):
        c.send_raw(b"".join(c.frames_for_message(op, m, frag=frag, **ckw)))
        got = c.collect(1)
        if got != [msg(kind, m)]:
            j.see(f"message {k}: sent {show(m)}, got {fmt(got)}")
            j.fail("echo differs from what was sent")
            if got and got[-1][0] == "close":
                c.answer_close(got[-1][1])
            return False
    if c.pmd is not None:
        j.see(f"{len(msgs)} echoes OK, {c.pmd.compressed_in}/{c.pmd.messages_in} replies "
              "compressed")
    else:
        j.see(f"{len(msgs)} echoes OK (uncompressed)")
    return True


def slices(corpus: bytes, size: int, count: int) -> list[bytes]:
    out, pos = [], 0
    for _ in range(count):
        if pos + size > len(corpus):
            pos = 0
        out.append(corpus[pos:pos + size])
        pos += size
    return out


def pmd_echo_case(kind: str, corpus: str, size: int, count: int, frag=None, offers=(BROWSER_OFFER,),
                  decline_ok=False, decline_nonstrict=False, **ckw):
    def run(ctx):
        j = Judge()
        c = pmd_connect(ctx, j, offers, decline_ok=decline_ok, decline_nonstrict=decline_nonstrict)
        if j.level == FAIL:
            return j.result()
        if roundtrips(c, j, kind, slices(CORPUS[corpus], size, count), frag, **ckw):
            client_close(c, j)
        return j.result()
    return run


SIZES12 = [16, 64, 256, KI, 4 * KI, 8 * KI, 16 * KI, 32 * KI, 64 * KI, 128 * KI]
for i, n in enumerate(SIZES12, 1):
    add(f"12.1.{i}", f"Send 10 compressed text messages (JSON) of {n} bytes each, one at a time.",
        "10 echoes, identical (the replies inflate correctly).",
        pmd_echo_case("text", "json", n, 10), timeout=10)
for i, n in enumerate([64, KI, 16 * KI, 128 * KI], 1):
    add(f"12.2.{i}", f"Send 10 compressed text messages (HTML) of {n} bytes each.",
        "10 echoes, identical.", pmd_echo_case("text", "html", n, 10), timeout=10)
for i, n in enumerate([16, KI, 64 * KI, 128 * KI], 1):
    add(f"12.3.{i}", f"Send 10 compressed binary messages (incompressible random) of {n} bytes.",
        "10 echoes, identical.", pmd_echo_case("binary", "random", n, 10), timeout=10)
FRAGGED = [(8 * KI, 256), (16 * KI, 256), (64 * KI, 256), (128 * KI, KI), (128 * KI, 4 * KI),
           (128 * KI, 32 * KI)]
for i, (n, fs) in enumerate(FRAGGED, 1):
    add(f"12.4.{i}", f"Send 5 compressed text messages (JSON) of {n} bytes, each compressed "
        f"payload split into frames of {fs} bytes (RSV1 on the first frame only).",
        "5 echoes, identical.", pmd_echo_case("text", "json", n, 5, frag=fs), timeout=10)


def _pmd_special(body):
    def run(ctx):
        j = Judge()
        c = pmd_connect(ctx, j)
        if j.level == FAIL:
            return j.result()
        if body(ctx, c, j):
            client_close(c, j)
        return j.result()
    return run


REPEAT = CORPUS["json"][:16 * KI]
add("12.5.1", "Send the same 16 KiB text message 5 times (with context takeover the later ones "
    "are mostly back-references).", "5 echoes, identical.",
    _pmd_special(lambda ctx, c, j: roundtrips(c, j, "text", [REPEAT] * 5)), autobahn=False)


def _mixed(ctx, c, j):
    msgs = slices(CORPUS["json"], 2 * KI, 6)
    for k, m in enumerate(msgs):
        c.send_raw(b"".join(c.frames_for_message(TEXT, m, compress=k % 2 == 0)))
        got = c.collect(1)
        if got != [text(m)]:
            j.see(f"message {k} ({'compressed' if k % 2 == 0 else 'uncompressed'}): {fmt(got)}")
            j.fail("echo differs")
            return False
    j.see("6 echoes OK")
    return True


add("12.5.2", "Send 6 text messages alternating compressed (RSV1) and uncompressed (RSV1 clear, "
    "allowed by RFC 7692 §6).", "6 echoes, identical.", _pmd_special(_mixed), autobahn=False)
add("12.5.3", "Send an empty compressed text message (payload 0x00, RFC 7692 §7.2.3.6).",
    "Echo of the empty message.",
    _pmd_special(lambda ctx, c, j: roundtrips(c, j, "text", [b""])), autobahn=False)
add("12.5.4", "Send an empty compressed binary message, then a non-empty one.",
    "Both echoed.",
    _pmd_special(lambda ctx, c, j: roundtrips(c, j, "binary", [b"", b"\x01" * 300])),
    autobahn=False)
add("12.5.5", "Send compressed messages made of stored (level 0) deflate blocks.",
    "Echoes, identical.",
    _pmd_special(lambda ctx, c, j: roundtrips(c, j, "text", slices(CORPUS["html"], 3000, 3),
                                              level=0)), autobahn=False)
add("12.5.6", "Send compressed messages with extra sync flushes inside (00 00 ff ff in the "
    "middle of the payload).", "Echoes, identical.",
    _pmd_special(lambda ctx, c, j: roundtrips(c, j, "text", slices(CORPUS["json"], 5000, 3),
                                              split_flush_at=(1000, 2500))), autobahn=False)
UNI = ("κόσμε 🌍 " * 2000).encode()
add("12.5.7", "Send a compressed text message of multi-byte UTF-8 (30 KB), fragmented at 1000 "
    "bytes of compressed payload.", "Echo, identical.",
    _pmd_special(lambda ctx, c, j: roundtrips(c, j, "text", [UNI], frag=1000)), autobahn=False)


def pmd_fail_case(make, codes_pmd, nonstrict_pmd=(), codes_plain=(1002,)):
    """make(ctx, c) sends something bad; with permessage-deflate the server must close with
    codes_pmd, without it (the RSV1 frames are then not allowed at all) with codes_plain."""
    def run(ctx):
        j = Judge()
        c = pmd_connect(ctx, j)
        if j.level == FAIL:
            return j.result()
        make(ctx, c)
        if c.pmd is not None:
            return expect_close(c, codes_pmd, nonstrict_codes=nonstrict_pmd, j=j)
        return expect_close(c, codes_plain, j=j)
    return run


def _deflate(data: bytes, bits=15) -> bytes:
    co = zlib.compressobj(6, zlib.DEFLATED, -bits)
    out = co.compress(data) + co.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


DZ = _deflate(b"fragment1fragment2")
add("12.6.1", "Send a compressed text message in 2 frames with RSV1 also on the continuation.",
    "The connection is failed (1002): RSV1 only on the first frame (RFC 7692 §6.1).",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(TEXT, DZ[:5], fin=False, rsv=RSV1) +
                                            E(CONT, DZ[5:], rsv=RSV1)), (1002,)), autobahn=False)
add("12.6.2", "Send a ping with RSV1 set.", "The connection is failed (1002). No pong.",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(PING, "x", rsv=RSV1)), (1002,)), autobahn=False)
add("12.6.3", "Send a pong with RSV1 set.", "The connection is failed (1002).",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(PONG, "x", rsv=RSV1)), (1002,)), autobahn=False)
add("12.6.4", "Send a close frame (1000) with RSV1 set.", "The connection is failed (1002).",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(CLOSE, CLOSE1000, rsv=RSV1)), (1002,)),
    autobahn=False)
add("12.6.5", "Send a compressed text message with RSV1 and RSV2 set.",
    "The connection is failed (1002).",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(TEXT, DZ, rsv=RSV1 | RSV2)), (1002,)),
    autobahn=False)
add("12.6.6", "Send a text frame with RSV1 whose payload is not valid deflate data (block type "
    "11).", "The connection is failed with a close frame, 1007 or 1002 (RFC 7692 names no code); "
    "another code is NON-STRICT.",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(TEXT, b"\xff\xff\xff\xff\xff", rsv=RSV1)),
                  (1007, 1002), nonstrict_pmd=(1003, 1008, 1011)), autobahn=False)


def _bomb(ctx, c):
    data = _deflate(b"\x00" * (4 * ctx.max_message_size))
    c.send_raw(E(BINARY, data, rsv=RSV1))


add("12.6.7", "Send a compressed binary message of a few KB that inflates to 4 x "
    "max_message_size (a decompression bomb).", "The connection is failed with 1009.",
    pmd_fail_case(_bomb, (1009,)), autobahn=False, timeout=10)
add("12.6.8", "Send a compressed text message that inflates to invalid UTF-8.",
    "The connection is failed (1007).",
    pmd_fail_case(lambda ctx, c: c.send_raw(E(TEXT, _deflate(INVALID), rsv=RSV1)), (1007,)),
    autobahn=False)


def _bad_utf8_frag(ctx, c):
    z = _deflate(INVALID * 50)
    c.send_raw(E(TEXT, z[:len(z) // 2], fin=False, rsv=RSV1) + E(CONT, z[len(z) // 2:]))


add("12.6.9", "Send a compressed text message in 2 frames that inflates to invalid UTF-8.",
    "The connection is failed (1007).", pmd_fail_case(_bad_utf8_frag, (1007,)), autobahn=False)


def _at_max_compressed(ctx, c, j):
    p = _pattern("binary", ctx.max_message_size)
    return roundtrips(c, j, "binary", [p])


add("12.6.10", "Send a compressed binary message that inflates to exactly max_message_size.",
    "Echo, identical (the limit applies after decompression and is inclusive).",
    _pmd_special(_at_max_compressed), autobahn=False, timeout=15)


def _over_max_compressed(ctx):
    j = Judge()
    c = pmd_connect(ctx, j)
    if j.level == FAIL:
        return j.result()
    c.send_raw(b"".join(c.frames_for_message(BINARY, _pattern("binary",
                                                               ctx.max_message_size + 1))))
    return expect_close(c, (1009,), j=j)


add("12.6.11", "Send a compressed binary message that inflates to max_message_size + 1.",
    "The connection is failed with 1009.", _over_max_compressed, autobahn=False, timeout=15)


# 13: negotiation. Autobahn's client offers (requestNoContextTakeover, requestMaxWindowBits).
def autobahn_offer(nct: bool, mwb: int) -> str:
    s = AUTOBAHN_DEFAULT
    if nct:
        s += "; server_no_context_takeover"
    if mwb:
        s += f"; server_max_window_bits={mwb}"
    return s


def _negotiated_run(ctx, offers, dec, frag):
    j = Judge()
    c = pmd_connect(ctx, j, offers, **dec)
    if j.level == FAIL:
        return j.result()
    if c.pmd is not None:
        j.see(f"negotiated: server_no_context_takeover={c.pmd.server_no_context_takeover} "
              f"client_no_context_takeover={c.pmd.client_no_context_takeover} "
              f"server_max_window_bits={c.pmd.server_max_window_bits} "
              f"client_max_window_bits={c.pmd.client_max_window_bits}")
    if frag:
        msgs = slices(CORPUS["json"], 16 * KI, 4)
    else:
        msgs = [CORPUS["json"][k * 1000:k * 1000 + n]
                for k, n in enumerate([16, 256, KI, 8 * KI, 64 * KI, 128 * KI])]
    if roundtrips(c, j, "text", msgs, frag):
        client_close(c, j)
    return j.result()


def neg_case(offers: list[str], dec: dict, frag=None):
    return lambda ctx: _negotiated_run(ctx, offers, dec, frag)


AB_OFFERS = [
    [(False, 0)], [(True, 0)], [(False, 8)], [(False, 15)], [(True, 8)], [(True, 15)],
    [(True, 8), (True, 0), (False, 0)],
]
for g, offers in enumerate(AB_OFFERS, 1):
    strs = [autobahn_offer(*o) for o in offers]
    eight = any(o[1] == 8 for o in offers)
    only_eight = all(o[1] == 8 for o in offers)
    dec = dict(decline_ok=only_eight, decline_nonstrict=eight and not only_eight)
    note = (" Declining an offer for an 8-bit server window is OK (zlib cannot deflate with it); "
            "answering server_max_window_bits greater than asked is FAILED (RFC 7692 §7.1.2.1)."
            if eight else "")
    FAMILIES[f"13.{g}"] = "client offers " + " , ".join(strs)
    add(f"13.{g}.1", f"Offer {' , '.join(strs)}; send 6 compressed JSON text messages of 16 B to "
        "128 KiB, one at a time.", "A valid acceptance (or refusal without --compression); 6 "
        f"echoes, identical.{note}", neg_case(strs, dec), timeout=10)
    add(f"13.{g}.2", f"Offer {' , '.join(strs)}; send 4 compressed JSON text messages of 16 KiB "
        "auto-fragmented into 256-byte frames.", "A valid acceptance; 4 echoes, identical." + note,
        neg_case(strs, dec, 256), timeout=10)


OTHER_OFFERS = [
    ("13.8.1", ["permessage-deflate"], "a bare offer (no parameters); client keeps its context"),
    ("13.8.2", [BROWSER_OFFER], "the browsers' offer; client keeps its context"),
    ("13.8.3", [BROWSER_OFFER, "permessage-deflate"],
     "two offers, the first with client_max_window_bits"),
]
for cid, offers, d in OTHER_OFFERS:
    add(cid, f"Offer '{', '.join(offers)}' ({d}); send 6 compressed messages of 16 B to 128 KiB.",
        "A valid acceptance; 6 echoes, identical.", neg_case(offers, {}), autobahn=False,
        timeout=10)

BAD_OFFERS = [
    ("permessage-deflate; foo=bar", "an unknown parameter"),
    ("permessage-deflate; server_max_window_bits=7", "server_max_window_bits=7 (out of range)"),
    ("permessage-deflate; server_max_window_bits=16", "server_max_window_bits=16 (out of range)"),
    ("permessage-deflate; server_max_window_bits", "server_max_window_bits without a value"),
    ("permessage-deflate; client_max_window_bits=7", "client_max_window_bits=7 (out of range)"),
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover",
     "a repeated parameter"),
    ("permessage-deflate; server_no_context_takeover=1", "a value on server_no_context_takeover"),
    ("x-webkit-deflate-frame", "an unknown extension only"),
]


def _must_decline(offer):
    def run(ctx):
        j = Judge()
        try:
            c = ctx.connect(extensions=[offer])
        except HandshakeError as e:
            status = e.response.split(b"\r\n")[0].decode("latin-1") if e.response else str(e)
            j.see(f"handshake refused: {status}")
            if status.split(" ")[1:2] == ["400"]:
                j.nonstrict("the whole handshake was refused (400) instead of declining the offer "
                            "and connecting without the extension (RFC 7692 §5)")
            else:
                j.fail(f"opening handshake failed: {e}")
            return j.result()
        got = c.headers.get("sec-websocket-extensions")
        j.see(f"response: {got or 'no extension'}")
        if c.pmd_error:
            j.fail(f"negotiation: {c.pmd_error}")
        elif c.pmd is not None:
            j.fail("the server accepted an offer it MUST decline (RFC 7692 §7)")
        elif got:
            j.fail(f"unexpected Sec-WebSocket-Extensions {got!r}")
        if j.level == FAIL:
            return j.result()
        if roundtrips(c, j, "text", [b"declined, so uncompressed"]):
            client_close(c, j)
        return j.result()
    return run


for i, (offer, d) in enumerate(BAD_OFFERS, 1):
    add(f"13.9.{i}", f"Offer '{offer}' ({d}).",
        "The offer is declined (no extension in the 101), the connection works uncompressed; "
        "refusing the whole handshake (400) is NON-STRICT.",
        _must_decline(offer), autobahn=False)
for i, bits in enumerate([8, 9, 10, 12, 15], 1):
    add(f"13.10.{i}", f"Offer 'permessage-deflate; client_max_window_bits={bits}'; the client "
        f"compresses with a {bits}-bit window{' (Huffman only)' if bits == 8 else ''}.",
        "A valid acceptance; 6 echoes, identical.",
        neg_case([f"permessage-deflate; client_max_window_bits={bits}"], {}), autobahn=False,
        timeout=10)
for i, bits in enumerate([9, 10, 12, 15], 1):
    add(f"13.11.{i}", f"Offer 'permessage-deflate; server_max_window_bits={bits}'.",
        f"Accepted with server_max_window_bits <= {bits} (or declined: NON-STRICT); 6 echoes.",
        neg_case([f"permessage-deflate; server_max_window_bits={bits}"],
                 {"decline_nonstrict": True}), autobahn=False, timeout=10)


def _server_nct_check(ctx):
    """server_no_context_takeover: every reply must inflate on its own (fresh inflater)."""
    j = Judge()
    c = pmd_connect(ctx, j, ["permessage-deflate; server_no_context_takeover"])
    if j.level == FAIL:
        return j.result()
    if c.pmd is not None and not c.pmd.server_no_context_takeover:
        j.fail("server_no_context_takeover was not confirmed")
        return j.result()
    if roundtrips(c, j, "text", [REPEAT] * 4):
        client_close(c, j)
    return j.result()


add("13.12.1", "Offer server_no_context_takeover; send the same 16 KiB text 4 times; inflate "
    "each reply with a fresh inflater.", "Accepted with server_no_context_takeover; every reply "
    "inflates on its own.", _server_nct_check, autobahn=False)


def _plain_route_rsv1(ctx):
    """Without an offer, RSV1 is never allowed, even on a route with compression on."""
    c = ctx.connect()
    j = Judge()
    c.send_raw(E(TEXT, DZ, rsv=RSV1))
    return expect_close(c, (1002,), j=j)


add("13.13.1", "Connect without offering permessage-deflate, send a compressed text frame "
    "(RSV1).", "The connection is failed (1002).", _plain_route_rsv1, autobahn=False)


def select(patterns: list[str] | None) -> list[Case]:
    """Cases whose id matches one of the patterns: fnmatch-style ('6.4.*'), or an id prefix
    ('6.4' matches 6.4 and 6.4.x)."""
    import fnmatch
    if not patterns:
        return list(CASES)
    out = []
    for c in CASES:
        for p in patterns:
            if any(ch in p for ch in "*?[") and fnmatch.fnmatch(c.id, p):
                out.append(c)
                break
            if c.id == p or c.id.startswith(p + "."):
                out.append(c)
                break
    return out
