"""A batch of Lab 01 submissions graded end to end: folders and archives, broken and hostile ones,
two at a time; then the same batch interrupted and resumed, which must end where an
uninterrupted run ends."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from graders.engine.session import MANAGED
from tests.conftest import LAB01, ROOT, SOLUTION01

pytestmark = [pytest.mark.docker, pytest.mark.slow]
DOCKERLAB = [sys.executable, "-m", "graders"]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submissions")
    shutil.copytree(SOLUTION01, root / "alice")
    shutil.copytree(LAB01, root / "bob")
    with zipfile.ZipFile(root / "carol.zip", "w") as zipped:
        for path in SOLUTION01.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, f"carol/{path.relative_to(SOLUTION01)}")
    broken = root / "dave-src"
    shutil.copytree(LAB01, broken)
    (broken / "Dockerfile").write_text("FORM python:3.11-slim\n")
    with tarfile.open(root / "dave.tar.gz", "w:gz") as tarred:
        tarred.add(broken, arcname="dave")
    shutil.rmtree(broken)
    with zipfile.ZipFile(root / "mallory.zip", "w") as zipped:
        zipped.writestr("../../escaped.txt", "gotcha")
    return root


def grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(DOCKERLAB + ["grade", "01-basic-dockerfile", str(submissions), "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)


def rows(out: Path) -> list[dict]:
    return list(csv.DictReader(open(out / "grades.csv")))


def test_a_batch_end_to_end(engine, submissions, tmp_path):
    out = tmp_path / "grades"
    done = grade(submissions, out, "-j", "2")
    assert done.returncode == 0, done.stderr
    status = {row["learner"]: row["status"] for row in rows(out)}
    assert status == {"alice": "passed", "bob": "not yet", "carol": "passed", "dave": "not yet", "mallory": "not yet"}
    mallory = json.loads((out / "results" / "mallory.json").read_text())
    assert all("climbs out" in c["message"] for c in mallory["criteria"])
    assert not (submissions.parent / "escaped.txt").exists() and not (submissions / "escaped.txt").exists()
    dave = json.loads((out / "results" / "dave.json").read_text())
    assert "unknown instruction: FORM" in dave["criteria"][0]["message"]
    suites = ET.parse(out / "junit.xml").getroot()
    assert {s.get("name") for s in suites} == set(status)
    gradescope = json.loads((out / "gradescope" / "alice" / "results.json").read_text())
    assert gradescope["score"] == 100 and all(t["status"] == "passed" for t in gradescope["tests"])
    page = (out / "feedback" / "bob.html").read_text()
    assert "✘ failed" in page and "→ " in page
    assert "<svg" in (out / "feedback" / "alice.html").read_text()  # the layer chart
    summary = (out / "summary.html").read_text()
    assert "5 submissions, 2 passed" in summary
    # the leaderboard (course.yml: image added, rebuild): the two who passed, under pseudonyms
    board = summary.split("<h2>Leaderboard</h2>")[1]
    assert summary.count("<svg") == 4 and board.count("learner-") == 4 and "alice" not in board
    assert [f["name"] for f in gradescope["leaderboard"]] == ["Smallest image added over its base (MB)",
                                                              "Fastest rebuild after a code change (s)"]
    assert "place " in (out / "feedback" / "alice.html").read_text()
    assert "Submissions alike" not in summary  # alice and carol handed in the reference: boilerplate, not a copy


def test_interrupt_and_resume_ends_like_an_uninterrupted_run(engine, submissions, tmp_path):
    reference = tmp_path / "reference"
    assert grade(submissions, reference, "-j", "2").returncode == 0
    out = tmp_path / "interrupted"
    process = subprocess.Popen(DOCKERLAB + ["grade", "01-basic-dockerfile", str(submissions), "--out", str(out), "-j", "1"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not engine.containers.list(filters={"label": f"{MANAGED}=true"}, sparse=True):  # a grading is under way
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    finished = sorted(p.stem for p in (out / "results").glob("*.json"))
    assert len(finished) < 5  # stopped part-way
    assert not list((out / "results").glob(".*"))  # no half-written result
    resumed = grade(submissions, out, "--resume", "-j", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert "5 submissions, " + str(5 - len(finished)) + " to grade" in resumed.stderr
    assert rows(out) == rows(reference)
