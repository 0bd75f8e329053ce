"""An opt-in leaderboard of a batch (course.yml: a lab's `leaderboard`): among the submissions that
passed, the smallest image added over its base, the fastest rebuild after a code change, the fewest
bytes wasted across layers. Pseudonymous by default: each learner's name is replaced by a pseudonym
keyed by a secret kept in the batch's output folder (stable across --resume; only the instructor,
who has the folder, can tell who is who). It never changes a grade."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.course import Leaderboard

KEY_FILE = ".leaderboard-key"
SHOWN = 10


@dataclass(frozen=True)
class Metric:
    title: str
    unit: str
    value: Callable[[dict[str, Any]], float | None]
    """The submission's figure (lower is better), or None when its result does not have it."""


def _added_mb(result: dict[str, Any]) -> float | None:
    image = result.get("image")
    return round((image["size_bytes"] - image["base_size_bytes"]) / 1e6, 1) if image else None


def _rebuild_s(result: dict[str, Any]) -> float | None:
    seconds = (result.get("timings") or {}).get("cache")
    return round(seconds, 1) if seconds is not None else None


def _wasted_mb(result: dict[str, Any]) -> float | None:
    wasted = (result.get("image") or {}).get("wasted_bytes")
    return round(wasted / 1e6, 1) if wasted is not None else None


METRICS = {
    "image-added": Metric("Smallest image added over its base", "MB", _added_mb),
    "rebuild": Metric("Fastest rebuild after a code change", "s", _rebuild_s),
    "wasted": Metric("Fewest bytes wasted across layers", "MB", _wasted_mb),
}


@dataclass(frozen=True)
class Entry:
    learner: str
    shown_as: str
    value: float


def standings(results: list[dict[str, Any]], spec: Leaderboard, key: bytes) -> dict[str, list[Entry]]:
    """Metric id -> the passing submissions that have the figure, best first."""
    board: dict[str, list[Entry]] = {}
    for metric_id in spec.metrics:
        metric = METRICS[metric_id]
        entries = [Entry(r["learner"], _name(r["learner"], spec, key), value) for r in results
                   if r["passed"] and r.get("gradable", True) and (value := metric.value(r)) is not None]
        board[metric_id] = sorted(entries, key=lambda entry: (entry.value, entry.shown_as))
    return board


def key(out: Path) -> bytes:
    """The batch's pseudonym key: made once, kept in the output folder, readable by its owner only."""
    path = out / KEY_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(16))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def pseudonym(learner: str, key: bytes) -> str:
    return "learner-" + hmac.new(key, learner.encode(), hashlib.sha256).hexdigest()[:6]


def _name(learner: str, spec: Leaderboard, key: bytes) -> str:
    return learner if spec.names == "learners" else pseudonym(learner, key)


def gradescope(result: dict[str, Any], spec: Leaderboard) -> list[dict[str, Any]]:
    """The submission's figures for Gradescope's `leaderboard` field (it shows the names learners chose)."""
    if not result["passed"]:
        return []
    figures = [(METRICS[m], METRICS[m].value(result)) for m in spec.metrics]
    return [{"name": f"{metric.title} ({metric.unit})", "value": value, "order": "asc"}
            for metric, value in figures if value is not None]


def place(board: dict[str, list[Entry]], learner: str) -> list[str]:
    """Where `learner` stands, one line per metric, for their own feedback page."""
    lines = []
    for metric_id, entries in board.items():
        for rank, entry in enumerate(entries, 1):
            if entry.learner == learner:
                metric = METRICS[metric_id]
                lines.append(f"{metric.title}: {entry.value:g} {metric.unit}, place {rank} of {len(entries)} "
                             f"(shown as {entry.shown_as})")
    return lines
