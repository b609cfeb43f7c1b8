"""bench/report.py: bench/run's results (JSON) → the generated part of docs/performance.md.

The page keeps its hand-written sections; everything between the two BEGIN/END markers below is
replaced on each run (the markers are inserted after the page's first paragraph when missing).

Comparison rule (issue 8): a throughput is compared only when both servers were server-bound
(≥ 90% of their core during the measured window); otherwise the client or the loopback was the
limit and the ratio is taken on server CPU per operation instead. Every ratio is written so that
> 1 favours wsgated: throughput wsgated/peer, costs (CPU, memory) peer/wsgated.
"""
from __future__ import annotations

import re
import statistics
import subprocess
from pathlib import Path

BEGIN = "<!-- bench/run: generated from here -->"
END = "<!-- bench/run: generated up to here -->"
BOUND = 0.90
PEER_NAMES = {"wsgated": "wsgated", "ws": "Node ws", "uws": "uWS.js", "tcp": "TCP floor",
              "nginx-http": "nginx (HTTP)", "nginx-ws": "nginx (WS)",
              "direct": "direct HTTP client (no proxy)"}


# ---------------------------------------------------------------- aggregation

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def run_errors(r: dict) -> int:
    """Errors that void a run. In fan-out, deliveries still missing at the end (`lost`) are the
    outcome measured (the fraction reached), not a failure: an overloaded server drops behind.
    The cluster workload: a publish that never reached every member."""
    if r.get("cluster"):
        return sum(x["publishes"] - x["complete"] for x in r["cluster"]["runs"])
    e = (r.get("wsbench") or {}).get("errors", {"total": 1})
    lost = e.get("lost", 0) if r["wsbench"].get("mode") == "fanout" else 0
    return e.get("total", 1) - lost


def aggregate(run: dict) -> dict:
    """(case, peer) → medians over the repetitions that ran without errors."""
    by: dict = {}
    for r in run["results"]:
        if r["case"].startswith("cluster-"):
            continue  # its own figures (sec_cluster)
        by.setdefault((r["case"], r["peer"]), []).append(r)
    agg = {}
    for key, rs in by.items():
        good = [r for r in rs if r.get("wsbench") and not r.get("error") and run_errors(r) == 0]
        a = {"runs": len(rs), "good": len(good),
             "errors": [r.get("error") or f"wsbench errors {r['wsbench'].get('errors')}"
                        for r in rs if r not in good]}
        if good:
            j = [r["wsbench"] for r in good]
            s = [r.get("server", {}) for r in good]
            a.update(ops=med([x.get("ops_per_s") for x in j]),
                     p99_us=med([x.get("latency_us", {}).get("p99") for x in j]),
                     util=med([x.get("util") for x in s]),
                     cpu_us=med([x.get("cpu_per_op_us") for x in s]),
                     rss_conn=med([x.get("rss_per_conn") for x in s]),
                     client_util=med([x.get("client_cpu", {}).get("util") for x in j]),
                     tls=j[0].get("tls"), deflate=j[0].get("deflate"),
                     steps=_steps(j))
        agg[key] = a
    return agg


def _steps(js: list) -> list | None:
    if not js[0].get("steps"):
        return None
    out = []
    for i, st in enumerate(js[0]["steps"]):
        per = [j["steps"][i] for j in js if len(j.get("steps", [])) > i]
        out.append(dict(rate=st.get("rate"),
                        publish_per_s=med([p.get("publish_per_s") for p in per]),
                        deliveries_per_s=med([p.get("deliveries_per_s") for p in per]),
                        reached_mean=med([p.get("reached_mean") for p in per]),
                        reached_min=med([p.get("reached_min") for p in per]),
                        ttl_p99_us=med([p.get("time_to_last_us", {}).get("p99") for p in per])))
    return out


def bound(a: dict | None) -> bool:
    return bool(a and a.get("util") is not None and a["util"] >= BOUND)


def ratio(w: dict | None, p: dict | None, kind: str = "tput"):
    """wsgated vs a peer, > 1 favours wsgated: (value, basis) or (None, why)."""
    if not w or not p or not w.get("good") or not p.get("good"):
        return None, "n/a"
    if kind == "tput":
        if bound(w) and bound(p) and w.get("ops") and p.get("ops"):
            return w["ops"] / p["ops"], "tput"
        kind = "cpu"
    if kind == "cpu":
        if w.get("cpu_us") and p.get("cpu_us"):
            return p["cpu_us"] / w["cpu_us"], "cpu"
        return None, "n/a"
    if kind == "mem":
        if w.get("rss_conn") and p.get("rss_conn"):
            return p["rss_conn"] / w["rss_conn"], "mem"
        return None, "n/a"
    raise ValueError(kind)


