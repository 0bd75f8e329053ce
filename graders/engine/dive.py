"""dive, the image-layer explorer: only `dockerlab doctor` asks for it (the tests compare the grader's
layer figures with its own)."""

from __future__ import annotations

from graders.engine import boundary, child


@boundary
def version() -> str | None:
    """`dive --version`'s first line; None without dive (or when it does not answer in 20 s)."""
    out = child.version_output("dive")
    return out.splitlines()[0] if out else None
