"""The one runner of both pipelines, on stages made here (no engine)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from graders import course
from graders.errors import EngineError
from graders.facts import Facts, Missing
from graders.results import Environment
from graders.runner import Grading, Stage, run


def grading(tmp_path: Path, **changes) -> Grading:
    lab = course.load().lab("01-basic-dockerfile")
    said = changes.pop("said", [])
    made = Grading(lab, tmp_path, tmp_path, [], Facts(submission=tmp_path), lambda stage, _detail: said.append(stage),
                   tmp_path / "context", tmp_path, Environment())
    for key, value in changes.items():
        setattr(made, key, value)
    return made


def test_stages_run_in_order_when_they_apply_and_are_timed(tmp_path):
    order, said = [], []
    g = grading(tmp_path, said=said)
    run([Stage("a", (), lambda g: order.append("a")),
         Stage("skipped", (), lambda g: order.append("skipped"), when=lambda g: False),
         Stage("b", (), lambda g: order.append("b") or 42)], g)
    assert order == ["a", "b"] and said == ["a", "b"]
    assert set(g.timings) == {"a", "b"} and g.results["b"] == 42


def test_the_machines_failure_makes_the_stages_facts_not_gradable_and_the_grading_goes_on(tmp_path):
    def broken(g):
        raise EngineError("the engine went away")

    g = grading(tmp_path)
    run([Stage("build", ("build", "image"), broken), Stage("after", (), lambda g: "ran")], g)
    assert isinstance(g.facts.build, Missing) and not g.facts.build.learner
    assert "the engine went away" in g.facts.image.reason
    assert g.problems == ["build: the engine went away"] and g.results["after"] == "ran"


def test_a_bug_is_not_swallowed(tmp_path):
    with pytest.raises(ZeroDivisionError):
        run([Stage("oops", ("build",), lambda g: 1 / 0)], grading(tmp_path))


def test_a_refusal_stops_the_pipeline(tmp_path):
    g = grading(tmp_path)
    run([Stage("policy", (), lambda g: g.refused.append("privileged")), Stage("up", (), lambda g: "started")], g)
    assert "up" not in g.results


def test_laned_stages_run_beside_in_order_and_after_waits_for_one(tmp_path):
    events = []

    def slow(name):
        def work(g):
            time.sleep(0.2)
            events.append(name)
            return threading.current_thread().name
        return work

    g = grading(tmp_path)
    run([Stage("look", (), slow("look"), lane="looks"),
         Stage("base", (), slow("base"), lane="builds"), Stage("cache", (), slow("cache"), lane="builds"),
         Stage("main", (), lambda g: events.append("main")),
         Stage("ask", (), lambda g: events.append(f"ask after {g.results['look'][:15]}"), after="look")], g)
    assert events[0] == "main"  # the main line did not wait for the lanes
    assert events.index("base") < events.index("cache") and "ask after dockerlab-looks" in events
    assert g.results["base"].startswith("dockerlab-builds")


def test_a_running_lane_finishes_before_the_session_is_cleaned_even_when_the_main_line_fails(tmp_path):
    """What a build beside makes after the session's cleanup would be left behind on the engine."""
    events = []
    g = grading(tmp_path)
    g.cleanup.callback(lambda: events.append("cleanup"))

    def build(g):
        time.sleep(0.3)
        events.append("built")

    def crash(g):
        raise RuntimeError("a bug in the main line")

    with pytest.raises(RuntimeError):
        run([Stage("baseline", (), build, lane="builds"), Stage("run", (), crash)], g)
    assert events == ["built", "cleanup"]
