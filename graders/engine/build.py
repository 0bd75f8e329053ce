"""Building images: BuildKit through a docker CLI that has it, else the SDK's (legacy) builder.

BuildKit is preferred because learners' Dockerfiles may use `RUN --mount=type=cache`, which the
legacy builder refuses. A CLI has BuildKit when it has the buildx plugin, or when it is older
than 23.0 and DOCKER_BUILDKIT=1 is set (the engine's own BuildKit).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, DockerException

from graders.engine import boundary, build_sandbox, child
from graders.engine.api import Builder
from graders.engine.build_sandbox import FORK_FAILURES, BuildLimits
from graders.errors import EngineError
from graders.facts import Build, Step

Progress = Callable[[str], None]

_KIT_STEP = re.compile(r"^#(\d+) \[(?:[^\]]*\s)?(\d+)/(\d+)\] (.*)$")
_KIT_STATE = re.compile(r"^#(\d+) (CACHED|ERROR|DONE)\b")
_LEGACY_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")

# Output that means the machine or its network failed, not the learner's Dockerfile.
INFRA_PATTERNS = (
    "Temporary failure in name resolution",
    "Could not resolve host",
    "Failed to establish a new connection",
    "Network is unreachable",
    "Connection timed out",
    "CERTIFICATE_VERIFY_FAILED",
    "no space left on device",
    "failed to register layer",
    "pull access denied",
    "failed to resolve source metadata",
    "failed to do request",
    "Cannot connect to the Docker daemon",
)




def sandboxed(builder: Builder, probe_images: Callable[[], list[str]], engine_root: str | None,
              image_store: str | None = None) -> Builder:
    """`builder` with its build sandbox located: the cgroup its steps run in, and the disk they write to.
    `probe_images()` names trusted images to probe with, asked only when no probe has run since boot."""
    disk = engine_root if engine_root and os.path.isdir(engine_root) and _local_engine() else None
    builder = replace(builder, disk_copies=2 if image_store == "containerd" else 1)
    if builder.kind == "buildkit" and builder.cli:
        found = build_sandbox.locate(builder.cli, probe_images(), builder.buildx)
    else:  # the legacy builder's step containers are put under the grader's own parent through the API
        found = build_sandbox.Enforcement(True, build_sandbox.OWN_PARENT, "", own=True)
    if found.enforced and found.cgroup:
        slots = build_sandbox.slot_count(found.own)
        if slots > 1:  # each build's limits on a cgroup of its own beneath the parent
            build_sandbox.open_parent(found.cgroup)
        first = f"{found.cgroup}/0" if slots > 1 else found.cgroup
        applied = build_sandbox.apply(first, BuildLimits())  # proves the limits can be written here
        if not applied.enforced:
            return replace(builder, sandbox=applied.detail, disk=disk)
        how = "the grader's own, named with --cgroup-parent" if found.own else "BuildKit's own"
        where = f"the cgroups {found.cgroup}/0 to /{slots - 1}, one per build" if slots > 1 else f"the cgroup {found.cgroup}"
        return replace(builder, cgroup=found.cgroup, own_cgroup=found.own, disk=disk, slots=slots,
                       sandbox=f"steps limited in {where} ({how})")
    return replace(builder, sandbox=found.detail, disk=disk)


def _local_engine() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    return not host or host.startswith("unix://")


@boundary
def detect_builder() -> Builder:
    """The best builder this machine offers. DOCKERLAB_BUILDER=legacy forces the SDK's builder."""
    if os.environ.get("DOCKERLAB_BUILDER") == "legacy":
        return Builder("legacy", None, "DOCKERLAB_BUILDER=legacy")
    clis: list[str] = []
    for candidate in (shutil.which("docker"), "/usr/bin/docker"):
        if candidate and os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in map(os.path.realpath, clis):
            clis.append(candidate)
    for cli in clis:
        if _quiet([cli, "buildx", "version"]).returncode == 0:
            return Builder("buildkit", cli, f"{cli} with the buildx plugin", buildx=True)
    for cli in clis:
        version = _quiet([cli, "version", "--format", "{{.Client.Version}}"]).stdout.strip()
        major = re.match(r"(\d+)\.", version)
        if major and int(major.group(1)) < 23:
            return Builder("buildkit", cli, f"{cli} {version} with DOCKER_BUILDKIT=1")
    return Builder("legacy", None, "no docker CLI with BuildKit (no buildx plugin, no client older than 23.0)")


