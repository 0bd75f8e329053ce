"""Limits on a learner's build steps: memory, processes and CPU for every `RUN`, each build in its own slot.

Why this way (docs/threat-model.md, "Build steps"):
- cgroup limits are hierarchical: a limit written on a parent binds every step beneath it, from
  the step's first instruction (no race with a watcher). So the grader finds, or makes, one parent
  cgroup that holds every step of a build, and writes the lab's limits on it before each build.
- Own parent (BuildKit of Engine 23 and newer through buildx, any cgroup version or driver): the
  grader makes `/dockerlab/build` and asks BuildKit to run the steps beneath it
  (`--cgroup-parent`, honoured since BuildKit 0.10). The legacy builder's step containers go there
  through the API. This is what holds on cgroup v2 with systemd's driver, where the engine's own
  steps run as scopes beside every other service.
- Shared parent (Engine 20.10, whose BuildKit ignores `--cgroup-parent`): BuildKit runs each step
  in a cgroup of its own under one parent (`/docker/buildkit` with the cgroupfs driver) that has no
  limits; the grader writes them there.
- Build slots. With its own parent the grader gives each build a slot and a cgroup of its own beneath
  it (`/dockerlab/build/0`, `/1`, ...): builds run side by side, each under its own limits. BuildKit's
  shared parent is one cgroup for every build on the engine, so there a single slot holds: one build at
  a time, and the limits on the parent are that build's.
- The disk budget is measured on the engine's disk as a whole, and the time limit is wall time: both
  can be met sooner while another build writes or computes. A build stopped by either while another
  build ran is built again alone (`alone`) and without the cache (graders.engine.build), so only a
  verdict reached alone counts.
- Neither is assumed. A probe build of a course base image (never a learner's, which could lie)
  proves it: with a limit of a few processes on the grader's own parent, a step that starts more
  must meet it; else the step prints its cgroup, accepted only when it is BuildKit's own parent.
Where the grader cannot write the limits (not root, a cgroup namespace hides the path, a remote
engine), builds still run, `dockerlab doctor` says so in red and each result's environment says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from graders.engine import boundary

CGROUP_ROOT = Path(os.environ.get("DOCKERLAB_CGROUP_ROOT", "/sys/fs/cgroup"))
PERIOD_US = 100_000
OWN_PARENT = "/dockerlab/build"
"""The grader's own parent for build steps: BuildKit's through `--cgroup-parent`, the legacy builder's
through the API."""
PROBE_PIDS = 8
"""The process limit of the probe that proves BuildKit honours `--cgroup-parent`: its step starts 16."""
FORK_FAILURES = ("Cannot fork", "can't fork", "fork: retry", "Resource temporarily unavailable",
                 "BlockingIOError: [Errno 11]", "fork failed")
"""Output of a process that could not start another: the pids limit was reached (runs and builds)."""
_STEP_OUTPUT = re.compile(r"^#\d+ [\d.]+ (\d+:[\w,=]*:/\S*)$")


@dataclass(frozen=True)
class BuildLimits:
    """What a build's steps may use (course.yml's build_* limits)."""

    memory_mb: int = 4096
    pids: int = 512
    cpus: float = 1.0
    disk_mb: int = 8192
    seconds: int = 600


@dataclass(frozen=True)
class Enforcement:
    enforced: bool
    cgroup: str | None
    detail: str
    own: bool = False
    """The cgroup is the grader's own, which builds name with `--cgroup-parent`; else BuildKit's."""


def state_dir() -> Path:
    """Host-wide state: the build lock and the probed cgroup (in /run, so it resets on reboot as cgroups do)."""
    for candidate in (Path("/run/dockerlab"), Path(tempfile.gettempdir()) / f"dockerlab-{os.getuid()}"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return candidate
        except OSError:
            continue
    raise OSError("no writable folder for the build lock")


SLOTS_VARIABLE = "DOCKERLAB_BUILD_SLOTS"
"""Overrides how many builds may run at once where each has its own cgroup (an integer, 1 or more)."""


def slot_count(own: bool) -> int:
    """How many builds may run at once on this machine. One where build steps share BuildKit's parent
    cgroup (its limits are the one build's); else one per CPU a build may use, as many as the machine's
    memory holds at the default build limit."""
    if not own:
        return 1
    configured = os.environ.get(SLOTS_VARIABLE, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    limits = BuildLimits()
    by_cpu = int((os.cpu_count() or 1) // limits.cpus)
    by_memory = _memory_mb() // limits.memory_mb
    return max(1, min(by_cpu, by_memory))


def _memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return BuildLimits().memory_mb


@dataclass(frozen=True)
class Slot:
    number: int
    count: int
    cgroup: str | None
    """The cgroup this build's steps run beneath (its own with several slots; the shared parent with one)."""
    started: float
    alone: bool

    def shared(self) -> bool:
        """Whether another build held a slot at any moment since this one started."""
        if self.alone or self.count == 1:
            return False
        for number in range(self.count):
            if number == self.number:
                continue
            path = _slot_file(number)
            try:
                if path.stat().st_mtime >= self.started - 0.01:  # taken or given back meanwhile
                    return True
                with open(path, "a") as handle:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)  # held since before: taken
                    fcntl.flock(handle, fcntl.LOCK_UN)
            except BlockingIOError:
                return True
            except OSError:
                continue
        return False


