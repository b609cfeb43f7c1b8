"""test_grafana_dashboard: docs/grafana-dashboard.json is importable and uses only real metrics.

Two parts:
- Structure (no gateway needed): the JSON is a Grafana dashboard (schemaVersion, a
  `${DS_PROMETHEUS}` import input, a datasource variable, `instance` and `route` query
  variables), panel ids are unique, every panel has a gridPos inside the 24-column grid and no
  two overlap, every panel queries the `${datasource}` variable, every target has an expr, every
  `$variable` an expr uses is defined, every metric selector filters on the `instance` variable.
- Live: a real wsgated (a route, a WebSocket connection that sends a message, a refused
  handshake, so that labelled series appear) is scraped; every metric name that any PromQL
  expression (or variable query) of the dashboard references must be a family of that
  exposition (`# TYPE` lines are the authority: a labelled family shows only those until
  something is counted; `_bucket`/`_sum`/`_count` map to their histogram), `rate()`/`increase()`
  must not be applied to a gauge, and every wsgate_ family must be on the dashboard. A copy
  of the dashboard with a made-up metric proves the checker reports one.

The metric names come from a small PromQL tokenizer (`referenced_metrics`): identifiers that are
not functions, keywords or grouping labels, with label matchers (`{...}`), ranges (`[...]`) and
strings skipped. Cluster metrics are registered whether or not `cluster` is configured (one list,
daemon/metrics/gateway_metrics.h), so no Redis is needed.

Stdlib only. Run from tests/e2e:
    WSGATED_BIN=../../build-asan/wsgated /usr/bin/python3 -m unittest -v test_grafana_dashboard
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import socket
import struct
import time
import unittest
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
DASHBOARD = HERE.parent.parent / "docs" / "grafana-dashboard.json"
TIMEOUT = 10.0
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from env

# ------------------------------------------------------------------------------ PromQL tokenizer

# Every PromQL function and aggregation operator (Prometheus 2.x/3.x). An identifier followed
# by `(` must be one of these; anything else followed by `(` is reported.
PROMQL_FUNCTIONS = frozenset("""
    abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
    clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year
    days_in_month deg delta deriv double_exponential_smoothing exp floor histogram_avg
    histogram_count histogram_fraction histogram_quantile histogram_stddev histogram_stdvar
    histogram_sum holt_winters hour idelta increase info irate label_join label_replace
    last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month pi
    predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh
    sort sort_by_label sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time
    sum_over_time tan tanh time timestamp vector year
    sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk
    limit_ratio
    start end
""".split())
AGGREGATIONS = frozenset("""
    sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk
    limit_ratio
""".split())
# Keywords that are never metric names. The grouping ones take a parenthesised label list.
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = GROUPING | {"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"}
# Functions whose argument must be a counter (or a histogram's _bucket/_sum/_count series).
COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})
# Variables Grafana defines itself.
GRAFANA_BUILTINS = frozenset({"__rate_interval", "__interval", "__interval_ms", "__range",
                              "__range_s", "__range_ms", "__from", "__to", "__name",
                              "__dashboard", "__org", "__user", "timeFilter"})

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<var>\$\{[^}]*\}|\$\w+|\[\[\w+\]\])
  | (?P<num>0[xX][0-9a-fA-F]+|\d[\w.]*|\.\d+)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>==|!=|=~|!~|>=|<=|[-+*/%^(){}\[\],=<>@])
""", re.X)


