"""Running the learner's image as a sandboxed service and watching it come up.

The sandbox: an internal network (no way out, no published ports), memory, pids and CPU
limits, no-new-privileges, a small capability set, no host mounts, and a time budget.
"""

from __future__ import annotations

import re
import time
from typing import Any

import docker
import requests
from docker.errors import APIError, DockerException
from docker.models.containers import Container as EngineContainer

from graders.engine import boundary, toolbox
from graders.engine import state as state_mod
from graders.engine.api import SECOND, Hardening, Sandbox
from graders.engine.build_sandbox import FORK_FAILURES
from graders.engine.probe import port_open
from graders.engine.session import Session
from graders.errors import EngineError
from graders.facts import Container, JobStop, Stopped

# Start failures that come from the image itself (its CMD, USER or WORKDIR), not from the engine.
LEARNER_START_ERRORS = ("executable file not found", "no such file or directory", "unable to find user",
                        "permission denied", "not a directory", "exec format error")


def _start(container: EngineContainer, what: str) -> str | None:
    """Start a created container. When the image itself keeps it from starting (its CMD, USER or
    WORKDIR), the engine's words for why; when the engine is why, EngineError."""
    try:
        container.start()
    except APIError as error:
        why = str(getattr(error, "explanation", None) or error)
        if any(words in why.lower() for words in LEARNER_START_ERRORS):
            return why
        raise EngineError(f"the engine could not start the {what}: {why}") from error
    return None


@boundary
def start(session: Session, image_id: str, sandbox: Sandbox, env: dict[str, str], healthcheck: dict[str, Any] | None,
          mounts: dict[str, str] | None = None, role: str = "service",
          hardening: Hardening | None = None) -> tuple[EngineContainer, str | None]:
    """Start the service container (named for `role`) on a fresh internal network of its own.

    `mounts` maps host folders to container paths; each is mounted read-only, and nothing else is.
    Returns (container, None), or (container, why) when the image itself keeps it from starting.
    """
    client = session.client
    try:
        net = "net" if role == "service" else f"{role}-net"
        network = client.networks.create(session.name(net), driver="bridge", internal=True, labels=session.labels)
        container = client.containers.create(
            image_id,
            detach=True,
            name=session.name(role),
            labels=session.labels,
            network=network.name,
            environment=env,
            volumes={host: {"bind": target, "mode": "ro"} for host, target in (mounts or {}).items()},
            healthcheck=_fast_healthcheck(healthcheck),
            **(hardening.options(sandbox.options()) if hardening else sandbox.options()),
        )
    except DockerException as error:
        raise EngineError(f"the engine could not create the container: {error}") from error
    return container, _start(container, "container")


UNHEALTHY_GRACE_SECONDS = 15
"""How long a service its own healthcheck calls unhealthy may still take to listen, at least."""


def unhealthy_grace(healthcheck: dict[str, Any] | None, sandbox: Sandbox) -> float:
    """How long a service judged unhealthy by the grader's fast checks may still take to listen: as
    long as the engine, at the image's own interval, would go on calling it starting (its start period
    and `retries` intervals: 90 s for the defaults), within the start budget, and never under 15 s."""
    check = healthcheck or {}
    own = (int(check.get("StartPeriod") or 0) + int(check.get("Interval") or 30 * SECOND)
           * int(check.get("Retries") or 3)) / SECOND
    return min(max(UNHEALTHY_GRACE_SECONDS, own), max(UNHEALTHY_GRACE_SECONDS, sandbox.start_seconds))
SETTLE_SECONDS = 5
"""How long checks may go on once the server listens: a slow start judged unhealthy just before it
listened turns healthy at the next check (at the image's own interval that check would be the first)."""


@boundary
def watch(client: docker.DockerClient, container: EngineContainer, port: int, sandbox: Sandbox,
          grace: float = UNHEALTHY_GRACE_SECONDS) -> Container:
    """Wait until the service is healthy (or, without a HEALTHCHECK, listening), exits, or the budget ends.
    `grace`: how long an unhealthy service may take to listen (unhealthy_grace)."""
    started = time.monotonic()
    healthy_after = None
    address = None
    listening = False
    listening_since: float | None = None
    while True:
        try:
            container.reload()
        except DockerException as error:
            raise EngineError(f"lost track of the container: {error}") from error
        state = container.attrs["State"]
        health = state_mod.health(state)
        if address is None:
            address = state_mod.address(container.attrs, port)
        if state["Status"] in ("exited", "dead"):
            break
        if health == "healthy" and healthy_after is None:
            healthy_after = time.monotonic() - started
        listening = address is not None and port_open(address, timeout=0.5)
        if listening and listening_since is None:
            listening_since = time.monotonic()
        if listening and (health is None or health == "healthy"):
            break
        # the engine has judged (3 failed checks): the probes run once the server has answered for a few
        # checks, or after a grace for a slow start (a check that fails at once must not cut that short)
        settled = listening_since is not None and time.monotonic() - listening_since > SETTLE_SECONDS
        if health == "unhealthy" and (settled or (not listening and time.monotonic() - started > grace)):
            break
        if time.monotonic() - started > sandbox.start_seconds:
            break
        time.sleep(0.1)
    state = container.attrs["State"]
    logs = _logs(container)
    return Container(
        running=state["Status"] == "running",
        exit_code=None if state["Status"] == "running" else state.get("ExitCode"),
        logs=logs,
        health=state_mod.health(state),
        health_log=state_mod.health_log(state),
        seconds_to_healthy=healthy_after,
        address=address,
        limit_hit=limit_hit(state, logs, sandbox) or (
            f"it was not listening on port {port} at the end of the run stage's start budget of "
            f"{sandbox.start_seconds} s (course.yml limits.run_seconds)"
            if state["Status"] == "running" and not listening and time.monotonic() - started > sandbox.start_seconds
            else ""),
    )