def _slot_file(number: int) -> Path:
    return state_dir() / f"build-slot-{number}.lock"


@contextmanager
def build_slot(parent: str | None, count: int, waiting: Callable[[], object] = lambda: None,
               alone: bool = False) -> Iterator[Slot]:
    """Hold one of `count` host-wide build slots (all of them when `alone`); `waiting()` is called once
    when none is free. Every build first holds the gate `build.lock` shared (`alone`: exclusive), which
    also keeps it apart from a grader of an earlier version, which took that file whole."""
    said = False

    def wait() -> None:
        nonlocal said
        if not said:
            said = True
            waiting()

    with open(state_dir() / "build.lock", "a") as gate:
        mode = fcntl.LOCK_EX if alone else fcntl.LOCK_SH
        try:
            fcntl.flock(gate, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            wait()
            fcntl.flock(gate, mode)
        try:
            number, handle = (0, None) if alone else _take_a_slot(count, wait)
            try:
                cgroup = f"{parent}/{number}" if parent and count > 1 else parent
                yield Slot(number, count, cgroup, time.time(), alone)
            finally:
                if handle is not None:
                    _touch(_slot_file(number))
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    handle.close()
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)


def _take_a_slot(count: int, wait: Callable[[], None]) -> tuple[int, IO[str]]:
    while True:
        for number in range(count):
            handle = open(_slot_file(number), "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _touch(_slot_file(number))
            return number, handle
        wait()
        time.sleep(0.1)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def version() -> int | None:
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return 2
    if (CGROUP_ROOT / "memory").is_dir() and (CGROUP_ROOT / "pids").is_dir():
        return 1
    return None


def parent_from(proc_cgroup: str) -> str | None:
    """The parent cgroup of a build step, from the step's /proc/self/cgroup."""
    paths = {}
    for line in proc_cgroup.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") or [""]:
                paths[controller] = parts[2]
    path = paths.get("pids") or paths.get("memory") or paths.get("")
    if not path or path == "/":
        return None
    return os.path.dirname(path.rstrip("/"))


def _cache() -> Path:
    """Where the probe's finding is kept, one file per engine and cgroup tree (DOCKER_HOST, the cgroup root)."""
    key = hashlib.sha256(f"{os.environ.get('DOCKER_HOST', '')}|{CGROUP_ROOT}".encode()).hexdigest()[:12]
    return state_dir() / f"build-cgroup-{key}"


def known() -> Enforcement | None:
    """What an earlier probe found since the machine started, if its cgroup still exists."""
    cache = _cache()
    way, _, parent = (cache.read_text().strip() if cache.exists() else "").partition(" ")
    if way in ("own", "shared") and parent and _exists(parent):
        return Enforcement(True, parent, "", own=way == "own")
    return None


@boundary
def locate(cli: str, probe_images: list[str], buildx: bool, timeout: int = 120) -> Enforcement:
    """Where this engine's BuildKit can be made to run steps under limits, found by probe builds on one
    of `probe_images` (the course's own base images: a learner's image could print a fake path).
    `buildx`: the CLI can pass `--cgroup-parent` to BuildKit (Engine 20.10's `docker build` cannot)."""
    if found := known():
        return found
    present = [ref for ref in probe_images if _run([cli, "image", "inspect", ref], 30).returncode == 0]
    if not present:
        return Enforcement(False, None, "no course base image to probe builds with (run `dockerlab images prepare`)")
    own = _probe_own(cli, present[0], timeout) if buildx else None
    found = own if own and own.enforced else _probe_shared(cli, present[0], timeout)
    if found.enforced and found.cgroup:
        _cache().write_text(f"{'own' if found.own else 'shared'} {found.cgroup}")
    elif own:  # say why the better way failed too
        found = replace(found, detail=f"{own.detail}; {found.detail}")
    return found


def _probe_own(cli: str, image: str, timeout: int) -> Enforcement:
    """Whether BuildKit puts steps under OWN_PARENT when asked: proved by a step meeting its process limit."""
    applied = apply(OWN_PARENT, BuildLimits(pids=PROBE_PIDS))
    if not applied.enforced:
        return Enforcement(False, None, applied.detail)
    before = _pid_limit_hits(OWN_PARENT)
    step = "RUN for i in $(seq 16); do sleep 1 & done; wait"
    done = _probe_build(cli, image, step, timeout, ["--cgroup-parent", OWN_PARENT])
    if isinstance(done, str):
        return Enforcement(False, None, done)
    # cgroup v2 counts the refusal where the limit is; v1 (and kernels before 6.2) in the step's own
    # cgroup, gone with the step: then the shell's complaint shows it
    if _pid_limit_hits(OWN_PARENT) > before or any(words in done.stderr for words in FORK_FAILURES):
        return Enforcement(True, OWN_PARENT, "", own=True)
    return Enforcement(False, None, "BuildKit ignores --cgroup-parent here")


def _probe_shared(cli: str, image: str, timeout: int) -> Enforcement:
    """The parent of BuildKit's own step cgroups, from what a step prints of its cgroup."""
    done = _probe_build(cli, image, "RUN cat /proc/self/cgroup", timeout, [])
    if isinstance(done, str):
        return Enforcement(False, None, done)
    lines = [match.group(1) for line in done.stderr.splitlines() if (match := _STEP_OUTPUT.match(line))]
    parent = parent_from("\n".join(lines))
    if done.returncode != 0 or parent is None:
        return Enforcement(False, None, "cannot see which cgroup build steps run in "
                                        "(a cgroup namespace hides it, or the probe build failed)")
    if not os.path.basename(parent).endswith("buildkit"):
        return Enforcement(False, parent, f"build steps run in {parent}, which is not BuildKit's own cgroup")
    return Enforcement(True, parent, "")


def _probe_build(cli: str, image: str, step: str, timeout: int, options: list[str]) -> subprocess.CompletedProcess[str] | str:
    """A build of `step` on `image`, or why it did not run."""
    with tempfile.TemporaryDirectory(prefix="dockerlab-probe-") as folder:
        (Path(folder) / "Dockerfile").write_text(f"FROM {image}\n{step}\n")
        done = _run([cli, "build", "--no-cache", "--progress=plain", *options, folder], timeout)
    if done.returncode == 127:
        return f"the probe build did not run: {done.stderr.strip()[:200]}"
    return done


def _run(command: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "DOCKER_BUILDKIT": "1"})
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(command, 127, "", str(error))


