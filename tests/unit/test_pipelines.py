"""Both pipelines (graders.pipeline's IMAGE and STACK) end to end on the fake engine: each stage's
`when`, what it fills, the lanes, a refusal, the machine failing in every stage, and the engine
closed on every path. The real-engine suite (tests/integration) shows what only an engine can."""

from __future__ import annotations

import inspect as inspect_mod
import shutil
from pathlib import Path
from typing import Any

import pytest

from graders import course, pipeline
from graders.engine.api import Engine
from graders.errors import EngineError
from graders.facts import Missing
from tests.unit.fake_engine import FakeEngine

ROOT = Path(__file__).resolve().parents[2]
LABS = ["01-basic-dockerfile", "02-multi-stage", "03-gpu-training", "04-compose-stack"]

# The stages each lab's rubric needs, in the order they start (a laned stage starts in order and
# runs beside the next ones; its time is recorded when it ends).
STAGES = {
    "01-basic-dockerfile": ["copy", "static", "engine", "build", "inspect", "inside", "cache", "run", "probe", "process",
                            "stop"],
    "02-multi-stage": ["copy", "static", "engine", "build", "inspect", "inside", "baseline", "run", "probe", "process",
                       "layers"],
    "03-gpu-training": ["copy", "static", "engine", "build", "inspect", "inside", "train", "preempt", "process"],
    "04-compose-stack": ["copy", "read", "policy", "engine", "build", "images", "up"],
    "05-ship-it": ["copy", "static", "production", "engine", "build", "inspect", "inside", "leaks", "sbom", "ci", "run",
                   "probe", "process", "unmounted", "hardened"],
}


def lab(lab_id: str) -> Any:
    return course.load(ROOT / "course.yml").lab(lab_id)


def gather(lab_id: str, fake: FakeEngine, folder: Path | None = None) -> Any:
    return pipeline.gather(lab(lab_id), folder or ROOT / "solutions" / lab_id, course_root=ROOT,
                           engine=lambda bases: fake)


def copy(lab_id: str, tmp_path: Path) -> Path:
    folder = tmp_path / lab_id
    shutil.copytree(ROOT / "solutions" / lab_id, folder)
    return folder


@pytest.mark.parametrize("lab_id", LABS)
def test_each_lab_runs_the_stages_its_rubric_needs_and_each_fills_its_facts(lab_id):
    fake = FakeEngine()
    grading = gather(lab_id, fake)
    table = pipeline.STACK if lab_id.startswith("04") else pipeline.IMAGE
    assert sorted(grading.timings, key=[s.name for s in table].index) == STAGES[lab_id]
    needed = {fact for item in grading.bound for fact in (*item.check.needs, *item.check.uses)}
    filled = {fact for stage in table if stage.name in grading.timings for fact in stage.produces}
    assert needed <= filled, f"needed, and no stage that ran says it fills them: {needed - filled}"
    for fact in needed:
        value = getattr(grading.facts, fact)
        assert not (isinstance(value, Missing) and value.reason == "not gathered"), fact
    assert not grading.problems and not grading.refused
    assert fake.closed and not fake.created, "the engine is closed and what the grading made is gone"


def test_the_time_builds_waited_for_a_slot_is_in_the_timings_beside_the_stages():
    from graders.runner import SLOT_WAIT

    fake = FakeEngine()
    fake.waited = 12.5  # the engine adds up what each build waited
    grading = gather("01-basic-dockerfile", fake)
    assert grading.timings[SLOT_WAIT] == 12.5 and "build" in grading.timings
    assert SLOT_WAIT not in gather("01-basic-dockerfile", FakeEngine()).timings  # none waited: no entry


def test_a_build_attempt_discarded_for_one_alone_is_in_the_timings():
    from graders.runner import BUILT_AGAIN

    fake = FakeEngine()
    fake.discarded = 31.0
    assert gather("01-basic-dockerfile", fake).timings[BUILT_AGAIN] == 31.0
    assert BUILT_AGAIN not in gather("01-basic-dockerfile", FakeEngine()).timings


def test_every_stage_of_both_tables_is_run_by_some_lab():
    names = {stage.name for stage in [*pipeline.IMAGE, *pipeline.STACK]}
    assert names == {name for stages in STAGES.values() for name in stages}


# (lab, stage, the engine method that fails in it, which call of that method)
TROUBLE = [
    ("01-basic-dockerfile", "build", "build", lambda context, dockerfile, tag, *rest: not tag.endswith("-rebuild")),
    ("01-basic-dockerfile", "inspect", "inspect", lambda *args: True),
    ("01-basic-dockerfile", "inside", "start_idle", lambda *args: True),
    ("01-basic-dockerfile", "cache", "build", lambda context, dockerfile, tag, *rest: tag.endswith("-rebuild")),
    ("01-basic-dockerfile", "run", "watch", lambda *args: True),
    ("01-basic-dockerfile", "probe", "send", lambda *args: True),
    ("01-basic-dockerfile", "process", "ask", lambda container, queries: container.endswith("-service")),
    ("01-basic-dockerfile", "stop", "stop", lambda *args: True),
    ("02-multi-stage", "baseline", "build", lambda context, dockerfile, tag, *rest: tag.endswith("-baseline")),
    ("02-multi-stage", "layers", "layers", lambda *args: True),
    ("03-gpu-training", "train", "run_job", lambda name, *rest: name == "train"),
    ("03-gpu-training", "preempt", "run_and_stop", lambda *args: True),
    ("05-ship-it", "leaks", "leaks", lambda *args: True),
    ("05-ship-it", "sbom", "build", lambda context, dockerfile, tag, *rest: tag.endswith("-sbom")),
    ("05-ship-it", "ci", "run_ci", lambda *args: True),
    ("05-ship-it", "unmounted", "watch", lambda port, sandbox, role="service": role == "bare"),
    ("05-ship-it", "hardened", "watch", lambda port, sandbox, role="service": role == "hardened"),
    ("04-compose-stack", "build", "build", lambda *args: True),
    ("04-compose-stack", "images", "available", lambda *args: True),
    ("04-compose-stack", "up", "up", lambda *args: True),
]


