"""The engine matrix: the same submissions graded on the host's engine and on Debian's newer engines
run beside it (tests/matrix/engines.py): trixie's Engine 26.1 with buildx 0.13, sid's Engine 28.5
with buildx 0.29 and the containerd image store. Same scores and statuses everywhere, and the build
sandbox holding on each (its steps in the grader's own cgroup, named with --cgroup-parent)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from graders import pipeline
from graders.engine import build_sandbox
from graders.runner import BUILT_AGAIN, SLOT_WAIT
from tests.conftest import LAB01, ROOT, SOLUTION01, edit, learner_folder
from tests.hostile import corpus
from tests.integration.test_lab01 import TODAY, VARIANTS
from tests.matrix import engines

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.matrix]

BASES = ["python:3.11-slim", "debian:bookworm-slim", "registry:2.8", "redis:8.0", "postgres:15-bookworm"]
"""The course's base images each engine is given; the first three (Labs 01, 02 and 05: Lab 05's CI job pushes to
the course registry) on every CI run."""
SOME_VARIANTS = ["root-user", "shell-form-cmd", "curl-healthcheck"]
HOSTILE = {  # the build sandbox's cases (tests/hostile), with Lab 01's limits of the hostile batch
    "build-fork-bomb": ("FROM python:3.11-slim\nRUN for i in $(seq 1 2000); do sleep 60 & done; wait\n", "limit of 512 processes"),
    "build-memory-hog": ('FROM python:3.11-slim\nRUN python -c "b = bytearray(6 * 2**30)"\n', "memory limit of 4096 MB"),
    "build-disk-filler": ("FROM python:3.11-slim\nRUN dd if=/dev/zero of=/fill bs=1M count=3072\n", "wrote over 2,048 MB"),
    "build-sleeps": ("FROM python:3.11-slim\nRUN sleep 600\n", "the build took longer than 30 s"),
}


def _started(host, suite: str):
    started = engines.start(host, engines.FLAVOURS[suite], BASES if engines.FULL else BASES[:3])
    yield started
    engines.stop(started)


@pytest.fixture(scope="module")
def trixie(engine):
    yield from _started(engine, "trixie")


@pytest.fixture(scope="module")
def sid(engine):
    yield from _started(engine, "sid")


@pytest.fixture
def newer(request):
    """The engine named by the test's parameter, started once for this module (each test says which)."""
    return request.getfixturevalue(request.param)


BOTH = pytest.mark.parametrize("newer", sorted(engines.FLAVOURS), indirect=True)


def statuses(result: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result["criteria"]}


def on_host(lab, folder: Path) -> dict[str, str]:
    return {c.id: c.status for c in pipeline.grade(lab, folder).criteria}


@BOTH
def test_the_engine_is_debian_s_and_builds_through_buildx(newer):
    assert newer.version.startswith(engines.FLAVOURS[newer.name].version), newer.version
    found = newer.run("docker", "buildx", "version")
    assert found.returncode == 0 and "buildx" in found.stdout, found.stderr
    store = newer.run("docker", "info", "--format", "{{json .DriverStatus}}").stdout
    containerd = "io.containerd.snapshotter" in store
    assert containerd == bool(engines.FLAVOURS[newer.name].daemon), store


