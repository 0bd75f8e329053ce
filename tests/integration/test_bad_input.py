"""Bad submissions are results with a reason and a fix, never a crash, and leave nothing behind."""

from __future__ import annotations

import pytest

from graders import pipeline
from graders.course import Limits
from tests.conftest import edit

pytestmark = [pytest.mark.docker]


def by_id(result):
    return {c.id: c for c in result.criteria}


def test_no_dockerfile(submission, engine, lab01):
    (submission / "Dockerfile").unlink()
    result = pipeline.grade(lab01, submission)
    assert result.score == 0 and not result.passed and result.image is None
    requires = {c.id: c.requires for c in lab01.rubric}
    assert all(c.status == ("skipped" if requires[c.id] else "failed") for c in result.criteria)
    assert "Dockerfile not found" in by_id(result)["builds"].message


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "has no instructions"),
        ("# nothing yet\n", "has no instructions"),
        ("FORM python:3.11-slim\nCMD [\"x\"]\n", "Dockerfile:1: unknown instruction: FORM"),
    ],
)
def test_empty_or_broken_dockerfile(text, words, submission, engine, lab01):
    (submission / "Dockerfile").write_text(text)
    result = pipeline.grade(lab01, submission)
    builds = by_id(result)["builds"]
    assert builds.status == "failed" and words in builds.message
    assert result.score == 0
    if "FORM" in text:
        assert builds.message == "Dockerfile:1: unknown instruction: FORM (did you mean FROM?)"


def test_build_that_fails_points_at_the_line(submission, engine, lab01):
    edit(submission / "Dockerfile", "COPY model/ ./model/", "COPY models/ ./model/")
    result = pipeline.grade(lab01, submission)
    builds = by_id(result)["builds"]
    assert builds.status == "failed"
    assert builds.evidence["line"] == 24 and "line 24" in builds.message and "not found" in builds.message
    assert by_id(result)["base-image"].status == "passed"  # static criteria are still judged
    assert by_id(result)["predict"].status == "failed"


def test_container_that_exits_at_once(submission, engine, lab01):
    edit(submission / "Dockerfile", 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
         'CMD ["python", "-c", "raise SystemExit(\'no model here\')"]')
    result = pipeline.grade(lab01, submission)
    criteria = by_id(result)
    assert "exited with code 1" in criteria["predict"].message and "no model here" in criteria["predict"].message
    assert criteria["non-root"].status == "passed"  # looked at inside an idle twin of the image
    assert criteria["healthcheck"].status == "failed"


def test_container_that_never_becomes_healthy(submission, engine, lab01):
    edit(submission / "Dockerfile", "http://127.0.0.1:8000/health", "http://127.0.0.1:8000/no-such-page")
    result = pipeline.grade(lab01, submission)
    criteria = by_id(result)
    assert criteria["healthcheck"].status == "failed" and "never became healthy" in criteria["healthcheck"].message
    assert criteria["predict"].status == "passed"


def test_build_time_limit(submission, engine, lab01):
    edit(submission / "Dockerfile", "WORKDIR /app\n", "WORKDIR /app\nRUN sleep 60\n")
    quick = lab01.model_copy(update={"limits": Limits(build_seconds=5)})
    result = pipeline.grade(quick, submission)
    assert "took longer than 5 s" in by_id(result)["builds"].message
    assert result.timings["build"] < 30


def test_container_whose_command_does_not_exist(submission, engine, lab01):
    edit(submission / "Dockerfile", 'CMD ["uvicorn", ', 'CMD ["gunicorn", ')
    result = pipeline.grade(lab01, submission)
    criteria = by_id(result)
    assert criteria["predict"].status == "failed" and "could not start" in criteria["predict"].message
    assert "gunicorn" in criteria["predict"].message
    assert not [c.id for c in result.criteria if c.status == "not_gradable"]
