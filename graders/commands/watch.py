"""Checking again whenever a file of the submission changes: `dockerlab check LAB [PATH] --watch`,
and `%dockerlab watch` in a notebook (graders.notebook).

Each check is `python -m graders check` in a child process, so that a change while it runs can stop
it: the child gets SIGTERM, which its session turns into the usual cleanup (nothing it built or
started is left), and a new check starts once the files have stopped changing for a moment. Saving
the notebook (its outputs) changes nothing the grader judges and does not count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from graders.fingerprint import NOTEBOOK_FILES

POLL_SECONDS = 0.3
QUIET_SECONDS = 0.6
"""How long the files must stay unchanged before a check starts (an editor writes a file in steps)."""
STOP_SECONDS = 90
"""How long a stopped check may take to remove what it made before it is killed."""

Signature = tuple[tuple[str, int, int], ...]


class Stopped(Exception):
    """The watch was asked to stop (the notebook's `%dockerlab unwatch`)."""


def signature(folder: Path) -> Signature:
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


def settled(folder: Path, since: Signature, sleep: Callable[[float], None] = time.sleep) -> Signature:
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


def command(course_path: Path | None, lab_id: str, submission: Path, as_json: bool = False) -> list[str]:
    return [sys.executable, "-m", "graders", *(["--course", str(course_path)] if course_path else []),
            "check", lab_id, str(submission), *(["--json"] if as_json else [])]


def loop(folder: Path, check: list[str], say: Callable[[str], None],
         finished: Callable[[str], None] | None = None, stop: threading.Event | None = None) -> None:
    """Check, wait for a change, check again, until `stop` is set (or Ctrl-C). `finished` gets what a
    check that ran to its end printed on stdout; without it, the check prints where this process does."""
    stop = stop or threading.Event()

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped

    current = signature(folder)
    try:
        while True:
            say(f"checking {folder}")
            with tempfile.TemporaryFile("w+") as out:
                child = subprocess.Popen(check, stdout=out if finished else None)
                changed = _run_until_changed(child, folder, current, sleep)
                if changed is None and finished:
                    out.seek(0)
                    finished(out.read())
            if changed is not None:
                say("a file changed: this check is stopped and a new one starts")
                current = changed
                continue
            say(f"watching {folder}: the next check starts when a file changes")
            current = settled(folder, current, sleep)
    except Stopped:
        return


def main(*, course_path: Path | None, lab_id: str, submission: Path) -> int:
    """`dockerlab check --watch`: each check prints its own scorecard; Ctrl-C ends it (the child
    got the same Ctrl-C and cleans up by itself)."""
    try:
        loop(submission, command(course_path, lab_id, submission),
             lambda line: print(f"{line} (Ctrl-C to stop)", file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        return 0
    return 0


def _run_until_changed(child: subprocess.Popen[bytes], folder: Path, since: Signature,
                       sleep: Callable[[float], None]) -> Signature | None:
    """Wait for the check; when a file changes first (or the watch stops), stop it (SIGTERM: its
    cleanup runs) and return the files' new state once settled. None when the check finished."""
    try:
        while child.poll() is None:
            sleep(POLL_SECONDS)
            if signature(folder) != since:
                _stop(child)
                return settled(folder, since, sleep)
    except Stopped:
        _stop(child)
        raise
    return None


def _stop(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