@pytest.mark.parametrize("lab_id, stage, method, when", TROUBLE, ids=[f"{t[0][:2]}-{t[1]}" for t in TROUBLE])
def test_the_machine_failing_in_a_stage_leaves_its_facts_not_gradable_and_the_grading_goes_on(lab_id, stage, method, when):
    fake = FakeEngine(fail={method: when})
    grading = gather(lab_id, fake)
    table = pipeline.STACK if lab_id.startswith("04") else pipeline.IMAGE
    produced = next(s for s in table if s.name == stage).produces
    for fact in produced:
        value = getattr(grading.facts, fact)
        assert isinstance(value, Missing) and not value.learner and "not gradable here" in value.reason, (fact, value)
    assert grading.problems == [f"{stage}: the fake engine failed {method}"]
    assert set(grading.timings) == set(STAGES[lab_id]), "every later stage still ran"
    result = pipeline.grade(lab(lab_id), ROOT / "solutions" / lab_id, course_root=ROOT,
                            engine=lambda bases: FakeEngine(fail={method: when}))
    statuses = {c.id: c.status for c in result.criteria}
    lost = [item.criterion.id for item in grading.bound if set(item.check.needs) & set(produced)]
    assert lost and all(statuses[criterion] == "not_gradable" for criterion in lost), statuses
    assert not any(c.status == "failed" and c.id in lost for c in result.criteria)
    assert fake.closed and not fake.created


def test_an_engine_that_cannot_be_reached_leaves_the_static_criteria_graded():
    def unreachable(bases):
        raise EngineError("no engine answers on /var/run/docker.sock")

    result = pipeline.grade(lab("01-basic-dockerfile"), ROOT / "solutions" / "01-basic-dockerfile", course_root=ROOT,
                            engine=unreachable)
    statuses = {c.id: c.status for c in result.criteria}
    assert statuses["base-image"] == "passed" and statuses["builds"] == "not_gradable"
    assert any("no engine answers" in problem for problem in result.problems)


def test_the_lanes_run_beside_the_main_line_and_the_process_stage_waits_for_the_looks():
    fake = FakeEngine()
    gather("02-multi-stage", fake)
    baseline = [thread for name, thread, args in fake.calls if name == "build" and args[2].endswith("-baseline")]
    assert baseline == ["dockerlab-builds_0"]
    assert fake.thread_of("start_idle") == {"dockerlab-looks_0"}
    assert fake.thread_of("watch") == {"MainThread"}
    asked = [args[0] for name, _thread, args in fake.calls if name == "ask"]
    assert asked == [fake.name("idle"), fake.name("service")], "the twin is asked before the running service"


def test_a_stack_the_policy_refuses_never_reaches_the_engine(tmp_path):
    folder = copy("04-compose-stack", tmp_path)
    compose = folder / "compose.yaml"
    compose.write_text(compose.read_text().replace("services:\n", "services:\n  sneaky:\n    image: redis:8.0\n"
                                                                  "    privileged: true\n", 1))
    fake = FakeEngine()
    result = pipeline.grade(lab("04-compose-stack"), folder, course_root=ROOT, engine=lambda bases: fake)
    assert any("privileged" in refusal for refusal in result.refusals)
    assert not fake.opened and not fake.calls


def test_a_dockerfile_that_does_not_parse_never_reaches_the_engine(tmp_path):
    folder = copy("01-basic-dockerfile", tmp_path)
    (folder / "Dockerfile").write_text("RUN pip install fastapi\nFROM python:3.11-slim\n")
    fake = FakeEngine()
    grading = gather("01-basic-dockerfile", fake, folder)
    assert "engine" not in grading.timings and not fake.opened
    assert isinstance(grading.facts.image, Missing) and grading.facts.image.learner


def test_a_build_that_fails_is_the_learners_and_nothing_runs():
    fake = FakeEngine(build_ok=False)
    grading = gather("01-basic-dockerfile", fake)
    assert isinstance(grading.facts.image, Missing) and grading.facts.image.learner
    assert not fake.called("start") and not fake.called("start_idle")
    assert fake.closed


@pytest.mark.parametrize("error", [KeyError("a bug in a stage"), KeyboardInterrupt()])
def test_the_engine_is_closed_when_a_bug_or_ctrl_c_stops_the_grading(error):
    fake = FakeEngine()

    def watch(port, sandbox, role="service"):
        raise error

    fake.watch = watch  # type: ignore[method-assign]
    with pytest.raises(type(error)):
        gather("01-basic-dockerfile", fake)
    assert fake.closed and not fake.created


@pytest.mark.parametrize("engine_class", ["fake", "docker"])
def test_the_fake_and_the_real_engine_keep_the_protocols_methods(engine_class):
    if engine_class == "docker":
        from graders.engine.docker_engine import DockerEngine as implementation
    else:
        implementation = FakeEngine
    declared = {name: member for name, member in vars(Engine).items()
                if callable(member) and (not name.startswith("_") or name in ("__enter__", "__exit__"))}
    assert len(declared) > 30
    for name, member in declared.items():
        mine = getattr(implementation, name, None)
        assert mine is not None, f"{implementation.__name__} lacks {name}"
        wanted = list(inspect_mod.signature(member).parameters)
        assert list(inspect_mod.signature(mine).parameters) == wanted, name