# ---------------------------------------------------------------- formatting

def si(x, unit=""):
    if x is None:
        return "–"
    for div, suf in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suf}{unit}"
    return f"{x:.3g}{unit}"


def fr(v_basis) -> str:
    v, basis = v_basis
    if v is None:
        return "–"
    tag = {"tput": "", "cpu": " (CPU/op)", "mem": ""}[basis]
    return f"{v:.2f}×{tag}"


def cell(a: dict | None, what: str = "ops") -> str:
    if not a:
        return "–"
    if not a.get("good"):
        return "failed"
    if what == "ops":
        mark = "" if bound(a) else "°"
        cpu = f" · {a['cpu_us']:.2f} µs" if a.get("cpu_us") else ""
        util = f" · {a['util'] * 100:.0f}%" if a.get("util") is not None else ""
        return f"{si(a['ops'])}{mark}{cpu}{util}"
    if what == "mem":
        return f"{a['rss_conn'] / 1024:.2f} KiB" if a.get("rss_conn") else "–"
    if what == "cpu":
        return f"{a['cpu_us']:.0f} µs · {si(a['ops'])}/s" if a.get("cpu_us") else "–"
    raise ValueError(what)


def label(case: dict) -> str:
    parts = []
    if "size" in case:
        s = case["size"]
        parts.append(f"{s // 1024} KiB" if s >= 1024 else f"{s} B")
    if "depth" in case:
        parts.append(f"depth {case['depth']}")
    parts.append(f"{case['conns']:,} conns")
    return ", ".join(parts)


def table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- sections

def sec_echo(run, agg, group, title, note):
    cs = [c for c in run["cases"] if c["group"] == group and c["mode"] == "echo"]
    if not cs:
        return ""
    peers = [p for p in ("wsgated", "ws", "uws", "tcp") if any(p in c["peers"] for c in cs)]
    rows = []
    for c in cs:
        g = lambda p: agg.get((c["id"], p))  # noqa: E731
        rows.append([label(c)] + [cell(g(p)) for p in peers] +
                    [fr(ratio(g("wsgated"), g("ws"))), fr(ratio(g("wsgated"), g("uws")))] +
                    ([fr(ratio(g("wsgated"), g("tcp")))] if "tcp" in peers else []))
    head = ["case"] + [PEER_NAMES[p] for p in peers] + ["wsgated ÷ ws", "fraction of uWS"] + \
        (["fraction of floor"] if "tcp" in peers else [])
    return f"### {title}\n\n{note}\n\n{table(head, rows)}\n"


def sec_simple(run, agg, ids, title, note, what, kind):
    cs = [c for c in run["cases"] if c["id"] in ids]
    if not cs:
        return ""
    peers = [p for p in ("wsgated", "ws", "uws") if any(p in c["peers"] for c in cs)]
    rows = []
    for c in cs:
        g = lambda p: agg.get((c["id"], p))  # noqa: E731
        rows.append([label(c)] + [cell(g(p), what) for p in peers] +
                    [fr(ratio(g("wsgated"), g("ws"), kind)),
                     fr(ratio(g("wsgated"), g("uws"), kind))])
    head = ["case"] + [PEER_NAMES[p] for p in peers] + ["ws ÷ wsgated" if kind != "tput" else
                                                       "wsgated ÷ ws", "fraction of uWS"]
    return f"### {title}\n\n{note}\n\n{table(head, rows)}\n"