@boundary
def stop(client: docker.DockerClient, name: str, grace_seconds: float) -> Stopped:
    """Send the service its stop signal, as `docker stop` does, and wait up to `grace_seconds` for it
    to exit by itself; kill it after that (`docker stop` would wait 10 s, then do the same)."""
    try:
        container = client.containers.get(name)
        config = container.attrs.get("Config") or {}
        signal = config.get("StopSignal") or "SIGTERM"
        pid1 = [container.attrs.get("Path") or ""] + list(container.attrs.get("Args") or [])
        state = container.attrs["State"]
        if state["Status"] != "running":
            return Stopped(signal, pid1, 0.0, True, state.get("ExitCode"), grace_seconds)
        started = time.monotonic()
        container.kill(signal=signal)
        try:  # the engine answers the moment the process has exited (no polling)
            container.wait(timeout=grace_seconds, condition="not-running")
        except requests.exceptions.RequestException:  # the grace ended first (or the engine is away: below)
            pass
        seconds = time.monotonic() - started
        container.reload()
        if container.attrs["State"]["Status"] in ("exited", "dead"):
            return Stopped(signal, pid1, min(seconds, grace_seconds), True, container.attrs["State"].get("ExitCode"),
                           grace_seconds)
        container.kill()
        return Stopped(signal, pid1, grace_seconds, False, None, grace_seconds)
    except DockerException as error:
        raise EngineError(f"could not stop the service: {error}") from error


def limit_hit(state: dict[str, Any], logs: str, sandbox: Sandbox, *, stopped: bool = False) -> str:
    """Which of the sandbox's limits stopped the container, in words ("" when none did). `stopped`:
    the grader killed it itself (a time limit), so a SIGKILL says nothing of memory."""
    if state.get("OOMKilled"):
        return f"it used more than its memory limit of {sandbox.memory_mb} MB and the kernel killed it"
    if state.get("ExitCode") == 137 and state.get("Status") in ("exited", "dead") and not stopped:
        # Some engines never set OOMKilled (no OOM event from the kernel's memory cgroup: seen on
        # Engine 20.10 with cgroup v1 in a VM); nothing else in the sandbox sends SIGKILL.
        return (f"it was killed with SIGKILL (exit code 137): most likely by the kernel at its memory limit of "
                f"{sandbox.memory_mb} MB, though the engine did not report an out-of-memory kill")
    if any(words in logs for words in FORK_FAILURES):
        return f"it reached its limit of {sandbox.pids} processes (it could not start another one)"
    return ""


def _fast_healthcheck(healthcheck: dict[str, Any] | None) -> dict[str, Any] | None:
    """The learner's own test, probed every second so grading need not wait 30 s intervals. Failures
    count only after the learner's start period, and never in the first 10 s: at its own interval
    (30 s by default) the engine would not call a slow start unhealthy within seconds either."""
    if not healthcheck or not healthcheck.get("Test") or healthcheck["Test"][0] == "NONE":
        return None
    timeout = min(int(healthcheck.get("Timeout") or 5 * SECOND), 10 * SECOND)
    start_period = min(max(int(healthcheck.get("StartPeriod") or 0), 10 * SECOND), 30 * SECOND)
    return {"test": healthcheck["Test"], "interval": SECOND, "timeout": timeout, "retries": 3, "start_period": start_period}


def _logs(container: EngineContainer, lines: int = 200) -> str:
    try:
        return str(container.logs(tail=lines).decode("utf-8", "replace"))
    except DockerException:
        return ""


@boundary
def start_idle(session: Session, image_id: str, sandbox: Sandbox) -> str:
    """A twin of the service that only sleeps, to look inside an image whose service exits at once; its id.
    An image with no `sleep` (distroless) sleeps with the grader's own, copied in before it starts."""
    twin = _idle(session, image_id, sandbox, ["sleep", "600"])
    refused = _start(twin, "idle twin")
    if refused is None:
        return str(twin.id)
    twin.remove(force=True)
    twin = _idle(session, image_id, sandbox, [toolbox.SLEEP, "600"])
    toolbox.put(twin)
    refused = _start(twin, "idle twin")
    if refused:
        raise EngineError(f"could not start a container to look inside the image: {refused}")
    return str(twin.id)