@BOTH
def test_the_reference_scores_full_marks_with_the_build_sandbox_held(newer, reference, capsys):
    result = newer.grade("01-basic-dockerfile", SOLUTION01)
    assert result["score"] == result["max_score"] == 100, [c for c in result["criteria"] if c["status"] != "passed"]
    image, here = result["image"], reference("01-basic-dockerfile").image
    assert here is not None
    added, added_here = image["size_bytes"] - image["base_size_bytes"], here.size_bytes - here.base_size_bytes
    assert abs(added - added_here) < 0.1 * added_here, (added, added_here)  # unpacked sizes, whatever the store
    with capsys.disabled():  # what the image store reports differs: written down in the README
        print(f"\n{newer.name} {newer.version}: Lab 01 reference {result['score']:g}/{result['max_score']:g}, "
              f"{added / 1e6:.1f} MB added over the base (host: {added_here / 1e6:.1f} MB)")
    environment = result["environment"]
    assert environment["engine_version"] == newer.version
    slots = build_sandbox.slot_count(own=True)  # a build slot, and a cgroup of its own, per CPU (2 here)
    where = f"the cgroups /dockerlab/build/0 to /{slots - 1}, one per build" if slots > 1 else "the cgroup /dockerlab/build"
    assert environment["build_sandbox"] == {
        "enforced": True, "detail": f"steps limited in {where} (the grader's own, named with --cgroup-parent)"}


@pytest.mark.parametrize("newer", ["sid"], indirect=True)  # the newest; on both, CI would pass its budget
def test_the_starter_and_flawed_variants_get_what_they_get_on_the_host(newer, lab01, tmp_path):
    folders = {"starter": LAB01}
    for name in SOME_VARIANTS:
        folder = learner_folder(tmp_path / name, "01-basic-dockerfile")
        for old, new in VARIANTS[name][0]:
            text = (folder / "Dockerfile").read_text()
            assert old in text
            (folder / "Dockerfile").write_text(text.replace(old, new))
        folders[name] = folder
    different = {}
    for name, folder in folders.items():
        there, here = statuses(newer.grade("01-basic-dockerfile", folder)), on_host(lab01, folder)
        if there != here:
            different[name] = {key: (here[key], there.get(key)) for key in here if here[key] != there.get(key)}
    assert not different, different


@pytest.mark.parametrize("newer", ["sid"], indirect=True)
def test_today_s_builder_features_score_full_marks_on_a_newer_engine(newer, tmp_path):
    """Heredocs, COPY --link, HEALTHCHECK --start-interval: not gradable on 20.10 (tests/integration), full
    marks here, lost nowhere."""
    folder = learner_folder(tmp_path / "today", "01-basic-dockerfile")
    for old, new in TODAY:
        edit(folder / "Dockerfile", old, new)
    result = newer.grade("01-basic-dockerfile", folder)
    assert result["score"] == result["max_score"] == 100, [c for c in result["criteria"] if c["status"] != "passed"]


@pytest.mark.parametrize("newer", [suite for suite, flavour in sorted(engines.FLAVOURS.items()) if flavour.labs], indirect=True)
def test_the_other_labs_references_get_what_they_get_on_the_host(newer, course, reference, capsys):
    for lab_id in engines.FLAVOURS[newer.name].labs:
        lab = course.lab(lab_id)
        there = newer.grade(lab_id, ROOT / lab.solution)
        here = reference(lab_id)  # graded on the host once in the run (its lab's own test, the snapshot)
        assert statuses(there) == {c.id: c.status for c in here.criteria}, [
            (c["id"], c["status"], c["message"][:200]) for c in there["criteria"] if c["status"] != "passed"]
        assert there["score"] == here.score
        with capsys.disabled():
            print(f"\n{newer.name} {newer.version}: {lab_id} reference {there['score']:g}/{there['max_score']:g}")


