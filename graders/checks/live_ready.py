"""Liveness apart from readiness: alive with or without the model, ready only with it."""

from __future__ import annotations

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, HttpRequest, HttpResponse, gathered


class LiveReadyParams(Params):
    live: str = "/live"
    ready: str = "/ready"
    not_ready_status: int = 503


class LiveReady(Check):
    Params = LiveReadyParams
    needs = ("container", "http", "unmounted")

    def requests(self, params: LiveReadyParams) -> list[HttpRequest]:
        return [HttpRequest("GET", params.live), HttpRequest("GET", params.ready)]

    def other_requests(self, params: LiveReadyParams, run: str) -> list[HttpRequest]:
        return self.requests(params) if run == "unmounted" else []

    def grade(self, params: LiveReadyParams, facts: Facts) -> Outcome:
        mounted, bare = gathered(facts.http), gathered(facts.unmounted)
        live, ready = (HttpRequest("GET", p).key for p in (params.live, params.ready))
        cases = [
            ("with the model", params.live, mounted[live], 200),
            ("with the model", params.ready, mounted[ready], 200),
            ("without the model", params.live, bare[live], 200),
            ("without the model", params.ready, bare[ready], params.not_ready_status),
        ]
        rows = [{"when": when, "path": path, "status": answer.status, "expected": status, "problem": _problem(answer, status)}
                for when, path, answer, status in cases]
        wrong = [row for row in rows if row["problem"]]
        if not wrong:
            return Outcome.passed(f"{params.live} answers 200 with and without the model; {params.ready} answers 200 "
                                  f"only with it ({params.not_ready_status} without)", requests=rows)
        first = wrong[0]
        return Outcome.partial((len(rows) - len(wrong)) / len(rows),
                               f"{len(rows) - len(wrong)} of {len(rows)} answers right; {first['path']} "
                               f"{first['when']}: {first['problem']}", requests=rows)


def _problem(answer: HttpResponse, status: int) -> str:
    if answer.error:
        return answer.error
    if answer.status != status:
        return f"status {answer.status}, expected {status}"
    return ""
