"""Dependencies are installed before the code is copied, proved by a rebuild after a code change."""

import re

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

INSTALL = (
    r"(?:^|[\s;&|(/])(?:"
    r"(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)\s+install"  # pip, pip3, pip3.11, python -m pip
    r"|uv\s+(?:pip\s+(?:install|sync)|sync)"  # uv pip install, uv pip sync, uv sync
    r"|poetry\s+(?:install|sync)|pipenv\s+(?:install|sync)|pdm\s+(?:install|sync)"
    r"|(?:conda|mamba|micromamba)\s+(?:install|create|env\s+(?:create|update))"
    r")\b"
)
"""The dependency installs people write: pip in its spellings, uv, Poetry, Pipenv, PDM, conda and mamba."""


class LayerCacheParams(Params):
    install: str = INSTALL
    """A regular expression that finds the dependency-install step."""
    touch: list[str] = ["app/main.py"]
    """Application files the grader changes before rebuilding."""


class LayerCache(Check):
    Params = LayerCacheParams
    needs = ("rebuild",)

    def touches(self, params: LayerCacheParams) -> list[str]:
        return params.touch

    def grade(self, params: LayerCacheParams, facts: Facts) -> Outcome:
        steps = gathered(facts.rebuild).steps
        install = [s for s in steps if re.search(params.install, s.instruction)]
        evidence = {"steps": [f"{'CACHED ' if s.cached else 'rebuilt'} {s.instruction}" for s in steps]}
        if not install:
            return Outcome.failed("no build step installs the dependencies", **evidence)
        if all(s.cached for s in steps):
            return Outcome.failed(
                f"changing {', '.join(params.touch)} changed nothing in the build: the code is not copied "
                "into the image, or .dockerignore leaves it out",
                **evidence,
            )
        rebuilt = [s for s in install if not s.cached]
        if rebuilt:
            return Outcome.failed(
                f"after a change to {', '.join(params.touch)} only, '{rebuilt[0].instruction}' ran again: "
                "the code is copied before the dependencies are installed",
                **evidence,
            )
        return Outcome.passed(
            f"after a change to {', '.join(params.touch)}, the dependency install came from the cache", **evidence
        )
