"""Fan-out to members that never read (issue 16): a payload published to N members is held once,
not once per member, and the publish calls answer at once whatever the members do.

2,000 members with a 4 KiB receive buffer connect to one room and stop reading; 60 payloads of
16 KiB are published with send_queue 256KiB. A copy per member would hold up to 2,000 x 256 KiB
(512 MB); shared, the payloads are 960 KiB. Under ASan the allocator's own overhead is large, so
the bound is loose (64 MB of growth) but still far below what copies cost. Every member must be
closed 1008 as a slow consumer (send_queue still bounds what each holds), and the process must
exit cleanly (no sanitizer report). The 10,000-member figures are in docs/performance.md
(bench/slow_fanout.py on a Release build).
"""
from __future__ import annotations

import sys
import unittest
from argparse import Namespace

import harness

sys.path.insert(0, str(harness.SOURCE_DIR / "bench"))
import slow_fanout  # noqa: E402  (bench/slow_fanout.py)

MB = 1 << 20


class FanoutMemory(unittest.TestCase):
    def test_slow_members_share_each_payload_and_are_closed_as_slow_consumers(self):
        r = slow_fanout.run(Namespace(wsgated=harness.BIN, members=2000, publishes=60, size=16384,
                                      workers=2, rcvbuf=4096, after_wait=0.5))
        growth = r["rss_peak"] - r["rss_joined"]
        self.assertEqual(r["exit_status"], 0, r["log_tail"])
        self.assertLess(growth, 64 * MB, f"RSS grew {growth / MB:.0f} MB for 960 KiB of payloads")
        self.assertLess(r["publish_max_s"], 5.0)
        self.assertEqual(r["slow_consumer_closes"], 2000)
        self.assertTrue(r["drained"])


if __name__ == "__main__":
    unittest.main()
