"""A fake Engine (graders.engine.api) that drives both pipelines in a fraction of a second.

It answers every method with facts a sound submission would give, records each call (and the thread
it came from), keeps what the grading "created" until it is closed, and fails on demand:
`fail={"build": lambda context, dockerfile, tag, *rest: tag.endswith("-baseline")}` makes that call
raise the EngineError a real engine raises when the machine fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graders.course import LabBase
from graders.engine.api import Availability, Builder, Hardening, Mounts, Sandbox
from graders.engine.build_sandbox import BuildLimits
from graders.engine.compose import Outcome
from graders.errors import EngineError
from graders.facts import (
    Build,
    CiRun,
    Container,
    Gpu,
    HistoryEntry,
    HttpRequest,
    HttpResponse,
    Image,
    JobStop,
    Query,
    ServiceState,
    Step,
    Stopped,
)
from graders.layers import Entry

IMAGE_ID = "sha256:" + "f" * 64
ADDRESS = "10.0.0.2:8000"


def image(image_id: str = IMAGE_ID, base_ref: str = "python:3.11-slim", **changes: Any) -> Image:
    values: dict[str, Any] = dict(
        id=image_id, size_bytes=450_000_000, base_ref=base_ref, base_size_bytes=160_000_000, base_history_length=2,
        user="app", exposed_ports=["8000/tcp"], volumes=[], cmd=["uvicorn", "app.main:app"], entrypoint=None,
        healthcheck={"Test": ["CMD", "python", "-c", "0"]}, env={}, labels={}, workdir="/app",
        history=[HistoryEntry("base", 160_000_000, False), HistoryEntry("RUN pip install", 290_000_000, False)])
    values.update(changes)
    return Image(**values)


class FakeEngine:
    def __init__(self, *, fail: dict[str, Callable[..., bool]] | None = None, gpu: Gpu | None = None,
                 responses: dict[str, HttpResponse] | None = None, answers: dict[str, Any] | None = None,
                 build_ok: bool = True) -> None:
        self.run_id = "fake00000001"
        self.labels = {"org.dockerlab.managed": "true", "org.dockerlab.run": self.run_id}
        self.info: dict[str, Any] = {"engine_version": "28.5.2", "api_version": "1.51", "cgroup_version": "2",
                                     "cgroup_driver": "systemd", "runtimes": ["runc"], "root_dir": ""}
        self.builder = Builder("buildkit", "/usr/bin/docker", "fake", buildx=True, cgroup="/fake/build",
                               sandbox="fake: steps limited", engine_version="28.5.2")
        self.problems: list[str] = []
        self.waited = 0.0
        self.discarded = 0.0
        self.fail = fail or {}
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        """(method, thread name, arguments) of every call, in order."""
        self.created: set[str] = set()
        self.opened = self.closed = False
        self._gpu = gpu or Gpu("none", None, None, [])
        self._responses = responses or {}
        self._answers = answers or {}
        self._build_ok = build_ok
        self._lock = threading.Lock()

    # what a test asks of it
    def called(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, _thread, args in self.calls if name == method]

    def thread_of(self, method: str) -> set[str]:
        return {thread for name, thread, _args in self.calls if name == method}

    def _call(self, method: str, *args: Any) -> None:
        with self._lock:
            self.calls.append((method, threading.current_thread().name, args))
        if self.closed:
            raise AssertionError(f"{method} called after the engine was closed")
        should = self.fail.get(method)
        if should is not None and should(*args):
            raise EngineError(f"the fake engine failed {method}")

    def _make(self, what: str) -> str:
        with self._lock:
            self.created.add(what)
        return what

    def __enter__(self) -> FakeEngine:
        self.opened = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.created.clear()  # as Session.cleanup removes everything carrying the run's label
        self.closed = True

    def name(self, role: str) -> str:
        return f"dockerlab-{self.run_id}-{role}"

    def gpu(self) -> Gpu:
        self._call("gpu")
        return self._gpu

    def compose_version(self) -> str:
        self._call("compose_version")
        return "2.40.3"

    # images
    def build(self, context: Path, dockerfile: str, tag: str, limits: BuildLimits, progress: Callable[[str], None], *,
              target: str | None = None, args: dict[str, str] | None = None,
              secrets: dict[str, Path] | None = None, output: Path | None = None) -> Build:
        self._call("build", context, dockerfile, tag, limits)
        if output is not None:  # the built stage's files, as a tar
            written = output.with_suffix(".d")
            written.mkdir(parents=True, exist_ok=True)
            (written / "sbom.cdx.json").write_text('{"bomFormat": "CycloneDX", "components": []}')
            tar_folder(written, output)
        self.secrets = {name: path.read_text() for name, path in (secrets or {}).items()}
        progress("[1/2] FROM python:3.11-slim")
        self._make(tag)
        if not self._build_ok:
            return Build(False, None, "buildkit", 0.5, "ERROR: failed to solve", [Step(1, "RUN false", False, True)],
                         "process \"/bin/sh -c false\" did not complete successfully")
        return Build(True, IMAGE_ID, "buildkit", 1.0, "#1 DONE", [Step(1, "FROM python:3.11-slim", True),
                                                                  Step(2, "COPY app/ app/", tag.endswith("-rebuild"))])

    def present(self, ref: str) -> bool:
        self._call("present", ref)
        return True

    def run_ci(self, submission: Path, script: str, env: dict[str, str], secrets: dict[str, Path], limits: BuildLimits,
               wanted: list[str], seconds: int, image: str, registry: str, progress: Callable[[str], None]) -> CiRun:
        """A script that pushed the commit's tag and left the production file as it found it."""
        self._call("run_ci", submission, script, env, wanted)
        space = f"127.0.0.1:5000/dockerlab-{self.run_id}"
        ref, digest = f"{space}/iris:{env.get('GIT_SHA', '')}", "sha256:" + "d" * 64
        files = {path: (submission / path).read_text() if (submission / path).is_file() else None for path in wanted}
        return CiRun(0, "pushed", registry=space, pushed={ref: digest}, held={ref: digest}, files=files, env=dict(env))

    def inspect(self, image_id: str, base_ref: str) -> Image:
        self._call("inspect", image_id, base_ref)
        return image(image_id, base_ref)

    def stand_in(self, ref: str) -> str | None:
        self._call("stand_in", ref)
        return None

    def layers(self, image_id: str) -> tuple[list[list[Entry]], list[int]]:
        self._call("layers", image_id)
        return [[Entry("app/main.py", 1000, False)]], [1]

    def leaks(self, image_id: str, secret: str) -> list[str]:
        self._call("leaks", image_id, secret)
        return []

    def artifact(self, lab: LabBase, course_root: Path, name: str) -> Path:
        self._call("artifact", lab.id, name)
        return course_root / lab.folder

    # the service, its twin, looks inside
    def start(self, image_id: str, sandbox: Sandbox, env: dict[str, str], healthcheck: dict[str, Any] | None,
              mounts: dict[str, str], role: str = "service", hardening: Hardening | None = None) -> str | None:
        self._call("start", image_id, sandbox, env, healthcheck, mounts, role)
        self._make(self.name(role))
        return None

    def watch(self, port: int, sandbox: Sandbox, role: str = "service") -> Container:
        self._call("watch", port, sandbox, role)
        return Container(True, None, "INFO: Application startup complete.", "healthy", ["ok"], 2.0, ADDRESS)

    def start_idle(self, image_id: str, sandbox: Sandbox) -> str:
        self._call("start_idle", image_id, sandbox)
        return self._make(self.name("idle"))

    def ask(self, container: str, queries: list[Query]) -> dict[Query, Any]:
        self._call("ask", container, queries)
        return {query: self._answers.get(query.kind, (0, "")) for query in queries}

    def stop(self, container: str, grace_seconds: float) -> Stopped:
        self._call("stop", container, grace_seconds)
        return Stopped("SIGTERM", ["uvicorn", "app.main:app"], 0.3, True, 0, grace_seconds)

    def send(self, address: str, request: HttpRequest, retries: int = 3) -> HttpResponse:
        self._call("send", address, request)
        return self._responses.get(request.path, HttpResponse(200, "{}", 5.0))

    # jobs
    def volumes(self, targets: list[str], prefix: str) -> dict[str, str]:
        self._call("volumes", targets, prefix)
        return {target: self._make(f"{self.run_id}-{prefix}-{i}") for i, target in enumerate(targets)}

    def written(self, container: str, targets: list[str], suffixes: set[str]) -> tuple[dict[str, int], dict[str, str]]:
        self._call("written", container, targets, suffixes)
        return {f"{targets[0]}/model.pt": 2048} if targets else {}, {}

    def run_job(self, image_id: str, *, name: str, args: list[str], mounts: Mounts, shm_mb: int, sandbox: Sandbox,
                timeout: int, gpus: str | None = None, entrypoint: list[str] | None = None
                ) -> tuple[int | None, str, float, bool]:
        self._call("run_job", name, args, mounts, gpus)
        self._make(self.name(name))
        return 0, {"torch": "2.3.1 None"}.get(name, "epoch 1/2 loss 0.5\nepoch 2/2 loss 0.2\n"), 3.0, False

    def job_limit(self, name: str, logs: str, sandbox: Sandbox, *, stopped: bool = False) -> str:
        self._call("job_limit", name)
        return ""

    def run_and_stop(self, image_id: str, *, name: str, args: list[str], mounts: Mounts, shm_mb: int,
                     sandbox: Sandbox, when: str, grace: int, timeout: int) -> JobStop:
        self._call("run_and_stop", name, when, grace)
        self._make(self.name(name))
        return JobStop(True, 0, 0.4, False, "epoch 1/2 loss 0.5\ncheckpoint saved\n")

    # Compose stacks
    def available(self, ref: str) -> Availability:
        self._call("available", ref)
        return Availability(True)

    def image_healthcheck(self, ref: str) -> bool | None:
        self._call("image_healthcheck", ref)
        return False

    def image_volumes(self, ref: str) -> list[str] | None:
        self._call("image_volumes", ref)
        return []

    def up(self, file: Path, project: str, timeout: int, watch: Callable[[], str | None],
           env_file: Path | None = None) -> Outcome:
        self._call("up", file, project)
        watch()
        self._make(project)
        return Outcome(True, "Container started", 4.0)

    def down(self, file: Path, project: str, *, volumes: bool) -> Outcome:
        self._call("down", file, project, volumes)
        if volumes:
            self.created.discard(project)
        return Outcome(True, "Container removed", 1.0)

    def services(self, project: str, names: list[str]) -> tuple[dict[str, ServiceState], set[str]]:
        self._call("services", project, names)
        return {name: ServiceState("running", "healthy", None, ["ok"], "") for name in names}, {f"{project}_data"}

    def address(self, project: str, service: str, port: int) -> str | None:
        self._call("address", project, service, port)
        return ADDRESS

    def failed_health(self, project: str) -> list[tuple[str, str]]:
        self._call("failed_health", project)
        return []

    def starting(self, project: str) -> set[str]:
        self._call("starting", project)
        return set()

    def remove_volumes(self, names: set[str]) -> list[str]:
        self._call("remove_volumes", names)
        return []


def tar_folder(folder: Path, archive: Path) -> None:
    """`folder`'s files at the top of the tar `archive`, links kept as links (as BuildKit's tar output)."""
    import tarfile

    with tarfile.open(archive, "w") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name, recursive=True)
