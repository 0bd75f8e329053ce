"""ruff (configured in pyproject.toml) passes on the package, the tests, the benchmarks and docker/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_ruff_passes():
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        ruff = Path(shutil.which("ruff") or "")
    if not ruff.name:
        pytest.fail("ruff is not installed: ./dev setup installs it (pip install -e '.[dev]')")
    done = subprocess.run([str(ruff), "check", "graders", "tests", "benchmarks", "docker"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
