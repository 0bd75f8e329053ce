from __future__ import annotations

from graders.checks._compose import at, first, services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class DependsParams(Params):
    edges: dict[str, list[str]]
    """service -> the services it must wait for until they are healthy."""


class DependsHealthy(Check):
    """Startup order that matters is declared with `depends_on` and `condition: service_healthy`."""

    Params = DependsParams
    needs = ("compose",)

    def grade(self, params: DependsParams, facts: Facts) -> Outcome:
        present = services(gathered(facts.compose))
        good, problems = [], []
        for name, needed in params.edges.items():
            declared = (present.get(name) or {}).get("depends_on") or {}
            for other in needed:
                condition = (declared.get(other) or {}).get("condition")
                where = at(gathered(facts.compose), f"services.{name}.depends_on")
                if condition == "service_healthy":
                    good.append(f"{name} → {other}")
                elif condition:
                    problems.append(f"{where}: {name} waits for {other} only until '{condition}', not until it is healthy")
                else:
                    problems.append(f"{where if declared else name}: {name} does not wait for {other}")
        total = len(good) + len(problems)
        if not problems:
            return Outcome.passed(f"all {total} dependencies wait for a healthy service", edges=good)
        return Outcome.partial(len(good) / total, f"{len(problems)} of {total} dependencies do not wait for health: {first(problems)}",
                               problems=problems, edges=good)
