"""test_conformance.py: run the conformance suite against wsgated and against the `ws` control.

  cd tests/conformance && WSGATED_BIN=... /usr/bin/python3 -m unittest -v test_conformance

Starts one wsgated (inline YAML, port 0) with /echo (compression off) and /deflate (compression
on, threshold 0), and two `ws` echo servers (ws_echo_server.mjs, without and with
permessage-deflate); runs run.py against each and asserts 0 FAILED. The JSON reports are kept
in a temp dir whose path is printed. Every process started here is killed at the end (and,
through setpriv --pdeathsig, by the kernel if this process dies first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("WSGATED_SOURCE_DIR", HERE.parent.parent))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
MAX_MESSAGE_SIZE = 1024 * 1024
SUITE_TIMEOUT = 240
SETPRIV = next((p for p in ("/usr/bin/setpriv", "/bin/setpriv") if os.path.exists(p)), None)


def find_binary() -> str | None:
    env = os.environ.get("WSGATED_BIN")
    if env:
        return env
    for d in ("build-asan", "build-e2e", "build"):
        p = SOURCE_DIR / d / "wsgated"
        if p.exists():
            return str(p)
    return None


GATEWAY_YAML = f"""\
server:
  listen: [{{address: "127.0.0.1:0"}}]
  log: {{level: info, format: text}}
  limits: {{max_message_size: {MAX_MESSAGE_SIZE}}}
admin: {{listen: "127.0.0.1:0"}}
routes:
  - {{path: /echo, backend: echo}}
  - {{path: /deflate, backend: echo, compression: {{enabled: true, threshold: 0}}}}
"""


class Proc:
    """A child process whose output lines are collected by a thread; wait_for() a regex."""

    def __init__(self, argv: list[str], *, cwd: str, env: dict | None = None, stream: str,
                 stdin=subprocess.DEVNULL):
        if SETPRIV:
            argv = [SETPRIV, "--pdeathsig", "SIGKILL", "--", *argv]
        out = subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL
        self.p = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdin=stdin,
                                  stdout=out, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.threads = []
        for f in ([self.p.stdout] if stream == "stdout" else []) + [self.p.stderr]:
            t = threading.Thread(target=self._read, args=(f,), daemon=True)
            t.start()
            self.threads.append(t)

    def _read(self, f) -> None:
        for raw in f:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def output(self) -> str:
        with self.cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> re.Match:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    break
                self.cond.wait(min(left, 0.2))
        raise AssertionError(f"no line matching {pattern!r} within {timeout}s "
                             f"(exit {self.p.poll()}):\n{self.output}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.p.poll() is None:
            if self.p.stdin:
                try:
                    self.p.stdin.close()
                except OSError:
                    pass
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        for t in self.threads:
            t.join(5)
        for f in (self.p.stdout, self.p.stderr):
            if f:
                f.close()


def run_suite(url: str, label: str, report: str, compression: bool, only: str | None = None,
              notes: str | None = None) -> tuple[dict, str]:
    argv = [PYTHON, str(HERE / "run.py"), "--url", url, "--report", report, "--label", label,
            "--max-message-size", str(MAX_MESSAGE_SIZE)]
    if notes:
        argv += ["--notes", notes]
    if compression:
        argv.append("--compression")
    if only:
        argv += ["--only", only]
    cp = subprocess.run(argv, cwd=HERE, capture_output=True, text=True, timeout=SUITE_TIMEOUT)
    out = cp.stdout + cp.stderr
    if not os.path.exists(report):
        raise AssertionError(f"run.py wrote no report (exit {cp.returncode}):\n{out}")
    with open(report) as f:
        return json.load(f), out


class ConformanceBase(unittest.TestCase):
    reports_dir: str = ""

    @classmethod
    def setUpClass(cls) -> None:
        if not ConformanceBase.reports_dir:
            ConformanceBase.reports_dir = tempfile.mkdtemp(prefix="wsgated-conformance-")
            print(f"\nconformance reports: {ConformanceBase.reports_dir}", file=sys.stderr)

    def check(self, url: str, label: str, compression: bool, notes: str | None = None) -> dict:
        report = os.path.join(self.reports_dir, f"{label}.json")
        rep, out = run_suite(url, label, report, compression, notes=notes)
        print(f"\n--- {label}: {url} (report {report})\n{out.rstrip()}", file=sys.stderr)
        failed = [c for c in rep["cases"] if c["verdict"] == "FAILED"]
        self.assertGreaterEqual(rep["summary"]["cases"], 200)
        if failed:
            self.fail(f"{label}: {len(failed)} FAILED case(s) (report {report}):\n" + "\n".join(
                f"  {c['id']}: {c['description']}\n    observed: {c['observed']}\n    "
                + "\n    ".join(c["reasons"]) for c in failed))
        if compression:
            pmd = rep["permessage_deflate"]
            self.assertGreater(pmd["compressed_in"], 0,
                               f"{label}: no compressed reply seen although threshold is 0")
        return rep


class TestWsgated(ConformanceBase):
    """The suite against wsgated: /echo (compression off) and /deflate (compression on)."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        binary = find_binary()
        if not binary:
            raise unittest.SkipTest("wsgated binary not found: set WSGATED_BIN")
        cls.tmp = tempfile.mkdtemp(prefix="wsgated-conformance-gw-")
        cfg = os.path.join(cls.tmp, "gateway.yaml")
        Path(cfg).write_text(GATEWAY_YAML)
        env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1"),
               "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1")}
        cls.gw = Proc([binary, "--config", cfg], cwd=cls.tmp, env=env, stream="stderr")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.addClassCleanup(cls.gw.stop)
        m = cls.gw.wait_for(r"listening on 127\.0\.0\.1:(\d+) \(ws\)")
        cls.gw.wait_for(r"\bready$")
        cls.port = int(m[1])

    def tearDown(self) -> None:
        self.assertIsNone(self.gw.p.poll(), f"wsgated exited:\n{self.gw.output[-5000:]}")
        self.assertNotIn("AddressSanitizer", self.gw.output, self.gw.output[-5000:])
        self.assertNotIn("runtime error:", self.gw.output, self.gw.output[-5000:])

    def test_echo_route_without_compression(self) -> None:
        self.check(f"ws://127.0.0.1:{self.port}/echo", "wsgated-echo", compression=False)

    def test_deflate_route_with_compression(self) -> None:
        self.check(f"ws://127.0.0.1:{self.port}/deflate", "wsgated-deflate", compression=True)


