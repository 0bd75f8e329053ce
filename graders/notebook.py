"""Grading from inside a lab notebook.

A learner's self-check, with progress while it builds and a rendered scorecard at the end:

    %load_ext graders.notebook
    %dockerlab check                        # the lab of this folder; or: %dockerlab check LAB [PATH]

What the nbgrader autograded cells call:

    from graders.notebook import grade
    result = grade("01-basic-dockerfile")   # the notebook's own folder
    result.points("builds")                 # in the cell worth that criterion's points

Both grade the files as they are now: run again after a change, they grade the new files; run again
without one, they answer at once (the notebook's own saves are not a change).

`points` prints what the grader saw (and the hint) and returns the points earned as the cell's value,
which nbgrader reads as partial credit. It writes nothing to stderr: nbgrader scores a cell that
does as zero. A criterion that could not be graded on this machine scores 0 here (nbgrader has no
"left out of the maximum"); `dockerlab grade --gradebook` flags those for manual grading.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graders import history, pipeline, scoring
from graders.commands import watch as watch_mod
from graders.course import default_path, load
from graders.errors import DockerlabError, UsageError
from graders.fingerprint import NOTEBOOK_FILES, digest
from graders.history import Attempt
from graders.report import HIDDEN, scorecard
from graders.results import GradingResult
from graders.runner import Progress

_graded: dict[tuple[str, str, str, str], NotebookGrade] = {}


class NotebookGrade:
    """A grading result, shaped for notebook cells."""

    def __init__(self, result: GradingResult) -> None:
        self.result = result
        self._by_id = {criterion.id: criterion for criterion in result.criteria}
        self.attempts: list[Attempt] | None = None
        """The learner's history once a self-check recorded this grading (graders.history)."""

    def points(self, criterion_id: str) -> float:
        criterion = self._by_id.get(criterion_id)
        if criterion is None:
            print(f"no criterion {criterion_id!r} in lab {self.result.lab}")
            return 0.0
        mark = {"passed": "✔", "partial": "◐", "failed": "✘", "skipped": "↷", "not_gradable": "–"}[criterion.status]
        print(f"{mark} {criterion.title}: {criterion.points:g}/{criterion.max_points:g}")
        if criterion.visibility == "hidden":
            print(f"  {HIDDEN}")
            return float(criterion.points)
        print(f"  {criterion.message}")
        if criterion.status == "not_gradable":
            print("  (not gradable on this machine: 0 here, for your instructor to review)")
        if criterion.status == "skipped":
            print("  (left out of your total until then: 0 here, for your instructor to review)")
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




def grade(lab_id: str, folder: str | Path = ".", *, course: str | Path | None = None, again: bool = False,
          progress: Progress | None = None) -> NotebookGrade:
    """Grade `folder` (the notebook's own, by default) against lab `lab_id`. Run again after a change
    to the folder's files, it grades the new files; without a change it answers at once."""
    folder = Path(folder).resolve()
    course_path = Path(course).resolve() if course else default_path()
    key = (str(course_path), lab_id, str(folder), digest(folder, skip=NOTEBOOK_FILES))
    if key in _graded and not again:
        return _graded[key]
    lab = load(course_path).lab(lab_id)
    if lab is None:
        raise UsageError(f"no lab {lab_id!r} in {course_path}")
    try:
        result = pipeline.grade(lab, folder, course_root=course_path.parent, progress=progress)
    except DockerlabError as error:  # no engine, and the like: nothing could be graded here
        result = scoring.ungraded(lab, folder, f"not gradable here: {error}", learner=False)
    _graded[key] = NotebookGrade(result)
    return _graded[key]


class Scorecard:
    """A result as a learner reads it in JupyterLab (graders.report.scorecard); `.result` is the
    same document `dockerlab check --json` prints."""

    def __init__(self, result: dict[str, Any], attempts: list[Attempt] | None = None) -> None:
        self.result = result
        self.attempts = attempts

    def _repr_html_(self) -> str:
        return scorecard.render(self.result, attempts=self.attempts)

    def __repr__(self) -> str:
        lost = [c["id"] for c in self.result["criteria"] if c["status"] in ("failed", "partial")]
        return (f"<{self.result['lab']}: {self.result['score']:g}/{self.result['max_score']:g}"
                + (f", lost: {', '.join(lost)}>" if lost else ">"))