def tokenize(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot tokenize {expr!r} at {pos}: {expr[pos:pos + 20]!r}")
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
        pos = m.end()
    return out


def _skip_to_close(tokens: list[tuple[str, str]], i: int, open_: str, close: str) -> int:
    """tokens[i] is `open_`; the index just past its matching `close`."""
    depth = 0
    while i < len(tokens):
        if tokens[i] == ("op", open_):
            depth += 1
        elif tokens[i] == ("op", close):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced {open_}{close}")


def referenced_metrics(expr: str) -> tuple[list[dict], list[str]]:
    """The metric names `expr` selects: [{name, selector, function}], and the problems found.

    `selector` is the text between the braces after the name ('' if none); `function` is the
    innermost function the selector is an argument of (None at top level).
    """
    tokens = tokenize(expr)
    refs: list[dict] = []
    problems: list[str] = []
    stack: list[str | None] = []  # open parentheses: the function they call, or None
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else (None, None)
        if kind == "ident":
            if text in GROUPING:
                i = _skip_to_close(tokens, i + 1, "(", ")") if nxt == ("op", "(") else i + 1
                continue
            if text.lower() in KEYWORDS:
                i += 1
                continue
            j = i + 1
            if text in AGGREGATIONS and nxt in (("ident", "by"), ("ident", "without")):
                j = _skip_to_close(tokens, i + 2, "(", ")")  # sum by (le) (...)
            if j < len(tokens) and tokens[j] == ("op", "("):
                if text not in PROMQL_FUNCTIONS:
                    problems.append(f"unknown PromQL function {text}() in {expr!r}")
                stack.append(text)
                i = j + 1
                continue
            selector = ""
            end = i + 1
            if nxt == ("op", "{"):
                end = _skip_to_close(tokens, i + 1, "{", "}")
                selector = " ".join(t for _, t in tokens[i + 2:end - 1])
            func = next((f for f in reversed(stack) if f), None)
            refs.append({"name": text, "selector": selector, "function": func})
            i = end
        elif (kind, text) == ("op", "{"):
            problems.append(f"a selector without a metric name in {expr!r}")
            i = _skip_to_close(tokens, i, "{", "}")
        elif (kind, text) == ("op", "["):
            i = _skip_to_close(tokens, i, "[", "]")
        elif (kind, text) == ("op", "("):
            stack.append(None)
            i += 1
        elif (kind, text) == ("op", ")"):
            if not stack:
                raise ValueError(f"unbalanced () in {expr!r}")
            stack.pop()
            i += 1
        else:
            i += 1
    if stack:
        raise ValueError(f"unbalanced () in {expr!r}")
    return refs, problems


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*$", re.S)


def variable_query(var: dict) -> str:
    q = var.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")


def dashboard_queries(dash: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every target expr and every label_values() variable query."""
    out = []
    for p in all_panels(dash):
        for t in p.get("targets") or []:
            if isinstance(t, dict) and isinstance(t.get("expr"), str):
                out.append((f"panel {p.get('id')} {p.get('title')!r} {t.get('refId')}",
                            t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            m = _LABEL_VALUES.match(variable_query(v))
            if m:
                out.append((f"variable {v['name']}", m[1]))
    return out


def all_panels(dash: dict) -> list[dict]:
    """Top-level panels plus those inside (collapsed) rows."""
    out = []
    for p in dash.get("panels", []):
        out.append(p)
        out.extend(p.get("panels") or [])
    return out


# ------------------------------------------------------------------------------ exposition

def parse_exposition(text: str) -> tuple[dict[str, str], dict[str, list[dict]]]:
    """({family: type} from `# TYPE` lines, {sample name: [label dicts]})."""
    families: dict[str, str] = {}
    samples: dict[str, list[dict]] = {}
    for line in text.splitlines():
        m = re.match(r"^# TYPE (\S+) (\S+)$", line)
        if m:
            families[m[1]] = m[2]
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+\S+$", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[2] or ""))
            samples.setdefault(m[1], []).append(labels)
    return families, samples


def resolve(name: str, families: dict[str, str]) -> tuple[str, str, str] | None:
    """(family, type, series kind) for a sample name, or None if the exposition has no such."""
    if name in families:
        return name, families[name], ""
    for suffix, types in (("_bucket", {"histogram"}), ("_sum", {"histogram", "summary"}),
                          ("_count", {"histogram", "summary"})):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and families.get(base) in types:
            return base, families[base], suffix
    return None


def check_metrics(dash: dict, exposition: str) -> list[str]:
    """Problems with the metric names the dashboard's PromQL references (empty = none)."""
    families, _ = parse_exposition(exposition)
    problems = []
    for where, expr in dashboard_queries(dash):
        try:
            refs, errs = referenced_metrics(expr)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        problems += [f"{where}: {e}" for e in errs]
        if not refs:
            problems.append(f"{where}: no metric in {expr!r}")
        for r in refs:
            res = resolve(r["name"], families)
            if res is None:
                problems.append(f"{where}: {r['name']} is not in /metrics ({expr!r})")
                continue
            family, typ, suffix = res
            if r["function"] in COUNTER_FUNCTIONS and typ not in ("counter",) and not suffix:
                problems.append(f"{where}: {r['function']}() over {typ} {r['name']}")
            if (r["function"] not in COUNTER_FUNCTIONS and typ == "counter" and
                    where.startswith("panel")):  # label_values() only lists the series
                problems.append(f"{where}: counter {r['name']} used without rate()/increase()")
            if suffix == "_bucket" and not ("histogram_quantile" in expr and "le" in expr):
                problems.append(f"{where}: {r['name']} outside histogram_quantile(... by (le))")
    return problems


def used_families(dash: dict, families: dict[str, str]) -> set[str]:
    out = set()
    for _, expr in dashboard_queries(dash):
        for r in referenced_metrics(expr)[0]:
            res = resolve(r["name"], families)
            if res:
                out.add(res[0])
    return out


# ------------------------------------------------------------------------------ structure

def _panel_problems(p: dict) -> list[str]:
    where = f"panel {p.get('id')} {p.get('title')!r}"
    problems = []
    if not isinstance(p.get("id"), int):
        problems.append(f"{where}: id is not an integer")
    g = p.get("gridPos")
    if not (isinstance(g, dict) and all(isinstance(g.get(k), int) for k in "hwxy")):
        problems.append(f"{where}: gridPos missing or incomplete: {g!r}")
    elif not (g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0 and
              g["x"] + g["w"] <= 24):
        problems.append(f"{where}: gridPos outside the 24-column grid: {g!r}")
    if p.get("type") == "row":
        return problems
    if p.get("datasource") != DATASOURCE:
        problems.append(f"{where}: datasource {p.get('datasource')!r} is not the variable")
    targets = p.get("targets")
    if not isinstance(targets, list) or not targets:
        problems.append(f"{where}: no targets")
        return problems
    ref_ids = [t.get("refId") for t in targets]
    if len(set(ref_ids)) != len(ref_ids) or not all(ref_ids):
        problems.append(f"{where}: refIds missing or repeated: {ref_ids}")
    for t in targets:
        if not (isinstance(t.get("expr"), str) and t["expr"].strip()):
            problems.append(f"{where}: target {t.get('refId')} has no expr")
        if "datasource" in t and t["datasource"] != DATASOURCE:
            problems.append(f"{where}: target {t.get('refId')} datasource {t['datasource']!r}")
    return problems


def check_structure(dash: dict, raw: str) -> list[str]:
    problems = []
    if not (isinstance(dash.get("schemaVersion"), int) and 36 <= dash["schemaVersion"] <= 41):
        problems.append(f"schemaVersion {dash.get('schemaVersion')!r}, want about 38")
    for key in ("title", "uid"):
        if not (isinstance(dash.get(key), str) and dash[key]):
            problems.append(f"no {key}")
    inputs = {i.get("name"): i for i in dash.get("__inputs", [])}
    ds_in = inputs.get("DS_PROMETHEUS")
    if not ds_in or ds_in.get("type") != "datasource" or ds_in.get("pluginId") != "prometheus":
        problems.append(f"no DS_PROMETHEUS prometheus datasource input: {inputs!r}")
    if "${DS_PROMETHEUS}" not in raw:
        problems.append("${DS_PROMETHEUS} is never used (the import input would do nothing)")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds_var = variables.get("datasource")
    if not ds_var or ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
        problems.append(f"no prometheus datasource variable: {ds_var!r}")
    for name in ("instance", "route"):
        v = variables.get(name)
        if not v or v.get("type") != "query":
            problems.append(f"no {name} query variable")
            continue
        if v.get("datasource") != DATASOURCE:
            problems.append(f"variable {name}: datasource {v.get('datasource')!r}")
        m = _LABEL_VALUES.match(variable_query(v))
        if not m or m[2] != name:
            problems.append(f"variable {name}: query {variable_query(v)!r} is not "
                            f"label_values(..., {name})")
    panels = all_panels(dash)
    if not panels:
        problems.append("no panels")
    ids = [p.get("id") for p in panels]
    dup = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    if dup:
        problems.append(f"panel ids repeated: {dup}")
    titles = [p.get("title") for p in panels]
    if len(set(titles)) != len(titles):
        problems.append(f"panel titles repeated: {sorted(t for t in set(titles) if titles.count(t) > 1)}")
    for p in panels:
        problems += _panel_problems(p)
    boxes = [(p, p["gridPos"]) for p in dash.get("panels", [])
             if isinstance(p.get("gridPos"), dict) and all(
                 isinstance(p["gridPos"].get(k), int) for k in "hwxy")]
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (pa, ga), (pb, gb) = boxes[a], boxes[b]
            if (ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"] and
                    ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"]):
                problems.append(f"panels {pa.get('id')} and {pb.get('id')} overlap")
    defined = set(variables) | GRAFANA_BUILTINS
    for where, expr in dashboard_queries(dash):
        for var in re.findall(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", expr):
            name = next(v for v in var if v)
            if name not in defined:
                problems.append(f"{where}: ${name} is not a dashboard variable")
        try:
            refs, _ = referenced_metrics(expr)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        for r in refs:
            if where.startswith("variable instance"):
                continue  # the instance variable lists every instance
            if 'instance=~"$instance"' not in r["selector"].replace(" ", ""):
                problems.append(f"{where}: {r['name']} not filtered by instance=~\"$instance\"")
    return problems


def load_dashboard() -> tuple[dict, str]:
    raw = DASHBOARD.read_text()
    return json.loads(raw), raw


class DashboardStructureTest(unittest.TestCase):
    """No gateway needed."""

    def test_dashboard_structure(self) -> None:
        dash, raw = load_dashboard()
        self.assertEqual(check_structure(dash, raw), [])

    def test_structure_check_catches_defects(self) -> None:
        dash, raw = load_dashboard()
        bad = copy.deepcopy(dash)
        target_panels = [p for p in all_panels(bad) if p.get("type") != "row"]
        target_panels[1]["id"] = target_panels[0]["id"]
        target_panels[2]["datasource"] = {"type": "prometheus", "uid": "abc123"}
        del target_panels[3]["gridPos"]
        target_panels[4]["targets"] = []
        target_panels[5]["targets"][0]["expr"] = 'sum(wsgate_rooms{instance=~"$nodes"})'
        target_panels[6]["targets"][0]["expr"] = "sum(wsgate_rooms)"
        problems = "\n".join(check_structure(bad, json.dumps(bad)))
        for want in ("panel ids repeated", "abc123", "gridPos missing", "no targets",
                     "$nodes is not a dashboard variable", "not filtered by instance"):
            self.assertIn(want, problems)

    def test_tokenizer(self) -> None:
        def names(expr):
            refs, problems = referenced_metrics(expr)
            self.assertEqual(problems, [], expr)
            return [(r["name"], r["function"]) for r in refs]

        self.assertEqual(names(
            'histogram_quantile(0.99, sum by (backend, le) (rate(wsgate_backend_request_'
            'duration_seconds_bucket{instance=~"$instance", le!="+Inf"}[$__rate_interval])))'),
            [("wsgate_backend_request_duration_seconds_bucket", "rate")])
        self.assertEqual(names('sum(rate(a_total[5m] offset 1h)) by (route) / on (route) '
                               'group_left(x) b{route=~"/chat/{room}"} > bool 1e3'),
                         [("a_total", "rate"), ("b", None)])
        self.assertEqual(names("min(time() - process_start_time_seconds) and up or vector(1)"),
                         [("process_start_time_seconds", "min"), ("up", None)])
        self.assertEqual(names("max_over_time(x[1h:5m]) unless ignoring(le) y @ end()"),
                         [("x", "max_over_time"), ("y", None)])
        self.assertEqual(names('label_replace(m, "dst", "$1", "src", "(.*)")'),
                         [("m", "label_replace")])
        self.assertIn("unknown PromQL function", referenced_metrics("rte(x_total[5m])")[1][0])
        self.assertIn("without a metric name",
                      referenced_metrics('{__name__="x"}')[1][0])


# ------------------------------------------------------------------------------ live gateway

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _upgrade(path: str, host: str) -> bytes:
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def _recv_exact(s: socket.socket, buf: bytearray, n: int) -> bytes:
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    out = bytes(buf[:n])
    del buf[:n]
    return out


def ws_echo(addr: tuple[str, int], path: str, text: str) -> tuple[socket.socket, bytes]:
    """Open a WebSocket (a raw RFC 6455 client), send one text message, read one frame back."""
    s = socket.create_connection(addr, timeout=TIMEOUT)
    s.sendall(_upgrade(path, f"{addr[0]}:{addr[1]}"))
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"closed during the handshake: {bytes(buf)!r}")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise AssertionError(f"upgrade refused: {head!r}")
    buf = bytearray(rest)
    payload = text.encode()
    assert len(payload) < 126
    mask = secrets.token_bytes(4)
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask +
              bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    b0, b1 = _recv_exact(s, buf, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _recv_exact(s, buf, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _recv_exact(s, buf, 8))[0]
    return s, _recv_exact(s, buf, n)


ROUTE = "/chat/{room}"


class DashboardMetricsTest(unittest.TestCase):
    """Against a live wsgated's /metrics."""

    @classmethod
    def setUpClass(cls) -> None:
        import harness  # here: the structure tests above run without a binary

        yaml = ("server:\n  workers: 2\n"
                '  listen: [{address: "127.0.0.1:0"}]\n'
                "  log: {level: info, format: text}\n"
                'admin:\n  listen: "127.0.0.1:0"\n'
                # Never called: an http backend's families are there at 0 from the start.
                f'backends:\n  app:\n    type: http\n    url: "http://127.0.0.1:{_free_port()}/ws"\n'
                f'routes:\n  - path: "{ROUTE}"\n    backend: echo\n    rooms: ["room:{{room}}"]\n'
                "  - path: /app\n    backend: app\n")
        cls.gw = harness.start_gateway(yaml, cls.addClassCleanup)
        cls.admin = harness.admin_base(cls.gw)
        addr = cls.gw.addr(0)
        # Traffic, so that labelled series appear: a connection that stays open and echoes a
        # message, and a refused handshake (no route: 404, reason not_found).
        sock, echoed = ws_echo(addr, "/chat/lobby", "hello")
        cls.addClassCleanup(sock.close)
        if echoed != b"hello":
            raise AssertionError(f"echo answered {echoed!r}")
        answer = harness.raw_http(addr, _upgrade("/no-such-route", f"{addr[0]}:{addr[1]}"))
        if not answer.startswith(b"HTTP/1.1 404"):
            raise AssertionError(f"want 404: {answer!r}")
        deadline = time.monotonic() + TIMEOUT
        while True:
            cls.exposition = cls.scrape()
            _, samples = parse_exposition(cls.exposition)
            seen = {(n, tuple(sorted(lab.items()))) for n, labs in samples.items() for lab in labs}
            want = {("wsgate_messages_sent_total", (("route", ROUTE),)),
                    ("wsgate_handshake_failures_total", (("reason", "not_found"),))}
            if want <= seen or time.monotonic() > deadline:
                break
            time.sleep(0.1)

    @classmethod
    def scrape(cls) -> str:
        with _DIRECT.open(cls.admin + "/metrics", timeout=TIMEOUT) as res:
            return res.read().decode()

    def test_traffic_made_labelled_series(self) -> None:
        _, samples = parse_exposition(self.exposition)
        for name in ("wsgate_connections", "wsgate_connections_total",
                     "wsgate_messages_received_total", "wsgate_messages_sent_total"):
            self.assertIn({"route": ROUTE}, samples.get(name, []), name)
        self.assertIn({"reason": "not_found"}, samples.get("wsgate_handshake_failures_total", []))
        self.assertTrue(any(lab.get("backend") == "app" for lab in
                            samples.get("wsgate_backend_request_duration_seconds_bucket", [])))

    def test_every_referenced_metric_exists(self) -> None:
        dash, _ = load_dashboard()
        self.assertEqual(check_metrics(dash, self.exposition), [])

    def test_checker_reports_a_made_up_metric(self) -> None:
        dash, _ = load_dashboard()
        bad = copy.deepcopy(dash)
        panel = next(p for p in all_panels(bad) if p.get("type") != "row")
        panel["targets"].append({"refId": "Z", "datasource": DATASOURCE, "expr":
                                 'sum(rate(wsgate_no_such_metric{instance=~"$instance"}'
                                 '[$__rate_interval]))'})
        problems = check_metrics(bad, self.exposition)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("wsgate_no_such_metric is not in /metrics", problems[0])
        # A histogram suffix on a non-histogram, rate() over a gauge, a bare counter.
        panel["targets"][-1]["expr"] = ('rate(wsgate_rooms_bucket[5m]) + rate(wsgate_rooms[5m])'
                                        ' + wsgate_bytes_sent_total')
        problems = "\n".join(check_metrics(bad, self.exposition))
        for want in ("wsgate_rooms_bucket is not in /metrics", "rate() over gauge wsgate_rooms",
                     "counter wsgate_bytes_sent_total used without rate()"):
            self.assertIn(want, problems)

    def test_every_wsgate_family_is_on_the_dashboard(self) -> None:
        dash, _ = load_dashboard()
        families, _ = parse_exposition(self.exposition)
        wsgate = {f for f in families if f.startswith("wsgate_")}
        self.assertGreater(len(wsgate), 20)
        used = used_families(dash, families)
        self.assertEqual(sorted(wsgate - used), [])
        for f in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                  "process_open_fds"):
            self.assertIn(f, used)

    def test_route_labelled_metrics_follow_the_route_variable(self) -> None:
        dash, _ = load_dashboard()
        _, samples = parse_exposition(self.exposition)
        with_route = {n for n, labs in samples.items() if any("route" in lab for lab in labs)}
        self.assertTrue(with_route)
        for where, expr in dashboard_queries(dash):
            for r in referenced_metrics(expr)[0]:
                if r["name"] in with_route and not where.startswith("variable route"):
                    self.assertIn('route=~"$route"', r["selector"].replace(" ", ""),
                                  f"{where}: {expr}")


if __name__ == "__main__":
    unittest.main()
