"""Options for the programs the grader starts on a learner's files (Compose, hadolint, the docker CLI):
a memory ceiling for the ones that parse learner input, and death with the grader, so that a
killed grading leaves no build or Compose run going on behind it."""

from __future__ import annotations

import ctypes
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graders.engine import boundary


def program(name: str) -> str | None:
    """A tool the course installs: the one beside this Python (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


@boundary
def version_output(name: str) -> str:
    """What `name --version` prints; "" without the tool, or when it fails or takes over 20 s."""
    path = program(name)
    if not path:
        return ""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


PARSER_MEMORY = 2 * 2**30
"""Address space for a parser of learner input (Compose, hadolint): far above what a sane file needs."""

_PR_SET_PDEATHSIG = 1
try:
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: a forked child only calls it
except (OSError, AttributeError):  # not Linux: the label sweep still removes leftovers
    _PRCTL = None


def preexec(memory: int | None = None, death_signal: int = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn`: the child gets `death_signal` when the grader dies, and at most `memory` bytes."""
    def setup() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return setup