def sec_fanout(run, agg):
    cs = [c for c in run["cases"] if c["group"] == "fanout"]
    if not cs:
        return ""
    c = cs[0]
    peers = c["peers"]
    rows = []
    for i, rate in enumerate(c["rates"]):
        row = [f"{rate}/s × {c['conns']:,} = {si(rate * c['conns'])}/s asked"]
        for p in peers:
            a = agg.get((c["id"], p))
            st = (a or {}).get("steps") or []
            if i < len(st):
                s = st[i]
                ttl = s["ttl_p99_us"] / 1000 if s.get("ttl_p99_us") is not None else None
                row.append(f"{si(s['deliveries_per_s'])}/s · reached {s['reached_mean'] or 0:.3f}"
                           f" · p99 last {ttl:.1f} ms" if ttl is not None else
                           f"{si(s['deliveries_per_s'])}/s")
            else:
                row.append("failed" if a else "–")
        rows.append(row)
    tot = ["all steps: CPU per delivery, server use"] + [
        (f"{a['cpu_us']:.2f} µs · {a['util'] * 100:.0f}%" if a and a.get("cpu_us") else "–")
        for a in (agg.get((c["id"], p)) for p in peers)]
    rows.append(tot)
    head = ["publish rate"] + [PEER_NAMES[p] for p in peers]
    w, ws_, u = (agg.get((c["id"], p)) for p in ("wsgated", "ws", "uws"))
    note = (f"{c['conns']:,} subscribers, {c.get('size', 64)} B messages, each rate for "
            f"{run['step_duration_s']:g} s after a warm-up at the first. wsgated publishes through "
            "its control API (`POST /v1/rooms/bench/messages`, one request at a time on one "
            "keep-alive connection); ws and uWS broadcast what one extra client sends on `/pub` "
            "(their own broadcast / pub-sub). Cell: deliveries/s · mean fraction of subscribers "
            "reached per message · p99 time from publish to the last subscriber. CPU per "
            f"delivery over all steps: wsgated ÷ ws {fr(ratio(w, ws_, 'cpu'))}, fraction of uWS "
            f"{fr(ratio(w, u, 'cpu'))}.")
    return f"### Fan-out\n\n{note}\n\n{table(head, rows)}\n"


HTTP_BACKEND, STREAM_BACKEND = "backend-32-d1-c100", "backend-stream-32-d1-c100"


def sec_backend(run, agg):
    by_id = {c["id"]: c for c in run["cases"] if c["group"] == "backend"}
    if not by_id:
        return ""
    c, sc = by_id.get(HTTP_BACKEND), by_id.get(STREAM_BACKEND)
    w = agg.get((HTTP_BACKEND, "wsgated"))
    s = agg.get((STREAM_BACKEND, "wsgated"))
    # (row name, its aggregate); wsgated's two backends first, side by side
    entries = []
    if c and "wsgated" in c["peers"]:
        entries.append(("wsgated, HTTP backend", w, "http"))
    if sc:
        entries.append(("wsgated, stream backend", s, "stream"))
    for p in (c["peers"] if c else []):
        if p != "wsgated":
            entries.append((PEER_NAMES[p], agg.get((HTTP_BACKEND, p)), p))
    rows = []
    for name, a, key in entries:
        p99 = f"{a['p99_us']:.0f} µs" if a and a.get("p99_us") else "–"
        rows.append([name, cell(a), p99,
                     "–" if key == "http" else fr(ratio(w, a)),
                     "–" if key == "stream" else fr(ratio(s, a))])
    note = (f"{label(c or sc)}; one message = one request to the same `trivial_backend` process "
            "(the **direct HTTP client** row: wsbench's `http` mode straight to the backend, "
            "which is then the server measured, on the server core — the reference: what the "
            "backend serves with no proxy in front; in the other rows the backend, "
            "bench/peers/trivial_backend.c, is pinned to the client's core so that the server core "
            "holds only the proxy). **wsgated, HTTP backend**: WebSocket message → `POST` on its "
            "pooled keep-alive HTTP client → the answer's body back as a message (`backend: "
            "{type: http}`, `events: [message]`). **wsgated, stream backend**: the same clients "
            "and messages on the stream backend (`backend: {type: stream, path: …}`, SPEC §4): "
            "each message one `message` frame on the worker's one persistent Unix-socket stream "
            "to bench/peers/trivial_stream_backend.c (also on the client's core), which answers "
            "a `send` frame with the same payload — no HTTP on either side. "
            "**nginx (HTTP)**: the same request/answer with nginx as the "
            "proxy — wsbench's `http` mode sends the `POST` to nginx, which forwards it to the same "
            "backend: the backend does identical work, and nginx, like wsgated, parses a request "
            "and makes an upstream HTTP request per message — this is the target's comparison. "
            "**nginx (WS)**: nginx proxying the WebSocket to the backend's WebSocket face, a byte "
            "relay after the upgrade (the cheapest thing a proxy can do; the backend frames "
            "instead of parsing HTTP) — shown as the lower bound of proxy cost.")
    head = ["proxy", "msgs/s · proxy µs/msg · proxy CPU", "p99", "HTTP backend ÷ it",
            "stream backend ÷ it"]
    return f"### Backend round trip\n\n{note}\n\n{table(head, rows)}\n"


