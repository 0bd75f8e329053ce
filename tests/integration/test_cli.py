"""The command-line contract: JSON on stdout, exit codes, readable errors, Ctrl-C cleans up."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from graders.engine.session import MANAGED
from graders.report.json import validate
from tests.conftest import ROOT, SOLUTION01, edit

DOCKERLAB = [sys.executable, "-m", "graders"]


def dockerlab(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(DOCKERLAB + list(args), capture_output=True, text=True, cwd=ROOT, timeout=600, **kwargs)


@pytest.mark.docker
def test_check_json_reports_full_marks_for_the_solution(engine):
    done = dockerlab("check", "01-basic-dockerfile", str(SOLUTION01), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # stdout holds the document and nothing else
    validate(document)
    assert document["score"] == document["max_score"] == 100 and document["passed"]
    assert document["schema_version"] == "1.3"  # skipped criteria since 1.3
    assert set(document["timings"]) >= {"static", "build", "inspect", "run", "probe", "inside", "cache"}
    assert document["environment"]["gpu"]["runtime"] in ("nvidia", "cdi", "none")
    assert document["environment"]["stand_ins"] == [] or "python:3.11-slim" in document["environment"]["stand_ins"]


@pytest.mark.docker
def test_scorecard_and_exit_code_below_threshold(engine, submission):
    (submission / "Dockerfile").write_text("FORM python:3.11-slim\n")
    done = dockerlab("check", "01-basic-dockerfile", str(submission))
    assert done.returncode == 1
    assert "unknown instruction: FORM" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_usage_errors_exit_2_without_traceback(tmp_path):
    unknown = dockerlab("check", "99-nope")
    assert unknown.returncode == 2 and "no lab '99-nope'" in unknown.stderr
    missing = dockerlab("check", "01-basic-dockerfile", str(tmp_path / "absent"))
    assert missing.returncode == 2 and "is not a folder" in missing.stderr
    bad = tmp_path / "course.yml"
    bad.write_text("title: T\nversion: \"1\"\nbase_images: []\nlabs: []\n")
    config = dockerlab("--course", str(bad), "list")
    assert config.returncode == 2 and "course.yml:4 labs:" in config.stderr
    assert "Traceback" not in unknown.stderr + missing.stderr + config.stderr


def test_list_shows_the_labs():
    done = dockerlab("list")
    assert done.returncode == 0 and "01-basic-dockerfile" in done.stdout


@pytest.mark.docker
def test_doctor_json(engine):
    done = dockerlab("doctor", "--json")
    report = json.loads(done.stdout)
    names = {item["name"]: item for item in report["items"]}
    assert names["engine"]["ok"] and names["hadolint"]["ok"] and names["compose"]["ok"]
    assert names["image python:3.11-slim"]["ok"]
    assert "gpu" in names and done.returncode == (0 if report["ok"] else 1)


@pytest.mark.docker
def test_ctrl_c_removes_everything(engine, submission):
    # A health check that never passes keeps the grader waiting: time enough to interrupt it.
    edit(submission / "Dockerfile", "http://127.0.0.1:8000/health", "http://127.0.0.1:8000/nowhere")
    process = subprocess.Popen(DOCKERLAB + ["check", "01-basic-dockerfile", str(submission)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not engine.containers.list(filters={"label": f"{MANAGED}=true"}, sparse=True):
        assert process.poll() is None and time.monotonic() < deadline, "no container appeared"
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err


@pytest.mark.docker
def test_the_next_check_removes_what_a_killed_check_left(engine, submission):
    """kill -9 cannot be caught: the container and image of that grading stay. The next grading on the
    machine (here a learner's check of another folder, not a batch) removes them, and grades as usual."""
    from tests.conftest import managed_leftovers

    edit(submission / "Dockerfile", "http://127.0.0.1:8000/health", "http://127.0.0.1:8000/nowhere")
    process = subprocess.Popen(DOCKERLAB + ["check", "01-basic-dockerfile", str(submission)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not engine.containers.list(filters={"label": f"{MANAGED}=true"}, sparse=True):
        assert process.poll() is None and time.monotonic() < deadline, "no container appeared"
        time.sleep(0.5)
    process.kill()
    process.wait(timeout=60)
    left = managed_leftovers(engine)
    assert left.get("containers") and left.get("images"), left
    done = dockerlab("check", "01-basic-dockerfile", str(SOLUTION01), "--json")
    assert json.loads(done.stdout)["score"] == 100, done.stderr
    assert managed_leftovers(engine) == {}


@pytest.mark.docker
def test_watch_stops_a_check_whose_files_changed_and_leaves_nothing_behind(engine, submission):
    """A change while the image builds stops that check (its session cleans up); the next one runs to
    its scorecard; Ctrl-C ends the watch. The autouse fixture then finds nothing the grader made."""
    import os
    import threading

    child = subprocess.Popen(DOCKERLAB + ["check", "01-basic-dockerfile", str(submission), "--watch"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                             env={**os.environ, "COLUMNS": "120"})
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(child.stdout.readline, "")), daemon=True).start()

    def wait_for(text: str, seconds: float = 300) -> None:
        deadline = time.monotonic() + seconds
        while not any(text in line for line in lines):
            assert time.monotonic() < deadline and child.poll() is None, f"no {text!r} in:\n{''.join(lines)[-3000:]}"
            time.sleep(0.2)

    try:
        wait_for("· build")
        with (submission / "app" / "main.py").open("a") as handle:
            handle.write("\n# changed while the image builds\n")
        wait_for("a file changed: this check is stopped")
        wait_for("the next check starts when a file changes")
        assert sum("Score " in line for line in lines) == 1, "the stopped check printed no scorecard"
        assert any("Score 100/100" in line for line in lines), "".join(lines)[-3000:]
    finally:
        os.killpg(child.pid, signal.SIGINT)
        assert child.wait(120) == 0
