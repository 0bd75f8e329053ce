"""Metrics as JSON lines in the mounted output folder, one per epoch, from the mounted data."""

import json

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class MetricsWrittenParams(Params):
    folder: str
    """The mounted folder the metrics must land in (one of the job's writable folders)."""
    file: str
    """The metrics file's name, `{run}` as in the job's args (Lab 03: `{run}.metrics.jsonl`)."""
    epochs: int
    samples: int | None = None
    """How many samples an epoch must report: the size of the mounted data set (proves /data was read)."""


class MetricsWritten(Check):
    Params = MetricsWrittenParams
    needs = ("job",)

    def grade(self, params: MetricsWrittenParams, facts: Facts) -> Outcome:
        job = gathered(facts.job)
        wanted = f"{params.folder}/{params.file.replace('{run}', job.run_name)}"
        if wanted not in job.files:
            return Outcome.failed(f"no {wanted} in the mounted {params.folder}", files=sorted(job.files))
        lines = job.texts.get(wanted, "").splitlines()
        rows = []
        for line in lines:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
        evidence = {"file": wanted, "rows": rows[-3:]}
        if len(rows) < params.epochs or not all({"epoch", "loss"} <= set(row) for row in rows):
            return Outcome.partial(0.5, f"{wanted} holds {len(rows)} of {params.epochs} epochs", **evidence)
        if params.samples is not None and rows[-1].get("samples") != params.samples:
            return Outcome.partial(0.5, f"epochs saw {rows[-1].get('samples')} samples, not the {params.samples} "
                                        "of the mounted data set: /data was not read", **evidence)
        return Outcome.passed(f"{wanted}: {len(rows)} epochs, last loss {rows[-1]['loss']}", **evidence)
