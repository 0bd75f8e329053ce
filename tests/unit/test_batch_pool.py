"""The batch's worker processes are never forked from the batch process: BuildKit's Dockerfile parser
is Go, whose runtime does not survive a fork. A worker forked after the parser had loaded hung in its
first parse (CI, the hostile batch; `import dockerfile` then os.fork() at once hangs the child every
time). They are forked from a fork server that has loaded the grader but not the parser."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PARSE_IN_WORKERS = """
import threading
from graders.batch.grading import worker_pool
from graders.dockerfile import parse

big = "FROM python:3.11-slim\\n" + "RUN echo hi\\n" * 3000
busy = threading.Thread(target=lambda: [parse(big) for _ in range(400)], daemon=True)
busy.start()  # this process is inside Go while its workers start
with worker_pool(2) as pool:
    found = [pool.submit(parse, "FROM debian:bookworm-slim AS base\\nRUN true\\n") for _ in range(8)]
    parsed = [future.result(timeout=30) for future in found]
print(parsed[-1].final.name, parsed[-1].final.base)
"""

GO_IN_A_FRESH_WORKER = """
from graders.batch.grading import worker_pool
from graders.dockerfile import parse
from tests.unit.test_batch_pool import go_loaded

parse("FROM x\\n")  # Go runs here
with worker_pool(1) as pool:
    print(pool._mp_context.get_start_method(), pool.submit(go_loaded).result(timeout=60))
"""


def go_loaded() -> bool:
    """In a worker: whether Go's runtime (the parser) was loaded before this worker parsed anything."""
    return "dockerfile" in sys.modules


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_workers_parse_while_the_batch_process_is_inside_go():
    assert _python(PARSE_IN_WORKERS).split() == ["base", "debian:bookworm-slim"]


def test_a_worker_starts_without_go_though_the_batch_process_runs_it():
    assert _python(GO_IN_A_FRESH_WORKER).split() == ["forkserver", "False"]
