"""Bytes the image adds over its base, within a budget; partial credit between two bounds."""

from graders.checks.base import Check, Outcome, Params, linear, megabytes
from graders.facts import Facts, gathered


class SizeAddedParams(Params):
    full_mb: float
    """Full points at or below this many MB added."""
    zero_mb: float
    """No points at or above this many MB added."""


class SizeAdded(Check):
    Params = SizeAddedParams
    needs = ("image",)

    def grade(self, params: SizeAddedParams, facts: Facts) -> Outcome:
        image = gathered(facts.image)
        added = image.added_bytes
        fraction = linear(added / 1e6, params.full_mb, params.zero_mb)
        biggest = sorted(image.history[image.base_history_length :], key=lambda h: -h.size_bytes)[:3]
        evidence = {
            "size_bytes": image.size_bytes,
            "base_size_bytes": image.base_size_bytes,
            "added_bytes": added,
            "biggest_layers": [f"{megabytes(h.size_bytes)}  {h.created_by[:100]}" for h in biggest],
        }
        text = f"{megabytes(added)} added over {image.base_ref} ({megabytes(image.base_size_bytes)})"
        if fraction == 1:
            return Outcome.passed(f"{text}, within {params.full_mb:.0f} MB", **evidence)
        return Outcome.partial(fraction, f"{text}; full points up to {params.full_mb:.0f} MB, none from {params.zero_mb:.0f} MB",
                               **evidence)
