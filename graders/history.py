"""A learner's history of self-checks: each `dockerlab check` result kept on this machine (the last
50 per lab and folder), so the scorecard can show the score over attempts and what changed since the
last one. Kept outside the submission (it is not part of the work), under $XDG_STATE_HOME/dockerlab;
DOCKERLAB_HISTORY names another folder, or `off`."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.results import GradingResult

KEEP = 50


@dataclass(frozen=True)
class Attempt:
    when: float
    score: float
    max_score: float
    passed: bool
    gradable: bool
    statuses: dict[str, str]

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0


def folder() -> Path | None:
    """Where histories are kept, or None when turned off."""
    chosen = os.environ.get("DOCKERLAB_HISTORY", "")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "dockerlab" / "history"


def record(result: GradingResult, submission: Path) -> list[Attempt]:
    """Add `result` to its history and return the history, oldest first (only `result` when none is kept)."""
    attempt = Attempt(time.time(), result.score, result.max_score, result.passed, result.gradable,
                      {c.id: c.status for c in result.criteria if c.visibility != "hidden"})
    path = kept(result.lab, submission)
    if path is None:
        return [attempt]
    attempts = [*read(path), attempt][-KEEP:]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text("".join(json.dumps(vars(a)) + "\n" for a in attempts))
        temporary.replace(path)
    except OSError:
        return [attempt]  # a read-only home: the check still shows its scorecard
    return attempts


def kept(lab_id: str, submission: Path) -> Path | None:
    """The file that keeps the history of `submission` for `lab_id` (None: histories are off)."""
    where = folder()
    if where is None:
        return None
    return where / f"{lab_id}-{hashlib.sha256(str(submission.resolve()).encode()).hexdigest()[:16]}.jsonl"


def read(path: Path) -> list[Attempt]:
    """The attempts kept in `path`; a line that does not read (an older format, a torn write) is skipped."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    attempts = []
    for line in lines[-KEEP:]:
        try:
            values: dict[str, Any] = json.loads(line)
            attempts.append(Attempt(**values))
        except (ValueError, TypeError):
            continue
    return attempts


def changes(before: Attempt, now: Attempt) -> list[str]:
    """Each criterion whose status changed: `non-root: failed → passed`."""
    found = []
    for criterion, status in now.statuses.items():
        was = before.statuses.get(criterion)
        if was is None:
            found.append(f"{criterion}: new → {status}")
        elif was != status:
            found.append(f"{criterion}: {was} → {status}")
    return found
