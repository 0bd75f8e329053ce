"""Hostile YAML: Lab 04 compose files and course.yml files that would explode, lie about their
types or reach outside their folder. Each gets a learner-facing result (or, for course.yml, a
`file:line` message and exit code 2) within seconds, and the grader's memory stays small."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from graders import pipeline, safeyaml
from tests.conftest import ROOT
from tests.hostile import corpus

COURSE_CASES = {
    "invalid-value": ("points: 10\n", "points: -1\n", "course.yml:", "greater than 0"),
    "unknown-type": ("type: builds\n", "type: no_such_check\n", "course.yml:", "unknown check type 'no_such_check'"),
    "duplicate-id": ("id: base-image\n", "id: builds\n", "course.yml:", "duplicate criterion id 'builds'"),
    "alias-bomb": ("title: ", "x-bomb: " + "&a0 [x, x, x, x, x, x, x, x, x, x]\n"
                   + "".join(f"x-b{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9))
                   + "title: ", "course.yml:", "expand to over 100,000 values"),
}


@pytest.mark.docker
def test_hostile_compose_files_are_refused_before_anything_runs(tmp_path, engine, course, peak_memory):
    lab = course.lab("04-compose-stack")
    expected = corpus.lab04_compose(tmp_path)
    wrong = []
    with peak_memory() as memory:
        for name, (kind, words) in expected.items():
            started = time.monotonic()
            result = pipeline.grade(lab, tmp_path / name, course_root=ROOT).to_dict()
            seconds = time.monotonic() - started
            messages = [c["message"] for c in result["criteria"]]
            if kind == "refused":
                ok = any(words in refusal for refusal in result.get("refusals") or [])
            else:
                ok = not result.get("refusals") and any(words in m for m in messages)
            statuses = {c["status"] for c in result["criteria"]}
            if not ok or "passed" in statuses or seconds > 30:
                wrong.append(f"{name} ({seconds:.1f} s): {result.get('refusals')} {messages[:2]}")
            assert "build" not in result["timings"] and "up" not in result["timings"] or kind == "compose"
    assert not wrong, "\n".join(wrong)
    assert memory.peak < 1024 * 2**20, f"peak {memory.peak / 2**20:.0f} MB"


@pytest.mark.parametrize("name", sorted(COURSE_CASES))
def test_hostile_course_files_get_a_file_line_message_and_exit_2(tmp_path, name):
    old, new, where, words = COURSE_CASES[name]
    text = (ROOT / "course.yml").read_text()
    assert old in text
    (tmp_path / "course.yml").write_text(text.replace(old, new, 1))
    for folder in ("labs", "solutions"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    done = subprocess.run([sys.executable, "-m", "graders", "--course", str(tmp_path / "course.yml"), "list"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert where in done.stderr and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_yaml_bombs_are_refused_in_time_linear_in_the_file():
    nine = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    started = time.monotonic()
    with pytest.raises(safeyaml.YamlError) as refused:
        safeyaml.load(nine)
    assert time.monotonic() - started < 1.0
    assert refused.value.line is not None and "100,000" in refused.value.message
    assert safeyaml.load("a: &x [1, 2]\nb: *x\n").data == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(safeyaml.YamlError, match="contains it"):
        safeyaml.load("a: &x\n  b: *x\n")
    with pytest.raises(safeyaml.YamlError, match="MiB; the limit is"):
        safeyaml.load("a: " + "x" * (2 * 2**20))
    with pytest.raises(safeyaml.YamlError, match="nest"):
        safeyaml.load("[" * 100_000)
