"""Helpers shared by the Compose checks (Lab 04)."""

from __future__ import annotations

from typing import Any

from graders.facts import ComposeFile


def services(compose: ComposeFile) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose.model.get("services") or {}
    return found


def at(compose: ComposeFile, path: str) -> str:
    """`compose.yaml:12 services.api.image`, the way learners find it."""
    return f"{compose.where(path)} {path}"


def first(items: list[str]) -> str:
    """The first finding, and how many more there are: enough for a scorecard line."""
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return f"{items[0]}{more}" if items else ""
