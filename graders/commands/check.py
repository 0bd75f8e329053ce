"""`dockerlab check LAB [PATH]`: grade one submission and show the scorecard (or the JSON)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from graders import history, pipeline
from graders.commands import course_root, load_course
from graders.errors import UsageError
from graders.report import json as json_report

if TYPE_CHECKING:
    from rich.status import Status


def main(*, course_path: Path | None, lab_id: str, path: Path | None, as_json: bool, watch: bool = False) -> int:
    course = load_course(course_path)
    lab = course.lab(lab_id)
    if lab is None:
        raise UsageError(f"no lab {lab_id!r}; labs: {', '.join(known.id for known in course.labs)}")
    submission = (path or course_root(course_path) / lab.folder).resolve()
    if not submission.is_dir():
        raise UsageError(f"{submission} is not a folder; give the folder that holds your Dockerfile")
    if watch:
        if as_json:
            raise UsageError("--watch shows a scorecard after each change; leave out --json")
        from graders.commands import watch as watch_mod

        return watch_mod.main(course_path=course_path, lab_id=lab.id, submission=submission)
    with _Progress() as progress:
        result = pipeline.grade(lab, submission, course_root=course_root(course_path), progress=progress)
    attempts = history.record(result, submission)
    if as_json:
        sys.stdout.write(json_report.dumps(result) + "\n")
    else:
        from rich.console import Console

        from graders.report import terminal

        terminal.render(result, Console(), attempts)
    return 0 if result.passed else 1


class _Progress:
    """A spinner naming the stage (and build step) on a terminal; one line per stage otherwise."""

    def __init__(self) -> None:
        self.status: Status | None = None
        self.last_stage: str | None = None

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():  # rich only for a person watching: scripts and batches skip loading it
            from rich.console import Console

            self.status = Console(stderr=True).status("grading")
            self.status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.status:
            self.status.stop()

    def __call__(self, stage: str, detail: str) -> None:
        if self.status:
            self.status.update(f"[bold]{stage}[/bold] {detail}")
        elif stage != self.last_stage:
            print(f"· {stage}", file=sys.stderr, flush=True)
        elif detail:
            print(f"  {detail}", file=sys.stderr, flush=True)
        self.last_stage = stage
