"""The batch's worker processes are started fresh, never forked: BuildKit's Dockerfile parser is Go,
whose runtime does not survive a fork. A forked worker hung in its first parse (CI, the hostile
batch; and `import dockerfile` then os.fork() at once hangs the child every time)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PARSE_IN_A_WORKER = """
import threading
from graders.batch.runner import worker_pool
from graders.dockerfile import parse

big = "FROM python:3.11-slim\\n" + "RUN echo hi\\n" * 3000
busy = threading.Thread(target=lambda: [parse(big) for _ in range(400)], daemon=True)
busy.start()  # this process is inside Go while its workers start, as a batch that parses while it starts them
with worker_pool(2) as pool:
    found = [pool.submit(parse, "FROM debian:bookworm-slim AS base\\nRUN true\\n") for _ in range(8)]
    parsed = [future.result(timeout=30) for future in found]
print(parsed[-1].final.name, parsed[-1].final.base)
"""


def test_workers_parse_while_the_batch_process_is_inside_go():
    done = subprocess.run([sys.executable, "-c", PARSE_IN_A_WORKER], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["base", "debian:bookworm-slim"]


def test_the_workers_are_not_forked():
    from graders.batch.runner import worker_pool

    with worker_pool(1) as pool:
        assert pool._mp_context.get_start_method() == "spawn"
