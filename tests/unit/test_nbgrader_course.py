"""The labs as an nbgrader course: grading cells made from course.yml, the course layout, and the
gradebook written through nbgrader's API (no engine needed)."""

import json
import shutil
from pathlib import Path

from nbgrader.api import Gradebook

from graders import gradebook, nbgrader_course

ROOT = Path(__file__).resolve().parents[2]


def test_every_lab_notebook_has_grading_cells_in_step_with_course_yml(course, tmp_path):
    for lab in course.labs:
        copy = tmp_path / f"{lab.id}.ipynb"
        shutil.copy(ROOT / lab.folder / lab.notebook, copy)
        assert not nbgrader_course.sync(copy, lab), f"{lab.id}: run `dockerlab nbgrader sync`"
        cells = json.loads(copy.read_text())["cells"]
        graded = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
                  for c in cells if c["metadata"].get("nbgrader", {}).get("grade")}
        assert graded == {criterion.id: criterion.points for criterion in lab.rubric}
        setup = next(c for c in cells if c["id"] == "dockerlab-grade")
        assert f"grade({lab.id!r})" in "".join(setup["source"]) and setup["metadata"]["nbgrader"]["locked"]


def test_sync_replaces_old_grading_cells_and_keeps_the_rest(course, tmp_path):
    lab = course.lab("01-basic-dockerfile")
    copy = tmp_path / "lab.ipynb"
    shutil.copy(ROOT / lab.folder / lab.notebook, copy)
    notebook = json.loads(copy.read_text())
    own = [c for c in notebook["cells"] if "dockerlab" not in c["metadata"]]
    notebook["cells"][-1]["metadata"]["nbgrader"]["points"] = 99  # course.yml changed since
    copy.write_text(json.dumps(notebook))
    assert nbgrader_course.sync(copy, lab)
    again = json.loads(copy.read_text())["cells"]
    assert [c for c in again if "dockerlab" not in c["metadata"]] == own
    assert all(c["metadata"]["nbgrader"].get("points") != 99 for c in again if "nbgrader" in c["metadata"])


def test_setup_lays_out_sources_and_a_config_that_loads(course, tmp_path):
    made = nbgrader_course.setup(tmp_path, course, [course.lab("04-compose-stack")], ROOT)
    assert made == [tmp_path / "source" / "04-compose-stack"]
    assert (made[0] / "compose.yaml").is_file() and (made[0] / "lab.ipynb").is_file()
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", str(tmp_path)).load_config()
    assert config.Execute.timeout == 1800
    assert config.Autograde.exclude_overwriting["04-compose-stack"][0] == "compose.yaml"
    assert config.Autograde.exclude_overwriting["01-basic-dockerfile"] == ["Dockerfile", ".dockerignore"]
    assert config.Autograde.autograde_preprocessors[0] is nbgrader_course.SkipExploration


def test_skip_exploration_tags_only_the_learners_code_cells():
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("!docker run -d -p 8000:8000 iris:dev"),
        nbformat.v4.new_markdown_cell("notes"),
        nbformat.v4.new_code_cell("result.points('builds')", metadata={"nbgrader": {"grade_id": "builds", "grade": True}}),
    ])
    done, _ = nbgrader_course.SkipExploration().preprocess(notebook, {})
    assert done.cells[0].metadata["tags"] == ["skip-execution"]
    assert "tags" not in done.cells[1].metadata and "tags" not in done.cells[2].metadata


def _result(learner: str, points: dict[str, tuple[str, float]]) -> dict:
    return {"learner": learner, "criteria": [{"id": k, "status": s, "points": p} for k, (s, p) in points.items()]}


def test_gradebook_holds_cells_students_and_auto_scores(course, tmp_path):
    lab = course.lab("01-basic-dockerfile")
    full = {c.id: ("passed", c.points) for c in lab.rubric}
    partial = {**full, "builds": ("failed", 0.0), "size": ("not_gradable", 0.0), "dockerignore": ("skipped", 0.0)}
    db = tmp_path / "gradebook.db"
    written = gradebook.write(db, lab, [_result("alice", full), _result("bob", partial)])
    assert (written.students, written.flagged) == (2, 2)
    with Gradebook(gradebook.url(db)) as book:
        assignment = book.find_assignment(lab.id)
        assert assignment.max_score == lab.max_points
        assert {c.name: c.max_score for c in book.find_notebook("lab", lab.id).grade_cells} == \
            {c.id: c.points for c in lab.rubric}
        assert book.find_submission(lab.id, "alice").score == lab.max_points
        bob = book.find_submission(lab.id, "bob")
        left_out = sum(c.points for c in lab.rubric if c.id in ("size", "dockerignore"))
        assert bob.score == lab.max_points - 10 - left_out
        assert book.find_grade("size", "lab", lab.id, "bob").needs_manual_grade
        assert book.find_grade("dockerignore", "lab", lab.id, "bob").needs_manual_grade  # nbgrader's maximum is fixed
        assert not book.find_grade("builds", "lab", lab.id, "bob").needs_manual_grade
    gradebook.write(db, lab, [_result("bob", full)])  # grading again updates, never duplicates
    with Gradebook(gradebook.url(db)) as book:
        assert book.find_submission(lab.id, "bob").score == lab.max_points and len(book.students) == 2


def test_the_gradebook_of_an_nbgrader_course_is_found(tmp_path):
    assert gradebook.find(tmp_path) is None
    (tmp_path / "submitted").mkdir()
    assert gradebook.find(tmp_path) is None  # not an nbgrader course: no config, no gradebook
    (tmp_path / "nbgrader_config.py").write_text("")
    assert gradebook.find(tmp_path) == tmp_path / "gradebook.db"
