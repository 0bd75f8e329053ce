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
    done = build_sandbox.apply("/docker/buildkit", build_sandbox.BuildLimits(memory_mb=512, pids=64, cpus=0.5))
    assert done.enforced, done.detail
    memory = v1 / "memory/docker/buildkit"
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * 2**20)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(512 * 2**20)
    assert (v1 / "pids/docker/buildkit/pids.max").read_text() == "64"
    assert (v1 / "cpu/docker/buildkit/cpu.cfs_quota_us").read_text() == "50000"


def test_reaching_the_memory_limit_is_told_from_the_peak(v1):
    limits = build_sandbox.BuildLimits(memory_mb=512)
    peak = v1 / "memory/docker/buildkit/memory.max_usage_in_bytes"
    mark = build_sandbox.memory_mark("/docker/buildkit")
    assert peak.read_text() == "0"
    assert not build_sandbox.memory_reached("/docker/buildkit", limits, mark)
    peak.write_text(str(512 * 2**20))
    assert build_sandbox.memory_reached("/docker/buildkit", limits, mark)


def test_without_a_cgroup_file_system_nothing_is_enforced(tmp_path, monkeypatch):
    monkeypatch.setattr(build_sandbox, "CGROUP_ROOT", tmp_path / "none")
    done = build_sandbox.apply("/docker/buildkit", build_sandbox.BuildLimits())
    assert not done.enforced and "no cgroup file system" in done.detail


