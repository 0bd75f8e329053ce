"""The grading pipelines, declared as lists of stages that graders.runner runs top to bottom.

An image lab (a Dockerfile: Labs 01-03) and a Compose lab (Lab 04) each have one list. A stage runs
only when its `when` holds (a criterion of the lab needs what it gathers: Lab 03 trains instead of
serving); stages in a lane run beside the main line, in that lane's thread. Each stage gathers facts
(graders.facts) for the checks to read. A stage the machine cannot complete leaves its facts
`Missing(learner=False)`, and the criteria that need them become not_gradable; a submission that
does not build leaves them `Missing(learner=True)`, and those criteria fail with the reason.
Everything the engine creates is removed when the session ends.

The engine's side (the Docker SDK, requests, Compose) is imported only once a grading needs the
engine: a Dockerfile the static stage refuses is answered without loading any of it.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graders import __version__
from graders import course as course_mod
from graders import submission as submission_stages
from graders.course import ImageLab, Lab, StackLab, default_path
from graders.errors import ConfigError, UsageError
from graders.facts import Facts, Missing
from graders.results import Environment, GradingResult
from graders.runner import Grading, Opener, Progress, Stage, run
from graders.scoring import bind, refuse, score, summarize, ungraded


class _LazyModule:
    """A module imported when one of its names is first used."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


if TYPE_CHECKING:
    from graders import compose_stages as stack_work
    from graders import stages as image_work
    from graders.engine.api import Engine
else:  # imported on first use: a Dockerfile the static stage refuses never loads the engine's side
    image_work = _LazyModule("graders.stages")
    stack_work = _LazyModule("graders.compose_stages")

ENGINE_FACTS = ("build", "image", "container", "http", "inside", "stop", "rebuild", "baseline", "efficiency", "job",
                "unmounted", "leaks", "hardened", "sbom", "ci")
SERVICE_FACTS = {"container", "http", "stop"}
RESTARTED = "the Docker engine restarted while this submission was graded; grade it again"


def grade(lab: Lab, submission: Path, *, course_root: Path | None = None,
          progress: Progress | None = None, engine: Opener | None = None) -> GradingResult:
    """Grade one submission folder against one lab's rubric (course_root holds the lab's own files).
    `engine` opens the engine (None: Docker, as this machine's settings point at it)."""
    from graders.engine import client as engine_client

    engine_run = engine_client.instance() if engine is None else None  # a restart under the grading: not gradable
    grading = gather(lab, submission, course_root=course_root, progress=progress, engine=engine)
    grading.say("score", "")
    if engine_run is not None and engine_client.instance() != engine_run:
        return ungraded(lab, submission, RESTARTED, learner=False)
    if grading.refused:
        return refuse(lab, submission, grading.refused, grading.environment, grading.timings)
    return summarize(lab, submission, score(grading.bound, grading.facts, lab.gpu), grading.facts, grading.environment,
                     grading.timings, grading.problems)


def gather(lab: Lab, submission: Path, *, course_root: Path | None = None,
           progress: Progress | None = None, engine: Opener | None = None) -> Grading[Any]:
    """Run the lab's pipeline: the facts its criteria need, with what the stages met on the way."""
    bound = bind(lab)
    with tempfile.TemporaryDirectory(prefix="dockerlab-") as tmp:
        grading: Grading[Any] = Grading(lab, submission, course_root or default_path().parent, bound,
                                        Facts(submission=submission), progress or (lambda stage, detail: None),
                                        Path(tmp) / "context", Path(tmp), Environment(dockerlab=__version__),
                                        {need for item in bound for need in (*item.check.needs, *item.check.uses)},
                                        opener=engine)
        if isinstance(lab, StackLab):
            run(STACK, grading)
        else:
            run(IMAGE, grading)
    grading.environment.stand_ins = grading.facts.stand_ins
    if isinstance(lab, StackLab) and grading.environment.left_out:
        grading.problems.extend(f"'{name}' was not run here: {why}" for name, why in grading.environment.left_out.items())
    return grading


