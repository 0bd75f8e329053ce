"""Environment variables the image must set (its own or its base's), e.g. for the NVIDIA runtime."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class EnvSetParams(Params):
    names: list[str]


class EnvSet(Check):
    Params = EnvSetParams
    needs = ("image",)

    def grade(self, params: EnvSetParams, facts: Facts) -> Outcome:
        env = gathered(facts.image).env
        missing = [name for name in params.names if not env.get(name)]
        evidence = {name: env.get(name) for name in params.names}
        if not missing:
            return Outcome.passed(", ".join(f"{n}={env[n]}" for n in params.names), **evidence)
        return Outcome.partial(1 - len(missing) / len(params.names), f"not set in the image: {', '.join(missing)}", **evidence)
