from __future__ import annotations

from graders.checks._compose import services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class ServicesParams(Params):
    services: list[str]


class ComposeServices(Check):
    """The stack defines every service the lab asks for (profiles not active by default do not count)."""

    Params = ServicesParams
    needs = ("compose",)

    def grade(self, params: ServicesParams, facts: Facts) -> Outcome:
        present = services(gathered(facts.compose))
        missing = [name for name in params.services if name not in present]
        found = len(params.services) - len(missing)
        if not missing:
            return Outcome.passed(f"all {found} services are defined: {', '.join(params.services)}", services=sorted(present))
        return Outcome.partial(found / len(params.services), f"missing service(s): {', '.join(missing)}",
                               missing=missing, services=sorted(present))
