"""`dockerlab check --watch`: what counts as a change, and the loop itself on Dockerfiles the static
stage refuses (no engine needed; tests/integration/test_cli.py stops a real build)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from graders.commands import watch

ROOT = Path(__file__).resolve().parents[2]


def test_saving_the_notebook_is_not_a_change_and_editing_a_file_is(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "lab.ipynb").write_text("{}")
    before = watch.signature(tmp_path)
    (tmp_path / "lab.ipynb").write_text('{"cells": []}')
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "lab-checkpoint.ipynb").write_text("{}")
    assert watch.signature(tmp_path) == before
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nUSER app\n")
    assert watch.signature(tmp_path) != before


def test_a_check_starts_once_the_files_have_stopped_changing(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    since = watch.signature(tmp_path)
    writes = iter(range(3))

    def sleep(seconds):  # an editor writing the file in three steps, one per poll
        time.sleep(seconds)
        if (step := next(writes, None)) is not None:
            with (tmp_path / "Dockerfile").open("a") as handle:
                handle.write(f"# step {step}\n")

    started = time.monotonic()
    after = watch.settled(tmp_path, since, sleep)
    assert "# step 2" in (tmp_path / "Dockerfile").read_text() and after == watch.signature(tmp_path)
    assert time.monotonic() - started >= watch.QUIET_SECONDS


def test_watch_checks_again_after_each_change_and_ctrl_c_ends_it(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "Dockerfile").write_text("RUN pip install fastapi\nFROM python:3.11-slim\n")  # refused: no engine
    env = {**os.environ, "DOCKERLAB_HISTORY": "off", "COLUMNS": "120"}
    child = subprocess.Popen([sys.executable, "-m", "graders", "check", "01-basic-dockerfile", str(folder), "--watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
                             start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(child.stdout.readline, "")), daemon=True)
    reader.start()

    def wait_for(text: str, count: int = 1, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while sum(text in line for line in lines) < count:
            assert time.monotonic() < deadline, f"no {text!r} x{count} in:\n{''.join(lines)}"
            time.sleep(0.1)

    try:
        wait_for("the next check starts when a file changes")
        assert any("Score 0/" in line for line in lines)
        (folder / "Dockerfile").write_text("FORM python:3.11-slim\n")  # another mistake
        wait_for("the next check starts when a file changes", 2)
        assert any("unknown instruction: FORM" in line for line in lines), "".join(lines)
    finally:
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C reaches the whole group, as in a terminal
        code = child.wait(30)
    assert code == 0


def test_the_notebook_watch_updates_its_scorecard_after_each_change_and_unwatch_ends_it(tmp_path, monkeypatch):
    from graders import notebook

    monkeypatch.setenv("DOCKERLAB_HISTORY", str(tmp_path / "history"))
    folder = tmp_path / "01-basic-dockerfile"
    folder.mkdir()
    (folder / "Dockerfile").write_text("RUN pip install fastapi\nFROM python:3.11-slim\n")
    cards: list[notebook.Scorecard] = []
    notebook.watch(folder=folder, course=ROOT / "course.yml", show=cards.append)  # the lab from the folder's name

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(cards) < count:
            assert time.monotonic() < deadline, f"{len(cards)} scorecards"
            time.sleep(0.1)

    try:
        wait_for(1)
        assert cards[0].result["score"] == 0 and cards[0].attempts and len(cards[0].attempts) == 1
        (folder / "lab.ipynb").write_text("{}")  # saving the notebook: no new check
        time.sleep(2 * watch.QUIET_SECONDS + 4 * watch.POLL_SECONDS)
        assert len(cards) == 1
        (folder / "Dockerfile").write_text("FORM python:3.11-slim\n")
        wait_for(2)
        assert "unknown instruction: FORM" in cards[1].result["criteria"][0]["message"]
        assert "Attempt 2:" in cards[1]._repr_html_()  # the history, from the check's own record
    finally:
        assert notebook.unwatch(folder)
    assert not notebook.unwatch(folder)
    deadline = time.monotonic() + 10
    while any(t.name.startswith("dockerlab-watch-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the watch thread did not end"
        time.sleep(0.1)
