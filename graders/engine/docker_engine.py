"""The real Engine (graders.engine.api): Docker, through the SDK, BuildKit and Compose v2.

Each method hands plain values to the module that does the work and gives back its facts; the SDK
objects (the client, the service's container) stay in here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from graders.course import LabBase
from graders.engine import artifacts, boundary, ci_relay, compose, inside, probe, run, stack_state, volumes
from graders.engine import build as build_mod
from graders.engine import client as client_mod
from graders.engine import gpu as gpu_mod
from graders.engine import images as images_mod
from graders.engine import inspect as inspect_mod
from graders.engine import layers as layers_mod
from graders.engine import leaks as leaks_mod
from graders.engine import registry as registry_mod
from graders.engine.api import Availability, Builder, Hardening, Mounts, Sandbox
from graders.engine.build_sandbox import BuildLimits
from graders.engine.session import Session, sweep_dead
from graders.errors import EngineError
from graders.facts import Build, CiRun, Container, Gpu, HttpRequest, HttpResponse, Image, JobStop, Query, ServiceState, Stopped
from graders.layers import Entry


@boundary
def connect(course_bases: Callable[[], list[str]], timeout: int = 600) -> DockerEngine:
    """The engine this machine's Docker settings point at, its builder with the build sandbox
    located (`course_bases()`: trusted images to probe it with), and a new session. What gradings
    whose process died (kill -9, a closed notebook's kernel) left is removed first (about 25 ms)."""
    client = client_mod.connect(timeout)
    session = Session(client)
    sweep_dead(client, session.problems)
    info = client_mod.info(client)
    builder = build_mod.sandboxed(replace(build_mod.detect_builder(), engine_version=info.get("engine_version") or ""),
                                  course_bases, info.get("root_dir"), info.get("image_store"))
    return DockerEngine(session, info, builder)


class DockerEngine:
    def __init__(self, session: Session, info: dict[str, Any], builder: Builder) -> None:
        self._session = session
        self._client = session.client
        self._services: dict[str, Any] = {}  # role -> the service's container, between start and watch
        self._grace: dict[str, float] = {}
        self.run_id = session.run_id
        self.labels = session.labels
        self.info = info
        self.builder = builder
        self.problems = session.problems
        self.waited = 0.0
        self.discarded = 0.0
        self._waits = threading.Lock()  # builds in lanes beside the main line add to `waited` too

    def __enter__(self) -> DockerEngine:
        self._session.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._session.__exit__(*exc_info)

    @boundary
    def name(self, role: str) -> str:
        return self._session.name(role)

    @boundary
    def gpu(self) -> Gpu:
        return gpu_mod.detect(self.info)

    @boundary
    def compose_version(self) -> str:
        return compose.version()

    @boundary
    def build(self, context: Path, dockerfile: str, tag: str, limits: BuildLimits, progress: Callable[[str], None], *,
              target: str | None = None, args: dict[str, str] | None = None,
              secrets: dict[str, Path] | None = None, output: Path | None = None) -> Build:
        result = build_mod.build(self._client, self.builder, context, dockerfile, tag, self.labels, limits, progress,
                                 target=target, args=args, secrets=secrets, output=output)
        with self._waits:
            self.waited += result.waited
            self.discarded += result.discarded
        return result

    @boundary
    def present(self, ref: str) -> bool:
        return images_mod.present(self._client, ref)

    @boundary
    def run_ci(self, submission: Path, script: str, env: dict[str, str], secrets: dict[str, Path], limits: BuildLimits,
               wanted: list[str], seconds: int, image: str, registry: str, progress: Callable[[str], None]) -> CiRun:
        space = f"{registry_mod.ensure(self._client, registry)}/dockerlab-{self.run_id}"
        sandbox = ci_relay.CiSandbox(image, seconds=seconds)
        run = ci_relay.run_script(self._client, self._session, self.builder, submission, script, sandbox,
                                  {**env, "REGISTRY": space}, space, secrets, limits, wanted, progress)
        run.registry = space
        return run

    @boundary
    def inspect(self, image_id: str, base_ref: str) -> Image:
        return inspect_mod.image(self._client, image_id, base_ref)

    @boundary
    def stand_in(self, ref: str) -> str | None:
        return inspect_mod.stand_in(self._client, ref)

    @boundary
    def layers(self, image_id: str) -> tuple[list[list[Entry]], list[int]]:
        return layers_mod.entries(self._client, image_id)

    @boundary
    def artifact(self, lab: LabBase, course_root: Path, name: str) -> Path:
        return artifacts.ensure(lab, course_root, name)

    @boundary
    def start(self, image_id: str, sandbox: Sandbox, env: dict[str, str], healthcheck: dict[str, Any] | None,
              mounts: dict[str, str], role: str = "service", hardening: Hardening | None = None) -> str | None:
        self._services[role], refused = run.start(self._session, image_id, sandbox, env, healthcheck, mounts, role,
                                                  hardening)
        self._grace[role] = run.unhealthy_grace(healthcheck, sandbox)
        return refused

    @boundary
    def watch(self, port: int, sandbox: Sandbox, role: str = "service") -> Container:
        if role not in self._services:
            raise EngineError(f"the {role} container was watched before it was started")
        return run.watch(self._client, self._services[role], port, sandbox, self._grace[role])

    @boundary
    def leaks(self, image_id: str, secret: str) -> list[str]:
        return leaks_mod.find(self._client, image_id, secret)

    @boundary
    def start_idle(self, image_id: str, sandbox: Sandbox) -> str:
        return run.start_idle(self._session, image_id, sandbox)

    @boundary
    def ask(self, container: str, queries: list[Query]) -> dict[Query, Any]:
        return inside.answer(self._session, container, queries)

    @boundary
    def stop(self, container: str, grace_seconds: float) -> Stopped:
        return run.stop(self._client, container, grace_seconds)

    @boundary
    def send(self, address: str, request: HttpRequest, retries: int = 3) -> HttpResponse:
        return probe.send(address, request, retries)

    @boundary
    def volumes(self, targets: list[str], prefix: str) -> dict[str, str]:
        return volumes.create(self._session, targets, prefix)

    @boundary
    def written(self, container: str, targets: list[str], suffixes: set[str]) -> tuple[dict[str, int], dict[str, str]]:
        return volumes.written(self._session, container, targets, suffixes)

    @boundary
    def run_job(self, image_id: str, *, name: str, args: list[str], mounts: Mounts, shm_mb: int, sandbox: Sandbox,
                timeout: int, gpus: str | None = None, entrypoint: list[str] | None = None
                ) -> tuple[int | None, str, float, bool]:
        requests = [gpu_mod.device_request(gpus)] if gpus else None
        return run.run_job(self._session, image_id, name=name, args=args, mounts=mounts, shm_mb=shm_mb,
                           memory_mb=sandbox.memory_mb, cpus=sandbox.cpus, pids=sandbox.pids, timeout=timeout,
                           device_requests=requests, entrypoint=entrypoint)

    @boundary
    def job_limit(self, name: str, logs: str, sandbox: Sandbox, *, stopped: bool = False) -> str:
        return run.job_limit_hit(self._session, name, logs, sandbox, stopped=stopped)

    @boundary
    def run_and_stop(self, image_id: str, *, name: str, args: list[str], mounts: Mounts, shm_mb: int,
                     sandbox: Sandbox, when: str, grace: int, timeout: int) -> JobStop:
        return run.run_and_stop(self._session, image_id, name=name, args=args, mounts=mounts, shm_mb=shm_mb,
                                sandbox=sandbox, when=when, grace=grace, timeout=timeout)

    @boundary
    def available(self, ref: str) -> Availability:
        return stack_state.have_image(self._client, ref)

    @boundary
    def image_healthcheck(self, ref: str) -> bool | None:
        return stack_state.image_healthcheck(self._client, ref)

    @boundary
    def image_volumes(self, ref: str) -> list[str] | None:
        return stack_state.image_volumes(self._client, ref)

    @boundary
    def up(self, file: Path, project: str, timeout: int, watch: Callable[[], str | None],
           env_file: Path | None = None) -> compose.Outcome:
        return compose.up(file, project, timeout, watch, env_file)

    @boundary
    def down(self, file: Path, project: str, *, volumes: bool) -> compose.Outcome:
        return compose.down(file, project, volumes=volumes)

    @boundary
    def services(self, project: str, names: list[str]) -> tuple[dict[str, ServiceState], set[str]]:
        return stack_state.states(self._client, project, names)

    @boundary
    def address(self, project: str, service: str, port: int) -> str | None:
        return stack_state.address(self._client, project, service, port)

    @boundary
    def failed_health(self, project: str) -> list[tuple[str, str]]:
        return stack_state.failed_health_output(self._client, project)

    @boundary
    def starting(self, project: str) -> set[str]:
        return stack_state.starting(self._client, project)

    @boundary
    def remove_volumes(self, names: set[str]) -> list[str]:
        return stack_state.remove_volumes(self._client, names)
