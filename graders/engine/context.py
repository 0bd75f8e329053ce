"""(No engine call here: pure functions, beside the SDK whose matcher they use; the static stage
calls them, checks read the fact they make.)

What the docker CLI sends to the engine as the build context: the `.dockerignore` it reads, and
whether a path is left out, matched with docker-py's port of the CLI's own rules (patterns from
the context's root, `**`, `!` exceptions, a folder's pattern covering what is inside it)."""

from __future__ import annotations

from pathlib import Path


def ignore_file(context: Path, dockerfile: str = "Dockerfile") -> Path | None:
    """The ignore file the build uses: `<Dockerfile>.dockerignore` first (BuildKit), then `.dockerignore`."""
    for name in (f"{Path(dockerfile).name}.dockerignore", ".dockerignore"):
        path = context / name
        if path.is_file():
            return path
    return None


def patterns(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def excluded(context: Path, paths: list[str], dockerfile: str = "Dockerfile") -> dict[str, bool]:
    """For each path (relative to the context), whether the build context leaves it out."""
    found = ignore_file(context, dockerfile)
    if found is None:
        return {path: False for path in paths}
    from docker.utils.build import PatternMatcher  # here: loading the course must not import the SDK

    matcher = PatternMatcher(patterns(found))
    return {path: bool(matcher.matches(path)) for path in paths}  # type: ignore[arg-type]  # the stub says PathLike; the SDK takes str
