"""Dockerfile features that an engine's own builder may not have, and which engine first has them.

The same Dockerfile must get the same score on every engine. When a build fails on an engine older
than a feature it uses (RUN heredocs on Engine 20.10, say), the learner did nothing wrong: the build
is "not gradable here", never a lost point. A `# syntax=` line brings its own frontend, so then the
engine's built-in one does not decide (and pulling it is the network's business).

Measured on the engines CI runs: Engine 20.10's BuildKit refuses heredocs ("unknown instruction"),
`COPY --link` and `HEALTHCHECK --start-interval` ("Unknown flag"), and builds `RUN --mount` and
`COPY --chmod`; Engine 26.1 and 28.5 build them all. The legacy builder refuses every BuildKit flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from graders.dockerfile import Dockerfile, Instruction


@dataclass(frozen=True)
class Feature:
    name: str
    engine: int
    """The first Docker Engine major version whose built-in Dockerfile frontend builds it."""
    used: Callable[[Instruction], bool]
    buildkit: bool = True
    """Only BuildKit builds it (the legacy builder refuses it on every engine)."""


def _flag(keywords: tuple[str, ...], flag: str) -> Callable[[Instruction], bool]:
    return lambda instruction: instruction.keyword in keywords and flag in instruction.flags


FEATURES = (
    Feature("RUN --mount", 0, _flag(("RUN",), "mount")),
    Feature("COPY --chmod", 0, _flag(("COPY", "ADD"), "chmod")),
    Feature("a heredoc (<<EOF)", 23, lambda instruction: bool(instruction.heredocs)),  # Dockerfile 1.4, BuildKit 0.10
    Feature("COPY --link", 23, _flag(("COPY", "ADD"), "link")),
    Feature("RUN --network", 23, _flag(("RUN",), "network")),
    Feature("HEALTHCHECK --start-interval", 25, _flag(("HEALTHCHECK",), "start-interval"), buildkit=False),  # API 1.44
    Feature("ADD --checksum", 25, _flag(("ADD",), "checksum")),  # Dockerfile 1.6, BuildKit 0.12
)


def major(version: str) -> int | None:
    found = re.match(r"(\d+)\.", version or "")
    return int(found.group(1)) if found else None


def beyond(dockerfile: Dockerfile, engine_version: str, buildkit: bool) -> list[tuple[Instruction, Feature]]:
    """Each instruction that uses a feature this engine's builder lacks, with that feature; none when
    every feature is there, the version is unknown, or a `# syntax=` line picks the frontend."""
    if buildkit and dockerfile.syntax:
        return []
    engine = major(engine_version)
    found = []
    for instruction in dockerfile.instructions:
        for feature in FEATURES:
            old = engine is not None and engine < feature.engine
            if (old or (feature.buildkit and not buildkit)) and feature.used(instruction):
                found.append((instruction, feature))
    return found


def explain(found: list[tuple[Instruction, Feature]], engine_version: str, buildkit: bool) -> tuple[str, str]:
    """Why a failed build that uses them is not the learner's, and what to change on the machine."""
    instruction, feature = found[0]
    more = f" (and {len(found) - 1} more such)" if len(found) > 1 else ""
    if not buildkit and any(feature.buildkit for _, feature in found):
        return (f"not gradable here: line {instruction.line} uses {feature.name}{more}, which needs BuildKit, and this "
                f"machine's builder is the legacy one", "grade where the docker CLI has the buildx plugin")
    newest = max(feature.engine for _, feature in found)
    return (f"not gradable here: line {instruction.line} uses {feature.name}{more}, which Docker Engine {feature.engine} "
            f"and newer build; this engine is {engine_version}", f"grade on Docker Engine {newest} or newer")
