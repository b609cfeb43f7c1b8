"""test_dockerfile_libs: the Dockerfile's runtime stage installs every library wsgated links,
and its HEALTHCHECK really answers on /healthz.

`ldd` on the binary under test (WSGATED_BIN, else build/wsgated) lists the shared libraries;
`dpkg -S` names the Debian package of each (trying both /lib and /usr/lib: Debian 12 is
merged-usr, and dpkg records whichever path the package shipped). Each package must be in the
runtime stage's `apt-get install` list, or in BASE (what debian:12-slim already has), or be a
sanitizer runtime that only the test build links. A package missing from the stage fails the
test with its name and the library that needs it.

The HEALTHCHECK's command is run as Docker would, against a live wsgated (its admin port given
through WSGATED_ADMIN_PORT, which the command reads), and against a port nobody listens on.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_dockerfile_libs
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import unittest
from pathlib import Path

import harness

DOCKERFILE = harness.SOURCE_DIR / "Dockerfile"

# What debian:12-slim already has that a linked library can come from: dpkg's and apt's own
# libraries and theirs (`apt-cache depends dpkg apt libapt-pkg6.0 libsystemd0` on Debian 12),
# since an image that runs apt-get has them. libc6 carries libc, libm, libpthread, libdl and the
# dynamic loader; libgcc-s1 and libstdc++6 the C++ runtime.
BASE = {
    "libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblzma5", "libbz2-1.0",
    "libmd0", "libselinux1", "libsystemd0", "libudev1", "libcap2", "libgcrypt20",
    "libgpg-error0", "liblz4-1", "libxxhash0", "libseccomp2", "libgnutls30",
}
# Linked by the ASan/UBSan test build only (-fsanitize): never in a Release image.
SANITIZER_RUNTIMES = {"libasan8", "libubsan1", "liblsan0", "libtsan2"}
VDSO = re.compile(r"^linux-(vdso|gate)\.so")


def binary() -> Path:
    env = os.environ.get("WSGATED_BIN")
    return Path(env) if env else harness.SOURCE_DIR / "build" / "wsgated"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined, comments out."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def runtime_stage(text: str) -> list[tuple[str, str]]:
    """The instructions of the last stage (from its FROM on): the image that is shipped."""
    ins = instructions(text)
    last = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    return ins[last:]


def apt_installed(stage: list[tuple[str, str]]) -> set[str]:
    """Every package named after `apt-get install` (options skipped) in the stage's RUNs."""
    pkgs: set[str] = set()
    for word, args in stage:
        if word != "RUN":
            continue
        for command in re.split(r"&&|\|\||;|\|", args):
            tokens = command.split()
            for i in range(len(tokens) - 1):
                if tokens[i] in ("apt-get", "apt") and tokens[i + 1] == "install":
                    pkgs.update(t for t in tokens[i + 2:] if not t.startswith("-"))
    return pkgs


def linked_libraries(path: Path) -> list[tuple[str, str]]:
    """(soname, resolved path) for each shared library ldd lists; vdso left out."""
    r = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"ldd {path} failed:\n{r.stdout}{r.stderr}")
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        m = re.match(r"^(\S+) => (\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            if m[2] == "not":
                raise AssertionError(f"ldd: {line}")
            libs.append((m[1], m[2]))
            continue
        m = re.match(r"^(\S+) \(0x[0-9a-f]+\)$", line)
        if m and not VDSO.match(m[1]):
            libs.append((os.path.basename(m[1]), m[1]))  # the dynamic loader, by absolute path
    return libs


def path_variants(path: str) -> list[str]:
    """The path, its real path, and each with and without /usr (merged-usr: /lib -> usr/lib)."""
    out: list[str] = []
    for p in (path, os.path.realpath(path)):
        for q in (p, "/usr" + p if p.startswith(("/lib/", "/lib64/", "/lib32/")) else None,
                  p[4:] if p.startswith("/usr/lib") else None):
            if q and q not in out:
                out.append(q)
    return out


def debian_package(path: str) -> str | None:
    """The package that owns `path` (without :arch), by `dpkg -S`; None if no package does."""
    for p in path_variants(path):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True, timeout=60)
        for line in r.stdout.splitlines():
            if line.startswith("diversion "):
                continue
            owner, sep, _ = line.partition(": ")
            if sep:
                return owner.split(",")[0].strip().split(":")[0]
    return None


