"""bench/run and bench/report.py, so the benchmark does not rot (issue 8, part 6).

Correctness only, never speed: a seconds-long `bench/run --smoke` against the real wsgated and
the TCP floor must get every byte back with no errors and write its page; the report's rules
(server-bound or CPU per op, ratios that favour wsgated above 1, targets met or missed, the
hand-written sections kept) are checked on made-up results.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from harness import BIN, SOURCE_DIR

sys.path.insert(0, str(SOURCE_DIR / "bench"))
import report  # noqa: E402

WSBENCH = next((str(p) for p in (Path(BIN).parent / "wsbench", SOURCE_DIR / "build" / "wsbench")
                if p.exists()), None)


def result(case, peer, ops, util, cpu_us, rss_conn=None, steps=None, rep=0):
    j = {"ops_per_s": ops, "ops": ops, "errors": {"total": 0}, "latency_us": {"p99": 100},
         "client_cpu": {"util": 0.5}}
    if steps:
        j["steps"] = steps
    return {"case": case, "peer": peer, "rep": rep, "wsbench": j,
            "server": {"util": util, "cpu_per_op_us": cpu_us, "rss_per_conn": rss_conn}}


def run_of(results, cases):
    return {"date": "2026-01-01 00:00 UTC", "command": "bench/run --test", "warmup_s": 2,
            "duration_s": 10, "reps": 1, "step_duration_s": 10, "elapsed_s": 61,
            "machine": {"cpu": "Test CPU", "cpus": 2, "kernel": "6"},
            "versions": {"npm": {"ws": "8", "@rjweb/uws": "1"}}, "cases": cases,
            "results": results}


ECHO = {"id": "echo-32-d8-c100", "group": "echo", "mode": "echo", "role": "echo", "size": 32,
        "depth": 8, "conns": 100, "peers": ["wsgated", "ws", "uws"]}
IDLE = {"id": "idle-10k", "group": "idle", "mode": "idle", "role": "echo", "conns": 10000,
        "peers": ["wsgated", "ws", "uws"]}


class Report(unittest.TestCase):
    def test_throughput_ratio_when_both_servers_are_bound(self):
        agg = report.aggregate(run_of([result("echo-32-d8-c100", "wsgated", 800e3, 0.99, 1.2),
                                       result("echo-32-d8-c100", "ws", 200e3, 0.95, 5.0)], [ECHO]))
        v, basis = report.ratio(agg[("echo-32-d8-c100", "wsgated")],
                                agg[("echo-32-d8-c100", "ws")])
        self.assertEqual(basis, "tput")
        self.assertAlmostEqual(v, 4.0)

    def test_cpu_per_op_ratio_when_a_server_is_not_bound(self):
        agg = report.aggregate(run_of([result("echo-32-d8-c100", "wsgated", 800e3, 0.60, 1.0),
                                       result("echo-32-d8-c100", "ws", 200e3, 0.95, 5.0)], [ECHO]))
        v, basis = report.ratio(agg[("echo-32-d8-c100", "wsgated")],
                                agg[("echo-32-d8-c100", "ws")])
        self.assertEqual(basis, "cpu")
        self.assertAlmostEqual(v, 5.0)

    def test_medians_over_repetitions_and_failed_runs_left_out(self):
        rs = [result("echo-32-d8-c100", "ws", x, 0.95, 5.0, rep=i)
              for i, x in enumerate((100, 300, 200))]
        bad = result("echo-32-d8-c100", "ws", 1e9, 0.95, 5.0, rep=3)
        bad["wsbench"]["errors"] = {"total": 2, "mismatch": 2}
        a = report.aggregate(run_of(rs + [bad], [ECHO]))[("echo-32-d8-c100", "ws")]
        self.assertEqual(a["ops"], 200)
        self.assertEqual((a["runs"], a["good"]), (4, 3))

    def test_targets_met_and_missed(self):
        rows = report.targets(None, report.aggregate(run_of([
            result("echo-32-d8-c100", "wsgated", 800e3, 0.99, 1.2),
            result("echo-32-d8-c100", "ws", 100e3, 0.99, 9.0),
            result("echo-32-d8-c100", "uws", 2000e3, 0.99, 0.5),
            result("idle-10k", "wsgated", 1, 0, None, rss_conn=2048)], [ECHO, IDLE])))
        verdict = {r[0]: r[2] for r in rows}
        self.assertEqual(verdict["echo 32 B depth 8 ≥ 4× Node ws"], "met")
        self.assertEqual(verdict["echo 32 B depth 8 ≥ 0.7× uWS"], "**missed**")
        self.assertEqual(verdict["≤ 3 KiB RSS per idle plain connection"], "met")
        self.assertEqual(verdict["TLS handshake ≤ 150 µs of server CPU"], "–")

    def test_cluster_section_and_targets(self):
        def cluster(ratio, small_us, large_us, complete=100):
            runs = [dict(spread=sp, nodes=n, members=m, publishes=100, complete=complete, deliveries_per_s=d,
                         p50_ms=1.0, p99_ms=3.0, server_cpu_us_per_delivery=cpu, redis_cpu_us_per_publish=r)
                    for sp, n, m, d, cpu, r in (("local", 1, 2000, 200e3, 2.0, 100),
                                                ("remote", 3, 2000, 190e3, 2.0 * ratio, large_us),
                                                ("remote", 3, 200, 20e3, 2.5, small_us))]
            return {"case": "cluster-fanout-2k", "peer": "wsgated", "wsbench": None,
                    "cluster": {"runs": runs, "remote_vs_local_cpu_per_delivery": ratio,
                                "redis_cpu_per_publish_small_vs_large_room": [small_us, large_us]}}
        case = {"id": "cluster-fanout-2k", "group": "cluster", "mode": "cluster", "peers": ["wsgated"]}
        run = run_of([cluster(1.3, 100, 120), cluster(1.4, 100, 130), cluster(9.0, 100, 900, complete=90)], [case])
        verdict = {r[0]: (r[1], r[2]) for r in report.targets(run, report.aggregate(run))}
        # The incomplete repetition (in each of its runs 10 publishes never reached every member) is left out.
        self.assertEqual(verdict["cluster: server CPU per delivery to a remote member ≤ 1.5× a local one"],
                         ("1.35×", "met"))
        self.assertEqual(report.run_errors(run["results"][2]), 30)
        section = report.sec_cluster(run)
        self.assertIn("| remote | 2,000 |", section)
        self.assertIn("**1.35×**", section)
        bad = run_of([cluster(2.0, 100, 400)], [case])
        verdict = {r[0]: r[2] for r in report.targets(bad, report.aggregate(bad))}
        self.assertEqual(verdict["cluster: server CPU per delivery to a remote member ≤ 1.5× a local one"], "**missed**")
        self.assertEqual(verdict["cluster: Redis CPU per publish independent of the room's size "
                                 "(10× the members ≤ 1.5× the CPU)"], "**missed**")

    def test_page_keeps_hand_written_sections_and_replaces_its_block(self):
        run = run_of([result("echo-32-d8-c100", "wsgated", 800e3, 0.99, 1.2)], [ECHO])
        with tempfile.TemporaryDirectory() as d:
            page = Path(d) / "performance.md"
            page.write_text("# Performance\n\nIntro.\n\n## Memory per connection\n\nkept\n")
            report.write(run, page)
            report.write(run, page)  # a second run replaces, never appends
            text = page.read_text()
        self.assertEqual(text.count(report.BEGIN), 1)
        self.assertIn("## Memory per connection\n\nkept", text)
        self.assertLess(text.index("Intro."), text.index(report.BEGIN))
        self.assertIn("| 32 B, depth 8, 100 conns | 800k · 1.20 µs · 99% |", text)


@unittest.skipUnless(WSBENCH, "wsbench is not built (WSGATED_BENCH=ON builds it)")
class Smoke(unittest.TestCase):
    def test_smoke_run_echoes_every_byte_and_writes_the_page(self):
        with tempfile.TemporaryDirectory() as d:
            res, page = Path(d) / "r.json", Path(d) / "p.md"
            p = subprocess.run([str(SOURCE_DIR / "bench" / "run"), "--smoke", "--wsgated", BIN,
                                "--wsbench", WSBENCH, "--backend", str(Path(d) / "backend"),
                                "--results", str(res), "--doc", str(page)],
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            run = json.loads(res.read_text())
            self.assertEqual({r["peer"] for r in run["results"]}, {"wsgated", "tcp"})
            for r in run["results"]:
                j = r["wsbench"]
                self.assertNotIn("error", r)
                self.assertEqual(j["errors"]["total"], 0, r)
                self.assertGreater(j["ops"], 0)
                self.assertEqual(j["totals"]["bytes_received"], j["totals"]["bytes_sent"])
                self.assertGreater(r["server"]["cpu_s"], 0)
            text = page.read_text()
        self.assertIn("| 32 B, depth 2, 4 conns |", text)
        self.assertIn("TCP floor", text)


if __name__ == "__main__":
    unittest.main()
