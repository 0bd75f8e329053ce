from __future__ import annotations

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class ReadyParams(Params):
    dependency: str
    """A key of the ready endpoint's `dependencies` (the service name)."""


class ReadyDependency(Check):
    """The entry service's ready endpoint reports this dependency reachable by its service name."""

    Params = ReadyParams
    needs = ("stack",)

    def grade(self, params: ReadyParams, facts: Facts) -> Outcome:
        stack, name = gathered(facts.stack), params.dependency
        if name in stack.left_out:
            return Outcome.ungradable(f"{name} was not run here: {stack.left_out[name]}")
        if stack.ready is None:
            why = stack.stopped_early or "the entry service has no running container to ask"
            return Outcome.failed(f"the ready endpoint could not be asked: {why}")
        answer = stack.ready
        if answer.status is None:
            return Outcome.failed(f"the ready endpoint did not answer: {answer.error}")
        body = answer.json()
        report = ((body or {}).get("dependencies") or {}).get(name) if isinstance(body, dict) else None
        if not isinstance(report, dict):
            return Outcome.failed(f"the ready endpoint (HTTP {answer.status}) says nothing about {name}", body=answer.body[:300])
        if report.get("ok"):
            return Outcome.passed(f"the API reaches {name} by its service name")
        return Outcome.failed(f"the API cannot reach {name}: {str(report.get('detail', ''))[:200]}", report=report)