def check(lab_id: str | None = None, folder: str | Path = ".", *, course: str | Path | None = None) -> Scorecard:
    """Grade the folder (the notebook's own by default; its lab found from the folder's name), showing
    each stage and build step while it works, and return the scorecard."""
    folder = Path(folder).resolve()
    course_path = Path(course).resolve() if course else default_path()
    lab_id = lab_id or _lab_of(folder, course_path)
    show = _Progress()
    try:
        graded = grade(lab_id, folder, course=course_path, progress=show)
    finally:
        show.close()
    if graded.attempts is None:  # a new grading, not the same files answered again
        graded.attempts = history.record(graded.result, folder)
    return Scorecard(graded.result.to_dict(), graded.attempts)


_watching: dict[Path, threading.Event] = {}


def watch(lab_id: str | None = None, folder: str | Path = ".", *, course: str | Path | None = None,
          show: Callable[[Scorecard], None] | None = None) -> None:
    """Check the folder again whenever one of its files changes, in the background, while the learner
    edits: the scorecard under the cell updates in place (a check running when a file changes is
    stopped and started again). `unwatch()` ends it. `show` replaces the cell's display (tests)."""
    folder = Path(folder).resolve()
    course_path = Path(course).resolve() if course else default_path()
    lab_id = lab_id or _lab_of(folder, course_path)
    unwatch(folder)
    status, card = _handles(show)

    def finished(stdout: str) -> None:
        try:
            document = json.loads(stdout)
        except ValueError:
            status(f"the check printed no result: {stdout[-300:]}")
            return
        path = history.kept(lab_id, folder)
        card(Scorecard(document, history.read(path) if path else None))

    stop = _watching[folder] = threading.Event()
    check = watch_mod.command(course_path, lab_id, folder, as_json=True)
    threading.Thread(target=watch_mod.loop, args=(folder, check, status, finished, stop), daemon=True,
                     name=f"dockerlab-watch-{folder.name}").start()


def unwatch(folder: str | Path = ".") -> bool:
    """Stop watching `folder` (the check running, if any, is stopped and cleans up); False if none was."""
    stop = _watching.pop(Path(folder).resolve(), None)
    if stop is not None:
        stop.set()
    return stop is not None


def _handles(show: Callable[[Scorecard], None] | None) -> tuple[Callable[[str], None], Callable[[Scorecard], None]]:
    """Where the watch says what it does, and where each scorecard goes."""
    if show is not None:
        return lambda line: None, show
    try:
        from IPython.display import HTML, display
    except ImportError:
        return lambda line: print(line, flush=True), lambda card: print(repr(card), flush=True)
    line, scorecard_view = display(HTML(""), display_id=True), display(HTML(""), display_id=True)
    return (lambda text: line.update(HTML(f"<code>{html.escape(text)}</code>")),
            lambda card: scorecard_view.update(card))


def _lab_of(folder: Path, course_path: Path) -> str:
    labs = load(course_path).labs
    for lab in labs:
        if folder.name in (Path(lab.folder).name, lab.id):
            return lab.id
    raise UsageError(f"{folder.name} is not a lab folder; name the lab: %dockerlab check LAB "
                     f"({', '.join(lab.id for lab in labs)})")


class _Progress:
    """One line in the cell's output, updated in place: the stage, and the build step running."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.started = time.monotonic()
        try:
            from IPython.display import HTML, display

            self.handle = display(HTML("<code>grading…</code>"), display_id=True)
            self._html: Callable[[str], Any] = HTML
        except ImportError:
            pass

    def __call__(self, stage: str, detail: str) -> None:
        text = f"{time.monotonic() - self.started:5.1f} s  {stage}" + (f": {detail}" if detail else "")
        if self.handle is not None:
            self.handle.update(self._html(f"<code>{html.escape(text)}</code>"))
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.update(self._html(f"<code>graded in {time.monotonic() - self.started:.1f} s</code>"))


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext graders.notebook` adds the `%dockerlab` magic."""
    ipython.register_magic_function(_magic, magic_kind="line", magic_name="dockerlab")


def _magic(line: str) -> Scorecard | None:
    words = line.split()
    if not words or words[0] not in ("check", "watch", "unwatch") or len(words) > 3:
        print("usage: %dockerlab check [LAB] [PATH]   (the lab of this folder, by default)\n"
              "       %dockerlab watch [LAB] [PATH]   (check again whenever a file changes)\n"
              "       %dockerlab unwatch [PATH]")
        return None
    try:
        if words[0] == "unwatch":
            print("stopped watching" if unwatch(words[1] if len(words) > 1 else ".") else "nothing was watched here")
            return None
        if words[0] == "watch":
            watch(words[1] if len(words) > 1 else None, words[2] if len(words) > 2 else ".")
            return None
        return check(words[1] if len(words) > 1 else None, words[2] if len(words) > 2 else ".")
    except DockerlabError as error:  # a message, never a traceback
        print(f"dockerlab: {error}")
        return None
