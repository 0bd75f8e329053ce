"""From facts to points: each criterion's outcome, its status, and the lab's total."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders import checks
from graders.checks.base import Check, Outcome
from graders.course import Criterion, Lab
from graders.facts import Build, Facts, Image, Missing
from graders.layers import Efficiency
from graders.results import UNSCORED, CriterionResult, Environment, GradingResult, ImageSummary, Layer, Status


@dataclass
class Bound:
    """A criterion with its check and validated parameters."""

    criterion: Criterion
    check: Check
    params: Any


def bind(lab: Lab) -> list[Bound]:
    bound = []
    for criterion in lab.rubric:
        check = checks.get(criterion.type)
        bound.append(Bound(criterion, check, check.Params.model_validate(criterion.params)))
    return bound


def decide(item: Bound, facts: Facts) -> Outcome:
    """The check's outcome, or the reason it could not be judged."""
    for need in item.check.needs:
        fact = getattr(facts, need)
        if isinstance(fact, Missing):
            if fact.learner:
                return Outcome.failed(f"{fact.reason} ({fact.fix})", fix=fact.fix) if fact.fix else Outcome.failed(fact.reason)
            return Outcome.ungradable(f"{fact.reason} ({fact.fix})" if fact.fix else fact.reason)
    try:
        return item.check.grade(item.params, facts)
    except Exception as error:  # noqa: BLE001 (a bug in a check must not cost the learner points: not gradable)
        return Outcome.ungradable(f"internal error in check '{item.criterion.type}': {type(error).__name__}: {error}")


def score(bound: list[Bound], facts: Facts, gpu_policy: str = "skip") -> list[CriterionResult]:
    outcomes = {item.criterion.id: decide(item, facts) for item in bound}
    results = []
    for item in bound:
        outcome = _apply_requires(item.criterion, outcomes[item.criterion.id], outcomes)
        if isinstance(outcome, str):
            results.append(_skipped(item.criterion, outcome))
            continue
        if item.criterion.gpu and outcome.not_gradable and gpu_policy == "zero":
            outcome = Outcome.failed(f"{outcome.message} (this lab scores GPU criteria zero without a GPU)")
        results.append(_result(item.criterion, outcome, facts))
    return results


def _apply_requires(criterion: Criterion, outcome: Outcome, outcomes: dict[str, Outcome]) -> Outcome | str:
    """The outcome, or why it waits: a criterion that requires another is judged only once that one
    passes (a cleanliness verdict on an image that does not work would be worth nothing either way),
    and until then it is skipped, left out of the maximum, never a second zero for the same mistake."""
    for needed in criterion.requires:
        other = outcomes[needed]
        if other.not_gradable:
            return Outcome.ungradable(f"depends on '{needed}', which could not be graded here")
        if other.fraction < 1 and not outcome.not_gradable:
            return f"judged once '{needed}' passes: fix that first"
    return outcome


def _result(criterion: Criterion, outcome: Outcome, facts: Facts) -> CriterionResult:
    fraction = outcome.fraction if criterion.partial or outcome.fraction >= 1 else 0.0
    status: Status
    if outcome.not_gradable:
        status = "not_gradable"
    elif fraction >= 1:
        status = "passed"
    elif fraction <= 0:
        status = "failed"
    else:
        status = "partial"
    evidence = dict(outcome.evidence)
    if criterion.hadolint and isinstance(facts.lint, list):
        related = [f"line {f.line} {f.code}: {f.message}" for f in facts.lint if f.code in criterion.hadolint]
        if related:
            evidence["hadolint"] = related
    return CriterionResult(
        id=criterion.id,
        title=criterion.title,
        status=status,
        points=0.0 if outcome.not_gradable else round(fraction * criterion.points, 2),
        max_points=criterion.points,
        message=outcome.message,
        hint=criterion.hint if status in ("failed", "partial") else "",
        evidence=evidence,
        visibility=criterion.visibility,
    )


def _skipped(criterion: Criterion, why: str) -> CriterionResult:
    return CriterionResult(id=criterion.id, title=criterion.title, status="skipped", points=0.0,
                           max_points=criterion.points, message=why, hint="", visibility=criterion.visibility)


