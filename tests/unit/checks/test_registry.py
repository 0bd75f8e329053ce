"""The registry of check types holds together: every entry imports as a Check and needs real facts,
every `type:` in course.yml resolves, every type is graded in its family's test file, and a check
that reads a fact it did not declare is caught (not gradable), never a crash."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

from graders import checks
from graders.checks.base import Check, Outcome
from graders.facts import Facts, Missing, gathered
from graders.scoring import Bound, decide

FAMILIES = Path(__file__).parent


def test_every_registered_check_imports_and_needs_real_facts():
    facts = {f.name for f in fields(Facts)}
    for name in checks.known():
        check = checks.get(name)
        assert isinstance(check, Check) and type(check) is not Check, name
        assert check.needs and set(check.needs) <= facts, (name, check.needs)


def test_every_check_type_in_course_yml_is_registered(course):
    used = {criterion.type for lab in course.labs for criterion in lab.rubric}
    assert used <= set(checks.known()), used - set(checks.known())


def _graded_types() -> set[str]:
    """The check types the family files grade: the first argument of run(), run03() or grade()."""
    found = set()
    for path in FAMILIES.glob("test_*_checks.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("run", "run03", "grade") \
                    and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    return found


def test_every_registered_check_is_graded_in_a_family_file():
    untested = set(checks.known()) - _graded_types()
    assert not untested, f"no test grades: {sorted(untested)}"


class _Undeclared(Check):
    needs = ("dockerfile",)

    def grade(self, params, facts):
        return Outcome.passed(f"{gathered(facts.image).user}")  # reads `image`, which it does not declare


def test_a_check_reading_an_undeclared_fact_is_not_gradable_not_a_crash(tmp_path):
    facts = Facts(submission=tmp_path, dockerfile=object(), image=Missing("the build failed", learner=True))
    criterion = type("Criterion", (), {"type": "undeclared"})()
    outcome = decide(Bound(criterion, _Undeclared(), _Undeclared.Params()), facts)
    assert outcome.not_gradable and "does not declare in `needs`" in outcome.message
