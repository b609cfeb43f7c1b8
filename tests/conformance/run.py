#!/usr/bin/python3
"""run.py: run the WebSocket server conformance suite against one URL.

  /usr/bin/python3 run.py --url ws://127.0.0.1:PORT/echo [--compression]
      [--max-message-size BYTES] [--report FILE] [--only PATTERN[,PATTERN...]]
      [--label NAME] [--notes FILE] [--verbose] [--list]

Prints a line per FAILED / NON-STRICT case (every case with --verbose) and, last, one summary
line: `conformance: N cases, N OK, N NON-STRICT, N FAILED`. Exit status 1 if any case FAILED,
2 on a usage error. See README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases as C  # noqa: E402
from wsframe import HandshakeError  # noqa: E402


def parse_size(s: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]i?B?|B)?\s*", s, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s!r}")
    unit = (m[2] or "").upper().rstrip("B").rstrip("I")
    return int(m[1]) * {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[unit]


def run_case(case: C.Case, ctx: C.Ctx) -> dict:
    """Run one case in a thread with a hard deadline (case.timeout + 5 s)."""
    ctx.timeout = case.timeout
    box: dict = {}

    def target():
        try:
            box["r"] = case.fn(ctx)
        except HandshakeError as e:
            resp = e.response.decode("latin-1", "replace").split("\r\n")[0] if e.response else ""
            box["r"] = C.Result(C.FAIL, f"handshake failed: {e} {resp!r}",
                                [f"FAILED: opening handshake: {e}"])
        except ConnectionError as e:
            box["r"] = C.Result(C.FAIL, f"connection error: {e}", [f"FAILED: {e}"])
        except Exception as e:  # a bug in the suite: show it
            box["r"] = C.Result(C.FAIL, f"client exception: {type(e).__name__}: {e}",
                                ["FAILED: suite error: " + traceback.format_exc(limit=3)])

    t0 = time.monotonic()
    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(case.timeout + 5.0)
    if th.is_alive():
        ctx.cleanup()        # closing the sockets unblocks the thread
        th.join(2.0)
        r = C.Result(C.FAIL, "case did not finish", [f"FAILED: hard timeout "
                                                     f"({case.timeout + 5.0:.0f} s)"])
    else:
        ctx.cleanup()
        r = box["r"]
    dt = time.monotonic() - t0
    return {"id": case.id, "family": case.family, "autobahn": case.autobahn,
            "description": case.description, "expected": case.expected,
            "observed": r.observed, "verdict": r.verdict, "reasons": r.reasons,
            "duration_ms": round(dt * 1000, 1)}


def sort_key(cid: str):
    return [int(x) for x in cid.split(".")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", required=True, help="ws://HOST:PORT/PATH of an echo endpoint")
    ap.add_argument("--compression", action="store_true",
                    help="expect permessage-deflate to be negotiated (families 12/13); without "
                         "it, expect every offer to be declined")
    ap.add_argument("--max-message-size", type=parse_size, default=1024 * 1024,
                    help="the server's max message size (default 1MiB); families 9/12 use it")
    ap.add_argument("--report", help="write the JSON report here")
    ap.add_argument("--only", help="comma-separated case patterns: '6.4', '6.4.*', '7.7.1'")
    ap.add_argument("--label", default="", help="a name for the server, copied to the report")
    ap.add_argument("--notes", help="a JSON file {case id: note} whose notes are attached to "
                                    "the report's cases (e.g. ws_control_notes.json)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every case")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args(argv)

    selected = C.select(args.only.split(",") if args.only else None)
    if args.list:
        for c in selected:
            print(f"{c.id:10} {c.description}")
        return 0
    if not selected:
        print(f"conformance: no case matches {args.only!r}", file=sys.stderr)
        return 2

    notes = {}
    if args.notes:
        with open(args.notes) as f:
            notes = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    ctx = C.Ctx(args.url, args.compression, args.max_message_size)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    results = []
    for case in selected:
        r = run_case(case, ctx)
        if case.id in notes:
            r["note"] = notes[case.id]
        results.append(r)
        if args.verbose or r["verdict"] != C.OK:
            print(f"{r['verdict']:10} {r['id']:9} {r['duration_ms']:7.0f} ms  {case.description}")
            if r["verdict"] != C.OK:
                print(f"{'':21}observed: {r['observed']}")
                for why in r["reasons"]:
                    print(f"{'':21}{why}")
                if r.get("note"):
                    print(f"{'':21}note: {r['note']}")
            sys.stdout.flush()
    total = time.monotonic() - t0
    counts = {v: sum(1 for r in results if r["verdict"] == v) for v in (C.OK, C.NS, C.FAIL)}
    by_family = {}
    for r in results:
        f = by_family.setdefault(r["family"], {"name": C.FAMILIES.get(r["family"], ""),
                                               C.OK: 0, C.NS: 0, C.FAIL: 0})
        f[r["verdict"]] += 1
    summary = (f"conformance: {len(results)} cases, {counts[C.OK]} OK, {counts[C.NS]} NON-STRICT, "
               f"{counts[C.FAIL]} FAILED")
    if args.report:
        report = {
            "suite": "wsgated conformance (Autobahn-style, RFC 6455 / RFC 7692)",
            "label": args.label, "url": args.url, "compression": args.compression,
            "max_message_size": args.max_message_size,
            "started": started.isoformat(timespec="seconds"), "duration_s": round(total, 2),
            "summary": {"cases": len(results), "OK": counts[C.OK],
                        "NON-STRICT": counts[C.NS], "FAILED": counts[C.FAIL]},
            "summary_line": summary,
            "permessage_deflate": {"messages_in": ctx.stats["pmd_messages_in"],
                                   "compressed_in": ctx.stats["pmd_compressed_in"]},
            "families": dict(sorted(by_family.items(), key=lambda kv: int(kv[0]))),
            "cases": results,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1, ensure_ascii=False)
    if args.verbose:
        print(f"{len(results)} cases in {total:.1f} s")
    print(summary)
    return 1 if counts[C.FAIL] else 0


if __name__ == "__main__":
    sys.exit(main())