def start_control(*extra: str) -> tuple[Proc, int]:
    node = shutil.which("node")
    if not node or not (SOURCE_DIR / "node_modules" / "ws").exists():
        raise unittest.SkipTest("node or the ws package is not available")
    p = Proc([node, str(HERE / "ws_echo_server.mjs"), "--max-payload", str(MAX_MESSAGE_SIZE),
              "--exit-on-stdin-eof", *extra], cwd=str(HERE), stream="stdout",
             stdin=subprocess.PIPE)
    try:
        m = p.wait_for(r"listening on 127\.0\.0\.1:(\d+)")
    except AssertionError:
        p.stop()
        raise
    return p, int(m[1])


class TestWsControl(ConformanceBase):
    """The CONTROL: the same suite against the `ws` library's echo server. ws is known to be
    Autobahn-clean, so a FAILED here means a bug in the suite, not in ws."""

    def run_control(self, label: str, deflate: bool) -> None:
        p, port = start_control(*(["--deflate"] if deflate else []))
        self.addCleanup(p.stop)
        self.check(f"ws://127.0.0.1:{port}/echo", label, compression=deflate,
                   notes=str(HERE / "ws_control_notes.json"))
        self.assertIsNone(p.p.poll(), p.output)

    def test_control_without_compression(self) -> None:
        self.run_control("ws-control", deflate=False)

    def test_control_with_compression(self) -> None:
        self.run_control("ws-control-deflate", deflate=True)

    def test_control_detects_a_broken_server(self) -> None:
        """Sanity check of the judge: ws with UTF-8 validation switched off must FAIL the
        invalid-UTF-8 cases (and still pass the valid ones)."""
        p, port = start_control("--skip-utf8-validation")
        self.addCleanup(p.stop)
        report = os.path.join(self.reports_dir, "ws-control-broken.json")
        rep, out = run_suite(f"ws://127.0.0.1:{port}/echo", "ws-control-broken", report, False,
                             only="6.3,6.5,6.20.1")
        verdicts = {c["id"]: c["verdict"] for c in rep["cases"]}
        self.assertEqual(verdicts["6.3.1"], "FAILED", out)
        self.assertEqual(verdicts["6.20.1"], "FAILED", out)
        self.assertTrue(all(verdicts[f"6.5.{i}"] == "OK" for i in range(1, 6)), out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
