"""From outcomes to points: missing facts, requires, partial credit, and the total."""

from pathlib import Path

from graders.batch.outputs import verdict
from graders.checks.base import Check, Outcome, Params
from graders.course import Criterion, ImageLab
from graders.facts import Missing
from graders.results import Environment
from graders.scoring import Bound, decide, score, summarize
from tests.unit.fakes import facts


class Fixed(Check):
    needs = ("image",)

    def __init__(self, outcome):
        self.outcome = outcome

    def grade(self, params, facts):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def criterion(id_, points=10, **extra):
    return Criterion(id=id_, title=id_, points=points, type="builds", hint=f"fix {id_}", **extra)


def bound(id_, outcome, **extra):
    return Bound(criterion(id_, **extra), Fixed(outcome), Params())


def test_missing_fact_fails_when_the_learner_is_why_and_is_not_gradable_otherwise():
    item = bound("a", Outcome.passed("ok"))
    assert decide(item, facts(image=Missing("did not build", learner=True))).fraction == 0
    assert not decide(item, facts(image=Missing("did not build", learner=True))).not_gradable
    outcome = decide(item, facts(image=Missing("engine gone", learner=False)))
    assert outcome.not_gradable and "engine gone" in outcome.message


def test_a_crashing_check_is_not_gradable_never_a_zero():
    outcome = decide(bound("a", ZeroDivisionError("oops")), facts())
    assert outcome.not_gradable and "internal error" in outcome.message


def test_statuses_points_and_hints():
    results = score([bound("a", Outcome.passed("ok")), bound("b", Outcome.partial(0.25, "some")),
                     bound("c", Outcome.failed("no")), bound("d", Outcome.ungradable("no gpu"))], facts())
    assert [(r.status, r.points) for r in results] == [("passed", 10), ("partial", 2.5), ("failed", 0), ("not_gradable", 0)]
    assert [bool(r.hint) for r in results] == [False, True, True, False]


def test_partial_false_makes_it_all_or_nothing():
    [result] = score([bound("a", Outcome.partial(0.9, "close"), partial=False)], facts())
    assert (result.status, result.points) == ("failed", 0)


def test_requires_skips_until_the_other_passes_and_leaves_it_out_of_the_maximum(tmp_path: Path):
    """One mistake costs its own criterion once: a criterion that requires it is skipped, not zeroed."""
    results = score([bound("a", Outcome.failed("no")), bound("b", Outcome.passed("fine"), requires=["a"])], facts())
    assert (results[1].status, results[1].points, results[1].hint) == ("skipped", 0, "")
    assert "once 'a' passes" in results[1].message
    results = score([bound("a", Outcome.partial(0.5, "half")), bound("b", Outcome.failed("no"), requires=["a"])], facts())
    assert results[1].status == "skipped"
    results = score([bound("a", Outcome.ungradable("?")), bound("b", Outcome.passed("fine"), requires=["a"])], facts())
    assert results[1].status == "not_gradable"
    results = score([bound("a", Outcome.passed("ok")), bound("b", Outcome.failed("no"), requires=["a"])], facts())
    assert results[1].status == "failed"
    lab = ImageLab(id="01-x", title="x", folder="f", solution="s", pass_threshold=70,
                   rubric=[criterion("a", points=20), criterion("b", points=60), criterion("c", points=20)])
    results = score([bound("a", Outcome.failed("no"), points=20), bound("b", Outcome.passed("ok"), points=60),
                     bound("c", Outcome.passed("fine"), points=20, requires=["a"])], facts())
    summary = summarize(lab, tmp_path, results, facts(), Environment(), {}, [])
    assert (summary.score, summary.max_score, summary.percent, summary.passed) == (60, 80, 75, True)


def test_skipped_criteria_count_towards_a_verdict_that_machine_trouble_would_withhold(tmp_path: Path):
    lab = ImageLab(id="01-x", title="x", folder="f", solution="s", pass_threshold=70,
                   rubric=[criterion("a", points=20), criterion("b", points=80)])
    results = score([bound("a", Outcome.failed("no"), points=20),
                     bound("b", Outcome.passed("fine"), points=80, requires=["a"])], facts())
    summary = summarize(lab, tmp_path, results, facts(), Environment(), {}, [])
    assert summary.gradable and not summary.passed and not summary.problems


def test_total_leaves_not_gradable_out_of_the_maximum(tmp_path: Path):
    lab = ImageLab(id="01-x", title="x", folder="f", solution="s", pass_threshold=70, rubric=[criterion("a"), criterion("b")])
    results = score([bound("a", Outcome.passed("ok")), bound("b", Outcome.ungradable("no gpu"))], facts())
    summary = summarize(lab, tmp_path, results, facts(), Environment(), {}, [])
    assert (summary.score, summary.max_score, summary.percent, summary.passed, summary.gradable) == (10, 10, 100, True, True)
    assert verdict(summary.to_dict()) == "passed"


def test_too_little_gradable_gives_no_pass(tmp_path: Path):
    lab = ImageLab(id="01-x", title="x", folder="f", solution="s", pass_threshold=50,
              rubric=[criterion("a", points=10), criterion("b", points=30)])
    results = score([bound("a", Outcome.passed("ok")), bound("b", Outcome.ungradable("no registry"))], facts())
    summary = summarize(lab, tmp_path, results, facts(), Environment(), {}, [])
    assert summary.percent == 100 and not summary.passed and not summary.gradable
    assert "only 10 of 40 points could be graded" in summary.problems[0]
    assert verdict(summary.to_dict()) == "not gradable"  # read from the field, not the sentence
    document = summary.to_dict()
    document["problems"] = []
    assert verdict(document) == "not gradable"
    del document["gradable"]  # a 1.1 document (met by --resume) is still read by its sentence
    assert verdict(document) == "not yet"


def test_nothing_gradable_never_passes(tmp_path: Path):
    lab = ImageLab(id="01-x", title="x", folder="f", solution="s", pass_threshold=0, rubric=[criterion("a")])
    results = score([bound("a", Outcome.ungradable("engine gone"))], facts())
    summary = summarize(lab, tmp_path, results, facts(), Environment(), {}, [])
    assert not summary.passed and not summary.gradable


def test_hadolint_findings_named_by_a_criterion_become_its_evidence():
    from graders.facts import Finding

    lint = [Finding("DL3007", "warning", 4, "Using latest"), Finding("DL3042", "warning", 9, "no cache dir")]
    [result] = score([bound("a", Outcome.failed("latest"), hadolint=["DL3007"])], facts(lint=lint))
    assert result.evidence["hadolint"] == ["line 4 DL3007: Using latest"]
