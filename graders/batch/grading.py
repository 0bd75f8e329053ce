"""Grading a batch: a process per submission (-j at a time), each result written atomically the
moment it is done, `--resume` grading only what has no result. Ctrl-C reaches every grading, each
removes what it created, and finished results stay."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from graders import pipeline
from graders.batch import outputs
from graders.batch.archives import Refused, extract
from graders.batch.discover import Submission
from graders.course import Lab
from graders.engine import child
from graders.engine import client as engine_client
from graders.engine.session import sweep_dead
from graders.errors import EngineError
from graders.fingerprint import digest
from graders.scoring import ungraded

if TYPE_CHECKING:
    from distributed import Client


def result_path(out: Path, learner: str) -> Path:
    return out / "results" / f"{learner}.json"


def grade_all(lab: Lab, submissions: list[Submission], out: Path, *, jobs: int, resume: bool, course_root: Path,
              timeout: int, on_done: Callable[[str, dict[str, Any]], None] = lambda learner, result: None,
              cluster: Client | None = None) -> list[str]:
    """Grade what is not yet graded, here (`jobs` at a time) or on a Dask `cluster` (a Client);
    return the learners graded now."""
    (out / "results").mkdir(parents=True, exist_ok=True)
    for stale in (out / "results").glob(".*.json.*"):  # a write a killed run never finished
        stale.unlink(missing_ok=True)
    todo = [s for s in submissions if not resume or needs_grading(out, s)]
    if cluster is not None:
        return _on_cluster(cluster, lab, todo, out, timeout, on_done)
    sweep_leftovers()
    done: list[str] = []
    pool = worker_pool(jobs)
    try:
        futures = {pool.submit(grade_one, lab, s, out, course_root, timeout): s for s in todo}
        for future in as_completed(futures):
            learner = futures[future].learner
            result = future.result()
            done.append(learner)
            on_done(learner, result)
    except KeyboardInterrupt:
        pool.shutdown(wait=True, cancel_futures=True)  # the workers got SIGINT too, and clean up
        raise
    pool.shutdown(wait=True)
    return done


def _on_cluster(client: Client, lab: Lab, todo: list[Submission], out: Path, timeout: int,
                on_done: Callable[[str, dict[str, Any]], None]) -> list[str]:
    """Each submission graded on a worker; its result written here, once, when it comes back."""
    from graders.batch import cluster as cluster_mod  # dask is imported only for a cluster

    fingerprints = {s.learner: digest(s.source) for s in todo}
    started = time.monotonic()
    done: list[str] = []

    def finish(submission: Submission, result: dict[str, Any] | None, reason: str, learner: bool) -> None:
        if result is None:
            result = ungraded(lab, submission.source, reason, learner=learner).to_dict()
        document = {"learner": submission.learner, **result, "submission": str(submission.source),
                    "submission_digest": fingerprints[submission.learner]}
        document.pop("worker", None)
        document.setdefault("timings", {})["total"] = round(time.monotonic() - started, 2)
        _write_atomically(result_path(out, submission.learner), json.dumps(document, indent=2))
        done.append(submission.learner)
        on_done(submission.learner, document)

    try:
        cluster_mod.grade_all(client, lab, todo, timeout=timeout, finish=finish)
    finally:
        sweep_leftovers()  # a local cluster's killed gradings left things on this machine's engine
    return done


def needs_grading(out: Path, submission: Submission) -> bool:
    """For --resume: no result yet, a result that was not gradable (machine trouble, since fixed),
    or a submission that changed since its result was written."""
    try:
        result = json.loads(result_path(out, submission.learner).read_text())
    except (OSError, ValueError):
        return True
    return outputs.verdict(result) == "not gradable" or result.get("submission_digest") != digest(submission.source)


def sweep_leftovers() -> None:
    """Remove what a killed earlier run (kill -9 of the batch or of a worker) left on the engine."""
    try:
        client = engine_client.connect(timeout=30)
    except EngineError:
        return  # each grading says why the engine cannot be used
    sweep_dead(client)


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """The batch's worker processes, forked from a fork server: a fresh process that has loaded the
    grader and the Docker SDK and nothing else. Never forked from this process, whose other threads
    (rich's display, the Go runtime of BuildKit's Dockerfile parser) would be missing in the child:
    a worker forked after the parser had loaded hung in its first parse."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context, initializer=_die_with_batch)


PRELOAD = ["graders.batch.grading", "graders.stages", "graders.compose_stages", "graders.engine.docker_engine"]
"""What every worker needs, loaded once in the fork server (none of it starts Go: the parser loads on first use)."""


def _die_with_batch() -> None:
    """In each worker: when the batch process dies (even by SIGKILL), SIGTERM this worker, whose
    grading then removes what it created."""
    child.preexec()()


def grade_one(lab: Lab, submission: Submission, out: Path, course_root: Path, timeout: int) -> dict[str, Any]:
    """In a worker process: grade one submission and write its result, whatever happens."""
    signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(timeout)
    started = time.monotonic()
    fingerprint = digest(submission.source)  # before grading: a change made meanwhile is graded next time
    with tempfile.TemporaryDirectory(prefix=f"dockerlab-{submission.learner}-") as tmp:
        try:
            folder = submission.source
            if submission.archive:
                folder = extract(submission.source, Path(tmp) / "submission")
            if not folder.is_dir():
                result = ungraded(lab, submission.source, f"no folder {folder.name} in this submission", learner=True)
            else:
                result = pipeline.grade(lab, folder, course_root=course_root)
        except Refused as refused:
            result = ungraded(lab, submission.source, str(refused), learner=True)
        except _TooLong:
            result = ungraded(lab, submission.source, f"grading took longer than {timeout} s", learner=False)
        except Exception as error:  # noqa: BLE001 (an engine hiccup or a bug: this learner is not gradable, the batch goes on)
            result = ungraded(lab, submission.source, f"{type(error).__name__}: {error}", learner=False)
        finally:
            signal.alarm(0)
    document = {"learner": submission.learner, **result.to_dict(), "submission_digest": fingerprint}
    document["timings"]["total"] = round(time.monotonic() - started, 2)
    _write_atomically(result_path(out, submission.learner), json.dumps(document, indent=2))
    return document


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)  # readers see the whole file or none of it


class _TooLong(Exception):
    pass


def _too_long(signum: int, frame: FrameType | None) -> None:
    raise _TooLong()
