"""A batch of hostile Lab 01 submissions, graded beside two copies of the reference solution: every
hostile case gets its own specific result, the solutions still get full marks (other work kept
running), the grader's memory stays small, and nothing is left on the engine."""

from __future__ import annotations

import json

import pytest

from graders.batch import outputs
from graders.batch.discover import discover
from graders.batch.grading import grade_all
from tests.conftest import ROOT, learner_folder
from tests.hostile import corpus

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PEAK_LIMIT = 1536 * 2**20


def test_a_batch_of_hostile_submissions_finishes_with_a_specific_result_for_each(
        tmp_path, engine, lab01, peak_memory, capsys):
    submissions = tmp_path / "class"
    submissions.mkdir()
    cases = corpus.lab01(submissions)
    for name in ("control-1", "control-2"):
        learner_folder(tmp_path / name, "01-basic-dockerfile").rename(submissions / name)
    lab = lab01.model_copy(update={"limits": lab01.limits.model_copy(update={"build_disk_mb": 2048})})
    found = discover(submissions, lab.id)
    assert len(found) == len(cases) + 2
    with peak_memory() as memory:
        grade_all(lab, found, tmp_path / "out", jobs=2, resume=False, course_root=ROOT, timeout=900)
    results = {r["learner"]: r for r in outputs.load_results(tmp_path / "out")}
    assert sorted(results) == sorted([c.name for c in cases] + ["control-1", "control-2"])

    for name in ("control-1", "control-2"):
        assert results[name]["score"] == results[name]["max_score"] == 100, json.dumps(results[name]["criteria"])[:2000]
    wrong = []
    for case in cases:
        criteria = {c["id"]: c for c in results[case.name]["criteria"]}
        checked = list(criteria.values()) if case.criterion == "*" else [criteria[case.criterion]]
        for criterion in checked:
            if criterion["status"] not in case.statuses or case.words not in criterion["message"]:
                wrong.append(f"{case.name}: {criterion['id']} {criterion['status']}: {criterion['message'][:300]}")
        text = json.dumps(results[case.name])
        assert "Traceback" not in text, case.name
    assert not wrong, "\n".join(wrong)
    with capsys.disabled():
        print(f"\nhostile batch: {len(cases)} cases + 2 controls, grader peak {memory.peak / 2**20:.0f} MB")
    assert memory.peak < PEAK_LIMIT
