"""Few bytes wasted across the layers the submission added (files written in one layer, then
overwritten or deleted), as dive counts them. Waste inside the base image is reported, not scored:
the learner cannot change it."""

from graders.checks.base import Check, Outcome, Params, linear, megabytes
from graders.facts import Facts, gathered


class LayerEfficiencyParams(Params):
    full_mb: float = 5
    zero_mb: float = 50


class LayerEfficiency(Check):
    Params = LayerEfficiencyParams
    needs = ("efficiency", "image")

    def grade(self, params: LayerEfficiencyParams, facts: Facts) -> Outcome:
        report = gathered(facts.efficiency)
        base_layers = gathered(facts.image).base_history_length
        added = sum(w for w, index in zip(report.per_layer, report.history_index, strict=False) if index >= base_layers)
        evidence = {
            "wasted_bytes_added_layers": added,
            "wasted_bytes_whole_image": report.wasted_bytes,
            "efficiency_score": round(report.score, 4),
            "worst": [f"{megabytes(size)} in {copies} copies: /{path}" for path, copies, size in report.offenders[:5]],
        }
        fraction = linear(added / 1e6, params.full_mb, params.zero_mb)
        text = f"{megabytes(added)} wasted across the layers you added ({megabytes(report.wasted_bytes)} in the whole image)"
        if report.offenders and fraction < 1:
            path, copies, size = report.offenders[0]
            text += f"; worst: /{path}, {copies} copies, {megabytes(size)}"
        if fraction >= 1:
            return Outcome.passed(text, **evidence)
        return Outcome.partial(fraction, f"{text}; full points up to {params.full_mb:.0f} MB", **evidence)
