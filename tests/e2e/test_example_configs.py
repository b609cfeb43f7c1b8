"""test_example_configs: every configuration this repository ships passes `wsgated --check` as a
user would run it (issue 20: config/gateway.full.yaml failed as shipped).

config/gateway.full.yaml names TLS and JWT files: the test makes them with the recipe its header
gives (config/make-example-keys) and sets WSGATED_ETC, exactly as the comment says. Files that
read secrets from the environment get a value for each ${VAR} without a default.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_example_configs
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

import harness

ROOT = harness.SOURCE_DIR
SHIPPED = sorted([*ROOT.glob("config/*.yaml"), *ROOT.glob("examples/**/*.yaml"), *ROOT.glob("docker/**/*.yaml")])


def needs_env(text: str) -> dict[str, str]:
    return {name: "example-value" for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)}


def is_wsgated_config(text: str) -> bool:
    return re.search(r"^routes:", text, re.M) is not None


class ExampleConfigs(unittest.TestCase):
    def test_every_shipped_config_passes_check(self):
        checked = []
        with tempfile.TemporaryDirectory() as etc:
            subprocess.run([str(ROOT / "config" / "make-example-keys"), etc], check=True,
                           capture_output=True, timeout=60)
            for f in SHIPPED:
                text = f.read_text()
                if not is_wsgated_config(text):
                    continue  # compose files, Kubernetes manifests
                env = {**os.environ, **harness.SAN_ENV, **needs_env(text), "WSGATED_ETC": etc}
                r = subprocess.run([harness.BIN, "--check", "--config", str(f)], env=env, cwd=ROOT,
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, f"{f.relative_to(ROOT)}:\n{r.stdout}{r.stderr}")
                self.assertIn("config OK", r.stdout)
                checked.append(f.name)
        self.assertIn("gateway.full.yaml", checked)
        self.assertIn("gateway.yaml", checked)


if __name__ == "__main__":
    unittest.main()
