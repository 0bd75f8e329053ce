"""`dockerlab check LAB [PATH] --watch`: check again whenever a file of the submission changes.

Each check is `python -m graders check` in a child process, so that a change while it runs can stop
it: the child gets SIGTERM, which its session turns into the usual cleanup (nothing it built or
started is left), and a new check starts once the files have stopped changing for a moment. Saving
the notebook (its outputs) changes nothing the grader judges and does not count. Ctrl-C ends it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from graders.notebook import NOTEBOOK_FILES

POLL_SECONDS = 0.3
QUIET_SECONDS = 0.6
"""How long the files must stay unchanged before a check starts (an editor writes a file in steps)."""
STOP_SECONDS = 90
"""How long a stopped check may take to remove what it made before it is killed."""


def signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the submission's files: cheap enough to poll."""
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.endswith(NOTEBOOK_FILES) and not f.startswith(".git"))
        for name in sorted(files):
            if name.endswith(NOTEBOOK_FILES):
                continue
            path = Path(root) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            found.append((str(path.relative_to(folder)), info.st_size, info.st_mtime_ns))
    return tuple(found)


def settled(folder: Path, since: tuple[tuple[str, int, int], ...], sleep: Callable[[float], None] = time.sleep
            ) -> tuple[tuple[str, int, int], ...]:
    """Wait for a change from `since`, then for the files to stay unchanged for QUIET_SECONDS."""
    current = since
    while current == since:
        sleep(POLL_SECONDS)
        current = signature(folder)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_SECONDS:
        sleep(POLL_SECONDS)
        latest = signature(folder)
        if latest != current:
            current, quiet_since = latest, time.monotonic()
    return current


def main(*, course_path: Path | None, lab_id: str, submission: Path, say: Callable[[str], None] | None = None) -> int:
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    command = [sys.executable, "-m", "graders", *(["--course", str(course_path)] if course_path else []),
               "check", lab_id, str(submission)]
    current = signature(submission)
    try:
        while True:
            say(f"checking {submission} (watching for changes; Ctrl-C to stop)")
            child = subprocess.Popen(command)
            stopped = _run_until_changed(child, submission, current)
            if stopped is not None:
                say("a file changed: this check is stopped and a new one starts")
                current = stopped
                continue
            say(f"watching {submission}: the next check starts when a file changes")
            current = settled(submission, current)
    except KeyboardInterrupt:  # the child got the same Ctrl-C and cleans up by itself
        return 0


def _run_until_changed(child: subprocess.Popen[bytes], folder: Path,
                       since: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, int, int], ...] | None:
    """Wait for the check; when a file changes first, stop it (SIGTERM: its cleanup runs) and return
    the files' new state once settled. None when the check finished."""
    while child.poll() is None:
        time.sleep(POLL_SECONDS)
        if signature(folder) != since:
            child.terminate()
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            return settled(folder, since, lambda seconds: time.sleep(seconds))
    return None
