from __future__ import annotations

from typing import TYPE_CHECKING

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

if TYPE_CHECKING:
    from graders.course import Lab


class PersistParams(Params):
    probe: str
    """An id in the lab's compose.persistence."""


class Persists(Check):
    """Data written through the API is still there after `docker compose down` and `up` (volumes kept)."""

    Params = PersistParams
    needs = ("stack",)

    def validate(self, params: PersistParams, lab: Lab) -> list[tuple[str, str]]:
        if lab.kind == "stack" and params.probe not in {p.id for p in lab.compose.persistence}:
            return [("probe", f"no persistence probe {params.probe!r} in this lab's compose")]
        return []

    def grade(self, params: PersistParams, facts: Facts) -> Outcome:
        stack = gathered(facts.stack)
        done = stack.persistence.get(params.probe)
        if done is None:
            why, learner = stack.not_tried.get(params.probe, ("the probe did not run", False))
            return Outcome.failed(f"not tried: {why}") if learner else Outcome.ungradable(f"not tried: {why}")
        written = done.written
        if written.status is None or not 200 <= written.status < 300:
            return Outcome.failed(f"writing failed: HTTP {written.status} {written.body[:200] or written.error}")
        if not done.restarted:
            return Outcome.failed(done.note)
        read = done.read
        if read is None or read.status is None:
            return Outcome.failed("after down and up, the API did not answer")
        if 200 <= read.status < 300 and done.token in read.body:
            return Outcome.passed("written, then read back after down and up")
        return Outcome.failed(f"after down and up the data is gone: HTTP {read.status} {read.body[:200]}")
