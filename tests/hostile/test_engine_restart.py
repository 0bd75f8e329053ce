"""The engine restarted in the middle of a grading: that submission is not gradable, with the
reason, and the submissions after it grade normally. Runs last (see tests/conftest.py): it stops
and starts the machine's dockerd, which the set-up started (docker/engine/ensure-engine.sh)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from graders import pipeline
from graders.engine.session import MANAGED
from tests.conftest import ROOT, learner_folder

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.last]
PIDFILE = Path("/var/run/docker.pid")


def _restart_engine() -> None:
    pid = int(PIDFILE.read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    subprocess.run(["bash", str(ROOT / "docker/engine/ensure-engine.sh")], check=True, timeout=120,
                   capture_output=True)


@pytest.mark.skipif(not PIDFILE.exists() or os.geteuid() != 0, reason="needs a local dockerd this test may restart")
def test_an_engine_restart_makes_that_submission_not_gradable_and_the_next_grade_normally(tmp_path, engine, lab01):
    first = learner_folder(tmp_path / "first", "01-basic-dockerfile")
    results = {}
    grading = threading.Thread(target=lambda: results.update(first=pipeline.grade(lab01, first, course_root=ROOT)))
    grading.start()
    deadline = time.monotonic() + 300
    while not engine.containers.list(filters={"label": f"{MANAGED}=true"}, sparse=True):
        assert grading.is_alive() and time.monotonic() < deadline, "the grading never started a container"
        time.sleep(0.1)
    _restart_engine()
    grading.join(timeout=600)
    result = results["first"]
    assert result.max_score == 0 and not result.passed, [(c.id, c.status) for c in result.criteria]
    assert all(c.status == "not_gradable" for c in result.criteria)
    assert any("engine restarted" in problem for problem in result.problems), result.problems
    for name in ("second", "third"):
        after = pipeline.grade(lab01, learner_folder(tmp_path / name, "01-basic-dockerfile"), course_root=ROOT)
        assert after.score == after.max_score == 100, [(c.id, c.status, c.message) for c in after.criteria]