# ---------------------------------------------------------------- targets

def cluster_medians(run: dict) -> dict | None:
    """Medians over the repetitions of the cluster workload: per spread (local, remote,
    remote-small) each figure, and the two ratios."""
    rs = [r["cluster"] for r in run["results"] if r.get("cluster") and run_errors(r) == 0]
    if not rs:
        return None
    names = ("local", "remote", "remote-small")
    out = {n: {k: med([r["runs"][i][k] for r in rs]) for k in rs[0]["runs"][i]
               if isinstance(rs[0]["runs"][i][k], (int, float))} for i, n in enumerate(names)}
    out["ratio"] = med([r["remote_vs_local_cpu_per_delivery"] for r in rs])
    out["reps"] = len(rs)
    return out


def sec_cluster(run: dict) -> str:
    c = cluster_medians(run)
    failed = [r.get("error") or "incomplete" for r in run["results"]
              if r["case"].startswith("cluster-") and (r.get("error") or not r.get("cluster") or run_errors(r))]
    if not c:
        return "### Cluster\n\n" + ("Failed: " + "; ".join(map(str, failed)) + "\n" if failed else "")
    rows = [[n, f"{int(c[n]['members']):,}", si(c[n]["deliveries_per_s"]), f"{c[n]['p50_ms']:.1f} ms",
             f"{c[n]['p99_ms']:.1f} ms", f"{c[n]['server_cpu_us_per_delivery']:.2f} µs",
             f"{c[n]['redis_cpu_us_per_publish']:.0f} µs"] for n in ("local", "remote", "remote-small")]
    note = ("bench/cluster_fanout.py: a redis-server and wsgated nodes (Release, `workers: 1`, not "
            "pinned) on this machine; one room, 64 B publishes at 100/s made through one node's "
            "control API. *local*: one node holds every member and makes the publishes; *remote*: "
            "the members are spread over two other nodes, so every delivery crosses Redis; "
            "*remote-small*: the same with a tenth of the members. Time is from the publish call to "
            "the last member's frame; server CPU is every node's, per delivery; Redis CPU per "
            "publish. Remote ÷ local server CPU per delivery: "
            f"**{c['ratio']:.2f}×**; medians of {c['reps']} repetition(s).")
    head = ["run", "members", "deliveries/s", "p50 to last", "p99 to last", "server CPU / delivery",
            "Redis CPU / publish"]
    return f"### Cluster (3 nodes + Redis)\n\n{note}\n\n{table(head, rows)}\n"


