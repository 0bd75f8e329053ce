"""VOLUME declared for the folders that live outside the container."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class VolumesDeclaredParams(Params):
    paths: list[str]


class VolumesDeclared(Check):
    Params = VolumesDeclaredParams
    needs = ("image",)

    def grade(self, params: VolumesDeclaredParams, facts: Facts) -> Outcome:
        declared = gathered(facts.image).volumes
        missing = [path for path in params.paths if path not in declared]
        if not missing:
            return Outcome.passed(f"VOLUME {', '.join(params.paths)}", declared=declared)
        return Outcome.partial(1 - len(missing) / len(params.paths), f"no VOLUME for {', '.join(missing)}", declared=declared)
