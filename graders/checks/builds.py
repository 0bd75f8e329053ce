"""The image builds."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class Builds(Check):
    needs = ("build",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        build = gathered(facts.build)
        if build.ok:
            return Outcome.passed(f"built in {build.seconds:.1f} s ({build.builder})", seconds=round(build.seconds, 1))
        where = f" at Dockerfile line {build.error_line}" if build.error_line else ""
        tail = build.log.strip().splitlines()[-15:]
        return Outcome.failed(f"the build failed{where}: {build.error}", line=build.error_line, log_tail=tail)
