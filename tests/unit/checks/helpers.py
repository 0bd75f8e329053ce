"""Grading one check on fake facts (tests.unit.fakes), with its params as course.yml would give them."""

from __future__ import annotations

from typing import Any

from graders import checks, course
from graders.checks.base import Outcome
from graders.facts import Facts
from tests.unit.fakes import facts

MULTI = """\
FROM python:3.11-slim AS builder
RUN pip install x
FROM python:3.11-slim
COPY --from=builder /opt/venv /opt/venv
CMD ["x"]
"""
"""A two-stage Dockerfile that copies its virtual environment from the builder."""


def run(type_name: str, params: dict[str, Any] | None = None, **fact_changes: Any) -> Outcome:
    """Grade `type_name` on fake facts changed by `fact_changes` (or on `_facts=`)."""
    check = checks.get(type_name)
    return check.grade(check.Params.model_validate(params or {}), fact_changes.pop("_facts", None) or facts(**fact_changes))


def run03(type_name: str, params: dict[str, Any] | None = None, **fact_changes: Any) -> Outcome:
    """As `run`, with the params course.yml gives the check in Lab 03, changed by `params`."""
    merged = {**LAB03.get(type_name, {}), **(params or {})}
    return run(type_name, merged, **fact_changes)


def grade(type_name: str, facts: Facts, **params: Any) -> Outcome:
    check = checks.get(type_name)
    return check.grade(check.Params.model_validate(params), facts)


LAB03 = {criterion.type: criterion.params for criterion in course.load().lab("03-gpu-training").rubric}
