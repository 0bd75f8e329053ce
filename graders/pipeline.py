"""The grading pipeline, top to bottom:

    copy → static → build → inspect → run → probe → train → inside → stop → layers → score
                                       ↘ baseline → cache ↗   (beside the service, in a thread)

(a stage runs only when a criterion of the lab needs what it gathers: Lab 03 trains instead of serving.)
A Compose lab (Lab 04) runs its own sequence instead (graders.compose_stages):

    copy → read → policy → build → images → up → ready → persist → down -v → score

Each stage gathers facts (graders.facts) for the checks to read. A stage the machine cannot
complete leaves its facts `Missing(learner=False)`, and the criteria that need them become
not_gradable; a submission that does not build leaves them `Missing(learner=True)`, and those
criteria fail with the reason. Everything the engine creates is removed when the session ends.
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from graders import __version__
from graders import submission as submission_stages
from graders import course as course_mod
from graders.course import Lab, default_path
from graders.errors import ConfigError, EngineError, UsageError
from graders.facts import Facts, Missing
from graders.results import GradingResult
from graders.scoring import bind, refuse, score, summarize, ungraded

# The engine's side (the Docker SDK, requests, Compose) is imported only once a grading needs the
# engine: a Dockerfile the static stage refuses is answered without loading any of it.

ENGINE_FACTS = {"build", "image", "container", "http", "inside", "stop", "rebuild", "baseline", "efficiency", "job"}
SERVICE_FACTS = {"container", "http", "stop"}

Progress = Callable[[str, str], None]


def grade(lab: Lab, submission: Path, *, course_root: Path | None = None,
          progress: Progress | None = None) -> GradingResult:
    """Grade one submission folder against one lab's rubric (course_root holds the lab's own files)."""
    course_root = course_root or default_path().parent
    say = progress or (lambda stage, detail: None)
    bound = bind(lab)
    needs = {need for item in bound for need in item.check.needs}
    facts = Facts(submission=submission)
    environment: dict = {"dockerlab": __version__}
    problems: list[str] = []
    timings: dict[str, float] = {}

    def stage(name: str, produces: list[str], work: Callable[[], object]) -> object:
        say(name, "")
        started = time.monotonic()
        try:
            return work()
        except Exception as error:
            if not _machine_trouble(error):
                raise
            problems.append(f"{name}: {error}")  # the machine, not the learner
            for fact in produces:
                setattr(facts, fact, Missing(f"not gradable here: {error}", learner=False))
            return None
        finally:
            timings[name] = round(time.monotonic() - started, 2)

    from graders.engine import client as engine_client

    engine_run = engine_client.instance()  # a restart under the grading makes it not gradable
    with tempfile.TemporaryDirectory(prefix="dockerlab-") as tmp:
        context = Path(tmp) / "context"
        stage("copy", ["dockerfile", "compose"], lambda: submission_stages.copy_submission(facts, lab, context))
        if lab.compose:
            refused = _stack(lab, facts, context, Path(tmp), stage, say, environment, problems, course_root)
            say("score", "")
            if _restarted(engine_run):
                return ungraded(lab, submission, RESTARTED, learner=False)
            if refused:
                return refuse(lab, submission, refused, environment, timings)
            return summarize(lab, submission, score(bound, facts, lab.gpu), facts, environment, timings, problems)
        paths = [p for item in bound for p in item.check.context_paths(item.params)]
        stage("static", ["lint", "context"], lambda: submission_stages.static(facts, lab, context, needs, paths))
        decided = isinstance(facts.dockerfile, Missing) and facts.dockerfile.learner
        if decided:  # the static stage has decided: every engine fact is missing for its reason
            submission_stages.not_built(facts, ENGINE_FACTS)
        else:
            from graders import stages
            from graders.engine import gpu
            from graders.engine.session import Session

        def connect():
            client = engine_client.connect()
            info = engine_client.info(client)
            environment.update(info)
            facts.gpu = gpu.detect(info)
            environment["gpu"] = facts.gpu.to_dict()
            if lab.gpu == "require" and facts.gpu.runtime == "none":
                raise UsageError(f"lab {lab.id} must be graded on a machine with a GPU runtime, and this one has "
                                 "none (see `dockerlab doctor`)")
            return client

        client = stage("engine", list(ENGINE_FACTS), connect) if needs & ENGINE_FACTS and not decided else None
        if client is not None:
            builder = _builder(course_root, environment)
            with Session(client) as session:
                bases = _course_bases(course_root)
                build = lambda: stages.build(facts, lab, context, session, builder, say, bases)  # noqa: E731
                stage("build", ["build", "image", "rebuild"], build)
                stage("inspect", ["image"], lambda: stages.inspect(facts, client))

                # Beside the service's start (mostly waiting for it to be healthy): the looks inside
                # the image, in an idle twin, and the builds that share nothing with the service.
                beside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dockerlab-beside")
                looked = beside.submit(stage, "inside", ["inside"], lambda: stages.inside_image(facts, lab, session, bound)) \
                    if "inside" in needs else None
                later = beside.submit(_more_builds, stage, facts, lab, needs, course_root, context, session, builder,
                                      bound, say)
                try:
                    if needs & SERVICE_FACTS:
                        stage("run", ["container", "http"], lambda: stages.run(facts, lab, course_root, session))
                        stage("probe", ["http"], lambda: stages.probe(facts, bound))
                    if "job" in needs and lab.job:
                        stage("train", ["job"], lambda: stages.train(facts, lab, course_root, session, Path(tmp) / "job"))
                    if looked is not None:
                        ask = lambda: stages.inside_service(facts, lab, session, bound, looked.result)  # noqa: E731
                        stage("ask", ["inside"], ask)
                    if "stop" in needs:
                        stage("stop", ["stop"], lambda: stages.stop(facts, session))
                    if "efficiency" in needs:
                        stage("layers", ["efficiency"], lambda: stages.efficiency(facts, session))
                    later.result()
                    looked and looked.result()
                finally:
                    beside.shutdown(wait=False, cancel_futures=True)
                say("cleanup", "")
            problems.extend(session.problems)
        environment["stand_ins"] = facts.stand_ins

    say("score", "")
    if _restarted(engine_run):
        return ungraded(lab, submission, RESTARTED, learner=False)
    criteria = score(bound, facts, lab.gpu)
    return summarize(lab, submission, criteria, facts, environment, timings, problems)


RESTARTED = "the Docker engine restarted while this submission was graded; grade it again"


def _more_builds(stage, facts, lab, needs, course_root, context, session, builder, bound, say) -> None:
    """The lab's comparison build, then the cache check's rebuild (it edits the context)."""
    from graders import stages

    if "baseline" in needs and lab.baseline:
        stage("baseline", ["baseline"], lambda: stages.baseline(facts, lab, course_root, context, session, builder, say))
    if "rebuild" in needs:
        stage("cache", ["rebuild"], lambda: stages.rebuild(facts, lab, context, session, builder, bound, say))


def _machine_trouble(error: Exception) -> bool:
    """Errors of the machine, not the learner: the engine's, and the SDK's or HTTP's when loaded."""
    if isinstance(error, EngineError):
        return True
    kinds = [getattr(sys.modules.get(name), kind, None) for name, kind in
             (("docker.errors", "DockerException"), ("requests.exceptions", "RequestException"))]
    return any(kind is not None and isinstance(error, kind) for kind in kinds)


