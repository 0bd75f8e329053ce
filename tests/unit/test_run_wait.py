"""Waiting for a job: the time limit is the learner's, an engine that goes away is not; and how long a slow service may take."""

from __future__ import annotations

import pytest
import requests

from graders.engine.run import _wait
from graders.errors import EngineError


class Job:
    def __init__(self, error: Exception | None, code: int = 0):
        self.error, self.code, self.killed = error, code, False

    def wait(self, timeout: int) -> dict[str, int]:
        if self.error:
            raise self.error
        return {"StatusCode": self.code}

    def kill(self) -> None:
        self.killed = True


def test_an_exit_code_comes_back():
    assert _wait(Job(None, 3), 60) == (3, False)  # type: ignore[arg-type]


def test_the_time_limit_kills_the_job_and_says_so():
    job = Job(requests.exceptions.ReadTimeout("read timed out"))
    assert _wait(job, 1) == (None, True) and job.killed  # type: ignore[arg-type]


def test_an_engine_gone_before_the_time_is_machine_trouble():
    job = Job(requests.exceptions.ConnectionError("connection refused"))
    with pytest.raises(EngineError, match="stopped answering"):
        _wait(job, 300)  # type: ignore[arg-type]
    assert not job.killed


def test_a_bug_is_not_turned_into_a_time_out():
    with pytest.raises(KeyError):
        _wait(Job(KeyError("StatusCode")), 300)  # type: ignore[arg-type]


def test_an_unhealthy_service_may_take_as_long_to_listen_as_the_engine_would_wait_for_it():
    """The grader checks every second; the engine, at the image's own interval, would call a slow start
    unhealthy only after its start period and `retries` intervals. Within the start budget."""
    from graders.engine.api import SECOND, Sandbox
    from graders.engine.run import UNHEALTHY_GRACE_SECONDS, unhealthy_grace

    budget = Sandbox(start_seconds=30)
    assert unhealthy_grace({"Test": ["CMD", "true"]}, budget) == 30  # 3 x 30 s by default, cut to the budget
    assert unhealthy_grace({"Test": ["CMD", "true"], "Interval": 2 * SECOND, "Retries": 2}, budget) == UNHEALTHY_GRACE_SECONDS
    assert unhealthy_grace({"Interval": 5 * SECOND, "Retries": 3, "StartPeriod": 4 * SECOND}, Sandbox(start_seconds=120)) == 19
    assert unhealthy_grace(None, Sandbox(start_seconds=5)) == UNHEALTHY_GRACE_SECONDS
