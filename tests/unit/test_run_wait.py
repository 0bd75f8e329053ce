"""Waiting for a job: the time limit is the learner's, an engine that goes away is not."""

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
