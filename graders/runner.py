"""One small runner for the grading pipelines (graders.pipeline declares them as lists of Stage).

It runs each stage whose `when` holds, says its name, times it, and turns the machine's failures
(graders.engine.machine_trouble) into facts `Missing(learner=False)` for everything the stage was to
produce: the criteria that need them become not_gradable, and the grading goes on. A stage in a
`lane` runs beside the main line in that lane's own thread, after the lane's earlier stages; a stage
`after` another waits for it and finds its result in `grading.results`. What a stage enters into
`grading.cleanup` (the engine session) is closed when the pipeline ends, whatever happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from graders.course import LabBase
from graders.engine import machine_trouble
from graders.facts import Facts, Missing
from graders.results import Environment
from graders.scoring import Bound

if TYPE_CHECKING:
    from graders.engine.api import Engine

L = TypeVar("L", bound=LabBase)

Progress = Callable[[str, str], None]
Opener = Callable[[Callable[[], list[str]]], "Engine"]
"""Opens an engine for one grading; its argument names the course's trusted images (graders.engine.docker_engine.connect)."""


@dataclass
class Grading(Generic[L]):
    """Everything a grading's stages share: what they read, what they fill, what they hold open."""
    lab: L
    submission: Path
    course_root: Path
    bound: list[Bound]
    facts: Facts
    say: Progress
    context: Path
    scratch: Path
    environment: Environment
    needs: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    """Why the grader will not run the submission at all: the pipeline stops there."""
    opener: Opener | None = None
    """How the `engine` stage opens the engine (None: Docker's, graders.engine.docker_engine)."""
    connection: Engine | None = None
    """Set by the `engine` stage; the stages that use it run only once it is (their `when`)."""
    cleanup: ExitStack = field(default_factory=ExitStack)

    @property
    def engine(self) -> Engine:
        if self.connection is None:
            raise RuntimeError("a stage used the engine before the engine stage connected")
        return self.connection


SLOT_WAIT = "waiting for a build slot"
"""The timings' entry (beside each stage's) for the seconds the grading's builds waited for a slot."""
BUILT_AGAIN = "a build stopped beside another, built again alone"
"""The timings' entry for the seconds of build attempts stopped at the disk or time limit while another build
ran: such an attempt is discarded and the build judged alone (graders.engine.build_sandbox)."""


@dataclass(frozen=True)
class Stage(Generic[L]):
    name: str
    produces: tuple[str, ...]
    """The facts it fills: missing for the machine's reason when it cannot."""
    work: Callable[[Grading[L]], Any]
    when: Callable[[Grading[L]], bool] = lambda grading: True
    lane: str | None = None
    after: str | None = None


def run(stages: list[Stage[L]], grading: Grading[L]) -> None:
    lanes: dict[str, ThreadPoolExecutor] = {}
    laned: dict[str, Future[None]] = {}
    interrupted = False
    with grading.cleanup:
        try:
            for stage in stages:
                if grading.refused:
                    break
                if not stage.when(grading):
                    continue
                if stage.after:
                    laned[stage.after].result()
                if stage.lane:
                    lane = lanes.setdefault(stage.lane, ThreadPoolExecutor(1, f"dockerlab-{stage.lane}"))
                    laned[stage.name] = lane.submit(_one, stage, grading)
                else:
                    _one(stage, grading)
            for future in laned.values():
                future.result()
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            # A stage already running beside (a build) finishes before the session removes what the
            # grading made, or what it makes after would be left behind; Ctrl-C does not wait (the
            # next grading removes what a dead grader left).
            for lane in lanes.values():
                lane.shutdown(wait=not interrupted, cancel_futures=True)
            if grading.connection is not None:
                grading.say("cleanup", "")
    if grading.connection is not None:
        grading.problems.extend(grading.connection.problems)
        if grading.connection.waited:
            grading.timings[SLOT_WAIT] = round(grading.connection.waited, 2)
        if grading.connection.discarded:
            grading.timings[BUILT_AGAIN] = round(grading.connection.discarded, 2)


def _one(stage: Stage[L], grading: Grading[L]) -> None:
    grading.say(stage.name, "")
    started = time.monotonic()
    try:
        grading.results[stage.name] = stage.work(grading)
    except Exception as error:
        if not machine_trouble(error):
            raise
        grading.problems.append(f"{stage.name}: {error}")  # the machine, not the learner
        for fact in stage.produces:
            setattr(grading.facts, fact, Missing(f"not gradable here: {error}", learner=False))
    finally:
        grading.timings[stage.name] = round(time.monotonic() - started, 2)
