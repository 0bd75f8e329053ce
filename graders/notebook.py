"""Grading from inside a lab notebook: what its nbgrader autograded cells call.

    from graders.notebook import grade
    result = grade("01-basic-dockerfile")   # the notebook's own folder, graded once
    result.points("builds")                 # in the cell worth that criterion's points

`points` prints what the grader saw (and the hint) and returns the points earned as the cell's value,
which nbgrader reads as partial credit. It writes nothing to stderr: nbgrader scores a cell that
does as zero. A criterion that could not be graded on this machine scores 0 here (nbgrader has no
"left out of the maximum"); `dockerlab grade --gradebook` flags those for manual grading.
"""

from __future__ import annotations

import html
from pathlib import Path

from graders import pipeline, scoring
from graders.course import DEFAULT_COURSE, load
from graders.errors import DockerlabError, UsageError
from graders.fingerprint import digest
from graders.results import GradingResult

_graded: dict[tuple[str, str, str], "NotebookGrade"] = {}


class NotebookGrade:
    """A grading result, shaped for notebook cells."""

    def __init__(self, result: GradingResult):
        self.result = result
        self._by_id = {criterion.id: criterion for criterion in result.criteria}

    def points(self, criterion_id: str) -> float:
        criterion = self._by_id.get(criterion_id)
        if criterion is None:
            print(f"no criterion {criterion_id!r} in lab {self.result.lab}")
            return 0.0
        mark = {"passed": "✔", "partial": "◐", "failed": "✘", "not_gradable": "–"}[criterion.status]
        print(f"{mark} {criterion.title}: {criterion.points:g}/{criterion.max_points:g}")
        print(f"  {criterion.message}")
        if criterion.status == "not_gradable":
            print("  (not gradable on this machine: 0 here, for your instructor to review)")
        if criterion.hint:
            print(f"  hint: {criterion.hint}")
        return float(criterion.points)

    @property
    def score(self) -> float:
        return self.result.score

    def __repr__(self) -> str:
        result = self.result
        return f"<{result.lab}: {result.score:g}/{result.max_score:g} ({result.percent:g} %)>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.title)}</td><td>{c.points:g}/{c.max_points:g}</td>"
            f"<td>{html.escape(c.message)}</td></tr>" for c in self.result.criteria
        )
        head = f"<b>{html.escape(self.result.lab)}</b>: {self.result.score:g}/{self.result.max_score:g}"
        return f"<p>{head}</p><table><tr><th>Criterion</th><th>Points</th><th>What the grader saw</th></tr>{rows}</table>"


NOTEBOOK_FILES = (".ipynb", ".ipynb_checkpoints")
"""Left out of the fingerprint: saving the notebook (its outputs) changes nothing the grader judges."""


def grade(lab_id: str, folder: str | Path = ".", *, course: str | Path | None = None, again: bool = False) -> NotebookGrade:
    """Grade `folder` (the notebook's own, by default) against lab `lab_id`. Run again after a change
    to the folder's files, it grades the new files; without a change it answers at once."""
    folder = Path(folder).resolve()
    course_path = Path(course).resolve() if course else DEFAULT_COURSE
    key = (str(course_path), lab_id, str(folder), digest(folder, skip=NOTEBOOK_FILES))
    if key in _graded and not again:
        return _graded[key]
    lab = load(course_path).lab(lab_id)
    if lab is None:
        raise UsageError(f"no lab {lab_id!r} in {course_path}")
    try:
        result = pipeline.grade(lab, folder, course_root=course_path.parent)
    except DockerlabError as error:  # no engine, and the like: nothing could be graded here
        result = scoring.ungraded(lab, folder, f"not gradable here: {error}", learner=False)
    _graded[key] = NotebookGrade(result)
    return _graded[key]
