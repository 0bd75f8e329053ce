"""Writing batch results into an nbgrader gradebook, through nbgrader's own API.

The lab is the assignment and its notebook the notebook; each criterion is a grade cell with the
criterion's points as its maximum (all created before any submission, as nbgrader requires); each
learner is a student with a submission whose auto scores are the points earned. A criterion that
could not be graded scores 0 and is flagged for manual grading: nbgrader has no "left out of the
maximum", so an instructor decides in formgrader. `nbgrader export` then gives the CSV.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.course import Lab
from graders.results import UNSCORED


@dataclass
class Written:
    students: int
    flagged: int
    """Grades marked for manual grading (criteria not gradable on the grading machine)."""


def url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def write(path: Path, lab: Lab, results: list[dict[str, Any]]) -> Written:
    notebook = Path(lab.notebook).stem
    flagged = 0
    from nbgrader.api import Gradebook  # heavy (jupyter_server): only when a gradebook is written

    with warnings.catch_warnings(), _alembic_on_path(), Gradebook(url(path)) as book:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy deprecation notices
        book.update_or_create_assignment(lab.id)
        book.update_or_create_notebook(notebook, lab.id)
        for criterion in lab.rubric:
            book.update_or_create_grade_cell(criterion.id, notebook, lab.id, max_score=criterion.points, cell_type="code")
        for result in results:
            student = result["learner"]
            book.update_or_create_student(student)
            book.update_or_create_submission(lab.id, student)
            for criterion in result["criteria"]:
                grade = book.find_grade(criterion["id"], notebook, lab.id, student)
                grade.auto_score = float(criterion["points"])
                grade.needs_manual_grade = criterion["status"] in UNSCORED  # nbgrader's maximum is fixed
                flagged += grade.needs_manual_grade
            book.db.commit()
    return Written(len(results), flagged)


@contextmanager
def _alembic_on_path() -> Iterator[None]:
    """nbgrader migrates a gradebook by running `alembic`, which sits beside this Python in a venv."""
    before = os.environ.get("PATH", "")
    here = str(Path(sys.executable).parent)
    os.environ["PATH"] = f"{here}{os.pathsep}{before}" if here not in before.split(os.pathsep) else before
    try:
        yield
    finally:
        os.environ["PATH"] = before


def find(submissions: Path) -> Path | None:
    """The gradebook of the nbgrader course SUBMISSIONS is, if it is one (nbgrader's default name)."""
    if (submissions / "submitted").is_dir() and ((submissions / "gradebook.db").exists()
                                                  or (submissions / "nbgrader_config.py").exists()):
        return submissions / "gradebook.db"
    return None
