"""The grading pipeline, top to bottom:

    copy → static → build → inspect → run → probe → train → inside → layers → baseline → cache → score

(a stage runs only when a criterion of the lab needs what it gathers: Lab 03 trains instead of serving.)

Each stage gathers facts (graders.facts) for the checks to read. A stage the machine cannot
complete leaves its facts `Missing(learner=False)`, and the criteria that need them become
not_gradable; a submission that does not build leaves them `Missing(learner=True)`, and those
criteria fail with the reason. Everything the engine creates is removed when the session ends.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from docker.errors import DockerException
from requests.exceptions import RequestException

from graders import __version__, stages
from graders.course import DEFAULT_COURSE, Lab
from graders.engine import client as engine_client
from graders.engine import gpu
from graders.engine.build import detect_builder
from graders.engine.session import Session
from graders.errors import EngineError, UsageError
from graders.facts import Facts, Missing
from graders.results import GradingResult
from graders.scoring import bind, score, summarize

ENGINE_FACTS = {"build", "image", "container", "http", "inside", "rebuild", "baseline", "efficiency", "job"}
SERVICE_FACTS = {"container", "http"}

Progress = Callable[[str, str], None]


def grade(lab: Lab, submission: Path, *, course_root: Path = DEFAULT_COURSE.parent,
          progress: Progress | None = None) -> GradingResult:
    """Grade one submission folder against one lab's rubric (course_root holds the lab's own files)."""
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
        except (EngineError, DockerException, RequestException) as error:  # the machine, not the learner
            problems.append(f"{name}: {error}")
            for fact in produces:
                setattr(facts, fact, Missing(f"not gradable here: {error}", learner=False))
            return None
        finally:
            timings[name] = round(time.monotonic() - started, 2)

    with tempfile.TemporaryDirectory(prefix="dockerlab-") as tmp:
        context = Path(tmp) / "context"
        stage("copy", ["dockerfile"], lambda: stages.copy_submission(facts, lab, context))
        stage("static", ["lint"], lambda: stages.static(facts, lab, context, needs))

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

        client = stage("engine", list(ENGINE_FACTS), connect) if needs & ENGINE_FACTS else None
        if client is not None:
            builder = detect_builder()
            environment["builder"] = builder.kind
            environment["builder_detail"] = builder.reason
            with Session(client) as session:
                build = lambda: stages.build(facts, lab, context, session, builder, say)  # noqa: E731
                stage("build", ["build", "image", "rebuild"], build)
                stage("inspect", ["image"], lambda: stages.inspect(facts, client))
                if needs & SERVICE_FACTS:
                    stage("run", ["container", "http"], lambda: stages.run(facts, lab, course_root, session))
                    stage("probe", ["http"], lambda: stages.probe(facts, bound))
                if "job" in needs and lab.job:
                    stage("train", ["job"], lambda: stages.train(facts, lab, course_root, session, Path(tmp) / "job"))
                if "inside" in needs:
                    stage("inside", ["inside"], lambda: stages.inside(facts, lab, session, bound))
                if "efficiency" in needs:
                    stage("layers", ["efficiency"], lambda: stages.efficiency(facts, session))
                if "baseline" in needs and lab.baseline:
                    baseline = lambda: stages.baseline(facts, lab, course_root, context, session, builder, say)  # noqa: E731
                    stage("baseline", ["baseline"], baseline)
                if "rebuild" in needs:
                    stage("cache", ["rebuild"], lambda: stages.rebuild(facts, lab, context, session, builder, bound, say))
                say("cleanup", "")
            problems.extend(session.problems)
        environment["stand_ins"] = facts.stand_ins

    say("score", "")
    criteria = score(bound, facts, lab.gpu)
    return summarize(lab, submission, criteria, facts, environment, timings, problems)
