"""The service still answers right when it runs as its production file asks (Lab 05)."""

from __future__ import annotations

import re

from graders.checks.base import Check, Outcome
from graders.checks.http import HttpParams, judge, request_for
from graders.facts import Facts, HttpRequest, gathered

EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


class ProductionServes(Check):
    Params = HttpParams
    needs = ("hardened",)

    def other_requests(self, params: HttpParams, run: str) -> list[HttpRequest]:
        return [request_for(case) for case in params.cases] if run == "hardened" else []

    def grade(self, params: HttpParams, facts: Facts) -> Outcome:
        run = gathered(facts.hardened)
        if not run.container.running:
            return Outcome.failed(f"run as the production file asks, the container exited with code "
                                  f"{run.container.exit_code}; its log ends: "
                                  f"{_last_line(run.container.logs) or '(no output)'}", applied=run.applied)
        if run.container.limit_hit:
            return Outcome.failed(f"run as the production file asks, the service never answered: "
                                  f"{run.container.limit_hit}", applied=run.applied)
        results = [(case, run.http[request_for(case).key]) for case in params.cases]
        problems = [(case, judge(case, response)) for case, response in results]
        wrong = [(case, problem) for case, problem in problems if problem]
        evidence = {"applied": run.applied, "requests": [
            {"request": f"{case.method} {case.path}", "status": response.status, "problem": judge(case, response)}
            for case, response in results]}
        if not wrong:
            return Outcome.passed(f"hardened as the file asks, {len(results)} of {len(results)} requests answered "
                                  "as expected", **evidence)
        case, problem = wrong[0]
        good = len(results) - len(wrong)
        return Outcome.partial(good / len(results), f"hardened as the file asks, {good} of {len(results)} requests "
                               f"right; {case.method} {case.path}: {problem}", **evidence)


def _last_line(logs: str) -> str:
    """The exception a traceback ended with when there is one (uvicorn prints its own farewell after
    it), else the last line."""
    lines = [line.strip() for line in logs.splitlines() if line.strip()]
    errors = [line for line in lines if EXCEPTION.match(line)]
    return (errors or lines or [""])[-1][:200]
