"""The final stage rests on a pinned (versioned, not `latest`) and slim base image."""

from graders import image_ref
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class BaseImagePinnedParams(Params):
    slim_share: float = 0.5
    """The share of the points for slimness; the rest is for pinning."""


class BaseImagePinned(Check):
    Params = BaseImagePinnedParams
    needs = ("dockerfile",)

    def grade(self, params: BaseImagePinnedParams, facts: Facts) -> Outcome:
        dockerfile = gathered(facts.dockerfile)
        ref = dockerfile.root_base()
        stage = next(s for s in dockerfile.stages if s.base == ref)
        name, tag, _digest = image_ref.split(ref)
        evidence = {"from": ref, "line": stage.line}
        if ref == "scratch":
            return Outcome.passed("the final stage starts from scratch: nothing to pin, nothing extra", **evidence)
        pinned, why = image_ref.pinned(ref)
        slim = image_ref.slim(dockerfile.root_base())
        problems = []
        if not pinned:
            problems.append(f"'{ref}' is not pinned to a version" + (" ('latest' moves)" if tag in (None, "latest") else f" ({why})"))
        if not slim:
            problems.append(f"'{ref}' is not a slim variant")
        fraction = (1 - params.slim_share) * pinned + params.slim_share * slim
        if not problems:
            return Outcome.passed(f"FROM {ref} (line {stage.line}) is pinned and slim", **evidence)
        return Outcome.partial(fraction, f"line {stage.line}: " + "; ".join(problems), **evidence)