@boundary
def build(
    client: docker.DockerClient,
    builder: Builder,
    context: Path,
    dockerfile: str,
    tag: str,
    labels: dict[str, str],
    limits: BuildLimits,
    progress: Progress | None = None,
    *,
    target: str | None = None,
    args: dict[str, str] | None = None,
    secrets: dict[str, Path] | None = None,
    output: Path | None = None,
    cache_from: tuple[str, ...] = (),
) -> Build:
    """Build `context` in the build sandbox, in a build slot of its own, and return what happened.
    Raises EngineError only when no build ran at all (the disk is too full to start one included).
    `target` and `args` are `--target` and `--build-arg` (Compose services' build options); `secrets`
    are `--secret id=ID,src=FILE` (the legacy builder has none: a Dockerfile that mounts one fails there);
    `output` is `--output type=tar,dest=FILE`: the built stage's files land in that tar, and no image is made
    (stopped past OUTPUT_MB: a build's output is a file or two, never a whole file system)."""
    options = Options(target, dict(args or {}), dict(secrets or {}), output, cache_from)
    if output is not None and builder.kind != "buildkit":
        raise EngineError("a build that writes its files out (--output) needs BuildKit, and this machine's builder is the "
                          "legacy one", "grade where the docker CLI has BuildKit (buildx, or a client older than 23.0)")
    waited, discarded = 0.0, 0.0
    for alone in (False, True):
        asked = time.monotonic()
        with build_sandbox.build_slot(builder.cgroup, builder.slots, alone=alone,
                                      waiting=lambda: progress and progress("waiting for a build slot")) as slot:
            waited += time.monotonic() - asked
            # alone, without the cache: the first attempt's steps may be in it, and must run and write again
            chosen = replace(options, no_cache=alone)
            result, hit_memory = _in_slot(client, builder, slot, context, dockerfile, tag, labels, limits, progress, chosen)
            # the disk and time limits are met sooner beside another build: only a verdict reached alone counts
            again = result.stopped in ("disk", "time") and slot.shared()
        if not again:
            break
        discarded += result.seconds
        if progress:
            progress("stopped at a limit while another build ran: building again alone")
    result.waited, result.discarded = round(waited, 2), round(discarded, 2)
    if not result.ok:
        result.error = _cause(result, limits, hit_memory)
        result.infra = infra_reason(result.log)
    return result


def _in_slot(client: docker.DockerClient, builder: Builder, slot: build_sandbox.Slot, context: Path, dockerfile: str,
             tag: str, labels: dict[str, str], limits: BuildLimits, progress: Progress | None,
             options: Options) -> tuple[Build, bool]:
    """One build in `slot`: its limits written on the slot's cgroup; also whether it reached its memory limit."""
    free = _free_mb(builder.disk)
    if free is not None and free < limits.disk_mb:
        raise EngineError(
            f"the engine's disk has {free:,} MB free, and a build may write up to {limits.disk_mb:,} MB "
            "(course.yml limits.build_disk_mb)", "free disk space (`docker system prune`, `dockerlab clean`), then grade again")
    cgroup = slot.cgroup
    if cgroup:
        applied = build_sandbox.apply(cgroup, limits)
        if not applied.enforced:
            raise EngineError(f"the build sandbox could not be set: {applied.detail}")
    mark = build_sandbox.memory_mark(cgroup) if cgroup else 0
    in_slot = replace(builder, cgroup=cgroup)
    if builder.kind == "buildkit":
        result = _buildkit(in_slot, context, dockerfile, tag, labels, limits, progress, options)
    else:
        result = _legacy(client, in_slot, context, dockerfile, tag, labels, limits, progress, options)
    return result, bool(cgroup and build_sandbox.memory_reached(cgroup, limits, mark))


KILLED = ("exit code: 137", "returned a non-zero code: 137", "did not complete successfully: cannot allocate memory")
"""A step killed: by SIGKILL, or (BuildKit 0.14 and newer, Engine 27 and newer) by the kernel at the memory limit."""
OOM_KILLED = "did not complete successfully: cannot allocate memory"
"""BuildKit's own word that the kernel killed a step at its cgroup's memory limit."""


def _cause(result: Build, limits: BuildLimits, hit_memory: bool) -> str:
    """The build's error, naming the limit it reached when it reached one."""
    if result.error.startswith("the build "):  # the grader stopped it: time or disk
        return result.error
    log = result.log
    step = next((s.instruction for s in reversed(result.steps) if s.failed), "a step")
    if any(words in log for words in KILLED):
        if hit_memory or OOM_KILLED in log:
            return f"{step[:120]} was stopped: it used more than the build's memory limit of {limits.memory_mb} MB"
        return f"{step[:120]} was killed (exit code 137)"
    if any(words in log for words in FORK_FAILURES):
        return (f"{step[:120]} could not start more processes: it reached the build's limit of {limits.pids} "
                f"processes ({result.error[:200]})")
    return result.error


def _free_mb(folder: str | None) -> int | None:
    if not folder:
        return None
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize // 2**20


