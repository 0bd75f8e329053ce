"""The image is smaller than the lab's naive build of the same folder; partial credit between bounds."""

from graders.checks.base import Check, Outcome, Params, megabytes
from graders.facts import Facts, gathered


class SizeVsBaselineParams(Params):
    full_at_percent: float = 40
    """Full points when the image is at least this much smaller than the baseline."""
    zero_at_percent: float = 10


class SizeVsBaseline(Check):
    Params = SizeVsBaselineParams
    needs = ("image", "baseline")

    def grade(self, params: SizeVsBaselineParams, facts: Facts) -> Outcome:
        size, naive = gathered(facts.image).size_bytes, gathered(facts.baseline).size_bytes
        reduction = 100 * (1 - size / naive) if naive else 0.0
        span = params.full_at_percent - params.zero_at_percent
        fraction = min(1.0, max(0.0, (reduction - params.zero_at_percent) / span))
        evidence = {"size_bytes": size, "baseline_size_bytes": naive, "reduction_percent": round(reduction, 1)}
        text = f"{megabytes(size)} against {megabytes(naive)} for the naive build: {reduction:.0f}% smaller"
        if fraction >= 1:
            return Outcome.passed(text, **evidence)
        return Outcome.partial(fraction, f"{text}; full points from {params.full_at_percent:.0f}% smaller", **evidence)
