"""Finding the submissions in a folder: one sub-folder or archive per learner, or an nbgrader
course's `submitted/<learner>/<lab>/` tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graders.batch.archives import is_archive, learner_name
from graders.errors import UsageError

_SAFE = re.compile(r"[^A-Za-z0-9._@-]+")


@dataclass(frozen=True)
class Submission:
    learner: str
    """A name safe for file names (the folder's or archive's name, or the nbgrader student id)."""
    source: Path
    archive: bool


def discover(root: Path, lab_id: str) -> list[Submission]:
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder of submissions")
    submitted = root / "submitted"
    if submitted.is_dir():  # an nbgrader course
        found = [Submission(_safe(student.name), student / lab_id, False)
                 for student in sorted(submitted.iterdir()) if (student / lab_id).is_dir()]
    else:
        found = []
        for entry in sorted(root.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                found.append(Submission(_safe(entry.name), entry, False))
            elif is_archive(entry):
                found.append(Submission(_safe(learner_name(entry)), entry, True))
    names = [s.learner for s in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"more than one submission for: {', '.join(twice)} (a folder and an archive?); keep one each")
    if not found:
        raise UsageError(f"no submissions in {root}: expected one folder or archive per learner, "
                         f"or an nbgrader course with submitted/<learner>/{lab_id}/")
    return found


def _safe(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "learner"