@dataclass(frozen=True)
class Options:
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, Path] = field(default_factory=dict)
    output: Path | None = None
    cache_from: tuple[str, ...] = ()
    """Images whose inline cache the build may use (`--cache-from`): a CI script's, in the course registry."""
    no_cache: bool = False
    """Every step run again (`--no-cache`): a build judged again alone."""


def infra_reason(log: str) -> str | None:
    """The line of a failed build's log that shows the machine, not the learner, was at fault."""
    for line in log.splitlines():
        if any(pattern in line for pattern in INFRA_PATTERNS):
            return line.strip()[:300]
    return None


def _buildkit(builder: Builder, context: Path, dockerfile: str, tag: str, labels: dict[str, str], limits: BuildLimits,
              progress: Progress | None, options: Options = Options()) -> Build:
    cli = builder.cli or "docker"  # a BuildKit builder always names its CLI
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dockerlab-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        command = [cli, "build", "--progress=plain", "-f", str(context / dockerfile)]
        # files written out: no image to name or identify
        command += ["--iidfile", str(iidfile), "-t", tag] if options.output is None else []
        # (`context / dockerfile` is `dockerfile` itself when that is an absolute path)
        for key, value in labels.items():
            command += ["--label", f"{key}={value}"]
        for key, value in options.args.items():
            command += ["--build-arg", f"{key}={value}"]
        for key, path in options.secrets.items():
            command += ["--secret", f"id={key},src={path}"]
        if options.target:
            command += ["--target", options.target]
        for ref in options.cache_from:
            command += ["--cache-from", ref]
        if options.output is not None:
            command += ["--output", f"type=tar,dest={options.output}"]
        if options.no_cache:
            command.append("--no-cache")
        if builder.cgroup and builder.own_cgroup:
            command += ["--cgroup-parent", builder.cgroup]
        command.append(str(context))
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        try:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                env=env, start_new_session=True, preexec_fn=child.preexec(death_signal=signal.SIGKILL),
            )
        except OSError as error:
            raise EngineError(f"cannot run {cli}: {error}") from error
        lines: list[str] = []
        reader = threading.Thread(target=_read, args=(process.stdout, lines, progress), daemon=True)
        reader.start()
        stopped: tuple[str, str] = ("", "")
        try:
            stopped = _watch(process, started, limits, builder.disk, builder.disk_copies, options.output)
        except BaseException:
            _kill(process)
            raise
        reader.join(timeout=10)
        log = "\n".join(lines)
        image_id = iidfile.read_text().strip() if iidfile.exists() else None
    steps = _buildkit_steps(lines)
    ok = process.returncode == 0 and (bool(image_id) or options.output is not None) and not stopped[0]
    why = stopped[1] or ("" if ok else _buildkit_error(lines))
    return Build(ok, image_id if ok else None, "buildkit", time.monotonic() - started, log, steps, why, stopped=stopped[0])


OUTPUT_MB = 64
"""The most a build that writes its files out (`output`) may write there."""


def _watch(process: subprocess.Popen[str], started: float, limits: BuildLimits, disk: str | None, copies: int = 1,
           output: Path | None = None) -> tuple[str, str]:
    """Wait for the build; stop it when it runs out of time, writes more than its disk budget (`copies`
    times the budget where the engine writes each layer that many times) or more than OUTPUT_MB to `output`.
    Returns which limit stopped it ("time", "disk", "output"; "" when none) and what to tell the learner."""
    free_before = _free_mb(disk)
    while process.poll() is None:
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if process.poll() is not None:
            break
        if time.monotonic() - started > limits.seconds:
            _kill(process)
            return "time", f"the build took longer than {limits.seconds} s (the build's time limit, course.yml limits.build_seconds)"
        free = _free_mb(disk)
        if free_before is not None and free is not None and free_before - free > limits.disk_mb * copies:
            _kill(process)
            return "disk", (f"the build wrote over {limits.disk_mb:,} MB to the engine's disk (the limit per build); "
                            "large files belong outside the image, mounted at run time")
        if output is not None and output.exists() and output.stat().st_size > OUTPUT_MB * 2**20:
            _kill(process)
            return "output", (f"the build wrote over {OUTPUT_MB} MB of files out: its last stage should hold only what it "
                              "makes (FROM scratch and a COPY of the file)")
    return "", ""


LOG_LINES = 5_000
"""Lines of a build's output kept in full; past them only BuildKit's step lines and the last lines."""


def _read(stream: Iterable[str], lines: list[str], progress: Progress | None) -> None:
    """Collect the build's output, bounded: a step that prints gigabytes costs the grader nothing."""
    tail: collections.deque[str] = collections.deque(maxlen=200)
    dropped = 0
    for line in stream:
        line = line.rstrip("\n")[:2000]
        step = _KIT_STEP.match(line)
        if len(lines) < LOG_LINES or step or _KIT_STATE.match(line):
            lines.append(line)
        else:
            if len(tail) == tail.maxlen:
                dropped += 1
            tail.append(line)
        if progress and step:
            progress(step.group(4)[:100])
    if dropped:
        lines.append(f"[dockerlab: {dropped:,} lines of output left out]")
    lines.extend(tail)


