"""`dockerlab nbgrader setup FOLDER [LAB ...]` and `dockerlab nbgrader sync`."""

from __future__ import annotations

from pathlib import Path

from graders import nbgrader_course
from graders.commands import course_root, load_course
from graders.errors import UsageError


def setup(*, course_path: Path | None, folder: Path, lab_ids: list[str]) -> int:
    course = load_course(course_path)
    unknown = [lab_id for lab_id in lab_ids if course.lab(lab_id) is None]
    if unknown:
        raise UsageError(f"no lab {', '.join(map(repr, unknown))}; labs: {', '.join(known.id for known in course.labs)}")
    labs = [lab for lab_id in lab_ids if (lab := course.lab(lab_id)) is not None] or course.labs
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    made = nbgrader_course.setup(folder, course, labs, course_root(course_path))
    for path in made:
        print(f"source: {path}")
    print(f"config: {folder / 'nbgrader_config.py'}")
    print(f"next, in {folder}: nbgrader generate_assignment {labs[0].id}; after collecting: nbgrader autograde {labs[0].id}")
    return 0


def sync(*, course_path: Path | None) -> int:
    course = load_course(course_path)
    root = course_root(course_path)
    for lab in course.labs:
        changed = nbgrader_course.sync(root / lab.folder / lab.notebook, lab)
        print(f"{lab.folder}/{lab.notebook}: {'rewritten' if changed else 'up to date'}")
    return 0
