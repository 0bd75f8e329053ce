"""Building images: BuildKit through a docker CLI that has it, else the SDK's (legacy) builder.

BuildKit is preferred because learners' Dockerfiles may use `RUN --mount=type=cache`, which the
legacy builder refuses. A CLI has BuildKit when it has the buildx plugin, or when it is older
than 23.0 and DOCKER_BUILDKIT=1 is set (the engine's own BuildKit).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import docker
from docker.errors import APIError, BuildError, DockerException

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


LEGACY_MEMORY = 4 * 2**30  # the legacy builder can cap RUN steps; BuildKit through the CLI cannot


@dataclass(frozen=True)
class Builder:
    kind: str  # "buildkit" or "legacy"
    cli: str | None
    reason: str


def detect_builder() -> Builder:
    """The best builder this machine offers. DOCKERLAB_BUILDER=legacy forces the SDK's builder."""
    if os.environ.get("DOCKERLAB_BUILDER") == "legacy":
        return Builder("legacy", None, "DOCKERLAB_BUILDER=legacy")
    clis = []
    for candidate in (shutil.which("docker"), "/usr/bin/docker"):
        if candidate and os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in map(os.path.realpath, clis):
            clis.append(candidate)
    for cli in clis:
        if _quiet([cli, "buildx", "version"]).returncode == 0:
            return Builder("buildkit", cli, f"{cli} with the buildx plugin")
    for cli in clis:
        version = _quiet([cli, "version", "--format", "{{.Client.Version}}"]).stdout.strip()
        major = re.match(r"(\d+)\.", version)
        if major and int(major.group(1)) < 23:
            return Builder("buildkit", cli, f"{cli} {version} with DOCKER_BUILDKIT=1")
    return Builder("legacy", None, "no docker CLI with BuildKit (no buildx plugin, no client older than 23.0)")


def build(
    client: docker.DockerClient,
    builder: Builder,
    context: Path,
    dockerfile: str,
    tag: str,
    labels: dict[str, str],
    timeout: int,
    progress: Progress | None = None,
    *,
    target: str | None = None,
    args: dict[str, str] | None = None,
) -> Build:
    """Build `context` and return what happened. Raises EngineError only when no build ran at all.
    `target` and `args` are `--target` and `--build-arg` (Compose services' build options)."""
    options = Options(target, dict(args or {}))
    if builder.kind == "buildkit":
        return _buildkit(builder.cli, context, dockerfile, tag, labels, timeout, progress, options)
    return _legacy(client, context, dockerfile, tag, labels, timeout, progress, options)


@dataclass(frozen=True)
class Options:
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)


def infra_reason(log: str) -> str | None:
    """The line of a failed build's log that shows the machine, not the learner, was at fault."""
    for line in log.splitlines():
        if any(pattern in line for pattern in INFRA_PATTERNS):
            return line.strip()[:300]
    return None


def _buildkit(cli, context, dockerfile, tag, labels, timeout, progress, options: Options = Options()) -> Build:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dockerlab-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        command = [cli, "build", "--progress=plain", "--iidfile", str(iidfile), "-f", str(context / dockerfile), "-t", tag]
        # (`context / dockerfile` is `dockerfile` itself when that is an absolute path)
        for key, value in labels.items():
            command += ["--label", f"{key}={value}"]
        for key, value in options.args.items():
            command += ["--build-arg", f"{key}={value}"]
        if options.target:
            command += ["--target", options.target]
        command.append(str(context))
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        try:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                env=env, start_new_session=True,
            )
        except OSError as error:
            raise EngineError(f"cannot run {cli}: {error}") from error
        lines: list[str] = []
        reader = threading.Thread(target=_read, args=(process.stdout, lines, progress), daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(process)
        except BaseException:
            _kill(process)
            raise
        reader.join(timeout=10)
        log = "\n".join(lines)
        image_id = iidfile.read_text().strip() if iidfile.exists() else None
    steps = _buildkit_steps(lines)
    ok = process.returncode == 0 and bool(image_id) and not timed_out
    error = f"the build took longer than {timeout} s" if timed_out else ("" if ok else _buildkit_error(lines))
    return Build(ok, image_id if ok else None, "buildkit", time.monotonic() - started, log, steps, error)


def _read(stream, lines: list[str], progress: Progress | None) -> None:
    for line in stream:
        line = line.rstrip("\n")
        lines.append(line)
        if progress and _KIT_STEP.match(line):
            progress(_KIT_STEP.match(line).group(4)[:100])


def _kill(process: subprocess.Popen) -> None:
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


def _legacy(client, context, dockerfile, tag, labels, timeout, progress, options: Options = Options()) -> Build:
    started = time.monotonic()
    lines: list[str] = []
    image_id, error = None, ""
    try:
        stream = client.api.build(
            path=str(context), dockerfile=str(context / dockerfile), tag=tag, labels=labels, rm=True, forcerm=True,
            decode=True, timeout=timeout, target=options.target, buildargs=options.args or None, container_limits={"memory": LEGACY_MEMORY, "memswap": LEGACY_MEMORY},
        )
        for chunk in stream:
            for text in chunk.get("stream", "").splitlines():
                lines.append(text)
                if progress and _LEGACY_STEP.match(text):
                    progress(_LEGACY_STEP.match(text).group(3)[:100])
            if "error" in chunk:
                error = chunk["error"].strip()
                lines.append(error)
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if time.monotonic() - started > timeout:
                error = f"the build took longer than {timeout} s"
                break
    except (APIError, BuildError) as failure:
        error = str(failure)
        lines.append(error)
    except DockerException as failure:
        raise EngineError(f"the engine failed during the build: {failure}") from failure
    if image_id is None and not error:
        try:
            image_id = client.images.get(tag).id
        except DockerException:
            error = "the build produced no image"
    steps = _legacy_steps(lines, failed=bool(error))
    ok = not error and image_id is not None
    return Build(ok, image_id if ok else None, "legacy", time.monotonic() - started, "\n".join(lines), steps, error)


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


def _quiet(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return subprocess.CompletedProcess(command, 127, "", "")
