"""Faults around a grading: a batch killed with SIGKILL, a disk too full for a build, a build that
outlives its time, a container that floods its log, and the same submission graded three times."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from graders import pipeline
from graders.batch import outputs
from graders.engine import run as run_mod
from graders.engine.session import MANAGED, Session
from tests.conftest import ROOT, learner_folder, managed_leftovers

pytestmark = pytest.mark.docker


def _grade(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "graders", "grade", "01-basic-dockerfile", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, **options)


@pytest.mark.slow
def test_a_batch_killed_with_sigkill_is_finished_by_resume_with_nothing_lost_or_left(tmp_path, engine):
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("ada", "bo", "cy"):
        learner_folder(tmp_path / name, "01-basic-dockerfile").rename(submissions / name)
    out = tmp_path / "out"
    batch = _grade(str(submissions), "--out", str(out), "-j", "2", start_new_session=True)
    deadline = time.monotonic() + 300
    while not engine.containers.list(all=True, filters={"label": f"{MANAGED}=true"}, sparse=True):
        assert batch.poll() is None and time.monotonic() < deadline, batch.stdout.read()
        time.sleep(0.2)
    os.killpg(batch.pid, signal.SIGKILL)  # the batch and its workers, with no chance to clean up
    batch.wait()
    assert managed_leftovers(engine), "the kill left nothing behind: the test proves nothing"
    again = _grade(str(submissions), "--out", str(out), "-j", "2", "--resume")
    output, _ = again.communicate(timeout=600)
    assert again.returncode == 0, output
    results = outputs.load_results(out)
    assert sorted(r["learner"] for r in results) == ["ada", "bo", "cy"]
    assert all(r["score"] == 100 for r in results), [(r["learner"], r["score"]) for r in results]
    assert sorted(p.name for p in (out / "results").iterdir()) == ["ada.json", "bo.json", "cy.json"]
    assert managed_leftovers(engine) == {}


def test_a_build_that_cannot_fit_on_the_disk_is_not_gradable_before_it_starts(submission, engine, lab01):
    lab = lab01.model_copy(update={"limits": lab01.limits.model_copy(update={"build_disk_mb": 10**9})})
    result = pipeline.grade(lab, submission, course_root=ROOT)
    builds = next(c for c in result.criteria if c.id == "builds")
    assert builds.status == "not_gradable", builds.message
    assert "MB free, and a build may write up to 1,000,000,000 MB" in builds.message
    assert result.passed is None or result.max_score < lab.max_points


def test_a_build_that_sleeps_past_its_time_limit_is_stopped(tmp_path, engine, lab01):
    folder = learner_folder(tmp_path, "01-basic-dockerfile")
    (folder / "Dockerfile").write_text("FROM python:3.11-slim\nRUN sleep 600\n")
    lab = lab01.model_copy(update={"limits": lab01.limits.model_copy(update={"build_seconds": 8})})
    started = time.monotonic()
    result = pipeline.grade(lab, folder, course_root=ROOT)
    assert time.monotonic() - started < 60
    builds = next(c for c in result.criteria if c.id == "builds")
    assert builds.status == "failed" and "the build took longer than 8 s" in builds.message, builds.message


def test_a_container_that_floods_its_output_keeps_at_most_10_mb_of_log_on_the_engine(engine):
    flood = "import os\nfor _ in range(100): os.write(1, b'x' * 2**20)"
    with Session(engine) as session:
        code, logs, _seconds, _timed_out = run_mod.run_job(
            session, "python:3.11-slim", name="flood", args=["-c", flood], entrypoint=["python"], mounts={},
            shm_mb=64, memory_mb=256, cpus=1.0, pids=64, timeout=60)
        attrs = engine.api.inspect_container(session.name("flood"))
        assert code == 0
        assert attrs["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "1"}}
        size = os.path.getsize(attrs["LogPath"])
    assert 0 < size <= 11 * 2**20, size  # 100 MB printed


@pytest.mark.slow
def test_the_same_submission_graded_three_times_gets_the_same_result(submission, engine, lab01):
    seen = []
    for _ in range(3):
        result = pipeline.grade(lab01, submission, course_root=ROOT)
        seen.append([(c.id, c.status, c.points) for c in result.criteria])
    assert all(marks == seen[0] for marks in seen), seen
    assert sum(points for _id, _status, points in seen[0]) == 100


def test_where_build_limits_cannot_be_set_doctor_and_every_result_say_so(tmp_path, engine):
    env = {**os.environ, "DOCKERLAB_CGROUP_ROOT": str(tmp_path / "no-cgroups")}
    doctor = subprocess.run([sys.executable, "-m", "graders", "doctor", "--json"], capture_output=True, text=True,
                            env=env, timeout=120, cwd=ROOT)
    item = next(i for i in json.loads(doctor.stdout)["items"] if i["name"] == "build sandbox")
    assert item["ok"] is False and item["red"] is True and "not enforced" in item["detail"], item
    check = subprocess.run([sys.executable, "-m", "graders", "check", "01-basic-dockerfile",
                            str(ROOT / "solutions" / "01-basic-dockerfile"), "--json"], capture_output=True, text=True,
                           env=env, timeout=300, cwd=ROOT)
    sandbox = json.loads(check.stdout)["environment"]["build_sandbox"]
    assert sandbox["enforced"] is False and "no cgroup file system" in sandbox["detail"], sandbox