@pytest.mark.parametrize("newer", ["sid"], indirect=True)
def test_lab05_s_starter_leaks_its_secret_the_same_way_on_the_containerd_store(newer, course):
    """`docker save` writes the OCI layout there (gzip blobs, an index): the secret is still found, in the
    same place, and every other criterion gets the host's status."""
    lab = course.lab("05-ship-it")
    there = newer.grade("05-ship-it", ROOT / lab.folder)
    assert statuses(there) == on_host(lab, ROOT / lab.folder)
    secret = next(c for c in there["criteria"] if c["id"] == "secret")
    # BuildKit 0.12 and newer write an ARG's value into a history entry of its own, before the RUN's
    assert secret["message"].startswith("the image holds the secret's value: history: ARG INDEX_TOKEN=dockerlab-canary-"), secret
    assert "; history: RUN |1 INDEX_TOKEN=dockerlab-canary-" in secret["message"], secret


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    """The course with Lab 01's build limits of the hostile tests: 2,048 MB of disk, 30 s."""
    folder = tmp_path_factory.mktemp("course")
    text = (ROOT / "course.yml").read_text()
    old = "limits: {build_seconds: 600, run_seconds: 30,"
    assert text.count(old) == 1
    (folder / "course.yml").write_text(text.replace(old, "limits: {build_seconds: 30, build_disk_mb: 2048, run_seconds: 30,"))
    for name in ("labs", "solutions", "docker"):
        (folder / name).symlink_to(ROOT / name)
    return folder / "course.yml"


@pytest.mark.parametrize(("newer", "case"), [(suite, case) for suite in sorted(engines.FLAVOURS) for case in sorted(HOSTILE)
                                             # the time limit is the grader's clock: proved on sid side by side (below)
                                             if case != "build-sleeps"],
                         indirect=["newer"])
def test_hostile_build_steps_are_stopped_at_their_limits(newer, hostile_course, case, tmp_path):
    dockerfile, words = HOSTILE[case]
    folder = corpus._dockerfile(tmp_path, case, dockerfile)
    result = newer.grade("01-basic-dockerfile", folder, hostile_course)
    builds = next(c for c in result["criteria"] if c["id"] == "builds")
    assert builds["status"] == "failed" and words in builds["message"], builds["message"]
    shutil.rmtree(folder)


@pytest.mark.parametrize("newer", ["sid"], indirect=True)
def test_builds_run_side_by_side_each_stopped_at_its_own_limits(newer, hostile_course, tmp_path):
    """Builds graded at -j 2 start together, each in a build slot and cgroup of its own: the fork bomb
    meets its own process limit. The endless step, stopped at the time limit beside another build, is built
    again alone and stopped there too (wall time is stretched by another build's work: only a verdict
    reached alone counts); so is the disk filler, whose second build runs without the cache (its first
    attempt's step may have been cached before the stop: it must write again)."""
    folder = tmp_path / "class"
    cases = ("build-disk-filler", "build-fork-bomb", "build-sleeps")
    base = "FROM python:3.11-slim\n"
    for case in cases:  # steps of their own: the hostile test above left its steps in this engine's cache
        corpus._dockerfile(folder, case, HOSTILE[case][0].replace(base, f"{base}ENV BESIDE={tmp_path.name}\n"))
    out = tmp_path / "out"
    done = newer.run(str(engines.DOCKERLAB), "--course", str(hostile_course), "grade", "01-basic-dockerfile", str(folder),
                     "--out", str(out), "-j", "2")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    results = {case: json.loads((out / "results" / f"{case}.json").read_text()) for case in cases}
    for case, result in results.items():
        builds = next(c for c in result["criteria"] if c["id"] == "builds")
        assert builds["status"] == "failed" and HOSTILE[case][1] in builds["message"], (case, builds["message"])
    assert results["build-fork-bomb"]["timings"].get(SLOT_WAIT, 0) < 1, results["build-fork-bomb"]["timings"]  # two slots
    assert BUILT_AGAIN not in results["build-fork-bomb"]["timings"]  # stopped by its own cgroup's limit: final
    assert results["build-sleeps"]["timings"].get(BUILT_AGAIN, 0) >= 30, results["build-sleeps"]["timings"]
    doctor = json.loads(newer.run(str(engines.DOCKERLAB), "doctor", "--json").stdout)
    slots = build_sandbox.slot_count(own=True)
    assert slots >= 2 and any(item["detail"].endswith(f"; {slots} builds at a time") for item in doctor["items"]
                              if item["name"] == "build sandbox"), doctor
