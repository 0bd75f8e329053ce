"""Connecting to the engine (DOCKER_HOST honoured) and reading what it is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graders.engine import boundary
from graders.errors import EngineError

if TYPE_CHECKING:
    from docker import DockerClient as DockerClient  # the type, for the stages

SETUP_FIX = "run ./dev setup (it installs and starts an engine where it can), then try again"


@boundary
def connect(timeout: int = 600) -> DockerClient:
    """A client whose engine has answered a ping; EngineError otherwise."""
    import docker  # here: a grading the static stage decides never loads the SDK
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as error:
        raise EngineError(f"no Docker engine answers ({_short(error)})", SETUP_FIX) from error
    return client


@boundary
def info(client: DockerClient) -> dict[str, Any]:
    from docker.errors import DockerException

    try:
        version = client.version()
        details = client.info()
    except DockerException as error:
        raise EngineError(f"the engine did not describe itself ({_short(error)})", SETUP_FIX) from error
    return {
        "engine_version": version.get("Version", "?"),
        "api_version": version.get("ApiVersion", "?"),
        "os": details.get("OperatingSystem", "?"),
        "storage_driver": details.get("Driver", "?"),
        "cgroup_version": details.get("CgroupVersion", "?"),
        "cgroup_driver": details.get("CgroupDriver", "?"),
        "image_store": image_store(details),
        "runtimes": sorted(details.get("Runtimes", {})),
        "root_dir": details.get("DockerRootDir", ""),
        "cdi_spec_dirs": details.get("CDISpecDirs", []),
    }


def image_store(details: dict[str, Any]) -> str:
    """"containerd" when the engine keeps images in containerd (Docker 29's default for new installs),
    else "graphdriver"."""
    status = details.get("DriverStatus") or []
    return "containerd" if any("io.containerd.snapshotter" in str(value) for pair in status for value in pair) else "graphdriver"


PROVED = ("20.10", "26.1", "28.5")
"""The engine versions CI grades the course on (README, "Supported engines")."""


def older_than_proved(version: str) -> bool:
    """Whether an engine's version is older than the oldest that CI proves (e.g. "19.03.15" is)."""
    def numbers(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", text)[:2])
    found = numbers(version)
    return bool(found) and found < numbers(PROVED[0])


PIDFILE = Path("/var/run/docker.pid")


def instance() -> str | None:
    """Which run of a local engine answers (its pid and start time), so that a grading can tell that
    the engine restarted under it; None for an engine the grader cannot see (remote, no pidfile)."""
    try:
        pid = PIDFILE.read_text().strip()
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
    return f"{pid}:{start}"


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
