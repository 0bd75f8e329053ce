"""The hadolint check with the real hadolint binary, on real Dockerfiles."""

from __future__ import annotations

import pytest

from graders import pipeline
from graders.course import Criterion
from tests.conftest import SOLUTION01, edit

LINT = Criterion(id="lint", title="hadolint", points=4, type="hadolint", hint="fix the findings")


@pytest.fixture
def lint_only(lab01):
    return lab01.model_copy(update={"rubric": [LINT]})


def test_the_solution_is_lint_clean(lint_only):
    [criterion] = pipeline.grade(lint_only, SOLUTION01).criteria
    assert criterion.status == "passed", criterion.evidence


def test_findings_cost_points_and_name_lines(lint_only, submission):
    edit(submission / "Dockerfile", "FROM python:3.11-slim", "FROM python:latest")
    edit(submission / "Dockerfile", 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
         "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000")
    result = pipeline.grade(lint_only, submission)
    [criterion] = result.criteria
    assert criterion.status == "partial" and criterion.points == 2
    codes = " ".join(criterion.evidence["findings"])
    assert "DL3007" in codes and "DL3025" in codes and "line 4" in codes
    assert "build" not in result.timings  # a static-only rubric never touches the engine
