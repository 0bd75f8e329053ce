"""Grading a batch on a Dask `distributed` cluster: one task per submission, on workers that each
have a Docker engine (`dockerlab worker`), scheduled by the resources they declare.

The client (`dockerlab grade --cluster ...`) sends each submission to a worker as bytes (a folder
as a tar, an archive as it is, both bounded), the worker grades it in a process of its own with its
own copy of the course (`dockerlab check --json`), and the result comes back. Only the client
writes results, atomically, so a lost worker never leaves half a result: Dask runs a lost task
again elsewhere, and a result that says the worker's machine was at fault is tried once more on
another worker.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import CancelledError
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graders.batch.archives import MAX_BYTES, Refused, extract
from graders.batch.discover import Submission
from graders.course import COURSE_VARIABLE as COURSE_ENV  # the course.yml a worker grades with
from graders.course import Lab, default_path
from graders.engine import child
from graders.errors import DockerlabError, UsageError

if TYPE_CHECKING:
    from distributed import Client
    from distributed.security import Security

DOCKER = "docker"
GPU = "gpu"


def connect(address: str, security: Security | None = None, course: Path | None = None) -> Client:
    """A Dask client: `local:N` starts a LocalCluster of N single-threaded worker processes, each
    declaring one `docker` slot and grading with `course`; `tcp://` or `tls://HOST:PORT` joins an
    instructor's scheduler (whose workers grade with their own copy of the course)."""
    from distributed import Client, LocalCluster

    if course is not None:
        os.environ[COURSE_ENV] = str(course.resolve())  # inherited by the local worker processes

    if address.startswith("local:"):
        try:
            count = int(address.split(":", 1)[1])
        except ValueError:
            raise UsageError(f"--cluster {address}: write local:N, N the number of workers") from None
        cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, resources={DOCKER: 1},
                               dashboard_address=None, silence_logs=40)
        return Client(cluster)
    if not address.startswith(("tcp://", "tls://")):
        raise UsageError(f"--cluster {address}: expected local:N, tcp://HOST:PORT or tls://HOST:PORT")
    try:
        return Client(address, security=security, timeout=30)
    except (OSError, TimeoutError) as error:
        raise UsageError(f"no Dask scheduler answers at {address} ({error})") from None


def needs(lab: Lab, client: Client) -> dict[str, int]:
    """The resources one grading of `lab` asks for: a GPU only when the lab has GPU criteria and the
    cluster has a GPU worker (otherwise those criteria are not gradable, as on one machine)."""
    wanted = {DOCKER: 1}
    if any(criterion.gpu for criterion in lab.rubric):
        workers = client.scheduler_info().get("workers", {}).values()
        if any(worker.get("resources", {}).get(GPU) for worker in workers):
            wanted[GPU] = 1
    return wanted


def pack(submission: Submission) -> bytes:
    """The submission as bytes to send: an archive as it is, a folder as a tar (links kept as links)."""
    if submission.archive:
        data = submission.source.read_bytes()
    else:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tarred:
            tarred.add(submission.source, arcname=submission.learner, recursive=True)
        data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        raise Refused(f"{submission.source.name} is over {MAX_BYTES // 2**20} MiB; leave data and models out")
    return data


def grade_task(lab_id: str, learner: str, name: str, data: bytes, archive: bool, timeout: int) -> dict[str, Any]:
    """On a worker: unpack the submission, grade it with this worker's course in a process of its own,
    and return the result document with where it ran. Never raises for the learner's sake."""
    from distributed import get_worker

    from graders.batch.grading import sweep_leftovers

    where = get_worker().address
    sweep_leftovers()  # what a grading on this machine left when its worker was killed
    course = default_path()  # $DOCKERLAB_COURSE, which connect() set for local workers
    with tempfile.TemporaryDirectory(prefix=f"dockerlab-{learner}-") as tmp:
        folder = Path(tmp) / "submission"
        try:
            if archive:
                (Path(tmp) / name).write_bytes(data)
                folder = extract(Path(tmp) / name, Path(tmp) / "unpacked")
            else:
                with tarfile.open(fileobj=io.BytesIO(data)) as tarred:
                    tarred.extractall(folder, filter="data")  # links may not leave the folder
                folder = folder / learner
        except (Refused, tarfile.TarError, OSError) as error:
            return {"refused": str(error), "worker": where}
        document = _check(course, lab_id, folder, timeout)
    document["worker"] = where
    return document