# An image lab: a Dockerfile built, inspected, run, probed, looked into, stopped.
#   copy → static → production → engine → build → inspect → run → probe → train → preempt → ask → stop → layers
#   → unmounted → hardened
#                                     ↘ inside → leaks (looks)   ↘ baseline → sbom → ci → cache (builds)   beside, in threads

def _connected(*names: str) -> Callable[[Grading[Any]], bool]:
    return lambda g: g.connection is not None and (not names or bool(g.needs & set(names)))


IMAGE: list[Stage[ImageLab]] = [
    Stage("copy", ("dockerfile", "compose"), lambda g: submission_stages.copy_submission(g.facts, g.lab, g.context)),
    Stage("static", ("lint", "context"), lambda g: _static(g)),
    Stage("production", ("compose",), lambda g: stack_work.production(g.facts, g.lab, g.context, "dockerlab-check"),
          when=lambda g: g.lab.production is not None and "compose" in g.needs),
    Stage("engine", ENGINE_FACTS, lambda g: _connect(g), when=lambda g: bool(g.needs & set(ENGINE_FACTS)) and not _decided(g)),
    Stage("build", ("build", "image", "rebuild"), lambda g: image_work.build(
        g.facts, g.lab, g.context, g.engine, g.say, _course_bases(g.course_root), g.scratch), when=_connected()),
    Stage("inspect", ("image",), lambda g: image_work.inspect(g.facts, g.engine), when=_connected()),
    # Beside the service's start (mostly waiting for it to be healthy): the looks inside the image,
    # in an idle twin, and the builds that share nothing with the service.
    Stage("inside", ("inside",), lambda g: image_work.inside_image(g.facts, g.lab, g.engine, g.bound),
          when=_connected("inside"), lane="looks"),
    Stage("baseline", ("baseline",), lambda g: image_work.baseline(
        g.facts, g.lab, g.course_root, g.context, g.engine, g.say),
          when=lambda g: _connected("baseline")(g) and bool(g.lab.baseline), lane="builds"),
    Stage("leaks", ("leaks",), lambda g: image_work.leaks(g.facts, g.engine), when=_connected("leaks"), lane="looks"),
    Stage("sbom", ("sbom",), lambda g: image_work.sbom(g.facts, g.lab, g.context, g.engine, g.say, g.scratch),
          when=lambda g: _connected("sbom")(g) and g.lab.sbom is not None, lane="builds"),
    Stage("ci", ("ci",), lambda g: image_work.ci(g.facts, g.lab, g.context, g.engine, g.say),
          when=lambda g: _connected("ci")(g) and g.lab.ci is not None, lane="builds"),
    Stage("cache", ("rebuild",), lambda g: image_work.rebuild(
        g.facts, g.lab, g.context, g.engine, g.bound, g.say), when=_connected("rebuild"), lane="builds"),
    Stage("run", ("container", "http"), lambda g: image_work.run(g.facts, g.lab, g.course_root, g.engine),
          when=_connected(*SERVICE_FACTS)),
    Stage("probe", ("http",), lambda g: image_work.probe(g.facts, g.engine, g.bound), when=_connected(*SERVICE_FACTS)),
    Stage("train", ("job",), lambda g: image_work.train(g.facts, g.lab, g.course_root, g.engine),
          when=lambda g: _connected("job")(g) and g.lab.job is not None),
    Stage("preempt", ("preempt",), lambda g: image_work.preempt(g.facts, g.lab, g.course_root, g.engine),
          when=lambda g: _connected("preempt")(g) and g.lab.job is not None and g.lab.job.preempt is not None),
    Stage("process", ("inside",), lambda g: image_work.inside_service(
        g.facts, g.lab, g.engine, g.bound, lambda: g.results.get("inside")), when=_connected("inside"), after="inside"),
    Stage("stop", ("stop",), lambda g: image_work.stop(g.facts, g.engine), when=_connected("stop")),
    Stage("layers", ("efficiency",), lambda g: image_work.efficiency(g.facts, g.engine), when=_connected("efficiency")),
    Stage("unmounted", ("unmounted",), lambda g: image_work.unmounted(g.facts, g.lab, g.engine, g.bound),
          when=_connected("unmounted")),
    Stage("hardened", ("hardened",), lambda g: image_work.hardened(g.facts, g.lab, g.course_root, g.engine, g.bound),
          when=lambda g: _connected("hardened")(g) and g.lab.production is not None),
]

