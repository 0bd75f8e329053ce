"""The checkpoint lands in the mounted checkpoints folder and loads back in the image."""

import re

from graders.checks.base import Check, Outcome, Params


class P(Params):
    folder: str = "/checkpoints"
    epochs: int
    """The epoch the last checkpoint must record (what the job's --epochs asked for)."""


class CheckpointSaved(Check):
    Params = P
    needs = ("job",)

    def grade(self, params: P, facts) -> Outcome:
        job = facts.job
        wanted = f"{params.folder}/{job.run_name}.pt"
        evidence = {"expected": wanted, "files": sorted(job.files)}
        if wanted not in job.files:
            written = re.findall(r"done: (\S+\.pt)", job.logs)
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
