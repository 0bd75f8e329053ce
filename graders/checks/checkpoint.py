"""The checkpoint lands in the mounted checkpoints folder and loads back in the image."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

if TYPE_CHECKING:
    from graders.course import Lab


class CheckpointSavedParams(Params):
    folder: str
    """The mounted folder the checkpoint must land in (one of the job's writable folders)."""
    epochs: int
    """The epoch the last checkpoint must record (what the job's --epochs asked for)."""
    written: str
    """A regular expression for the log line naming the checkpoint the program wrote, its path in
    group 1 (Lab 03: `done: (\\S+\\.pt)`): says where it went when it is not where it belongs."""


class CheckpointSaved(Check):
    Params = CheckpointSavedParams
    needs = ("job",)

    def validate(self, params: CheckpointSavedParams, lab: Lab) -> list[tuple[str, str]]:
        job = getattr(lab, "job", None)  # only an image lab has one
        if job is None or not job.checkpoint or params.folder not in job.writable:
            return [("folder", "the lab's job must name its checkpoint (job.checkpoint) and have this folder in "
                               "job.writable")]
        return []

    def grade(self, params: CheckpointSavedParams, facts: Facts) -> Outcome:
        job = gathered(facts.job)
        wanted = f"{params.folder}/{job.checkpoint}"
        evidence = {"expected": wanted, "files": sorted(job.files)}
        if wanted not in job.files:
            written = re.findall(params.written, job.logs)
            if written and not written[-1].startswith(params.folder + "/"):
                return Outcome.failed(f"the checkpoint was written inside the container ({written[-1]}), not to the "
                                      f"mounted {params.folder}: it is gone when the container is", **evidence)
            if written:
                return Outcome.failed(f"no {wanted}; the program wrote {written[-1]} instead, so the training "
                                      "arguments (--run-name) did not reach it", **evidence)
            return Outcome.failed(f"no checkpoint appeared in the mounted {params.folder}", **evidence)
        code, output = job.checkpoint_load or (-1, "not tried")
        evidence["load_output"] = output
        if code != 0:
            return Outcome.failed(f"{wanted} exists but does not load back: {output[-160:]}", **evidence)
        if output.strip().splitlines()[-1:] != [str(params.epochs)]:
            return Outcome.partial(0.5, f"{wanted} loads, but records epoch {output.strip()[-20:]}, not {params.epochs}",
                                   **evidence)
        return Outcome.passed(f"{wanted} ({job.files[wanted]} bytes) loads back, epoch {params.epochs}", **evidence)
