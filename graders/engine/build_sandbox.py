"""Limits on a learner's build steps: memory, processes and CPU for every `RUN`, one build at a time.

Why this way (docs/threat-model.md, "Build steps"):
- BuildKit in Engine 20.10 ignores `docker build --memory` and `--cgroup-parent`. It runs each `RUN`
  step in a cgroup of its own under one parent (`/docker/buildkit` with the cgroupfs driver), and
  that parent has no limits.
- cgroup limits are hierarchical: a limit written on that parent binds every step beneath it, from
  the step's first instruction (no race with a watcher).
- The parent is shared by every build on the engine, so the grader runs one build at a time (a
  host-wide lock) and writes the lab's limits on the parent before each build: they are then the
  limits of that build. The legacy builder's step containers are put under the same parent.
- The parent is found by a probe build that prints its own cgroup, not guessed; it is accepted only
  when it is BuildKit's own (its name ends in `buildkit`), never a parent shared with services.
Where the grader cannot write the limits (not root, a cgroup namespace hides the path, a remote
engine), builds still run, `dockerlab doctor` says so in red and each result's environment says so.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CGROUP_ROOT = Path(os.environ.get("DOCKERLAB_CGROUP_ROOT", "/sys/fs/cgroup"))
PERIOD_US = 100_000
LEGACY_PARENT = "/dockerlab/build"
"""Where the legacy builder's step containers go when no BuildKit parent is known (cgroupfs driver)."""
_STEP_OUTPUT = re.compile(r"^#\d+ [\d.]+ (\d+:[\w,=]*:/\S*)$")


@dataclass(frozen=True)
class Limits:
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

    def to_dict(self) -> dict[str, Any]:
        return {"enforced": self.enforced, "cgroup": self.cgroup, "detail": self.detail}


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


@contextmanager
def one_build_at_a_time(waiting: Callable[[], object] = lambda: None) -> Iterator[None]:
    """Hold the host-wide build lock; `waiting()` is called once if another build holds it."""
    with open(state_dir() / "build.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def known_parent() -> str | None:
    """The parent found by an earlier probe since the machine started, if its cgroup still exists."""
    cache = state_dir() / "buildkit-cgroup"
    known = cache.read_text().strip() if cache.exists() else ""
    return known if known and _exists(known) else None


def locate(cli: str, probe_images: list[str], timeout: int = 120) -> Enforcement:
    """Where this engine's BuildKit runs steps, found by a probe build on one of `probe_images`
    (the course's own base images: a learner's image could print a fake path)."""
    if known := known_parent():
        return Enforcement(True, known, "")
    present = [ref for ref in probe_images
               if subprocess.run([cli, "image", "inspect", ref], capture_output=True).returncode == 0]
    if not present:
        return Enforcement(False, None, "no course base image to probe builds with (run `dockerlab images prepare`)")
    with tempfile.TemporaryDirectory(prefix="dockerlab-probe-") as folder:
        (Path(folder) / "Dockerfile").write_text(f"FROM {present[0]}\nRUN cat /proc/self/cgroup\n")
        try:
            done = subprocess.run([cli, "build", "--no-cache", "--progress=plain", folder], capture_output=True,
                                  text=True, timeout=timeout, env={**os.environ, "DOCKER_BUILDKIT": "1"})
        except (OSError, subprocess.TimeoutExpired) as error:
            return Enforcement(False, None, f"the probe build did not run: {error}")
    lines = [match.group(1) for line in done.stderr.splitlines() if (match := _STEP_OUTPUT.match(line))]
    parent = parent_from("\n".join(lines))
    if done.returncode != 0 or parent is None:
        return Enforcement(False, None, "cannot see which cgroup build steps run in "
                                        "(a cgroup namespace hides it, or the probe build failed)")
    if not os.path.basename(parent).endswith("buildkit"):
        return Enforcement(False, parent, f"build steps run in {parent}, which is not BuildKit's own cgroup")
    (state_dir() / "buildkit-cgroup").write_text(parent)
    return Enforcement(True, parent, "")


def apply(parent: str, limits: Limits) -> Enforcement:
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


def memory_reached(parent: str, limits: Limits, mark: int) -> bool:
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


def _apply_v1(parent: str, limits: Limits) -> None:
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


def _apply_v2(parent: str, limits: Limits) -> None:
    folder = CGROUP_ROOT / parent.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "memory.max").write_text(str(limits.memory_mb * 2**20))
    if (folder / "memory.swap.max").exists():
        (folder / "memory.swap.max").write_text("0")
    (folder / "pids.max").write_text(str(limits.pids))
    (folder / "cpu.max").write_text(f"{int(limits.cpus * PERIOD_US)} {PERIOD_US}")