def _pid_limit_hits(parent: str) -> int:
    """How often a fork under `parent` failed on its process limit (pids.events, v1 and v2)."""
    folder = CGROUP_ROOT / "pids" / parent.lstrip("/") if version() == 1 else CGROUP_ROOT / parent.lstrip("/")
    try:
        for line in (folder / "pids.events").read_text().splitlines():
            if line.startswith("max "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def open_parent(parent: str) -> None:
    """Lift the limits on the parent of the build slots: each slot's cgroup carries its build's."""
    try:
        if version() == 1:
            memory = CGROUP_ROOT / "memory" / parent.lstrip("/")
            if (memory / "memory.memsw.limit_in_bytes").exists():  # memory+swap first when raising
                (memory / "memory.memsw.limit_in_bytes").write_text("-1")
            (memory / "memory.limit_in_bytes").write_text("-1")
            (CGROUP_ROOT / "pids" / parent.lstrip("/") / "pids.max").write_text("max")
            (CGROUP_ROOT / "cpu" / parent.lstrip("/") / "cpu.cfs_quota_us").write_text("-1")
        elif version() == 2:
            folder = CGROUP_ROOT / parent.lstrip("/")
            for name, value in (("memory.max", "max"), ("pids.max", "max"), ("cpu.max", f"max {PERIOD_US}")):
                (folder / name).write_text(value)
    except OSError:
        pass  # not there yet: the slots' own limits bind all the same


def apply(parent: str, limits: BuildLimits) -> Enforcement:
    """Write `limits` on the parent cgroup of all build steps."""
    try:
        if version() == 1:
            _apply_v1(parent, limits)
        elif version() == 2:
            _apply_v2(parent, limits)
        else:
            return Enforcement(False, parent, "no cgroup file system at " + str(CGROUP_ROOT))
    except OSError as error:
        return Enforcement(False, parent, f"cannot write limits on {parent}: {error.strerror or error} "
                                          "(the grader must run as root on the engine's machine)")
    return Enforcement(True, parent, f"{limits.memory_mb} MB, {limits.pids} processes, {limits.cpus:g} CPU per build")


def memory_mark(parent: str) -> int:
    """Before a build: start measuring whether it reaches its memory limit (see memory_reached)."""
    try:
        if version() == 1:  # v1 keeps no count of a child's failed charges here: reset the peak instead
            (CGROUP_ROOT / "memory" / parent.lstrip("/") / "memory.max_usage_in_bytes").write_text("0")
            return 0
        return _oom_kills(parent)
    except (OSError, ValueError):
        return 0


def memory_reached(parent: str, limits: BuildLimits, mark: int) -> bool:
    """After a build: whether its steps together reached the memory limit since `memory_mark`."""
    try:
        if version() == 1:
            peak = int((CGROUP_ROOT / "memory" / parent.lstrip("/") / "memory.max_usage_in_bytes").read_text())
            return peak >= limits.memory_mb * 2**20 * 0.98
        return _oom_kills(parent) > mark
    except (OSError, ValueError):
        return False


def _oom_kills(parent: str) -> int:
    for line in (CGROUP_ROOT / parent.lstrip("/") / "memory.events").read_text().splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


def _exists(parent: str) -> bool:
    if version() == 1:
        return (CGROUP_ROOT / "pids" / parent.lstrip("/")).is_dir()
    return (CGROUP_ROOT / parent.lstrip("/")).is_dir()


def _apply_v1(parent: str, limits: BuildLimits) -> None:
    memory = CGROUP_ROOT / "memory" / parent.lstrip("/")
    pids = CGROUP_ROOT / "pids" / parent.lstrip("/")
    cpu = CGROUP_ROOT / "cpu" / parent.lstrip("/")
    for folder in (memory, pids, cpu):
        folder.mkdir(parents=True, exist_ok=True)
    value = str(limits.memory_mb * 2**20)
    files = [memory / "memory.limit_in_bytes"]
    if (memory / "memory.memsw.limit_in_bytes").exists():  # memory+swap must never be below memory
        current = int((memory / "memory.limit_in_bytes").read_text())
        swap = memory / "memory.memsw.limit_in_bytes"
        files = [swap, files[0]] if limits.memory_mb * 2**20 > current else [files[0], swap]
    for file in files:
        file.write_text(value)
    (pids / "pids.max").write_text(str(limits.pids))
    (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    (cpu / "cpu.cfs_quota_us").write_text(str(int(limits.cpus * PERIOD_US)))


def _apply_v2(parent: str, limits: BuildLimits) -> None:
    folder = CGROUP_ROOT / parent.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    for above in reversed(folder.relative_to(CGROUP_ROOT).parents):  # the root first, the parent's own last
        _enable_controllers(CGROUP_ROOT / above)
    (folder / "memory.max").write_text(str(limits.memory_mb * 2**20))
    if (folder / "memory.swap.max").exists():
        (folder / "memory.swap.max").write_text("0")
    (folder / "pids.max").write_text(str(limits.pids))
    (folder / "cpu.max").write_text(f"{int(limits.cpus * PERIOD_US)} {PERIOD_US}")


def _enable_controllers(folder: Path) -> None:
    """Let the children of `folder` have memory, pids and cpu limits (cgroup v2's subtree_control)."""
    control, available = folder / "cgroup.subtree_control", folder / "cgroup.controllers"
    if not (control.exists() and available.exists()):
        return
    wanted = {"memory", "pids", "cpu"} & set(available.read_text().split())
    if not wanted <= set(control.read_text().split()):
        control.write_text(" ".join(f"+{name}" for name in sorted(wanted)))
