"""OCI image labels, set from the build args a CI job passes (org.opencontainers.image.*)."""

from __future__ import annotations

import re

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

ARG = re.compile(r"^\{([A-Z_][A-Z0-9_]*)\}$")


class OciLabelsParams(Params):
    labels: dict[str, str | None]
    """label -> "{ARG}" (it must equal the build arg the grader passed), a literal, or null (set, not empty)."""


class OciLabels(Check):
    Params = OciLabelsParams
    needs = ("image",)

    def grade(self, params: OciLabelsParams, facts: Facts) -> Outcome:
        found = gathered(facts.image).labels
        passed = facts.provided.args if facts.provided else {}
        rows, wrong = [], []
        for label, wanted in params.labels.items():
            value = found.get(label)
            arg = ARG.match(wanted or "")
            expected = passed.get(arg.group(1)) if arg else wanted
            if value is None or not value.strip():
                problem = "not set"
            elif expected is not None and value != expected:
                how = f"the build arg {arg.group(1)} the grader passed" if arg else "the lab's value"
                problem = f"is {value!r}, not {expected!r} ({how}): take it from the build arg, don't write it"
            else:
                problem = ""
            rows.append({"label": label, "value": value, "expected": expected, "problem": problem})
            if problem:
                wrong.append(f"{label} {problem}")
        right = len(rows) - len(wrong)
        if not wrong:
            return Outcome.passed(f"{right} of {len(rows)} labels set, each from its build arg", labels=rows)
        return Outcome.partial(right / len(rows), f"{right} of {len(rows)} labels right; {wrong[0]}", labels=rows)
