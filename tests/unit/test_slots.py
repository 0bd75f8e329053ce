"""Build slots: how many builds run at once, which cgroup each one's steps run beneath, and when a build
stopped at a limit is built again alone (graders.engine.build_sandbox, graders.engine.build)."""

from __future__ import annotations

import threading
import time

import pytest

from graders.engine import build, build_sandbox
from graders.engine.build_sandbox import BuildLimits
from graders.facts import Build


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(build_sandbox, "state_dir", lambda: tmp_path)
    monkeypatch.delenv(build_sandbox.SLOTS_VARIABLE, raising=False)
    return tmp_path


def test_one_slot_where_steps_share_buildkit_s_parent_else_one_per_cpu_as_memory_allows(monkeypatch):
    assert build_sandbox.slot_count(own=False) == 1
    monkeypatch.setattr(build_sandbox.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(build_sandbox, "_memory_mb", lambda: 24 * 1024)
    assert build_sandbox.slot_count(own=True) == 6  # 4 GB a build: memory, not the CPUs, sets it
    monkeypatch.setattr(build_sandbox, "_memory_mb", lambda: 128 * 1024)
    assert build_sandbox.slot_count(own=True) == 16
    monkeypatch.setattr(build_sandbox, "_memory_mb", lambda: 2048)
    assert build_sandbox.slot_count(own=True) == 1  # never none
    monkeypatch.setenv(build_sandbox.SLOTS_VARIABLE, "3")
    assert build_sandbox.slot_count(own=True) == 3
    assert build_sandbox.slot_count(own=False) == 1  # a shared parent holds one build's limits, whatever is asked
    monkeypatch.setenv(build_sandbox.SLOTS_VARIABLE, "lots")
    assert build_sandbox.slot_count(own=True) == 1


def _hold(parent, count, held, release, alone=False, said=None):
    with build_sandbox.build_slot(parent, count, waiting=lambda: said.append("waiting") if said is not None else None,
                                  alone=alone) as slot:
        held.append(slot)
        release.wait(10)


def test_builds_side_by_side_each_beneath_a_cgroup_of_its_own():
    held: list[build_sandbox.Slot] = []
    release = threading.Event()
    threads = [threading.Thread(target=_hold, args=("/dockerlab/build", 2, held, release)) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while len(held) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(slot.cgroup for slot in held) == ["/dockerlab/build/0", "/dockerlab/build/1"]
    assert all(slot.shared() for slot in held)  # each ran beside the other
    release.set()
    for thread in threads:
        thread.join()


def test_a_third_build_waits_for_a_slot_and_says_so_once():
    held: list[build_sandbox.Slot] = []
    said: list[str] = []
    release = threading.Event()
    first = [threading.Thread(target=_hold, args=("/p", 2, held, release)) for _ in range(2)]
    for thread in first:
        thread.start()
    while len(held) < 2:
        time.sleep(0.01)
    done = threading.Event()
    done.set()  # the third gives its slot back at once
    third = threading.Thread(target=_hold, args=("/p", 2, held, done, False, said))
    third.start()
    time.sleep(0.5)
    assert len(held) == 2 and said == ["waiting"]
    release.set()
    third.join(timeout=15)
    assert len(held) == 3 and said == ["waiting"]
    for thread in first:
        thread.join()


def test_with_one_slot_the_shared_parent_itself_holds_the_build_and_nothing_runs_beside_it():
    with build_sandbox.build_slot("/docker/buildkit", 1) as slot:
        assert slot.cgroup == "/docker/buildkit" and not slot.shared()


def test_a_build_alone_waits_until_every_slot_is_free():
    held: list[build_sandbox.Slot] = []
    release = threading.Event()
    other = threading.Thread(target=_hold, args=("/p", 2, held, release))
    other.start()
    while not held:
        time.sleep(0.01)
    alone: list[build_sandbox.Slot] = []
    done = threading.Event()
    done.set()
    lone = threading.Thread(target=_hold, args=("/p", 2, alone, done, True))
    lone.start()
    time.sleep(0.4)
    assert not alone  # the other build still holds its slot
    release.set()
    lone.join(timeout=15)
    assert alone and alone[0].cgroup == "/p/0"
    other.join()


def test_a_build_after_another_ended_did_not_share_the_machine():
    with build_sandbox.build_slot("/p", 2):
        pass
    time.sleep(0.05)
    with build_sandbox.build_slot("/p", 2) as slot:
        assert not slot.shared()


@pytest.mark.parametrize("stopped, shared, builds", [
    ("disk", True, 2), ("time", True, 2),  # met beside another build: judged again alone
    ("disk", False, 1), ("time", False, 1),  # met alone: the verdict stands
    ("", True, 1), ("output", True, 1),  # a build that ended, or wrote too much out, is the learner's alone
])
def test_a_build_stopped_at_the_disk_or_time_limit_beside_another_is_built_again_alone(monkeypatch, stopped, shared, builds):
    runs: list[bool] = []

    class Slot:
        def __init__(self, alone):
            self.alone, self.cgroup = alone, None

        def shared(self):
            return shared and not self.alone

    class Holder:
        def __init__(self, parent, count, waiting, alone):
            self.slot = Slot(alone)

        def __enter__(self):
            return self.slot

        def __exit__(self, *exc):
            return False

    def in_slot(client, builder, slot, *rest):
        runs.append(slot.alone)
        assert rest[-1].no_cache == slot.alone  # alone: every step runs and writes again, none from the first attempt's cache
        failed = stopped if not slot.alone else ""
        return Build(not failed, None if failed else "sha256:1", "buildkit", 1.0, "", error=failed, stopped=failed), False

    monkeypatch.setattr(build_sandbox, "build_slot", lambda parent, count, waiting, alone: Holder(parent, count, waiting, alone))
    monkeypatch.setattr(build, "_in_slot", in_slot)
    said: list[str] = []
    done = build.build(None, build.Builder("buildkit", "docker", "test", slots=2), __import__("pathlib").Path("."),
                       "Dockerfile", "t", {}, BuildLimits(), said.append)
    assert runs == [False, True][:builds]
    assert done.ok == (builds == 2 or not stopped)
    assert ("stopped at a limit while another build ran: building again alone" in said) == (builds == 2)
    assert done.discarded == (1.0 if builds == 2 else 0.0)  # the first attempt's seconds, for the timings
