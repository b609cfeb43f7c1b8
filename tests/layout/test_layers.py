"""The layers of daemon/ (issue 13): every `#include "folder/…"` under daemon/ must be an arrow
that the table in docs/architecture.md allows, the table itself must have no cycle, every folder
must be in it, and no source file may pass 400 lines (STYLE habit 8).

The table is read from docs/architecture.md between `<!-- layers:begin -->` and
`<!-- layers:end -->`, so the documented layering and the checked one cannot drift apart.
Run by CTest as `layout.layers`; standard library only.
"""
from __future__ import annotations

import os
import re
import tempfile
import unittest
from pathlib import Path

ROOT = Path(os.environ.get("WSGATED_SOURCE_DIR", Path(__file__).resolve().parents[2]))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ROW = re.compile(r"^\|\s*`([a-z_]+(?:\.cpp)?)/?`\s*\|\s*(.*?)\s*\|\s*$")
MAX_LINES = 400


def read_table(doc: Path) -> dict[str, set[str]]:
    """folder → the folders it may include, from the marked table of the architecture page."""
    text = doc.read_text()
    begin, end = text.index("<!-- layers:begin -->"), text.index("<!-- layers:end -->")
    table: dict[str, set[str]] = {}
    for line in text[begin:end].splitlines():
        m = ROW.match(line)
        if m:
            table[m.group(1)] = set(re.findall(r"`([a-z_]+)/?`", m.group(2)))
    return table


def unit_of(path: Path, daemon: Path) -> str:
    """The layer a source file belongs to: its top folder under daemon/, or the file at the top."""
    rel = path.relative_to(daemon)
    return rel.parts[0] if len(rel.parts) > 1 else rel.name


def arrows(daemon: Path) -> list[tuple[str, str, str]]:
    """(from folder, to folder, "file: include") for every include of another folder."""
    out = []
    for path in sorted(daemon.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        src = unit_of(path, daemon)
        for inc in INCLUDE.findall(path.read_text(errors="replace")):
            dst = inc.split("/")[0] if "/" in inc else None
            if dst and dst != src:
                out.append((src, dst, f"{path.relative_to(daemon)}: {inc}"))
    return out


def violations(daemon: Path, table: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, dst, where in arrows(daemon):
        if src not in table:
            bad.append(f"{where}: folder {src}/ is not in the layer table")
        elif dst not in table[src]:
            bad.append(f"{where}: {src} may not include {dst} (not in its row of the table)")
    return bad


def cycle(table: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the table's arrows, or None (depth-first search, colours)."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        colour[n] = 1
        stack.append(n)
        for m in sorted(table.get(n, ())):
            if colour.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if colour.get(m) is None:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        colour[n] = 2
        return None

    for n in sorted(table):
        if colour.get(n) is None:
            found = visit(n)
            if found:
                return found
    return None


class layers(unittest.TestCase):
    daemon = ROOT / "daemon"
    table = read_table(ROOT / "docs" / "architecture.md")

    def test_table_lists_every_folder(self):
        folders = {p.name for p in self.daemon.iterdir() if p.is_dir()}
        self.assertEqual(folders - set(self.table), set(), "folders missing from the table")
        for src, allowed in self.table.items():
            self.assertEqual(allowed - set(self.table), set(), f"{src}'s row names unknown folders")

    def test_table_has_no_cycle(self):
        self.assertIsNone(cycle(self.table))

    def test_every_include_is_an_allowed_arrow(self):
        self.assertEqual(violations(self.daemon, self.table), [])

    def test_no_source_file_over_400_lines(self):
        long = [f"{p.relative_to(self.daemon)}: {n} lines" for p in sorted(self.daemon.rglob("*"))
                if p.suffix in (".h", ".cpp") and (n := len(p.read_text().splitlines())) > MAX_LINES]
        self.assertEqual(long, [])

    def test_checker_catches_an_upward_arrow_and_a_cycle(self):
        # The checks above must be able to fail: a tree with an arrow the table forbids.
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            (d / "low").mkdir()
            (d / "high").mkdir()
            (d / "high" / "a.h").write_text('#include "low/b.h"\n')
            (d / "low" / "b.cpp").write_text('#include "high/a.h"\n#include "low/b.h"\n')
            table = {"low": set(), "high": {"low"}}
            self.assertEqual(violations(d, table),
                             ["low/b.cpp: high/a.h: low may not include high (not in its row of the table)"])
            self.assertEqual(cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}), ["a", "b", "c", "a"])


if __name__ == "__main__":
    unittest.main()
