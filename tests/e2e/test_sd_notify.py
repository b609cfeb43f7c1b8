"""sd_notify end to end: wsgated talks to a NOTIFY_SOCKET made by the test, as systemd would.

READY=1 once listening, WATCHDOG=1 at half of WATCHDOG_USEC (only while every worker answers),
RELOADING=1 then READY=1 around a SIGHUP (RELOADING=1 with MONOTONIC_USEC, the reload's start
on CLOCK_MONOTONIC in microseconds, in the same datagram: systemd >= 253 needs it for
Type=notify-reload), STOPPING=1 on SIGTERM, and exit 0.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN

CONFIG = """server:
  listen: [{address: "127.0.0.1:0"}]
  log: {format: text}
admin: {listen: "127.0.0.1:0"}
routes: [{path: /echo, backend: echo}]
"""


class SdNotify(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.path = os.path.join(self.dir.name, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.sock.close)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.config = os.path.join(self.dir.name, "gateway.yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG)

    def collect(self, seconds):
        got, end = [], time.time() + seconds
        while time.time() < end:
            try:
                got.append(self.sock.recv(256).decode())
            except socket.timeout:
                pass
        return got

    def test_ready_watchdog_reload_and_stopping(self):
        env = {**os.environ, "NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": "200000"}
        proc = subprocess.Popen([BIN, "--config", self.config], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        first = self.collect(1.0)
        self.assertEqual(first[0], "READY=1", first)
        self.assertGreaterEqual(first.count("WATCHDOG=1"), 4, first)  # every 100 ms
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        proc.send_signal(signal.SIGHUP)
        reload = [m for m in self.collect(0.5) if m != "WATCHDOG=1"]
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.assertGreaterEqual(len(reload), 2, reload)
        fields = reload[0].split("\n")
        self.assertEqual(fields[0], "RELOADING=1", reload)
        usec = [f.split("=", 1)[1] for f in fields if f.startswith("MONOTONIC_USEC=")]
        self.assertEqual(len(usec), 1, f"RELOADING=1 without one MONOTONIC_USEC: {reload}")
        self.assertRegex(usec[0], r"^[0-9]+$")
        # CLOCK_MONOTONIC is one clock for every process: the value lies between the SIGHUP
        # and the datagram's arrival.
        self.assertTrue(before <= int(usec[0]) <= after, (before, usec[0], after))
        self.assertEqual(reload[1], "READY=1", reload)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        last = [m for m in self.collect(0.3) if m != "WATCHDOG=1"]
        self.assertEqual(last, ["STOPPING=1"], last)

    def test_watchdog_pid_for_another_process_sends_no_watchdog(self):
        env = {**os.environ, "NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": "200000",
               "WATCHDOG_PID": "1"}
        proc = subprocess.Popen([BIN, "--config", self.config], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        got = self.collect(0.8)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        self.assertIn("READY=1", got)
        self.assertNotIn("WATCHDOG=1", got)


if __name__ == "__main__":
    unittest.main()
