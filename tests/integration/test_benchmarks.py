"""`benchmarks/run --quick` keeps working: the benchmarks run and report numbers (no timing is
asserted). The Lab 04 stack benchmark is left out here: it brings the stack up twice (about 3 min of
CI for a code path that only calls what tests/integration/test_lab04.py already grades); run it with
`benchmarks/run --quick --only stack`."""

from __future__ import annotations

import json
import subprocess

import pytest

from benchmarks import suite
from tests.conftest import ROOT

pytestmark = [pytest.mark.docker, pytest.mark.slow]
NAMES = set(suite.NAMES)


def test_quick_benchmarks_report_every_figure(engine, tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([str(ROOT / "benchmarks" / "run"), "--quick", "--out", str(out),
                           "--only", *(NAMES - {"stack"})],
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report["benchmarks"]) == NAMES - {"stack"}
    for name, rows in report["benchmarks"].items():
        for row in rows:
            assert row["grader_median_s"] > 0 and row["peak_mb"] > 0, (name, row)
            if row["raw_s"]:
                assert row["ratio"] > 0
    assert [row["name"] for row in report["benchmarks"]["batch"]] == [f"2 submissions at -j {j}" for j in (1, 2, 4)]
    assert "overhead" in done.stdout and "ratio" in done.stdout  # the tables were drawn