def _check(course: Path, lab_id: str, folder: Path, timeout: int) -> dict[str, Any]:
    """`dockerlab check --json` in its own process group: SIGTERM at the time limit lets it clean up."""
    command = [sys.executable, "-m", "graders", "--course", str(course), "check", lab_id, str(folder), "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=child.preexec())  # dies (cleanly) with the worker
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        return {"machine": f"grading took longer than {timeout} s"}
    try:
        return {"result": json.loads(out)}
    except ValueError:
        last = (err.strip().splitlines() or ["no output"])[-1]
        return {"machine": f"the grader failed on this worker: {last[:300]}"}


def grade_all(client: Client, lab: Lab, todo: list[Submission], *, timeout: int,
              finish: Callable[[Submission, dict[str, Any] | None, str, bool], None],
              task: Callable[..., dict[str, Any]] | None = None) -> None:
    """Submit every submission; `finish(submission, result, reason, learner)` is called once each,
    with a result document, or with the reason it could not be graded (and whose fault that is).
    `task` stands in for grade_task in tests."""
    task = task or grade_task
    from distributed import as_completed

    resources = needs(lab, client)
    futures = {}
    for submission in todo:
        future = client.submit(task, lab.id, submission.learner, submission.source.name, pack(submission),
                               submission.archive, timeout, resources=resources, key=f"grade-{submission.learner}-{time.time_ns()}",
                               pure=False)
        futures[future] = (submission, 1)
    pending = as_completed(list(futures))
    for future in pending:
        submission, attempt = futures.pop(future)
        try:
            answer = future.result()
        except (CancelledError, OSError, TimeoutError) as error:  # the scheduler is gone: stop, keep what came back
            raise SchedulerLost(f"{type(error).__name__}: {error}") from error
        except Exception as error:  # noqa: BLE001 (the task died with every worker it was given: Dask's KilledWorker)
            finish(submission, None, f"no worker could grade it: {type(error).__name__}: {error}", False)
            continue
        if "refused" in answer:
            finish(submission, None, answer["refused"], True)
        elif "result" in answer and not _machine_trouble(answer["result"]):
            finish(submission, answer["result"], "", False)
        elif attempt == 1 and len(client.scheduler_info().get("workers", {})) > 1:
            others = [w for w in client.scheduler_info()["workers"] if w != answer["worker"]]
            again = client.submit(task, lab.id, submission.learner, submission.source.name, pack(submission),
                                  submission.archive, timeout, resources=resources, workers=others,
                                  allow_other_workers=False, pure=False,
                                  key=f"grade-{submission.learner}-{time.time_ns()}")
            futures[again] = (submission, 2)
            pending.add(again)
        elif "result" in answer:
            finish(submission, answer["result"], "", False)
        else:
            finish(submission, None, answer["machine"], False)


class SchedulerLost(DockerlabError):
    """The connection to the Dask scheduler broke off; results that came back are written."""


def _machine_trouble(result: dict[str, Any]) -> bool:
    from graders.batch.outputs import verdict

    return verdict(result) == "not gradable"


def close(client: Client) -> None:
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def start_worker(scheduler: str, *, resources: dict[str, float], course: Path | None, security: Security | None = None,
                 name: str | None = None) -> None:
    """`dockerlab worker`: check this machine's engine, prepare the course's base images, remove what
    a killed run of its own left, then serve gradings until stopped (Ctrl-C)."""
    import asyncio

    from distributed import Nanny

    from graders import course as course_mod
    from graders.batch.grading import sweep_leftovers
    from graders.commands import doctor
    from graders.engine import client as engine_client
    from graders.engine import images

    course_path = (course or course_mod.default_path()).resolve()
    loaded = course_mod.load(course_path)
    engine = engine_client.connect(timeout=60)
    for item in doctor.gather(course_path):  # the machine check an instructor would run, said in the log
        if item.name.startswith("image "):
            continue  # prepared just below
        mark = "ok" if item.ok else ("FAILED" if item.required or item.red else "missing")
        print(f"{mark:7} {item.name}: {item.detail}" + ("" if item.ok else f" (fix: {item.fix})"), flush=True)
        if item.required and not item.ok:
            raise UsageError(f"this machine cannot grade: {item.name}: {item.detail}")
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    images.prepare(engine, loaded.base_images, offline=False, ca_bundle=ca if ca.exists() else None,
                   recipes=course_path.parent / images.RECIPES,
                   say=lambda line: print(line, flush=True))
    sweep_leftovers()
    os.environ[COURSE_ENV] = str(course_path)

    async def serve() -> None:
        async with Nanny(scheduler, nthreads=1, resources=resources, security=security, name=name) as nanny:
            print(f"worker {nanny.worker_address} serving {scheduler} with {resources}", flush=True)
            await nanny.finished()

    asyncio.run(serve())


def parse_resources(text: str) -> dict[str, float]:
    """`docker=1,gpu=1` -> {"docker": 1.0, "gpu": 1.0}."""
    found: dict[str, float] = {}
    for part in filter(None, (item.strip() for item in text.split(","))):
        key, _, value = part.partition("=")
        try:
            found[key.strip()] = float(value or 1)
        except ValueError:
            raise UsageError(f"--resources {text}: write NAME=NUMBER pairs, e.g. docker=1,gpu=1") from None
    if DOCKER not in found:
        raise UsageError(f"--resources {text}: a grading worker declares docker=N (gradings at a time)")
    return found