def _idle(session: Session, image_id: str, sandbox: Sandbox, entrypoint: list[str]) -> EngineContainer:
    try:
        return session.client.containers.create(
            image_id,
            name=session.name("idle"),
            labels=session.labels,
            entrypoint=entrypoint,
            command=[],
            network_disabled=True,
            **sandbox.options(),
        )
    except DockerException as error:
        raise EngineError(f"could not start a container to look inside the image: {error}") from error


@boundary
def job_limit_hit(session: Session, name: str, logs: str, sandbox: Sandbox, *, stopped: bool = False) -> str:
    """Which sandbox limit stopped a job container that `run_job` ran (it stays until cleanup);
    `stopped`: run_job stopped it at its time limit."""
    try:
        state = session.client.api.inspect_container(session.name(name))["State"]
    except DockerException:
        return ""
    return limit_hit(state, logs, sandbox, stopped=stopped)


@boundary
def run_job(session: Session, image_id: str, *, name: str, args: list[str], mounts: dict[str, tuple[str, str]],
            shm_mb: int, memory_mb: int, cpus: float, pids: int, timeout: int, device_requests: list[Any] | None = None,
            entrypoint: list[str] | None = None) -> tuple[int | None, str, float, bool]:
    """Run the image to completion in the sandbox (no network). `mounts` maps host folders, or the
    names of volumes the grader made, to (container path, "ro" or "rw"). Returns (exit code, logs,
    seconds, timed out)."""
    container = _create_job(session, image_id, name, args, mounts, shm_mb, Sandbox(memory_mb, cpus, pids),
                            device_requests, entrypoint)
    started = time.monotonic()
    refused = _start(container, f"{name} container")
    if refused:
        return None, f"the container could not start: {refused}", 0.0, False
    exit_code, timed_out = _wait(container, timeout)
    return exit_code, _logs(container, lines=400), time.monotonic() - started, timed_out


@boundary
def run_and_stop(session: Session, image_id: str, *, name: str, args: list[str], mounts: dict[str, tuple[str, str]],
                 shm_mb: int, sandbox: Sandbox, when: str, grace: int, timeout: int) -> JobStop:
    """Run the job until its logs match the regular expression `when`, then `docker stop -t GRACE`
    (the image's STOPSIGNAL, SIGTERM unless it says otherwise, then SIGKILL after GRACE seconds)."""
    container = _create_job(session, image_id, name, args, mounts, shm_mb, sandbox, None, None)
    refused = _start(container, f"{name} container")
    if refused:
        return JobStop(False, None, 0.0, False, f"the container could not start: {refused}")
    pattern = re.compile(when)
    deadline = time.monotonic() + timeout
    seen = False
    while time.monotonic() < deadline:
        container.reload()
        if pattern.search(_logs(container, lines=400)):
            seen = True
            break
        if container.status != "running":
            break
        time.sleep(0.2)
    if not seen:
        exit_code, _ = _wait(container, 1)
        return JobStop(False, exit_code, 0.0, False, _logs(container, lines=400))
    signalled = time.monotonic()
    try:
        container.stop(timeout=grace)
    except DockerException as error:
        raise EngineError(f"the engine could not stop the {name} container: {error}") from error
    exit_code, _ = _wait(container, grace + 30)
    seconds = time.monotonic() - signalled
    state = session.client.api.inspect_container(session.name(name))["State"]
    killed = exit_code == 137 and not state.get("OOMKilled")
    return JobStop(True, exit_code, seconds, killed, _logs(container, lines=400))


def _create_job(session: Session, image_id: str, name: str, args: list[str], mounts: dict[str, tuple[str, str]],
                shm_mb: int, sandbox: Sandbox, device_requests: list[Any] | None,
                entrypoint: list[str] | None) -> EngineContainer:
    try:
        return session.client.containers.create(
            image_id,
            command=args,
            entrypoint=entrypoint,
            name=session.name(name),
            labels=session.labels,
            network_disabled=True,
            volumes={host: {"bind": target, "mode": mode} for host, (target, mode) in mounts.items()},
            shm_size=f"{shm_mb}m",
            device_requests=device_requests or None,
            **sandbox.options(),
        )
    except DockerException as error:
        raise EngineError(f"the engine could not create the {name} container: {error}") from error


def _wait(container: EngineContainer, timeout: int) -> tuple[int | None, bool]:
    """(exit code, timed out); a container still running at the time limit is killed."""
    started = time.monotonic()
    try:
        return int(container.wait(timeout=timeout)["StatusCode"]), False
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as error:  # how the SDK says time is up
        if time.monotonic() - started < timeout - 1:  # before the time: the engine went away, not the learner's
            raise EngineError(f"the engine stopped answering while the job ran: {error}") from error
        try:
            container.kill()
        except DockerException:
            pass
        return None, True