def healthcheck_argv(stage: list[tuple[str, str]]) -> list[str]:
    hc = [args for word, args in stage if word == "HEALTHCHECK"]
    if len(hc) != 1:
        raise AssertionError(f"the runtime stage should have one HEALTHCHECK, has {len(hc)}")
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", hc[0])
    if not m:
        raise AssertionError(f"HEALTHCHECK should use the exec form CMD [...]: {hc[0]}")
    return json.loads(m[1])


@unittest.skipUnless(shutil.which("ldd") and shutil.which("dpkg"),
                     "ldd and dpkg are needed (a Debian system)")
class DockerfileLibs(unittest.TestCase):
    def setUp(self):
        self.stage = runtime_stage(DOCKERFILE.read_text())

    def test_runtime_stage_installs_every_linked_library(self):
        bin_path = binary()
        self.assertTrue(bin_path.exists(), f"no binary at {bin_path}: build it or set WSGATED_BIN")
        installed = apt_installed(self.stage)
        self.assertIn("libssl3", installed, f"apt-get install list not found: {installed}")
        missing, unowned = [], []
        for soname, path in linked_libraries(bin_path):
            pkg = debian_package(path)
            if pkg is None:
                unowned.append(f"{soname} ({path})")
            elif pkg not in installed and pkg not in BASE and pkg not in SANITIZER_RUNTIMES:
                missing.append(f"{pkg} (for {soname})")
        self.assertEqual(unowned, [], "libraries no Debian package owns: the image cannot get them")
        self.assertEqual(missing, [], f"the Dockerfile's runtime stage does not install: "
                                      f"{', '.join(missing)} (ldd {bin_path})")

    def test_runtime_packages_are_known_to_apt(self):
        # A misspelt or renamed package would only fail at `docker build`.
        if subprocess.run(["apt-cache", "show", "libc6"], capture_output=True).returncode != 0:
            self.skipTest("apt-cache has no package lists (apt-get update not run)")
        for pkg in sorted(apt_installed(self.stage)):
            r = subprocess.run(["apt-cache", "show", pkg], capture_output=True, text=True,
                               timeout=60)
            self.assertTrue(r.returncode == 0 and r.stdout.strip(), f"apt knows no package {pkg}")

    def test_healthcheck_gets_healthz(self):
        argv = healthcheck_argv(self.stage)
        self.assertIn("/healthz", " ".join(argv))
        self.assertTrue(shutil.which(argv[0]), f"{argv[0]} not found")
        gw = harness.start_gateway(harness.echo_config(), self.addCleanup)
        m = re.search(r"admin listening on 127\.0\.0\.1:(\d+) \(http\)", gw.stderr)
        self.assertIsNotNone(m, gw.stderr)
        run = lambda port: subprocess.run(argv, env={**os.environ, "WSGATED_ADMIN_PORT": port},
                                          capture_output=True, text=True, timeout=10)
        r = run(m[1])
        self.assertEqual(r.returncode, 0, f"HEALTHCHECK failed on a live wsgated: {r.stderr}")
        with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
            s.bind(("127.0.0.1", 0))
            free = str(s.getsockname()[1])
        self.assertNotEqual(run(free).returncode, 0, "HEALTHCHECK passed with nothing listening")
        gw.stop()
        self.assertNotEqual(run(m[1]).returncode, 0, "HEALTHCHECK passed after wsgated exited")


if __name__ == "__main__":
    unittest.main()
