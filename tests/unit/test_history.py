"""A learner's history of self-checks (graders.history) and how the terminal scorecard draws it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from graders import history
from graders.report import terminal
from graders.results import CriterionResult, Environment, GradingResult


def result(**statuses: str) -> GradingResult:
    points = {"passed": 10.0, "partial": 5.0}
    criteria = [CriterionResult(name, name.title(), status, points.get(status, 0.0), 10.0, "", "", {},
                                "hidden" if name.startswith("secret") else "visible")
                for name, status in statuses.items()]
    score = sum(c.points for c in criteria)
    return GradingResult("01-basic-dockerfile", "/work", score, 10.0 * len(criteria), score >= 0.7 * 10 * len(criteria),
                         criteria, None, Environment(), {})


@pytest.fixture(autouse=True)
def kept(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DOCKERLAB_HISTORY", str(tmp_path / "history"))
    return tmp_path / "history"


def test_each_check_is_kept_and_the_next_one_says_what_changed(tmp_path):
    history.record(result(builds="passed", **{"non-root": "failed"}, size="partial"), tmp_path)
    attempts = history.record(result(builds="passed", **{"non-root": "passed"}, size="failed", port="passed"), tmp_path)
    assert [a.score for a in attempts] == [15.0, 30.0]
    assert history.changes(*attempts) == ["non-root: failed → passed", "size: partial → failed", "port: new → passed"]


def test_a_history_is_per_lab_and_folder_and_bounded(tmp_path, kept):
    for _ in range(history.KEEP + 5):
        history.record(result(builds="passed"), tmp_path / "a")
    assert len(history.record(result(builds="failed"), tmp_path / "a")) == history.KEEP
    assert len(history.record(result(builds="failed"), tmp_path / "b")) == 1
    [file_a] = [p for p in kept.iterdir() if len(p.read_text().splitlines()) == history.KEEP]
    file_a.write_text(file_a.read_text() + "{torn\n")
    assert len(history.read(file_a)) == history.KEEP - 1  # the torn line is skipped, the rest read


def test_a_hidden_criterion_leaves_no_trace_in_the_history(tmp_path):
    history.record(result(builds="passed", secret_check="failed"), tmp_path)
    attempts = history.record(result(builds="passed", secret_check="passed"), tmp_path)
    assert "secret_check" not in attempts[-1].statuses and history.changes(*attempts) == []


def test_off_keeps_nothing(tmp_path, kept, monkeypatch):
    monkeypatch.setenv("DOCKERLAB_HISTORY", "off")
    assert len(history.record(result(builds="passed"), tmp_path)) == 1
    assert len(history.record(result(builds="passed"), tmp_path)) == 1
    assert not kept.exists()


def test_the_scorecard_draws_the_attempts_and_names_the_changes(tmp_path):
    history.record(result(builds="failed", **{"non-root": "failed"}), tmp_path)
    history.record(result(builds="passed", **{"non-root": "failed"}), tmp_path)
    last = result(builds="passed", **{"non-root": "passed"})
    console = Console(record=True, width=120)
    terminal.render(last, console, history.record(last, tmp_path))
    shown = console.export_text()
    assert "Attempt 3: ▁▅█  0% → 100%" in shown
    assert "Since the last check:" in shown and "non-root: failed → passed" in shown
    console = Console(record=True, width=120)
    terminal.render(last, console, [history.record(last, tmp_path)[-1]])  # a first check draws no history
    assert "Attempt" not in console.export_text()


def test_the_notebook_scorecard_shows_the_attempts_too(tmp_path):
    from graders.notebook import Scorecard

    history.record(result(builds="failed", **{"non-root": "failed"}), tmp_path)
    last = result(builds="passed", **{"non-root": "passed"})
    page = Scorecard(last.to_dict(), history.record(last, tmp_path))._repr_html_()
    assert "Attempt 2:" in page and "0% → 100%" in page and "non-root: failed → passed" in page
    assert "Attempt" not in Scorecard(last.to_dict())._repr_html_()


def test_dockerlab_check_keeps_each_attempt_and_prints_the_history(tmp_path, kept):
    """The real command, on a Dockerfile the static stage refuses (no engine needed): a second check
    of the same folder draws two attempts."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "Dockerfile").write_text("RUN pip install fastapi\nFROM python:3.11-slim\n")
    dockerlab = [sys.executable, "-m", "graders", "check", "01-basic-dockerfile", str(folder)]
    env = {**os.environ, "DOCKERLAB_HISTORY": str(kept), "COLUMNS": "120"}
    first = subprocess.run(dockerlab, capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run(dockerlab, capture_output=True, text=True, env=env, timeout=60)
    assert "Attempt" not in first.stdout and "Attempt 2: ▁▁" in second.stdout, second.stdout[-800:]
    assert "Since the last check: nothing changed" in second.stdout
    assert len(list(kept.iterdir())) == 1