def targets(run: dict, agg: dict) -> list[list[str]]:
    g = lambda cid, p: agg.get((cid, p))  # noqa: E731
    out = []

    def add(name, value, met):
        out.append([name, value, "–" if met is None else ("met" if met else "**missed**")])

    c = cluster_medians(run) if run else None
    if c:
        add("cluster: server CPU per delivery to a remote member ≤ 1.5× a local one", f"{c['ratio']:.2f}×",
            c["ratio"] <= 1.5)
        small, large = c["remote-small"]["redis_cpu_us_per_publish"], c["remote"]["redis_cpu_us_per_publish"]
        add("cluster: Redis CPU per publish independent of the room's size (10× the members ≤ 1.5× the CPU)",
            f"{small:.0f} → {large:.0f} µs", large <= 1.5 * max(small, 1))

    v, b = ratio(g("echo-32-d8-c100", "wsgated"), g("echo-32-d8-c100", "ws"))
    add("echo 32 B depth 8 ≥ 4× Node ws", fr((v, b)), None if v is None else v >= 4)
    v, b = ratio(g("echo-32-d8-c100", "wsgated"), g("echo-32-d8-c100", "uws"))
    add("echo 32 B depth 8 ≥ 0.7× uWS", fr((v, b)), None if v is None else v >= 0.7)
    w, t = g("echo-32-d1-c100", "wsgated"), g("echo-32-d1-c100", "tcp")
    v = w["ops"] / t["ops"] if w and t and w.get("ops") and t.get("ops") else None
    add("echo depth 1 within 10% of the raw TCP floor (throughput)",
        "–" if v is None else f"{v:.2f}× of floor", None if v is None else v >= 0.9)
    w = g("idle-10k", "wsgated")
    v = w.get("rss_conn") if w else None
    add("≤ 3 KiB RSS per idle plain connection", "–" if v is None else f"{v / 1024:.2f} KiB",
        None if v is None else v <= 3 * 1024)
    w, u = g("idle-tls-3k", "wsgated"), g("idle-tls-3k", "uws")
    v = w["rss_conn"] / u["rss_conn"] if w and u and w.get("rss_conn") and u.get("rss_conn") else None
    add("idle wss:// connection ≤ 2× uWS's RSS (issue 18)",
        "–" if v is None else f"{w['rss_conn'] / 1024:.1f} KiB, {v:.2f}× uWS", None if v is None else v <= 2)
    v, b = ratio(g("deflate-1k-d8-c100", "wsgated"), g("deflate-1k-d8-c100", "ws"))
    add("permessage-deflate 1 KiB echo ≥ 3× ws", fr((v, b)), None if v is None else v >= 3)
    w = g("fanout-10k", "wsgated")
    best = None
    for s in (w or {}).get("steps") or []:
        if s.get("ttl_p99_us") is not None and s["ttl_p99_us"] < 100_000 and \
                (s.get("reached_mean") or 0) >= 0.999:
            if best is None or s["deliveries_per_s"] > best["deliveries_per_s"]:
                best = s
    add("fan-out ≥ 500k deliveries/s, p99 time-to-last < 100 ms, 10k subscribers",
        "–" if not w else ("no step within 100 ms" if not best else
                           f"{si(best['deliveries_per_s'])}/s at p99 "
                           f"{best['ttl_p99_us'] / 1000:.1f} ms"),
        None if not w else bool(best and best["deliveries_per_s"] >= 500_000))
    w = g("tls-storm", "wsgated")
    v = w.get("cpu_us") if w else None
    add("TLS handshake ≤ 150 µs of server CPU", "–" if v is None else f"{v:.0f} µs",
        None if v is None else v <= 150)
    v, b = ratio(g("backend-32-d1-c100", "wsgated"), g("backend-32-d1-c100", "nginx-http"))
    add("HTTP-backend path ≥ nginx's throughput on the same backend (nginx (HTTP))", fr((v, b)),
        None if v is None else v >= 1)
    # Per server core = messages per second of wsgated's CPU = 1 / CPU per message, whether or
    # not either run was server-bound: the CPU-per-op basis, always.
    sb = g(STREAM_BACKEND, "wsgated")
    v, b = ratio(sb, g(HTTP_BACKEND, "wsgated"), "cpu")
    add("stream backend ≥ 3× the HTTP backend's throughput per server core", fr((v, b)),
        None if v is None else v >= 3)
    v, b = ratio(sb, g("echo-32-d1-c100", "wsgated"), "cpu")
    add("stream backend ≥ 0.5× the plain echo route's throughput per server core "
        "(echo 32 B depth 1, 100 conns)", fr((v, b)), None if v is None else v >= 0.5)
    return out


# ---------------------------------------------------------------- the page

def machine() -> dict:
    model = "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s+(.*)$", out, re.M)
        model = m.group(1).strip() if m else "?"
    except OSError:
        pass
    import os
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": os.uname().release}


