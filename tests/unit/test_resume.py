"""--resume grades again what has no result, what was not gradable, and what changed since."""

import json

from graders.batch.discover import Submission
from graders.batch.grading import needs_grading, result_path
from graders.fingerprint import digest


def write(out, learner, source, *, max_score=100, problems=(), fingerprint=None):
    path = result_path(out, learner)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"learner": learner, "max_score": max_score, "passed": True, "problems": list(problems),
                                "submission_digest": fingerprint or digest(source)}))


def test_resume_picks_the_missing_the_not_gradable_and_the_changed(tmp_path):
    out = tmp_path / "out"
    folders = {}
    for name in ("done", "stuck", "changed", "new"):
        folders[name] = tmp_path / "class" / name
        folders[name].mkdir(parents=True)
        (folders[name] / "Dockerfile").write_text(f"FROM python:3.11-slim  # {name}\n")
    write(out, "done", folders["done"])
    write(out, "stuck", folders["stuck"], max_score=0, problems=["build: no Docker engine answers"])
    write(out, "changed", folders["changed"])
    (folders["changed"] / "Dockerfile").write_text("FROM python:3.12-slim\n")
    again = [name for name, folder in folders.items() if needs_grading(out, Submission(name, folder, False))]
    assert again == ["stuck", "changed", "new"]


def test_a_digest_sees_names_contents_and_links(tmp_path):
    (tmp_path / "a").write_text("x")
    first = digest(tmp_path)
    (tmp_path / "a").write_text("y")
    second = digest(tmp_path)
    (tmp_path / "a").rename(tmp_path / "b")
    third = digest(tmp_path)
    (tmp_path / "c").symlink_to("b")
    assert len({first, second, third, digest(tmp_path)}) == 4