def _restarted(engine_run: str | None) -> bool:
    """Whether the local engine that answered when the grading began is gone or another now."""
    from graders.engine import client as engine_client

    return engine_run is not None and engine_client.instance() != engine_run


def _course_bases(course_root: Path) -> list[str]:
    """The base images this course provides (`dockerlab images prepare` makes them present)."""
    try:
        return [image.ref for image in course_mod.load(course_root / "course.yml").base_images]
    except ConfigError:
        return []


def _builder(course_root: Path, environment: dict):
    """The builder, with its build sandbox; the environment says what the sandbox enforces."""
    from graders.engine.build import detect_builder, sandboxed

    builder = sandboxed(detect_builder(), lambda: _course_bases(course_root), environment.get("root_dir"))
    environment["builder"] = builder.kind
    environment["builder_detail"] = builder.reason
    environment["build_sandbox"] = {"enforced": builder.cgroup is not None, "detail": builder.sandbox}
    return builder


def _stack(lab: Lab, facts: Facts, context: Path, tmp: Path, stage, say, environment, problems,
           course_root: Path) -> list[str]:
    """A Compose lab: read → policy → build → images → up → ready → persist → down -v.
    Returns the refusals (the stack is then never started)."""
    from graders import compose_stages
    from graders.engine import client as engine_client
    from graders.engine import compose
    from graders.engine.session import Session

    project_hint = "dockerlab-check"  # the model's names are rewritten per run before anything starts
    environment["stand_ins"] = facts.stand_ins
    stage("read", ["compose", "stack"], lambda: compose_stages.read(facts, lab.compose, context, project_hint))
    refused = [str(item) for item in compose_stages.policy(facts, context)]
    if refused:
        return refused

    def connect():
        client = engine_client.connect()
        environment.update(engine_client.info(client))
        environment["compose"] = compose.version()
        return client

    client = stage("engine", ["stack"], connect)
    if client is None:
        return []
    builder = _builder(course_root, environment)
    with Session(client) as session:
        built = stage("build", ["stack"], lambda: compose_stages.build(facts, lab, session, builder, say)) or {}
        left_out = stage("images", ["stack"], lambda: compose_stages.images(facts, client, built)) or {}
        environment["left_out"] = left_out
        stage("up", ["stack"], lambda: compose_stages.run(facts, lab, session, built, left_out, tmp, say, context / ".env"))
        say("cleanup", "")
    environment["stand_ins"] = facts.stand_ins
    problems.extend(session.problems)
    problems.extend(f"'{name}' was not run here: {why}" for name, why in left_out.items())
    return []
