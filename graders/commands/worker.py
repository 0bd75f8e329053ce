"""`dockerlab worker SCHEDULER [--resources docker=1,gpu=1]`: serve gradings to an instructor's Dask
scheduler from this machine's Docker engine (graders.batch.cluster)."""

from __future__ import annotations

from pathlib import Path

from graders.batch import cluster
from graders.commands import security


def main(*, course_path: Path | None, scheduler: str, resources: str, name: str | None,
         tls: tuple[Path | None, Path | None, Path | None]) -> int:
    cluster.start_worker(scheduler, resources=cluster.parse_resources(resources), course=course_path,
                         security=security(scheduler, tls), name=name)
    return 0
