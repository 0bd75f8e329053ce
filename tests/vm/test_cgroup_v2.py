"""The build sandbox on cgroup v2 with systemd's cgroup driver, proved in a VM: Debian trixie's
kernel with trixie's Engine 26.1 and buildx 0.13, and with sid's Engine 28.5, buildx 0.29 and the
containerd image store; the grader's own build code. A fork bomb and a memory hog are stopped
at their limits from their first instruction; a well-behaved build beside them passes: the fork bomb
and it run side by side, each in a build slot and cgroup of its own."""

from __future__ import annotations

import json
import os

import pytest

from tests.vm import vm

pytestmark = [pytest.mark.vm, pytest.mark.slow]

RUN = """set -e
mkdir -p /tmp/bb/bin
cp /usr/bin/busybox /tmp/bb/bin/busybox  # links made by hand: --install follows trixie's merged /usr
for applet in $(/tmp/bb/bin/busybox --list); do [ -e /tmp/bb/bin/$applet ] || ln -s busybox /tmp/bb/bin/$applet; done
tar -C /tmp/bb -c . | docker import - dockerlab/busybox:vm >/dev/null
DOCKERLAB_BUILD_SLOTS=2 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/src python3 /src/tests/vm/sandbox_in_vm.py /out/result.json
"""


@pytest.fixture(scope="module", params=sorted(vm.ENGINES))
def booted(request, tmp_path_factory):
    if missing := vm.missing_tools():
        pytest.skip(f"the VM needs {', '.join(missing)} (./dev test installs them on Debian)")
    if os.geteuid() != 0:
        pytest.skip("making the VM's root file system needs root (debootstrap)")
    out = tmp_path_factory.mktemp(f"vm-{request.param}")
    boot = vm.run(RUN, out, request.param)
    result = out / "result.json"
    assert boot.rc == 0 and result.exists(), (
        f"the VM's run ended with {boot.rc} after {boot.seconds:.0f} s\n{boot.log[-3000:]}\n--- console\n{boot.console[-3000:]}")
    found = json.loads(result.read_text())
    print(json.dumps(found, indent=2), f"\nVM run: {boot.seconds:.0f} s")
    return request.param, found


@pytest.fixture
def seen(booted):
    return booted[1]


def test_the_vm_is_what_instructors_run(booted):
    engine, seen = booted
    assert seen["engine"]["ServerVersion"].startswith(vm.ENGINES[engine]), seen["engine"]
    assert seen["engine"]["CgroupVersion"] == "2"
    assert seen["engine"]["CgroupDriver"] == "systemd"
    assert ("io.containerd.snapshotter" in seen["engine"]["DriverStatus"]) == (engine == "sid"), seen["engine"]
    assert "buildx" in seen["builder"]


def test_build_steps_run_in_the_grader_s_own_cgroup(seen):
    assert seen["cgroup"] == "/dockerlab/build" and seen["own_cgroup"], seen["sandbox"]


def test_a_fork_bomb_in_a_build_step_is_stopped_at_the_process_limit(seen):
    bomb = seen["builds"]["fork-bomb"]
    assert not bomb["ok"] and "limit of 64 processes" in bomb["error"], bomb


def test_a_memory_hog_in_a_build_step_is_stopped_at_the_memory_limit(seen):
    hog = seen["builds"]["memory-hog"]
    assert not hog["ok"] and "memory limit of 256 MB" in hog["error"], hog


def test_a_well_behaved_build_beside_them_passes(seen):
    reference = seen["builds"]["reference"]
    assert reference["ok"], reference


def test_the_fork_bomb_and_the_well_behaved_build_ran_side_by_side_each_in_its_own_slot(seen):
    assert seen["slots"] == 2 and "/dockerlab/build/0 to /1, one per build" in seen["sandbox"], seen["sandbox"]
    assert seen["builds"]["fork-bomb"]["waited"] < 1 and seen["builds"]["reference"]["waited"] < 1, seen["builds"]
