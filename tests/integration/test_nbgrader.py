"""The nbgrader path, in a temporary nbgrader course: generate_assignment releases the lab notebook
with its autograded cells, autograde scores collected submissions by building and running them,
and `dockerlab grade` writes the same scores into a gradebook that `nbgrader export` reads."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tests.conftest import ROOT, edit

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LAB = "01-basic-dockerfile"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), cwd=cwd, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def scores(db: Path, lab: str = LAB) -> dict[str, dict[str, float]]:
    with Gradebook(f"sqlite:///{db}") as book:
        return {s.student.id: {g.name: g.score for g in s.notebooks[0].grades} for s in book.assignment_submissions(lab)}


@pytest.fixture(scope="module")
def course_folder(engine, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nbgrader-course")
    run(sys.executable, "-m", "graders", "nbgrader", "setup", str(folder), LAB, cwd=ROOT)
    run(str(BIN / "nbgrader"), "generate_assignment", LAB, cwd=folder)
    release = folder / "release" / LAB
    solution = ROOT / "solutions" / LAB
    for learner in ("alice", "bob", "carol"):
        shutil.copytree(release, folder / "submitted" / learner / LAB)
    for name in ("Dockerfile", ".dockerignore"):  # alice: the reference solution
        shutil.copy(solution / name, folder / "submitted" / "alice" / LAB / name)
    carol = folder / "submitted" / "carol" / LAB  # carol: the solution, but running as root
    shutil.copy(solution / "Dockerfile", carol / "Dockerfile")
    edit(carol / "Dockerfile", "USER app\n", "")
    run(str(BIN / "nbgrader"), "autograde", LAB, cwd=folder)  # bob submits the starter untouched
    return folder


def test_release_has_the_autograded_cells_with_course_points(course_folder, course):
    notebook = json.loads((course_folder / "release" / LAB / "lab.ipynb").read_text())
    graded = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
              for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
    assert graded == {c.id: c.points for c in course.lab(LAB).rubric}


def test_autograde_keeps_the_learners_files_and_skips_their_exploration(course_folder):
    autograded = course_folder / "autograded" / "alice" / LAB
    assert (autograded / "Dockerfile").read_text() == (ROOT / "solutions" / LAB / "Dockerfile").read_text()
    cells = json.loads((autograded / "lab.ipynb").read_text())["cells"]
    explore = [c for c in cells if c["cell_type"] == "code" and "nbgrader" not in c["metadata"]]
    assert explore and all(c["outputs"] == [] for c in explore)  # `docker run -p 8000:8000` never ran


def test_autograde_and_dockerlab_grade_agree_and_export_reads_it(course_folder, course, tmp_path):
    nbgrader_scores = scores(course_folder / "gradebook.db")
    assert sum(nbgrader_scores["alice"].values()) == 100
    assert nbgrader_scores["carol"]["non-root"] == 0 and sum(nbgrader_scores["carol"].values()) < 100
    assert sum(nbgrader_scores["bob"].values()) < 50

    db = tmp_path / "dockerlab.db"
    run(sys.executable, "-m", "graders", "grade", LAB, str(course_folder), "--out", str(tmp_path / "out"),
        "--gradebook", str(db), cwd=ROOT)
    assert scores(db) == nbgrader_scores  # criterion by criterion, learner by learner
    for learner, by_criterion in nbgrader_scores.items():
        document = json.loads((tmp_path / "out" / "results" / f"{learner}.json").read_text())
        assert document["score"] == sum(by_criterion.values())

    run(str(BIN / "nbgrader"), "export", f"--CourseDirectory.db_url=sqlite:///{db}",
        f"--CsvExportPlugin.to={tmp_path / 'export.csv'}", cwd=course_folder)
    with open(tmp_path / "export.csv") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {learner: sum(s.values()) for learner, s in nbgrader_scores.items()}


def test_grade_writes_into_the_courses_own_gradebook_by_default(course_folder, tmp_path):
    done = run(sys.executable, "-m", "graders", "grade", LAB, str(course_folder), "--out", str(tmp_path / "out"),
               "--resume", cwd=ROOT)
    assert f"nbgrader gradebook {course_folder / 'gradebook.db'}" in done.stdout
