from __future__ import annotations

from graders.checks._compose import at, first, services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class HealthParams(Params):
    exempt: list[str] = []
    """Services that run to completion and so need no healthcheck."""


class Healthchecks(Check):
    """Every long-running service has a healthcheck: in compose.yaml, or a HEALTHCHECK in its image.
    (Whether it passes is judged when the stack runs.)"""

    Params = HealthParams
    needs = ("compose",)

    def grade(self, params: HealthParams, facts: Facts) -> Outcome:
        compose = gathered(facts.compose)
        judged, missing, unknown = [], [], []
        for name, service in services(compose).items():
            if name in params.exempt:
                continue
            check = service.get("healthcheck") or {}
            if check.get("disable") or (check.get("test") or [""])[0] == "NONE":
                missing.append(f"{at(compose, f'services.{name}.healthcheck')}: {name} turns its healthcheck off")
            elif check.get("test"):
                judged.append(f"{name}: in {compose.file}")
            elif compose.image_healthchecks.get(name):
                judged.append(f"{name}: HEALTHCHECK in its image")
            elif compose.image_healthchecks.get(name) is None and name in compose.image_healthchecks:
                unknown.append(name)
            else:
                missing.append(f"{at(compose, f'services.{name}')}: {name} has none")
        total = len(judged) + len(missing)
        note = f" ({', '.join(unknown)}: image not on this machine, not judged)" if unknown else ""
        if not total:
            return Outcome.ungradable(f"no service could be judged{note}")
        if not missing:
            return Outcome.passed(f"all {total} judged services have a healthcheck{note}", healthchecks=judged)
        return Outcome.partial(len(judged) / total, f"{len(missing)} of {total} services have no healthcheck{note}: {first(missing)}",
                               missing=missing, healthchecks=judged)
