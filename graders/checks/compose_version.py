from __future__ import annotations

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class NoVersionKey(Check):
    """No top-level `version:`: the Compose Specification dropped it and Compose v2 ignores it with a warning."""

    needs = ("compose",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        compose = gathered(facts.compose)
        if "version" in compose.source:
            return Outcome.failed(f"{compose.where('version')}: the file starts with version: {compose.source['version']!r}",
                                  line=compose.line("version"))
        return Outcome.passed("no obsolete version key")
