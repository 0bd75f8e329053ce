"""`benchmarks/run --quick` keeps working: the benchmarks run and report numbers (no timing is
asserted). Two are left out here, each for a code path other tests already run: the Lab 04 stack
benchmark brings the stack up twice (about 3 min of CI; tests/integration/test_lab04.py grades it), and
the class benchmark makes every build install its dependencies afresh (about 3 min; the batch benchmark
runs the same `dockerlab grade -j`, tests/unit/test_bench_class.py the class it makes). Run them with
`benchmarks/run --quick --only stack class`."""

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
                           "--only", *(NAMES - {"stack", "class"})],
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report["benchmarks"]) == NAMES - {"stack", "class"}
    for name, rows in report["benchmarks"].items():
        for row in rows:
            assert row["grader_median_s"] > 0 and row["peak_mb"] > 0, (name, row)
            if row["raw_s"]:
                assert row["ratio"] > 0
    assert [row["name"] for row in report["benchmarks"]["batch"]] == [f"2 submissions at -j {j}" for j in (1, 2, 4)]
    assert "overhead" in done.stdout and "ratio" in done.stdout  # the tables were drawn
    profile = report["benchmarks"]["edit-loop"][0]["profile"]  # where the re-check's time went, both sides
    assert {"build", "run", "stop"} <= set(profile["grader"]) and all(s >= 0 for s in profile["grader"].values())
    assert list(profile["raw"]) == ["build", "start to healthy", "5 requests", "removal"]
    assert profile["raw"]["start to healthy"] > 0 and "raw: build" in done.stdout
