"""test_systemd_unit: systemd/wsgated.service passes `systemd-analyze verify` with no output.

verify checks that every ExecStart*= binary exists and is executable, so the unit is copied to a
temporary directory with /usr/local/bin/wsgated (where the unit expects the installed binary)
replaced by the binary under test (WSGATED_BIN). Any line verify prints about the unit (an
unknown key, a value it cannot parse, a missing binary) fails the test. Skipped where
systemd-analyze is not installed (Debian package `systemd`).

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_systemd_unit
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import harness

UNIT = harness.SOURCE_DIR / "systemd" / "wsgated.service"
INSTALLED = "/usr/local/bin/wsgated"
ANALYZE = shutil.which("systemd-analyze")


def unit_keys(text: str) -> dict[str, list[str]]:
    """KEY -> [values] over every section (the unit's keys do not repeat across sections)."""
    keys: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        k, _, v = line.partition("=")
        keys.setdefault(k.strip(), []).append(v.strip())
    return keys


def seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|min|m)?", value)
    if not m:
        raise ValueError(f"cannot read the duration {value!r}")
    return float(m[1]) * {"ms": 0.001, "s": 1, None: 1, "min": 60, "m": 60}[m[2]]


@unittest.skipUnless(ANALYZE, "systemd-analyze not installed (Debian package systemd): "
                              "systemd/wsgated.service not verified")
class SystemdUnit(unittest.TestCase):
    def verify(self, text: str) -> tuple[int, str]:
        with tempfile.TemporaryDirectory() as d:
            unit = Path(d) / "wsgated.service"
            unit.write_text(text)
            r = subprocess.run([ANALYZE, "verify", str(unit)], cwd=d, capture_output=True,
                               text=True, timeout=60,
                               env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""})
        return r.returncode, (r.stdout + r.stderr).strip()

    def test_verify_is_clean(self):
        text = UNIT.read_text()
        self.assertIn(INSTALLED, text, "the unit should start the installed binary")
        code, out = self.verify(text.replace(INSTALLED, os.path.abspath(harness.BIN)))
        self.assertEqual(out, "", f"systemd-analyze verify {UNIT.name} printed:\n{out}")
        self.assertEqual(code, 0)

    def test_verify_reports_a_broken_unit(self):
        # The check above is only worth something if verify speaks up: an unknown key and a
        # missing binary must both be reported.
        text = UNIT.read_text().replace(INSTALLED, os.path.abspath(harness.BIN))
        _, out = self.verify(text.replace("[Service]\n", "[Service]\nNoSuchKey=1\n"))
        self.assertIn("NoSuchKey", out)
        code, out = self.verify(UNIT.read_text().replace(INSTALLED, "/nonexistent/wsgated"))
        self.assertNotEqual(code, 0, out)

    def test_stop_timeout_covers_the_drain_and_the_check_runs_first(self):
        keys = unit_keys(UNIT.read_text())
        self.assertEqual(keys["Type"], ["notify"])  # READY=1 / RELOADING=1 / STOPPING=1
        # SIGTERM drains for up to server.drain_timeout (default 30s): systemd must not
        # SIGKILL before that.
        self.assertGreater(seconds(keys["TimeoutStopSec"][0]), 30)
        start, pre = keys["ExecStart"][0], keys["ExecStartPre"][0]
        self.assertEqual(pre, start + " --check", "ExecStartPre checks the file ExecStart runs")
        self.assertEqual(keys["ExecReload"], ["/bin/kill -HUP $MAINPID"])


if __name__ == "__main__":
    unittest.main()
