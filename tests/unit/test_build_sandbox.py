"""The build sandbox's cgroup arithmetic, on a fake cgroup tree (the real one is exercised by
tests/hostile/test_batch.py's fork bomb and memory hog)."""


import pytest

from graders.engine import build_sandbox

V1 = """9:name=systemd:/docker/buildkit/x5eh
8:pids:/docker/buildkit/x5eh
4:memory:/docker/buildkit/x5eh
1:cpu:/docker/buildkit/x5eh
0::/docker/buildkit/x5eh
"""


def test_the_parent_of_a_build_step_is_read_from_its_proc_cgroup():
    assert build_sandbox.parent_from(V1) == "/docker/buildkit"
    assert build_sandbox.parent_from("0::/\n") is None  # a cgroup namespace hides the path
    assert build_sandbox.parent_from("0::/system.slice/buildkit-1.scope\n") == "/system.slice"


@pytest.fixture
def v1(tmp_path, monkeypatch):
    for controller, files in {"memory": {"memory.limit_in_bytes": "9223372036854771712",
                                         "memory.memsw.limit_in_bytes": "9223372036854771712",
                                         "memory.max_usage_in_bytes": "123"},
                              "pids": {"pids.max": "max"},
                              "cpu": {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"}}.items():
        folder = tmp_path / controller / "docker" / "buildkit"
        folder.mkdir(parents=True)
        for name, value in files.items():
            (folder / name).write_text(value)
    monkeypatch.setattr(build_sandbox, "CGROUP_ROOT", tmp_path)
    return tmp_path


def test_limits_are_written_on_the_parent_memory_and_swap_in_a_valid_order(v1):
    done = build_sandbox.apply("/docker/buildkit", build_sandbox.Limits(memory_mb=512, pids=64, cpus=0.5))
    assert done.enforced, done.detail
    memory = v1 / "memory/docker/buildkit"
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * 2**20)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(512 * 2**20)
    assert (v1 / "pids/docker/buildkit/pids.max").read_text() == "64"
    assert (v1 / "cpu/docker/buildkit/cpu.cfs_quota_us").read_text() == "50000"


def test_reaching_the_memory_limit_is_told_from_the_peak(v1):
    limits = build_sandbox.Limits(memory_mb=512)
    peak = v1 / "memory/docker/buildkit/memory.max_usage_in_bytes"
    mark = build_sandbox.memory_mark("/docker/buildkit")
    assert peak.read_text() == "0"
    assert not build_sandbox.memory_reached("/docker/buildkit", limits, mark)
    peak.write_text(str(512 * 2**20))
    assert build_sandbox.memory_reached("/docker/buildkit", limits, mark)


def test_without_a_cgroup_file_system_nothing_is_enforced(tmp_path, monkeypatch):
    monkeypatch.setattr(build_sandbox, "CGROUP_ROOT", tmp_path / "none")
    done = build_sandbox.apply("/docker/buildkit", build_sandbox.Limits())
    assert not done.enforced and "no cgroup file system" in done.detail
