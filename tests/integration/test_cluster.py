"""Batch grading on Dask distributed, on this machine: a LocalCluster grades as one machine does; a
worker killed mid-grading costs nothing; GPU work goes only to GPU workers; TLS keeps out clients
without the course certificate; a lost scheduler stops the batch cleanly and --resume finishes it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from graders.batch import cluster, outputs
from graders.batch.discover import discover
from graders.batch.grading import grade_all
from graders.engine import session
from graders.engine.session import MANAGED, OWNER
from tests.conftest import ROOT, edit, free_port, learner_folder, managed_leftovers

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _class(root: Path) -> Path:
    """Six Lab 01 submissions: the solution, the starter, three flawed ones and a broken archive."""
    folder = root / "class"
    folder.mkdir(parents=True)
    learner_folder(root / "a", "01-basic-dockerfile").rename(folder / "solution")
    shutil.copytree(ROOT / "labs" / "01-basic-dockerfile", folder / "starter")
    for name, old, new in (("as-root", "USER app\n", ""),
                           ("shell-form", 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                            "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000"),
                           ("no-healthcheck", "HEALTHCHECK", "# HEALTHCHECK")):
        learner_folder(root / name, "01-basic-dockerfile").rename(folder / name)
        edit(folder / name / "Dockerfile", old, new)
    (folder / "broken.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    return folder


def _marks(out: Path) -> dict[str, list]:
    return {r["learner"]: [(c["id"], c["status"], c["points"]) for c in r["criteria"]] for r in outputs.load_results(out)}


def test_a_local_cluster_grades_a_batch_exactly_as_one_machine_does(tmp_path, engine, lab01):
    found = discover(_class(tmp_path), lab01.id)
    grade_all(lab01, found, tmp_path / "here", jobs=1, resume=False, course_root=ROOT, timeout=600)
    client = cluster.connect("local:2")
    try:
        assert cluster.needs(lab01, client) == {"docker": 1}
        grade_all(lab01, found, tmp_path / "there", jobs=1, resume=False, course_root=ROOT, timeout=600, cluster=client)
    finally:
        cluster.close(client)
    here, there = _marks(tmp_path / "here"), _marks(tmp_path / "there")
    assert sorted(here) == sorted(there) == ["as-root", "broken", "no-healthcheck", "shell-form", "solution", "starter"]
    assert here == there
    assert sum(points for _i, _s, points in here["solution"]) == 100
    broken = json.loads((tmp_path / "there" / "results" / "broken.json").read_text())
    assert "cannot be read" in broken["criteria"][0]["message"]


def test_a_worker_killed_while_it_grades_costs_nothing(tmp_path, engine, lab01):
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("ana", "ben", "cai", "dee"):
        learner_folder(tmp_path / name, "01-basic-dockerfile").rename(submissions / name)
    found = discover(submissions, lab01.id)
    client = cluster.connect("local:2")
    done: list[str] = []
    try:
        batch = threading.Thread(target=grade_all, args=(lab01, found, tmp_path / "out"),
                                 kwargs=dict(jobs=1, resume=False, course_root=ROOT, timeout=600, cluster=client,
                                             on_done=lambda learner, result: done.append(learner)))
        batch.start()
        deadline = time.monotonic() + 300
        victim = None
        while victim is None:
            assert time.monotonic() < deadline and batch.is_alive(), "no grading started a container"
            for container in engine.containers.list(filters={"label": f"{MANAGED}=true"}):
                pid = int(container.labels[OWNER].split(":")[-2])  # host:boot:pidns:PID:start of the `dockerlab check` a worker started
                try:
                    victim = psutil.Process(pid).parent()
                except psutil.Error:
                    continue
            time.sleep(0.1)
        victim.kill()  # SIGKILL: the worker dies mid-grading; its grading process gets SIGTERM and cleans up
        batch.join(timeout=900)
        assert not batch.is_alive()
    finally:
        cluster.close(client)
    results = outputs.load_results(tmp_path / "out")
    assert sorted(done) == sorted(r["learner"] for r in results) == ["ana", "ben", "cai", "dee"]
    assert all(r["score"] == 100 for r in results), [(r["learner"], r["score"], r["problems"]) for r in results]
    deadline = time.monotonic() + 90
    while managed_leftovers(engine) and time.monotonic() < deadline:
        time.sleep(1)
    owners = {c.labels.get(OWNER) for c in engine.containers.list(all=True, filters={"label": f"{MANAGED}=true"})}
    assert managed_leftovers(engine) == {}, [(owner, session.alive(owner)) for owner in owners]


def test_gpu_work_goes_only_to_gpu_workers(course):
    from distributed import Client, Scheduler, SpecCluster, Worker

    lab03 = course.lab("03-gpu-training")
    assert any(c.gpu for c in lab03.rubric)
    workers = {"plain": {"cls": Worker, "options": {"nthreads": 1, "resources": {"docker": 1}}},
               "gpu": {"cls": Worker, "options": {"nthreads": 1, "resources": {"docker": 1, "gpu": 1}}}}
    spec = SpecCluster(scheduler={"cls": Scheduler, "options": {"dashboard_address": None}}, workers=workers)
    client = Client(spec)
    try:
        wanted = cluster.needs(lab03, client)
        assert wanted == {"docker": 1, "gpu": 1}
        assert cluster.needs(course.lab("01-basic-dockerfile"), client) == {"docker": 1}
        from distributed import get_worker

        names = client.gather([client.submit(lambda n: get_worker().name, n, resources=wanted, pure=False)
                               for n in range(8)])
        assert set(names) == {"gpu"}
    finally:
        client.close()
        spec.close()
    plain = SpecCluster(scheduler={"cls": Scheduler, "options": {"dashboard_address": None}},
                        workers={"plain": workers["plain"]})
    client = Client(plain)
    try:
        assert cluster.needs(lab03, client) == {"docker": 1}  # no GPU worker: GPU criteria not gradable, as here
    finally:
        client.close()
        plain.close()


def test_without_a_gpu_worker_lab03s_gpu_criteria_are_not_gradable_on_a_cluster(tmp_path, engine, course):
    lab03 = course.lab("03-gpu-training")
    if any(r for r in engine.info().get("Runtimes", {}) if "nvidia" in r):
        pytest.skip("this engine has a GPU runtime")
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copytree(ROOT / "solutions" / "03-gpu-training", submissions / "solution")
    client = cluster.connect("local:1")
    try:
        assert cluster.needs(lab03, client) == {"docker": 1}
        grade_all(lab03, discover(submissions, lab03.id), tmp_path / "out", jobs=1, resume=False, course_root=ROOT,
                  timeout=1500, cluster=client)
    finally:
        cluster.close(client)
    (result,) = outputs.load_results(tmp_path / "out")
    gpu_ids = {c.id for c in lab03.rubric if c.gpu}
    statuses = {c["id"]: c["status"] for c in result["criteria"]}
    assert {statuses[i] for i in gpu_ids} == {"not_gradable"}
    assert all(status == "passed" for i, status in statuses.items() if i not in gpu_ids), statuses


def test_with_tls_only_clients_holding_the_course_certificate_get_in():
    from distributed import Client, LocalCluster
    from distributed.security import Security

    course_tls = Security.temporary()
    local = LocalCluster(n_workers=1, processes=False, protocol="tls://", security=course_tls, dashboard_address=None)
    try:
        with Client(local.scheduler_address, security=course_tls, timeout=10) as allowed:
            assert allowed.submit(lambda: 41 + 1).result(timeout=30) == 42
        host, port = local.scheduler_address.removeprefix("tls://").rsplit(":", 1)
        anyone = ssl.create_default_context()
        anyone.check_hostname, anyone.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection((host, int(port)), timeout=5) as raw:  # TLS, but no course certificate
            with pytest.raises(OSError):
                with anyone.wrap_socket(raw) as stranger:
                    stranger.sendall(b"\0" * 64)
                    assert stranger.recv(1) == b""  # or the handshake is refused: no answer either way
                    raise ConnectionResetError("closed without an answer")
        with pytest.raises((OSError, TimeoutError)):
            Client(local.scheduler_address, security=Security.temporary(), timeout=5)  # another course's
    finally:
        local.close()


def _start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def _wait_for_worker(address: str, log: Path) -> None:
    from distributed import Client

    deadline = time.monotonic() + 180
    with Client(address, timeout=30) as probe:
        while not probe.scheduler_info().get("workers"):
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)


def test_dockerlab_worker_serves_a_scheduler_and_a_lost_scheduler_stops_the_batch_for_resume(tmp_path, engine):
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("eve", "fox", "gil", "hal", "ivy"):
        learner_folder(tmp_path / name, "01-basic-dockerfile").rename(submissions / name)
    out = tmp_path / "out"
    processes: list[subprocess.Popen] = []

    def cluster_up() -> str:
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        processes.append(_start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                 "--port", str(port), "--dashboard-address", ":0"], tmp_path / f"scheduler-{port}.log"))
        time.sleep(2)
        processes.append(_start([sys.executable, "-m", "graders", "worker", address, "--resources", "docker=1"],
                                tmp_path / f"worker-{port}.log"))
        _wait_for_worker(address, tmp_path / f"worker-{port}.log")
        return address

    try:
        address = cluster_up()
        grading = subprocess.Popen([sys.executable, "-m", "graders", "grade", "01-basic-dockerfile", str(submissions),
                                    "--out", str(out), "--cluster", address], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 300
        while not list((out / "results").glob("*.json")):
            assert time.monotonic() < deadline and grading.poll() is None, grading.stdout.read()
            time.sleep(0.2)
        os.killpg(processes[0].pid, signal.SIGKILL)  # the scheduler dies mid-batch
        output, _ = grading.communicate(timeout=120)
        assert grading.returncode == 1 and "scheduler was lost" in output, output
        first = {p.name for p in (out / "results").glob("*.json")}
        assert 1 <= len(first) < 5
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        processes.clear()
        address = cluster_up()
        again = subprocess.run([sys.executable, "-m", "graders", "grade", "01-basic-dockerfile", str(submissions),
                                "--out", str(out), "--cluster", address, "--resume"], cwd=ROOT, capture_output=True,
                               text=True, timeout=900)
        assert again.returncode == 0, again.stdout + again.stderr
        results = outputs.load_results(out)
        assert sorted(r["learner"] for r in results) == ["eve", "fox", "gil", "hal", "ivy"]
        assert all(r["score"] == 100 for r in results)
        assert f"{5 - len(first)} to grade" in again.stderr
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while managed_leftovers(engine) and time.monotonic() < deadline:
        time.sleep(1)
    assert managed_leftovers(engine) == {}
