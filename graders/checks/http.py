"""HTTP requests to the running service, each with an expected status, body and time budget."""

import json
from typing import Any

from pydantic import Field

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, HttpRequest, HttpResponse, gathered


class Case(Params):
    method: str = "GET"
    path: str
    body: Any = Field(default=None, alias="json")
    """The JSON body to send (written `json:` in course.yml)."""
    status: int = 200
    expect: dict[str, Any] = {}
    """Keys the JSON response must hold, with these values."""
    within_ms: float | None = None


class HttpParams(Params):
    cases: list[Case]


def request_for(case: Case) -> HttpRequest:
    body = None if case.body is None else json.dumps(case.body, sort_keys=True)
    return HttpRequest(case.method.upper(), case.path, body)


def judge(case: Case, response: HttpResponse) -> str:
    """Empty when the response meets the case; otherwise what was wrong."""
    if response.error:
        return response.error
    if response.status != case.status:
        return f"status {response.status}, expected {case.status}: {response.body[:160]}"
    if case.expect:
        data = response.json()
        if not isinstance(data, dict):
            return f"the body is not a JSON object: {response.body[:80]!r}"
        wrong = {k: data.get(k) for k, v in case.expect.items() if data.get(k) != v}
        if wrong:
            return f"got {wrong}, expected {case.expect}"
    if case.within_ms is not None and response.elapsed_ms > case.within_ms:
        return f"answered in {response.elapsed_ms:.0f} ms, over the {case.within_ms:.0f} ms budget"
    return ""


class Http(Check):
    Params = HttpParams
    needs = ("container", "http")

    def requests(self, params: HttpParams) -> list[HttpRequest]:
        return [request_for(case) for case in params.cases]

    def grade(self, params: HttpParams, facts: Facts) -> Outcome:
        results = []
        for case in params.cases:
            response = gathered(facts.http)[request_for(case).key]
            results.append((case, response, judge(case, response)))
        evidence = {
            "requests": [
                {"request": f"{c.method} {c.path}", "status": r.status, "ms": round(r.elapsed_ms), "problem": p}
                for c, r, p in results
            ]
        }
        wrong = [(c, p) for c, _r, p in results if p]
        if not wrong:
            return Outcome.passed(f"{len(results)} of {len(results)} requests answered as expected", **evidence)
        case, problem = wrong[0]
        good = len(results) - len(wrong)
        return Outcome.partial(
            good / len(results), f"{good} of {len(results)} requests right; {case.method} {case.path}: {problem}", **evidence
        )
