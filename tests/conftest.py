"""Shared fixtures. Tests that need the engine are marked `docker`; in CI (CI=true) a missing
engine fails them instead of skipping them. Every docker test must leave nothing behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import docker
import pytest

from graders import course as course_mod
from graders.engine.session import MANAGED, sweep_dead

ROOT = Path(__file__).resolve().parents[1]
LAB01 = ROOT / "labs" / "01-basic-dockerfile"
SOLUTION01 = ROOT / "solutions" / "01-basic-dockerfile"


def pytest_configure(config):
    """A learner's history of self-checks (graders.history) is not kept for the tests' own checks:
    they would fill the home folder of whoever runs the suite (tests/unit/test_history.py turns it on)."""
    os.environ.setdefault("DOCKERLAB_HISTORY", "off")
    # A suite started as a background job of a shell without job control inherits SIGINT ignored, and so
    # would every grader it starts (Python keeps an inherited SIG_IGN): the Ctrl-C tests would send a
    # signal nobody hears. A handler, unlike SIG_IGN, is reset to the default in the children.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def course():
    return course_mod.load()


@pytest.fixture(scope="session")
def lab01(course):
    return course.lab("01-basic-dockerfile")


@pytest.fixture(scope="session")
def reference(course, engine):
    """`reference(lab_id)`: that lab's reference solution graded once in the session, for every test that
    only reads its result (the lab's full-marks test, the result snapshot, the engine matrix)."""
    from graders import pipeline

    graded = {}

    def result(lab_id: str):
        if lab_id not in graded:
            graded[lab_id] = pipeline.grade(course.lab(lab_id), ROOT / "solutions" / lab_id)
        return graded[lab_id]

    return result


@pytest.fixture(scope="session")
def engine():
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Docker engine and none answers: {error}")
        pytest.skip(f"no Docker engine answers: {error}")
    sweep_dead(client)  # what an earlier, killed run of the suite left is not this run's
    yield client
    leftovers = managed_leftovers(client)
    assert not leftovers, f"the suite left dockerlab resources behind: {leftovers}"


def managed_leftovers(client) -> dict[str, int]:
    """What the grader made that is still there. Sparse listings: the SDK's full listing inspects each
    container after listing it, and one removed in between (a killed grading's build step) is a 404."""
    label = {"label": f"{MANAGED}=true"}
    found = {
        "containers": len(client.containers.list(all=True, filters=label, sparse=True)),
        "networks": len(client.networks.list(filters=label)),
        "volumes": len(client.volumes.list(filters=label)),
        "images": len(client.images.list(filters=label)),
    }
    return {kind: count for kind, count in found.items() if count}


@pytest.fixture(autouse=True)
def _nothing_left_behind(request):
    """After each docker test, nothing the grader made may remain."""
    yield
    if request.node.get_closest_marker("docker") and "engine" in request.fixturenames:
        client = request.getfixturevalue("engine")
        assert managed_leftovers(client) == {}, "grading left resources behind"


def learner_folder(tmp_path: Path, lab: str) -> Path:
    """A learner's folder: the lab's starter with the reference Dockerfile and .dockerignore in it."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "labs" / lab, folder)
    for name in ("Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / "solutions" / lab / name, folder / name)
    return folder


@pytest.fixture
def submission(tmp_path):
    return learner_folder(tmp_path, "01-basic-dockerfile")


@contextlib.contextmanager
def tag_aliases(client, source: str, refs: list[str]):
    """`refs` as tags of the image `source` (a stand-in under the names a variant writes), made only
    where missing and removed afterwards."""
    made = []
    for ref in refs:
        try:
            client.images.get(ref)
        except docker.errors.ImageNotFound:
            repository, tag = ref.rsplit(":", 1)
            client.images.get(source).tag(repository, tag)
            made.append(ref)
    try:
        yield
    finally:
        for ref in made:
            client.images.remove(ref)


def lost(result) -> set[str]:
    """The criteria that cost points (failed or partial)."""
    return {c.id for c in result.criteria if c.status in ("failed", "partial")}


def free_port() -> int:
    """A port on loopback that nothing listens on now."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return free.getsockname()[1]


def stop_group(process: subprocess.Popen, grace_s: float = 30) -> None:
    """SIGTERM a server's process group (started with start_new_session), SIGKILL it if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def edit(path: Path, old: str, new: str) -> None:
    """Replace text that must be there (a variant that silently changes nothing is a broken test)."""
    text = path.read_text()
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, a skipped `docker` or `vm` test is a failure: only `gpu` and `cpu_only` tests may skip, by what
    the machine has."""
    outcome = yield
    report = outcome.get_result()
    allowed = item.get_closest_marker("gpu") or item.get_closest_marker("cpu_only")
    needs_machine = item.get_closest_marker("docker") or item.get_closest_marker("vm")
    if os.environ.get("CI") and report.skipped and needs_machine and not allowed:
        report.outcome = "failed"
        report.longrepr = f"docker and vm tests must not be skipped in CI: {report.longrepr}"


def pytest_collection_modifyitems(items):
    """Tests marked `last` (they restart the engine) run after all the others."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)
