"""hadolint's verdict on the Dockerfile: each error or warning costs a share of the points."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class HadolintCleanParams(Params):
    levels: list[str] = ["error", "warning"]
    ignore: list[str] = []
    per_finding: float = 0.25


class HadolintClean(Check):
    Params = HadolintCleanParams
    needs = ("lint",)

    def grade(self, params: HadolintCleanParams, facts: Facts) -> Outcome:
        counted = [f for f in gathered(facts.lint) if f.level in params.levels and f.code not in params.ignore]
        evidence = {"findings": [f"line {f.line} {f.code} ({f.level}): {f.message}" for f in counted]}
        if not counted:
            return Outcome.passed("hadolint reports no errors or warnings", **evidence)
        first = counted[0]
        more = f" and {len(counted) - 1} more" if len(counted) > 1 else ""
        return Outcome.partial(
            1 - params.per_finding * len(counted),
            f"hadolint: line {first.line} {first.code}: {first.message}{more}",
            **evidence,
        )
