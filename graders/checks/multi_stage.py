"""A multi-stage build: two or more stages, a named builder the final stage copies from, a slim final base."""

from graders import image_ref
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class MultiStageParams(Params):
    pass


class MultiStage(Check):
    Params = MultiStageParams
    needs = ("dockerfile",)

    def grade(self, params: MultiStageParams, facts: Facts) -> Outcome:
        dockerfile = gathered(facts.dockerfile)
        evidence = {"stages": [f"line {s.line}: FROM {s.base}" + (f" AS {s.name}" if s.name else "") for s in dockerfile.stages]}
        if len(dockerfile.stages) < 2:
            return Outcome.failed("the Dockerfile has a single stage, so build tools end up in the image", **evidence)
        named = [source.name for _copy, source in dockerfile.copies_from_stages() if source.name]
        slim = image_ref.slim(dockerfile.root_base())
        problems = []
        if not named:
            problems.append("the final stage copies nothing from a named earlier stage (COPY --from=builder ...)")
        if not slim:
            problems.append(f"the final stage's base '{dockerfile.root_base()}' is not slim")
        if not problems:
            return Outcome.passed(f"{len(dockerfile.stages)} stages; the final one copies from '{named[0]}' onto a slim base", **evidence)
        return Outcome.partial(1 - 0.5 * len(problems), "; ".join(problems), **evidence)
