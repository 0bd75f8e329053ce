"""ruff passes on the package, the tests, the benchmarks and docker/; mypy, strict, passes on the
package (both configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    if not found.exists():
        found = Path(shutil.which(name) or "")
    if not found.name:
        pytest.fail(f"{name} is not installed: ./dev setup installs it (pip install -e '.[dev]')")
    return str(found)


def test_ruff_passes():
    done = subprocess.run([_tool("ruff"), "check", "graders", "tests", "benchmarks", "docker"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_mypy_strict_passes_on_the_package():
    done = subprocess.run([_tool("mypy"), "--no-incremental"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success" in done.stdout


def test_mypy_is_strict_on_the_package():
    """The configuration the test above runs: strict, on graders/ (a loosened setting would pass anything)."""
    tomllib = pytest.importorskip("tomllib", reason="Python 3.10 has no tomllib; CI runs 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True and config["files"] == ["graders"]
    loosened = [o for o in config.get("overrides", []) if set(o) - {"module", "ignore_missing_imports"}]
    assert not loosened, loosened