def render(run: dict) -> str:
    agg = aggregate(run)
    m, v = run["machine"], run.get("versions", {})
    npm = v.get("npm", {})
    lines = [BEGIN, "", "## Benchmark: wsgated against its peers, same run", "",
             f"Generated by `{run['command']}` on {run['date']}; the run took "
             f"{run['elapsed_s'] // 60} min {run['elapsed_s'] % 60} s. Machine: {m['cpu']}, "
             f"{m['cpus']} cores, Linux {m['kernel']}. Each server runs pinned to core 0 "
             "(`taskset`), the load generator (`build/wsbench`, bench/wsbench/README.md) to core 1, "
             f"loopback; {run['warmup_s']:g} s warm-up, {run['duration_s']:g} s measured, "
             f"{run['reps']} repetition(s), peers interleaved within each repetition, each run in a "
             "fresh server process; figures are medians.", "",
             f"Peers: **wsgated** {v.get('wsgated', '?')} (Release, `server.workers: 1`); "
             f"**Node ws** {npm.get('ws', '?')} with bufferutil {npm.get('bufferutil', '?')} on "
             f"Node {v.get('node', '?')} (the baseline); **uWS.js**: uWebSockets.js from the npm "
             f"package `@rjweb/uws` {npm.get('@rjweb/uws', '?')} — a *third-party build* "
             "(upstream publishes only on GitHub), the ceiling; the **TCP floor**: "
             "`build/tcp_echo`, raw epoll echo of the same bytes with no WebSocket work; "
             f"**nginx** ({v.get('nginx', '?')}, Debian, one process) as the proxy-mode peer of "
             "the backend round trip. Peer servers: bench/peers/.", "",
             "How to read a cell: `throughput · server CPU per operation · server CPU use`. A "
             "throughput marked ° was *not* server-bound (the server used < 90% of its core: the "
             "client or the loopback was the limit), and a ratio involving it is taken on CPU per "
             "operation instead, marked (CPU/op). Ratios are written so that > 1 favours "
             "wsgated: throughput wsgated ÷ peer, costs peer ÷ wsgated; *fraction of uWS* is "
             "the same ratio against uWS (1.0 = par).", ""]
    t = targets(run, agg)
    lines += ["### Targets (issue 8)", "", table(["target", "this run", ""], t), ""]
    sections = [
        sec_echo(run, agg, "echo", "Echo",
                 "Binary messages echoed; `depth` = messages in flight per connection. Cell: "
                 "msgs/s · µs of server CPU per message · server CPU use."),
        sec_simple(run, agg, {"idle-10k"}, "Idle memory",
                   "Resident memory growth of the server (smaps_rollup `Rss`) divided by the "
                   "connections held, after the upgrade, nothing sent; heartbeat off everywhere.",
                   "mem", "mem"),
        sec_simple(run, agg, {"idle-tls-3k"}, "Idle TLS memory",
                   "The same over TLS 1.3 (`wss://`, P-256 ECDSA): what an idle browser tab costs.",
                   "mem", "mem"),
        sec_simple(run, agg, {"storm"}, "Handshake storm",
                   "Connect, upgrade, close, repeat, 16 loops. Cell: server CPU per handshake · "
                   "handshakes/s.", "cpu", "cpu"),
        sec_simple(run, agg, {"tls-storm"}, "TLS handshakes",
                   "TLS 1.3, P-256 ECDSA certificate, no resumption (a fresh session every "
                   "time), 16 loops. Cell: server CPU per handshake · handshakes/s.", "cpu", "cpu"),
        sec_echo(run, agg, "tls", "TLS echo", "Echo over TLS 1.3 (`wss://`)."),
        sec_deflate(run, agg),
        sec_simple(run, agg, {"deflate-mem-1k-c1000"}, "permessage-deflate memory",
                   "Resident memory per connection after 1 KiB deflate echoes on every "
                   "connection (compressor and decompressor state allocated).", "mem", "mem"),
        sec_fanout(run, agg),
        sec_backend(run, agg),
        sec_cluster(run) if any(c["group"] == "cluster" for c in run["cases"]) else "",
    ]
    lines += [s for s in sections if s]
    errs = [(k, a["errors"]) for k, a in sorted(agg.items()) if a.get("errors")]
    if errs:
        lines += ["### Runs with errors", "",
                  "\n".join(f"- {k[0]} / {PEER_NAMES.get(k[1], k[1])}: {'; '.join(map(str, e))}"
                            for k, e in errs), ""]
    lines += [END]
    return "\n".join(lines)


def sec_deflate(run, agg):
    cs = [c for c in run["cases"] if c["id"] == "deflate-1k-d8-c100"]
    if not cs:
        return ""
    c = cs[0]
    g = lambda p: agg.get((c["id"], p))  # noqa: E731
    rows = [[label(c)] + [cell(g(p)) for p in c["peers"]] +
            [fr(ratio(g("wsgated"), g("ws"))), fr(ratio(g("wsgated"), g("uws")))]]
    head = ["case"] + [PEER_NAMES[p] for p in c["peers"]] + ["wsgated ÷ ws", "fraction of uWS"]
    note = ("1 KiB word-like messages (≈ 3:1), depth 8; the client offers "
            "`client_no_context_takeover`; each server compresses its replies with its defaults "
            "at a 32 KiB window (wsgated `level: 6, mem_level: 8`; ws defaults; uWS "
            "`DEDICATED_COMPRESSOR_32KB`).")
    return f"### permessage-deflate echo\n\n{note}\n\n{table(head, rows)}\n"


def write(run: dict, path: Path) -> None:
    """Replaces the generated block of the page (or inserts it after the first paragraph)."""
    block = render(run)
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        m = re.search(r"\n\n(?=## )", text)
        at = m.end() if m else len(text)
        text = text[:at] + block + "\n\n" + text[at:]
    path.write_text(text if text.endswith("\n") else text + "\n")
