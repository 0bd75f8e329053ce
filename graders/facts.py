"""The facts the pipeline gathers and the checks read. Plain data; no engine calls here.

A fact that could not be gathered is a `Missing`, which says why and whose doing it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from graders.dockerfile import Dockerfile
from graders.layers import Efficiency
from graders.stack import Refusal


@dataclass(frozen=True)
class Missing:
    """A fact the pipeline could not gather."""

    reason: str
    learner: bool
    """True when the submission is why (it did not build): dependent criteria fail.
    False when the machine or engine is why: dependent criteria are not_gradable."""
    fix: str = ""


T = TypeVar("T")


class NotGathered(Exception):
    """A check read a fact it does not name in `needs` (a bug in the check, never the learner's)."""


def gathered(fact: T | Missing) -> T:
    """A fact a check names in `needs`. The scorer grades a check only once each of those is
    gathered, so a Missing here means the check reads a fact it did not declare."""
    if isinstance(fact, Missing):
        raise NotGathered(f"the check reads a fact it does not declare in `needs` ({fact.reason})")
    return fact


def optional(fact: T | Missing) -> T | None:
    """A fact a check names in `uses`: None when it could not be gathered."""
    return None if isinstance(fact, Missing) else fact


@dataclass
class Finding:
    """One hadolint finding."""

    code: str
    level: str
    line: int
    message: str


@dataclass
class Step:
    """One build step as the build log shows it."""

    number: int
    instruction: str
    cached: bool
    failed: bool = False


@dataclass
class Build:
    ok: bool
    image_id: str | None
    builder: str  # "buildkit" or "legacy"
    seconds: float
    log: str
    steps: list[Step] = field(default_factory=list)
    error: str = ""
    error_line: int | None = None  # Dockerfile line of the failing instruction
    infra: str | None = None
    """Why a failed build is the machine's fault (a registry out of reach), in the log's words."""
    waited: float = 0.0
    """Seconds it waited for a build slot (another build holding it) before it started."""
    stopped: str = ""
    """Which of the grader's limits stopped it: "time", "disk", "output" ("" when none did)."""
    discarded: float = 0.0
    """Seconds of a first attempt stopped at the disk or time limit beside another build, before this one alone."""


@dataclass
class HistoryEntry:
    created_by: str
    size_bytes: int
    empty: bool  # metadata-only (ENV, CMD, ...)


@dataclass
class Image:
    id: str
    size_bytes: int
    base_ref: str
    base_size_bytes: int
    base_history_length: int
    user: str
    exposed_ports: list[str]
    volumes: list[str]
    cmd: list[str] | None
    entrypoint: list[str] | None
    healthcheck: dict[str, Any] | None
    env: dict[str, str]
    labels: dict[str, str]
    workdir: str
    history: list[HistoryEntry]

    @property
    def added_bytes(self) -> int:
        return max(0, self.size_bytes - self.base_size_bytes)


@dataclass
class Container:
    """What happened when the service container ran."""

    running: bool
    exit_code: int | None
    logs: str
    health: str | None  # "healthy", "unhealthy", "starting" or None when the image has no HEALTHCHECK
    health_log: list[str]
    seconds_to_healthy: float | None
    address: str | None  # host:port the probes used
    limit_hit: str = ""
    """Which sandbox limit stopped it (memory, processes), in words; empty when none did."""


@dataclass
class BuildContext:
    """What the docker CLI would send to the engine: the ignore file it reads, and whether each path
    a check asked about is left out of the build context."""

    ignore_file: str | None
    left_out: dict[str, bool]
    requirements: dict[str, str] = field(default_factory=dict)
    """The text of the context's `requirements*.txt` files (plain, small files only), by name."""


@dataclass
class Stopped:
    """What happened when the running service was sent its stop signal, as `docker stop` sends it."""

    signal: str  # the image's STOPSIGNAL, SIGTERM by default
    pid1: list[str]
    """The command the engine started as PID 1 (what receives the signal)."""
    seconds: float
    """Until it exited, or the grace period when it did not."""
    exited: bool
    """Whether it exited by itself within the grace period (else the grader killed it)."""
    exit_code: int | None
    grace_seconds: float


@dataclass
class Gpu:
    """What the grading machine offers for GPU containers (graders.engine.gpu finds it)."""

    runtime: str  # "nvidia", "cdi" or "none"
    driver_version: str | None
    cuda_version: str | None  # the highest CUDA the driver supports
    devices: list[str]
    capabilities: list[tuple[str, str | None]] = field(default_factory=list)
    """(name, compute capability such as '7.5') of each GPU; the capability is None where the driver cannot say."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainingJob:
    """What happened when the image ran as a job (Lab 03)."""

    run_name: str
    exit_code: int | None
    timed_out: bool
    seconds: float
    logs: str
    shm_mb: int
    files: dict[str, int]
    """Files the job left in its writable mounts: container path -> bytes."""
    texts: dict[str, str] = field(default_factory=dict)
    """The text of small files among them (under 1 MB, .json/.jsonl/.txt/.csv/.log)."""
    checkpoint_load: tuple[int, str] | None = None
    """Exit code and output of loading the checkpoint back in the image; None when there was none."""
    torch: str = ""
    """`torch.__version__ torch.version.cuda` as the image reports them ('' when torch is missing)."""
    cuda: str | None = None
    """The image's CUDA: CUDA_VERSION from its env, else torch's."""
    gpus_requested: bool = False
    gpu_note: str = ""
    """Why GPUs were or were not requested."""
    limit_hit: str = ""
    """Which sandbox limit stopped the job (memory, processes), in words; empty when none did."""
    checkpoint: str = ""
    """The checkpoint's file name the lab asked for (course.yml job.checkpoint, `{run}` filled in)."""


@dataclass(frozen=True)
class JobStop:
    """A job stopped the way a preemptible machine stops it: `docker stop` once its logs showed a sign."""

    seen: bool
    """The logs showed the sign before the job ended or ran out of time (else it was never stopped)."""
    exit_code: int | None
    seconds_to_exit: float
    """From the stop signal to the exit."""
    killed: bool
    """The engine sent SIGKILL: the grace period ended with the job still running."""
    logs: str


@dataclass
class Preemption:
    """Lab 03's job stopped mid-run, then started again with the same arguments on the same volumes."""

    run_name: str
    epochs: int
    """Epochs the run asks for."""
    grace_seconds: int
    stop: JobStop
    resume_exit: int | None = None
    resume_timed_out: bool = False
    resume_logs: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    """The small text files in its volumes after the second run (the metrics)."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: str | None = None  # JSON text
    timeout_s: float = 5.0

    @property
    def key(self) -> str:
        return f"{self.method} {self.path} {self.body or ''}".strip()


@dataclass
class HttpResponse:
    status: int | None
    body: str
    elapsed_ms: float
    error: str = ""

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Sbom:
    """An SBOM as the learner's SBOM build wrote it: the file's name and its parsed JSON."""

    file: str
    document: dict[str, Any]


@dataclass
class CiCommand:
    """One `docker ...` of a CI script: what it asked and how the grader answered."""

    argv: list[str]
    code: int
    kind: str
    """build, push, tag, pull, inspect, login, or answer (answered without the engine: a refusal)."""
    detail: str = ""
    seconds: float = 0.0


@dataclass
class CiRun:
    """A CI script run by the grader (Lab 05): its exit, its log, the commands it ran, what it pushed,
    and the files it left (the production file it pinned)."""

    exit_code: int | None
    log: str
    registry: str = ""
    """The $REGISTRY it was given: the course registry's address and this grading's namespace."""
    commands: list[CiCommand] = field(default_factory=list)
    pushed: dict[str, str] = field(default_factory=dict)
    """ref -> the digest the registry answered the push with."""
    built: dict[str, str] = field(default_factory=dict)
    """ref -> the image id a build of the script gave it."""
    files: dict[str, str | None] = field(default_factory=dict)
    """The files asked for, as the script left them in the submission (None: not there)."""
    held: dict[str, str | None] = field(default_factory=dict)
    """ref -> the digest the registry holds for it (None: none), asked after the script ended."""
    timed_out: bool = False
    env: dict[str, str] = field(default_factory=dict)
    """What the script was given besides PATH (REGISTRY, VERSION, GIT_SHA, CREATED)."""


@dataclass
class Hardened:
    """The image run as the production file's service asks (Lab 05): what was applied, what the
    container's first process shows of it, and what the service answered then."""

    applied: dict[str, Any]
    container: Container
    status: str = ""
    """/proc/1/status: Uid, CapEff, NoNewPrivs."""
    root_mount: str = ""
    """The line of /proc/1/mountinfo for the root file system."""
    http: dict[str, HttpResponse] = field(default_factory=dict)

    def field(self, name: str) -> str:
        """A field of /proc/1/status ("" when absent)."""
        return next((line.split(":", 1)[1].strip() for line in self.status.splitlines() if line.startswith(f"{name}:")), "")

    @property
    def root_read_only(self) -> bool:
        options = self.root_mount.split()[5].split(",") if len(self.root_mount.split()) > 5 else []
        return "ro" in options


@dataclass
class Provided:
    """What the grader handed a build: its build args, and its secrets (id -> a file with the value)."""

    args: dict[str, str]
    secrets: dict[str, Path]

    def secret(self, name: str) -> str:
        return self.secrets[name].read_text(encoding="utf-8") if name in self.secrets else ""


@dataclass(frozen=True)
class Query:
    """A question asked inside the running container, answered through pytest-testinfra.

    kind: "process_uid" (uid of PID 1), "exec_uid" (uid a `docker exec` runs as),
    "command" (run `arg` with /bin/sh as root; answer is (exit code, stdout)),
    "user_command" (the same as the image's user: what its process would find, ~/.local included),
    "pip_packages" (name -> version of the pip on PATH).
    where: "image" asks an idle twin of the image with nothing mounted (what the image holds);
    "service" asks the running service (what its process does).
    """

    kind: str
    arg: str = ""
    where: str = "image"


IMAGE_HEALTHCHECK = Query("command", "{image's HEALTHCHECK}")
"""The image's own HEALTHCHECK command, run in the idle twin, where the service is not running (a
check that passes there tests nothing). Answered as (exit code, output); (None, "") without one."""


@dataclass
class ComposeFile:
    """A learner's Compose file as Compose itself reads it (Lab 04)."""

    file: str
    model: dict[str, Any]
    """`docker compose config --format json`: short syntax expanded, variables interpolated."""
    raw: dict[str, Any]
    """The same with `--no-interpolate`: `${VAR}` left as written (where secrets should be)."""
    source: dict[str, Any]
    """The YAML as written (keys Compose drops, such as `version`, are still here)."""
    lines: dict[str, int]
    """Key path -> line in the file (graders.yamlines)."""
    gpu_file: str | None = None
    gpu_model: dict[str, Any] | None = None
    """The model with the GPU override file on top; None when there is no such file."""
    gpu_error: str = ""
    env_note: str = ""
    """Where the variables came from (the submission's .env, or .env.example)."""
    image_healthchecks: dict[str, bool | None] = field(default_factory=dict)
    """Service -> whether its image declares a HEALTHCHECK (None when the image could not be inspected)."""
    image_volumes: dict[str, list[str] | None] = field(default_factory=dict)
    """Service -> the folders its image declares with VOLUME (None or absent: not read)."""

    def line(self, path: str) -> int | None:
        from graders.yamlines import line_of

        return line_of(self.lines, path)

    def where(self, path: str) -> str:
        line = self.line(path)
        return f"{self.file}:{line}" if line else self.file


@dataclass
class ServiceState:
    """One service's container after `up`."""

    status: str  # running, exited, created, restarting, missing
    health: str | None  # healthy, unhealthy, starting; None without a healthcheck
    exit_code: int | None
    health_log: list[str]
    logs: str


@dataclass
class Persisted:
    """Data written before `down` and read after `up` again."""

    written: HttpResponse
    read: HttpResponse | None
    token: str
    restarted: bool
    note: str = ""


@dataclass
class Stack:
    """What happened when the stack ran (Lab 04)."""

    project: str
    left_out: dict[str, str]
    """Services not run here, with why (an image no registry in reach can give)."""
    up_ok: bool
    up_output: str
    stopped_early: str
    seconds: float
    services: dict[str, ServiceState]
    address: str | None
    """host:port of the entry service, for the probes."""
    ready: HttpResponse | None = None
    persistence: dict[str, Persisted] = field(default_factory=dict)
    not_tried: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Persistence probes not tried: id -> (why, whether the learner is why)."""
    teardown: str = ""
    """What `down -v --remove-orphans` reported when it did not succeed."""


@dataclass
class Facts:
    submission: Path
    dockerfile: Dockerfile | Missing = field(default_factory=lambda: Missing("not gathered", False))
    lint: list[Finding] | Missing = field(default_factory=lambda: Missing("not gathered", False))
    context: BuildContext | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The build context as the CLI sends it (static stage, from the submission's .dockerignore)."""
    build: Build | Missing = field(default_factory=lambda: Missing("not gathered", False))
    image: Image | Missing = field(default_factory=lambda: Missing("not gathered", False))
    container: Container | Missing = field(default_factory=lambda: Missing("not gathered", False))
    http: dict[str, HttpResponse] | Missing = field(default_factory=lambda: Missing("not gathered", False))
    inside: dict[Query, Any] | Missing = field(default_factory=lambda: Missing("not gathered", False))
    stop: Stopped | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The service stopped with its stop signal, after the probes and the looks inside."""
    rebuild: Build | Missing = field(default_factory=lambda: Missing("not gathered", False))
    baseline: Image | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The lab's comparison build (Lab 02: Dockerfile.naive) from the same context."""
    efficiency: Efficiency | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """Layer efficiency as dive computes it (graders.layers)."""
    job: TrainingJob | Missing = field(default_factory=lambda: Missing("not gathered", False))
    preempt: Preemption | Missing = field(default_factory=lambda: Missing("not gathered", False))
    compose: ComposeFile | Missing = field(default_factory=lambda: Missing("not gathered", False))
    stack: Stack | Missing = field(default_factory=lambda: Missing("not gathered", False))
    provided: Provided | None = None
    """What the grader handed the build (build args, secrets), when the lab hands it anything."""
    unmounted: dict[str, HttpResponse] | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The service started without the lab's mounts (its model): what it answered (Lab 05)."""
    leaks: list[str] | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """Where the image holds the build secret's value (Lab 05)."""
    sbom: Sbom | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The SBOM the learner's own SBOM build wrote for the grader's image (Lab 05)."""
    hardened: Hardened | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The image run with the hardening the production file asks for (Lab 05)."""
    ci: CiRun | Missing = field(default_factory=lambda: Missing("not gathered", False))
    """The learner's CI script, run by the grader against the course registry (Lab 05)."""
    gpu: Gpu | None = None
    """What the grading machine offers for GPUs, once the engine answered."""
    refused: list[Refusal] = field(default_factory=list)
    """Policy refusals found before Compose read the files (graders.stack.Refusal)."""
    stand_ins: list[str] = field(default_factory=list)