def _kill(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _buildkit_steps(lines: list[str]) -> list[Step]:
    steps: dict[str, Step] = {}
    for line in lines:
        if match := _KIT_STEP.match(line):
            steps.setdefault(match.group(1), Step(int(match.group(2)), match.group(4), cached=False))
        elif (match := _KIT_STATE.match(line)) and match.group(1) in steps:
            if match.group(2) == "CACHED":
                steps[match.group(1)].cached = True
            elif match.group(2) == "ERROR":
                steps[match.group(1)].failed = True
    ordered = sorted(steps.values(), key=lambda step: step.number)  # BuildKit prints steps as they finish
    return [s for s in ordered if not s.instruction.upper().startswith("FROM ")]


def _buildkit_error(lines: list[str]) -> str:
    for line in reversed(lines):
        text = line.strip()
        if text and not text.startswith(("#", "------", ">")) and not re.match(r"^\d+ \|", text):
            for prefix in ("error: ", "ERROR: ", "failed to solve: ", "rpc error: code = Unknown desc = "):
                while text.startswith(prefix):
                    text = text[len(prefix):]
            return text[:400]
    return "the build failed (see the log)"


def _legacy(client: docker.DockerClient, builder: Builder, context: Path, dockerfile: str, tag: str, labels: dict[str, str],
            limits: BuildLimits, progress: Progress | None, options: Options = Options()) -> Build:
    """The SDK's builder. Its step containers get the memory and CPU limits, and are put under the
    build sandbox's cgroup for the process limit (through the API's `cgroupparent`)."""
    timeout = limits.seconds
    started = time.monotonic()
    lines: list[str] = []
    image_id, error, stopped = None, "", ""
    api = _sandboxed_api(limits, builder.cgroup)
    try:
        stream = api.build(
            path=str(context), dockerfile=str(context / dockerfile), tag=tag, labels=labels, rm=True, forcerm=True,
            decode=True, timeout=timeout, target=options.target, buildargs=options.args or None,
            cache_from=list(options.cache_from) or None, nocache=options.no_cache,
            container_limits={"memory": limits.memory_mb * 2**20, "memswap": limits.memory_mb * 2**20},
        )
        for chunk in stream:
            for text in chunk.get("stream", "").splitlines():
                if len(lines) < LOG_LINES or _LEGACY_STEP.match(text):  # bounded, as _read
                    lines.append(text[:2000])
                if progress and (step := _LEGACY_STEP.match(text)):
                    progress(step.group(3)[:100])
            if "error" in chunk:
                error = chunk["error"].strip()
                lines.append(error)
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if time.monotonic() - started > timeout:
                error = f"the build took longer than {timeout} s (the build's time limit, course.yml limits.build_seconds)"
                stopped = "time"
                break
    except (APIError, BuildError) as failure:
        error = str(failure)
        lines.append(error)
    except DockerException as failure:
        raise EngineError(f"the engine failed during the build: {failure}") from failure
    finally:
        api.close()
    if image_id is None and not error:
        try:
            image_id = client.images.get(tag).id
        except DockerException:
            error = "the build produced no image"
    steps = _legacy_steps(lines, failed=bool(error))
    ok = not error and image_id is not None
    return Build(ok, image_id if ok else None, "legacy", time.monotonic() - started, "\n".join(lines), steps, error,
                 stopped=stopped)


def _sandboxed_api(limits: BuildLimits, cgroup: str | None) -> docker.APIClient:
    """A client of its own for one legacy build, whose requests carry the build options docker-py's
    `build()` does not pass on: the cgroup parent (for the process limit) and a CPU quota."""
    api = docker.from_env(timeout=limits.seconds + 60).api
    params: dict[str, int | str] = {"cpuperiod": build_sandbox.PERIOD_US, "cpuquota": int(limits.cpus * build_sandbox.PERIOD_US)}
    if cgroup:
        params["cgroupparent"] = cgroup
    api.params = params
    return api


def _legacy_steps(lines: list[str], failed: bool) -> list[Step]:
    steps: list[Step] = []
    for line in lines:
        if match := _LEGACY_STEP.match(line):
            steps.append(Step(int(match.group(1)), match.group(3), cached=False))
        elif steps and "Using cache" in line:
            steps[-1].cached = True
    if failed and steps:
        steps[-1].failed = True
    return [s for s in steps if not s.instruction.upper().startswith("FROM ")]


def _quiet(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return subprocess.CompletedProcess(command, 127, "", "")
