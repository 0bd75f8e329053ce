"""`dockerlab list`: the labs in order."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.commands import load_course


def main(*, course_path: Path | None) -> int:
    course = load_course(course_path)
    table = Table(title=f"{course.title} ({course.version})", title_justify="left")
    table.add_column("Lab", no_wrap=True)
    table.add_column("Title")
    for column in ("Criteria", "Points", "Pass at"):
        table.add_column(column, justify="right", no_wrap=True)
    for lab in course.labs:
        table.add_row(lab.id, lab.title, str(len(lab.rubric)), f"{lab.max_points:g}", f"{lab.pass_threshold:g}%")
    Console().print(table)
    return 0
