"""The engine as the grading pipelines see it: the `Engine` protocol.

Plain values go in; the grader's own dataclasses (graders.facts) come out. No Docker SDK object
crosses it, and every method turns a failure of the machine (the SDK's, HTTP's, the OS's, a command
past its time limit) into an EngineError. `graders.engine.docker_engine.DockerEngine` is the real
one; tests/unit/fake_engine.py is a fake that drives both pipelines in seconds.

This module imports nothing from the SDK: the stages import it, and a grading that never needs the
engine never loads the SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from graders.engine.build_sandbox import BuildLimits
from graders.facts import (
    Build,
    CiRun,
    Container,
    Gpu,
    HttpRequest,
    HttpResponse,
    Image,
    JobStop,
    Query,
    ServiceState,
    Stopped,
)

if TYPE_CHECKING:
    from graders.course import LabBase
    from graders.engine.compose import Outcome
    from graders.layers import Entry

SECOND = 1_000_000_000
# Docker's defaults minus the ones a web service never needs (raw sockets, mknod, chroot, ...).
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE"]
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "1"}}
"""A container that prints gigabytes keeps 10 MB of them on the engine's disk, not gigabytes."""


@dataclass(frozen=True)
class Sandbox:
    """The limits of a container the grader starts from a learner's image."""
    memory_mb: int = 1024
    cpus: float = 1.0
    pids: int = 256
    start_seconds: int = 60

    def options(self) -> dict[str, Any]:
        """The options every such container gets (one copy), as the engine's create call takes them."""
        return dict(
            mem_limit=f"{self.memory_mb}m",
            memswap_limit=f"{self.memory_mb}m",
            nano_cpus=int(self.cpus * SECOND),
            pids_limit=self.pids,
            security_opt=["no-new-privileges:true"],
            cap_drop=["ALL"],
            cap_add=CAPABILITIES,
            privileged=False,
            log_config=LOG_CONFIG,
        )


@dataclass(frozen=True)
class Hardening:
    """What a production file asks of a container on top of the sandbox (Lab 05). Capabilities are
    only ever taken away: `cap_add` names ones the sandbox already grants."""
    read_only: bool = False
    tmpfs: dict[str, str] | None = None
    """Path -> mount options (size=16m,...); tmpfs counts against the container's memory limit."""
    user: str | None = None
    drop_all: bool = False
    cap_drop: tuple[str, ...] = ()

    def options(self, sandbox: dict[str, Any]) -> dict[str, Any]:
        """The sandbox's create options with this hardening applied."""
        options = dict(sandbox)
        options["read_only"] = self.read_only
        if self.tmpfs:
            options["tmpfs"] = dict(self.tmpfs)
        if self.user:
            options["user"] = self.user
        kept = [] if self.drop_all else [c for c in options.get("cap_add") or [] if c not in self.cap_drop]
        options["cap_add"] = kept
        return options


@dataclass(frozen=True)
class Builder:
    kind: str  # "buildkit" or "legacy"
    cli: str | None
    reason: str
    buildx: bool = False
    """The CLI has the buildx plugin: its builds can name the cgroup their steps run in."""
    cgroup: str | None = None
    """The cgroup that holds every build step, limited before each build (graders.engine.build_sandbox)."""
    own_cgroup: bool = False
    """`cgroup` is the grader's own: BuildKit's builds name it with `--cgroup-parent`."""
    slots: int = 1
    """How many builds may run at once, each in a cgroup of its own beneath `cgroup` (one: in `cgroup` itself)."""
    sandbox: str = "not checked"
    """What the build sandbox enforces on this machine, or why it cannot."""
    disk: str | None = None
    """A local folder on the engine's disk (its root dir), watched while a build writes."""
    engine_version: str = ""
    """The engine's version: which Dockerfile features its own frontend builds (graders.dockerfile_features)."""
    disk_copies: int = 1
    """How many times the engine writes a layer: 2 with the containerd image store (the unpacked
    snapshot, then the compressed blob), so a build's disk budget counts its layers that many times."""


@dataclass
class Availability:
    present: bool
    unknown: bool = False  # the registry answered: no such image or tag (the learner's mistake)


Mounts = dict[str, tuple[str, str]]
"""Host folder, or the name of a volume the grader made -> (container path, "ro" or "rw")."""


