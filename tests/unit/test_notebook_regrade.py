"""The notebook's grading cells grade the files as they are now: a change is graded again, the
notebook's own saves are not a change."""

from pathlib import Path

from graders import notebook, scoring
from graders.course import load

ROOT = Path(__file__).resolve().parents[2]


def test_a_change_is_graded_again_and_no_change_answers_at_once(tmp_path, monkeypatch):
    lab = load(ROOT / "course.yml").lab("01-basic-dockerfile")
    calls = []

    def fake_grade(lab, folder, course_root, progress=None):
        calls.append(folder)
        return scoring.ungraded(lab, folder, f"graded {len(calls)} times", learner=True)

    monkeypatch.setattr(notebook.pipeline, "grade", fake_grade)
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "lab.ipynb").write_text("{}")
    first = notebook.grade(lab.id, tmp_path, course=ROOT / "course.yml")
    (tmp_path / "lab.ipynb").write_text('{"saved": true}')
    assert notebook.grade(lab.id, tmp_path, course=ROOT / "course.yml") is first and len(calls) == 1
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nUSER app\n")
    second = notebook.grade(lab.id, tmp_path, course=ROOT / "course.yml")
    assert len(calls) == 2 and second is not first
    assert "graded 2 times" in second.result.criteria[0].message