@pytest.fixture
def v2(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text("cpu memory\n")
    monkeypatch.setattr(build_sandbox, "CGROUP_ROOT", root)
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setattr(build_sandbox, "state_dir", lambda: state)
    return root


def _kernel_files(folder, enabled):
    """What the kernel shows in a new cgroup folder whose parent enables `enabled` (a fake tree has to be told)."""
    (folder / "cgroup.controllers").write_text(" ".join(enabled))
    (folder / "cgroup.subtree_control").write_text("")


def test_on_cgroup_v2_the_controllers_are_enabled_down_to_the_grader_s_own_parent(v2, monkeypatch):
    made = v2 / "dockerlab"
    real_mkdir = type(made).mkdir

    def mkdir(self, *args, **kwargs):  # a new cgroup folder comes with the kernel's files in it
        real_mkdir(self, *args, **kwargs)
        if self.is_relative_to(v2):
            for folder in [self, *self.parents]:
                if folder != v2 and folder.is_relative_to(v2) and not (folder / "cgroup.controllers").exists():
                    _kernel_files(folder, ["cpu", "memory", "pids"])

    monkeypatch.setattr(type(made), "mkdir", mkdir)
    done = build_sandbox.apply(build_sandbox.OWN_PARENT, build_sandbox.BuildLimits(memory_mb=256, pids=64, cpus=1))
    assert done.enforced, done.detail
    assert set((v2 / "cgroup.subtree_control").read_text().split()) == {"+cpu", "+memory", "+pids"}
    assert set((made / "cgroup.subtree_control").read_text().split()) == {"+cpu", "+memory", "+pids"}
    parent = v2 / "dockerlab/build"
    assert (parent / "memory.max").read_text() == str(256 * 2**20)
    assert (parent / "pids.max").read_text() == "64"
    assert (parent / "cpu.max").read_text() == "100000 100000"


def test_a_controller_the_machine_lacks_is_not_asked_for(v2):
    (v2 / "cgroup.controllers").write_text("memory pids\n")  # no cpu controller delegated here
    (v2 / "cgroup.subtree_control").write_text("")
    build_sandbox._enable_controllers(v2)
    assert set((v2 / "cgroup.subtree_control").read_text().split()) == {"+memory", "+pids"}


def _fake_cli(tmp_path, cgroup_root, honours):
    """A docker CLI that builds like an engine whose BuildKit honours --cgroup-parent, or ignores it."""
    script = tmp_path / "docker"
    events = cgroup_root / "dockerlab/build/pids.events"
    script.write_text(f"""#!/bin/sh
[ "$1" = image ] && exit 0
case "$*" in
  *--cgroup-parent*) [ {int(honours)} = 1 ] && echo "max 3" > {events}; exit 0 ;;
esac
echo "#5 0.205 0::/docker/buildkit/x5eh" >&2
""")
    script.chmod(0o755)
    return str(script)


def test_a_builder_that_honours_cgroup_parent_gets_the_grader_s_own_parent(v2, tmp_path):
    (v2 / "dockerlab/build").mkdir(parents=True)
    (v2 / "dockerlab/build/pids.events").write_text("max 0\n")
    found = build_sandbox.locate(_fake_cli(tmp_path, v2, honours=True), ["debian:bookworm-slim"], buildx=True)
    assert (found.enforced, found.cgroup, found.own) == (True, "/dockerlab/build", True)
    assert (v2 / "dockerlab/build/pids.max").read_text() == str(build_sandbox.PROBE_PIDS)
    assert build_sandbox.known() == found  # probed once per boot


def test_a_builder_that_ignores_cgroup_parent_falls_back_to_buildkit_s_own_parent(v2, tmp_path):
    (v2 / "dockerlab/build").mkdir(parents=True)
    (v2 / "dockerlab/build/pids.events").write_text("max 0\n")
    (v2 / "docker/buildkit").mkdir(parents=True)
    found = build_sandbox.locate(_fake_cli(tmp_path, v2, honours=False), ["debian:bookworm-slim"], buildx=True)
    assert (found.enforced, found.cgroup, found.own) == (True, "/docker/buildkit", False)


def test_without_buildx_the_grader_s_own_parent_is_not_tried(v2, tmp_path):
    (v2 / "dockerlab/build").mkdir(parents=True)
    (v2 / "dockerlab/build/pids.events").write_text("max 0\n")
    (v2 / "docker/buildkit").mkdir(parents=True)
    found = build_sandbox.locate(_fake_cli(tmp_path, v2, honours=True), ["debian:bookworm-slim"], buildx=False)
    assert (found.cgroup, found.own) == ("/docker/buildkit", False)
    assert not (v2 / "dockerlab/build/pids.max").exists()


def test_when_neither_way_holds_both_reasons_are_told(v2, tmp_path):
    (v2 / "dockerlab/build").mkdir(parents=True)
    (v2 / "dockerlab/build/pids.events").write_text("max 0\n")
    cli = tmp_path / "docker"
    cli.write_text('#!/bin/sh\n[ "$1" = image ] && exit 0\necho "#5 0.2 0::/" >&2\n')  # a cgroup namespace hides it
    cli.chmod(0o755)
    found = build_sandbox.locate(str(cli), ["debian:bookworm-slim"], buildx=True)
    assert not found.enforced
    assert "ignores --cgroup-parent" in found.detail and "cannot see which cgroup" in found.detail
    assert build_sandbox.known() is None


def test_on_cgroup_v1_the_step_s_complaint_proves_the_limit(v2, tmp_path):
    """Before kernel 6.2 (and on v1) a refused fork is counted in the step's own cgroup, gone with it."""
    (v2 / "dockerlab/build").mkdir(parents=True)
    (v2 / "dockerlab/build/pids.events").write_text("max 0\n")
    cli = tmp_path / "docker"
    cli.write_text('#!/bin/sh\n[ "$1" = image ] && exit 0\n'
                   'case "$*" in *--cgroup-parent*) echo "#5 0.3 /bin/sh: 1: Cannot fork" >&2; exit 1 ;; esac\n')
    cli.chmod(0o755)
    found = build_sandbox.locate(str(cli), ["debian:bookworm-slim"], buildx=True)
    assert (found.enforced, found.cgroup, found.own) == (True, "/dockerlab/build", True)



def test_the_containerd_image_store_counts_a_build_s_layers_twice_against_its_disk_budget(monkeypatch):
    from graders.engine import build

    monkeypatch.setattr(build_sandbox, "apply", lambda parent, limits: build_sandbox.Enforcement(True, parent, ""))
    monkeypatch.setattr(build_sandbox, "open_parent", lambda parent: None)  # never the machine's own cgroups
    legacy = build.Builder("legacy", None, "test")
    assert build.sandboxed(legacy, list, None, "containerd").disk_copies == 2
    assert build.sandboxed(legacy, list, None, "graphdriver").disk_copies == 1
    assert build.sandboxed(legacy, list, None).disk_copies == 1


def test_the_parent_of_build_slots_carries_no_limit_of_its_own_v1_and_v2(v1, tmp_path, monkeypatch):
    build_sandbox.apply("/docker/buildkit", build_sandbox.BuildLimits(memory_mb=512, pids=64, cpus=0.5))
    build_sandbox.open_parent("/docker/buildkit")
    assert (v1 / "memory/docker/buildkit/memory.limit_in_bytes").read_text() == "-1"
    assert (v1 / "memory/docker/buildkit/memory.memsw.limit_in_bytes").read_text() == "-1"
    assert (v1 / "pids/docker/buildkit/pids.max").read_text() == "max"
    assert (v1 / "cpu/docker/buildkit/cpu.cfs_quota_us").read_text() == "-1"
    root = tmp_path / "v2"
    (root / "dockerlab/build").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    monkeypatch.setattr(build_sandbox, "CGROUP_ROOT", root)
    build_sandbox.open_parent("/dockerlab/build")
    folder = root / "dockerlab/build"
    assert [(folder / name).read_text() for name in ("memory.max", "pids.max", "cpu.max")] == ["max", "max", "max 100000"]


def test_with_several_slots_each_build_is_limited_beneath_the_grader_s_own_parent(monkeypatch):
    from graders.engine import build

    written: list[str] = []
    opened: list[str] = []
    def apply(parent, limits):
        written.append(parent)
        return build_sandbox.Enforcement(True, parent, "")

    monkeypatch.setattr(build_sandbox, "apply", apply)
    monkeypatch.setattr(build_sandbox, "open_parent", opened.append)
    monkeypatch.setenv(build_sandbox.SLOTS_VARIABLE, "2")
    found = build.sandboxed(build.Builder("legacy", None, "test"), list, None)
    assert (found.cgroup, found.slots, written, opened) == ("/dockerlab/build", 2, ["/dockerlab/build/0"], ["/dockerlab/build"])
    assert "the cgroups /dockerlab/build/0 to /1, one per build" in found.sandbox
    monkeypatch.setenv(build_sandbox.SLOTS_VARIABLE, "1")
    written.clear()
    found = build.sandboxed(build.Builder("legacy", None, "test"), list, None)
    assert (found.slots, written) == (1, ["/dockerlab/build"]) and "the cgroup /dockerlab/build (" in found.sandbox
