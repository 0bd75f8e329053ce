"""A result that says a worker's machine was at fault is tried once more, on another worker; a
learner's refusal and a real result are final. On an in-process Dask cluster, no engine."""

from pathlib import Path

import pytest

from graders.batch import cluster
from graders.batch.discover import Submission
from graders.course import load

ROOT = Path(__file__).resolve().parents[2]
STUCK = {"max_score": 0, "problems": ["build: no Docker engine answers"], "passed": False, "score": 0}
GOOD = {"max_score": 100, "problems": [], "passed": True, "score": 100}


def flaky(lab_id, learner, name, data, archive, timeout):
    """The first worker to see a submission has a broken engine; any other grades it."""
    from distributed import Lock, get_worker

    me = get_worker().name
    with Lock("first"):
        variable = get_worker().client.get_metadata(learner, default=None)
        if variable is None:
            get_worker().client.set_metadata(learner, me)
            variable = me
    if learner == "refused":
        return {"refused": "holds a link", "worker": get_worker().address}
    return {"result": STUCK if variable == me else GOOD, "worker": get_worker().address, "seen": me}


@pytest.fixture
def client():
    from distributed import Client, LocalCluster

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, resources={"docker": 1},
                         dashboard_address=None)
    with Client(local) as connected:
        yield connected
    local.close()


def test_machine_trouble_is_tried_once_more_elsewhere_and_each_submission_finishes_once(tmp_path, client):
    lab = load(ROOT / "course.yml").lab("01-basic-dockerfile")
    todo = []
    for name in ("ada", "bo", "refused"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text("FROM python:3.11-slim\n")
        todo.append(Submission(name, tmp_path / name, False))
    finished = []
    cluster.grade_all(client, lab, todo, timeout=60, task=flaky,
                      finish=lambda s, result, reason, learner: finished.append((s.learner, result, reason, learner)))
    assert sorted(f[0] for f in finished) == ["ada", "bo", "refused"]
    by_name = {f[0]: f for f in finished}
    assert by_name["ada"][1]["score"] == 100 and by_name["bo"][1]["score"] == 100
    assert by_name["refused"][1:] == (None, "holds a link", True)