def summarize(lab: Lab, submission: Path, criteria: list[CriterionResult], facts: Facts, environment: Environment,
              timings: dict[str, float], problems: list[str]) -> GradingResult:
    gradable = [c for c in criteria if c.status not in UNSCORED]
    max_score = round(sum(c.max_points for c in gradable), 2)
    total = round(sum(c.points for c in gradable), 2)
    percent = round(100 * total / max_score, 1) if max_score else 0.0
    waiting = sum(c.max_points for c in criteria if c.status == "skipped")  # the learner's to unlock, not the machine's
    enough = max_score + waiting >= lab.max_points / 2  # a verdict on a sliver of the rubric would mislead
    if not enough:
        problems = [*problems, f"only {max_score + waiting:g} of {lab.max_points:g} points could be graded on this machine, "
                               "too few for a pass/fail verdict"]
    return GradingResult(
        lab=lab.id,
        submission=str(submission),
        score=total,
        max_score=max_score,
        passed=enough and bool(max_score) and percent >= lab.pass_threshold,
        criteria=criteria,
        image=image_summary(facts.image, facts.efficiency, facts.baseline),
        environment=environment,
        timings=timings,
        percent=percent,
        pass_threshold=lab.pass_threshold,
        problems=problems,
        build=build_summary(facts.build),
        gradable=enough and bool(max_score),
    )


def build_summary(build: Build | Missing, lines: int = 200) -> dict[str, Any] | None:
    if isinstance(build, Missing):
        return None
    return {
        "builder": build.builder,
        "ok": build.ok,
        "seconds": round(build.seconds, 2),
        "error": build.error,
        "error_line": build.error_line,
        "steps": [{"instruction": s.instruction, "cached": s.cached, "failed": s.failed} for s in build.steps],
        "log_tail": build.log.splitlines()[-lines:],
    }


def image_summary(image: Image | Missing, efficiency: Efficiency | Missing | None = None,
                  baseline: Image | Missing | None = None) -> ImageSummary | None:
    if isinstance(image, Missing):
        return None
    wasted = [0] * len(image.history)
    if isinstance(efficiency, Efficiency):
        for layer, index in enumerate(efficiency.history_index):
            if index < len(wasted):
                wasted[index] = efficiency.per_layer[layer]
    layers = [
        Layer(entry.created_by[:200], entry.size_bytes, index < image.base_history_length, wasted[index])
        for index, entry in enumerate(image.history)
    ]
    return ImageSummary(
        image.id, image.size_bytes, image.base_ref, image.base_size_bytes, layers,
        wasted_bytes=efficiency.wasted_bytes if isinstance(efficiency, Efficiency) else None,
        baseline_size_bytes=baseline.size_bytes if isinstance(baseline, Image) else None,
    )


def ungraded(lab: Lab, submission: Path, reason: str, learner: bool) -> GradingResult:
    """A result for a submission that could not be graded at all: every criterion failed with the
    reason when the learner is why (an unsafe archive), not_gradable when the machine is."""
    status: Status = "failed" if learner else "not_gradable"
    criteria = [
        CriterionResult(c.id, c.title, status, 0.0, c.points, reason, c.hint if learner else "", {}, c.visibility)
        for c in lab.rubric
    ]
    return summarize(lab, submission, criteria, Facts(submission=submission), Environment(), {},
                     [] if learner else [reason])


def refuse(lab: Lab, submission: Path, refusals: list[str], environment: Environment, timings: dict[str, float]) -> GradingResult:
    """The stack was not started: every criterion fails with the refusals, which the result lists."""
    reason = "not run: the grader refuses to start this stack (" + "; ".join(refusals)[:400] + ")"
    hint = "Remove what the refusals name: a development stack needs none of it. Then grade again."
    criteria = [CriterionResult(c.id, c.title, "failed", 0.0, c.points, reason, hint, {}, c.visibility) for c in lab.rubric]
    result = summarize(lab, submission, criteria, Facts(submission=submission), environment, timings, [])
    result.refusals = refusals
    return result