# A Compose lab: the stack read and judged, refused before anything runs, or built and brought up.
#   copy → read → policy → engine → build → images → up (ready, persist, down -v)

STACK: list[Stage[StackLab]] = [
    Stage("copy", ("dockerfile", "compose"), lambda g: submission_stages.copy_submission(g.facts, g.lab, g.context)),
    Stage("read", ("compose", "stack"), lambda g: stack_work.read(g.facts, g.lab.compose, g.context, "dockerlab-check")),
    Stage("policy", (), lambda g: g.refused.extend(str(item) for item in stack_work.policy(g.facts, g.context))),
    Stage("engine", ("stack",), lambda g: _connect(g)),
    Stage("build", ("stack",), lambda g: stack_work.build(g.facts, g.lab, g.engine, g.say),
          when=_connected()),
    Stage("images", ("stack",), lambda g: _images(g), when=_connected()),
    Stage("up", ("stack",), lambda g: stack_work.run(
        g.facts, g.lab, g.engine, g.results.get("build") or {}, g.environment.left_out or {}, g.scratch, g.say,
        g.context / ".env"), when=_connected()),
]


def _static(g: Grading[ImageLab]) -> None:
    """Lint and read the Dockerfile; when it refuses, every engine fact is missing for its reason."""
    paths = [p for item in g.bound for p in item.check.context_paths(item.params)]
    submission_stages.static(g.facts, g.lab, g.context, g.needs, paths)
    if _decided(g):
        submission_stages.not_built(g.facts, set(ENGINE_FACTS))


def _decided(g: Grading[Any]) -> bool:
    return isinstance(g.facts.dockerfile, Missing) and g.facts.dockerfile.learner


def _connect(g: Grading[Any]) -> None:
    """The engine, what it says of itself, its builder with the build sandbox, and a session whose
    resources are removed when the pipeline ends."""
    opener = g.opener or _docker
    engine = g.cleanup.enter_context(opener(lambda: _course_bases(g.course_root)))
    g.environment.describe_engine(engine.info)
    builder = engine.builder
    g.environment.builder, g.environment.builder_detail = builder.kind, builder.reason
    g.environment.build_sandbox = {"enforced": builder.cgroup is not None, "detail": builder.sandbox}
    if g.lab.kind == "stack":
        g.environment.compose = engine.compose_version()
        g.environment.left_out = {}
    else:
        g.facts.gpu = engine.gpu()
        g.environment.gpu = g.facts.gpu.to_dict()
        if g.lab.gpu == "require" and g.facts.gpu.runtime == "none":
            raise UsageError(f"lab {g.lab.id} must be graded on a machine with a GPU runtime, and this one has "
                             "none (see `dockerlab doctor`)")
    g.connection = engine


def _docker(course_bases: Callable[[], list[str]]) -> Engine:
    from graders.engine.docker_engine import connect

    return connect(course_bases)


def _images(g: Grading[StackLab]) -> None:
    g.environment.left_out = stack_work.images(g.facts, g.engine, g.results.get("build") or {})


_BASES: dict[tuple[str, int], list[str]] = {}


def _course_bases(course_root: Path) -> list[str]:
    """The base images this course provides (`dockerlab images prepare` makes them present); read once
    per version of course.yml (a grading asks twice, a notebook's kernel grades again and again)."""
    path = course_root / "course.yml"
    try:
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        if key not in _BASES:
            _BASES[key] = [image.ref for image in course_mod.load(path).base_images]
        return list(_BASES[key])
    except (ConfigError, OSError):
        return []