class Engine(Protocol):
    """One grading's engine: what it creates carries the grading's labels and is removed when the
    engine is closed (a context manager), whatever happened."""

    run_id: str
    labels: dict[str, str]
    """What everything it creates carries (Compose stacks get them through their derived file)."""
    info: dict[str, Any]
    """What the engine says of itself (graders.results.Environment.describe_engine takes it)."""
    builder: Builder
    problems: list[str]
    """Trouble met while cleaning up, for the result's `problems`."""
    waited: float
    """Seconds this grading's builds waited for a build slot, all together."""
    discarded: float
    """Seconds of build attempts stopped at the disk or time limit beside another build, then built again alone."""

    def __enter__(self) -> Engine: ...
    def __exit__(self, *exc_info: object) -> None: ...

    def name(self, role: str) -> str:
        """The name of this grading's container for `role` ("service", "train", …)."""
        ...

    def gpu(self) -> Gpu: ...
    def compose_version(self) -> str: ...

    # images
    def build(self, context: Path, dockerfile: str, tag: str, limits: BuildLimits, progress: Callable[[str], None], *,
              target: str | None = None, args: dict[str, str] | None = None,
              secrets: dict[str, Path] | None = None, output: Path | None = None) -> Build:
        """Build in the build sandbox; a failed build is a result, with `infra` set when the machine failed it.
        `secrets`: id -> file, offered to `RUN --mount=type=secret` (BuildKit only); `output`: a tar file the
        built stage's files are written to instead of an image (BuildKit only; at most 64 MiB)."""
        ...
    def present(self, ref: str) -> bool: ...
    def run_ci(self, submission: Path, script: str, env: dict[str, str], secrets: dict[str, Path], limits: BuildLimits,
               wanted: list[str], seconds: int, image: str, registry: str, progress: Callable[[str], None]) -> CiRun:
        """Run the learner's CI `script` in a sandbox from `image` with the grader as its docker, against the
        course registry (made from the image `registry` when there is none; its address and this grading's
        namespace go to the script as $REGISTRY, added to `env`); `wanted`: the files to read back afterwards;
        `secrets`: what its builds may mount."""
        ...
    def inspect(self, image_id: str, base_ref: str) -> Image: ...
    def stand_in(self, ref: str) -> str | None: ...
    def layers(self, image_id: str) -> tuple[list[list[Entry]], list[int]]: ...
    def leaks(self, image_id: str, secret: str) -> list[str]:
        """Where in the image (its config, its history, a file of a layer) `secret` is written (a
        value, or the prefix every value of its kind starts with)."""
        ...
    def artifact(self, lab: LabBase, course_root: Path, name: str) -> Path: ...

    # the service, its idle twin, looks inside
    def start(self, image_id: str, sandbox: Sandbox, env: dict[str, str], healthcheck: dict[str, Any] | None,
              mounts: dict[str, str], role: str = "service", hardening: Hardening | None = None) -> str | None:
        """Start the service (named `name(role)`), hardened further when asked; why the image kept it
        from starting, or None."""
        ...
    def watch(self, port: int, sandbox: Sandbox, role: str = "service") -> Container: ...
    def start_idle(self, image_id: str, sandbox: Sandbox) -> str: ...
    def ask(self, container: str, queries: list[Query]) -> dict[Query, Any]: ...
    def stop(self, container: str, grace_seconds: float) -> Stopped: ...
    def send(self, address: str, request: HttpRequest, retries: int = 3) -> HttpResponse: ...

    # jobs
    def volumes(self, targets: list[str], prefix: str) -> dict[str, str]: ...
    def written(self, container: str, targets: list[str], suffixes: set[str]) -> tuple[dict[str, int], dict[str, str]]: ...
    def run_job(self, image_id: str, *, name: str, args: list[str], mounts: Mounts, shm_mb: int, sandbox: Sandbox,
                timeout: int, gpus: str | None = None, entrypoint: list[str] | None = None
                ) -> tuple[int | None, str, float, bool]:
        """Run to completion: (exit code, logs, seconds, timed out)."""
        ...
    def job_limit(self, name: str, logs: str, sandbox: Sandbox, *, stopped: bool = False) -> str: ...
    def run_and_stop(self, image_id: str, *, name: str, args: list[str], mounts: Mounts, shm_mb: int,
                     sandbox: Sandbox, when: str, grace: int, timeout: int) -> JobStop: ...

    # Compose stacks
    def available(self, ref: str) -> Availability: ...
    def image_healthcheck(self, ref: str) -> bool | None: ...
    def image_volumes(self, ref: str) -> list[str] | None: ...
    def up(self, file: Path, project: str, timeout: int, watch: Callable[[], str | None],
           env_file: Path | None = None) -> Outcome: ...
    def down(self, file: Path, project: str, *, volumes: bool) -> Outcome: ...
    def services(self, project: str, names: list[str]) -> tuple[dict[str, ServiceState], set[str]]: ...
    def address(self, project: str, service: str, port: int) -> str | None: ...
    def failed_health(self, project: str) -> list[tuple[str, str]]: ...
    def starting(self, project: str) -> set[str]: ...
    def remove_volumes(self, names: set[str]) -> list[str]: ...
