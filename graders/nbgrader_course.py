"""The labs as an nbgrader course.

Each lab notebook ends with grading cells made from course.yml: a locked cell that grades the
notebook's folder (graders.notebook), then one locked autograded cell per criterion worth that
criterion's points. `sync` rewrites those cells from course.yml; `setup` lays out an nbgrader course
(`source/<lab>/` and an `nbgrader_config.py`) from which `nbgrader generate_assignment` and
`nbgrader autograde` work as usual.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

from graders.course import Course, Lab

MARK = "dockerlab"  # cell metadata key of the grading cells, so that sync finds and replaces them
SKIP_TAG = "skip-execution"  # nbclient skips cells with this tag

CONFIG = '''\
# nbgrader configuration for the Docker for ML course, written by `dockerlab nbgrader setup`.
# The grade comes from the files the learner wrote (Dockerfile, compose.yaml, ...), which the
# autograded cells build and run: so the learner's own cells are not executed, the learner's
# files are never replaced by the instructor's copies, and a cell may take minutes.
from nbgrader.converters import Autograde

from graders.nbgrader_course import SkipExploration

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.Execute.timeout = {timeout}
c.Autograde.autograde_preprocessors = [SkipExploration, *Autograde.class_traits()["autograde_preprocessors"].default()]
c.Autograde.exclude_overwriting = {exclude}
'''


class SkipExploration(NbGraderPreprocessor):  # type: ignore[misc]  # nbgrader has no type hints
    """Tag every code cell that is not one of nbgrader's so that autograde does not execute it:
    the learner's exploration (`docker build`, `docker run -p 8000:8000`) has no place in grading."""

    def preprocess_cell(self, cell: Any, resources: dict[str, Any], index: int) -> tuple[Any, dict[str, Any]]:
        if cell.cell_type == "code" and not (cell.metadata.get("nbgrader") or {}).get("grade_id"):
            tags = cell.metadata.setdefault("tags", [])
            if SKIP_TAG not in tags:
                tags.append(SKIP_TAG)
        return cell, resources


def grading_cells(lab: Lab) -> list[dict[str, Any]]:
    """The cells appended to a lab notebook: an introduction, the grading, a cell per criterion."""
    intro = (
        "## Grading\n\n"
        "The cells below grade this folder the way `dockerlab check` does: they build and run what you wrote. "
        "Each criterion's cell shows what the grader saw, with a hint when points are lost, and is worth the "
        "points course.yml gives it. Run them to check yourself; your instructor's autograder runs the same cells."
    )
    cells = [_cell("markdown", intro, "dockerlab-intro", {"grade": False, "solution": False, "locked": True})]
    setup = (f"# Grades this folder once (later cells only read the result). Takes from seconds to minutes.\n"
             f"from graders.notebook import grade\n\nresult = grade({lab.id!r})\nresult")
    cells.append(_cell("code", setup, "dockerlab-grade", {"grade": False, "solution": False, "locked": True}))
    for criterion in lab.rubric:
        source = f"# {criterion.title} ({criterion.points:g} points)\nresult.points({criterion.id!r})"
        cells.append(_cell("code", source, criterion.id,
                           {"grade": True, "solution": False, "locked": True, "points": criterion.points}))
    return cells


def sync(notebook_path: Path, lab: Lab) -> bool:
    """Replace the notebook's grading cells with ones made from course.yml; True when it changed."""
    before = notebook_path.read_text()
    notebook = json.loads(before)
    notebook["cells"] = [c for c in notebook["cells"] if MARK not in c.get("metadata", {})] + grading_cells(lab)
    after = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    if after != before:
        notebook_path.write_text(after)
    return after != before


def setup(folder: Path, course: Course, labs: list[Lab], course_root: Path, *, timeout: int = 1800) -> list[Path]:
    """An nbgrader course in `folder`: `source/<lab>/` for each lab and `nbgrader_config.py`."""
    made = []
    for lab in labs:
        target = folder / "source" / lab.id
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(course_root / lab.folder, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        sync(target / lab.notebook, lab)
        made.append(target)
    exclude = {lab.id: list(lab.learner_files) for lab in course.labs}
    course_id = "".join(ch if ch.isalnum() else "-" for ch in course.title.lower()).strip("-")
    (folder / "nbgrader_config.py").write_text(CONFIG.format(course_id=course_id, timeout=timeout,
                                                             exclude=json.dumps(exclude, indent=4)))
    return made


def _cell(kind: str, source: str, grade_id: str, nbgrader: dict[str, Any]) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "id": grade_id,
        "metadata": {MARK: "grading", "nbgrader": {**nbgrader, "grade_id": grade_id, "schema_version": 3}},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell
