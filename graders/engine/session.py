"""Everything a grading creates carries its labels and is removed when the session ends:
on success, failure, time-out and Ctrl-C (SIGTERM is turned into the same path)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

import docker
from docker.errors import DockerException, NotFound
from requests.exceptions import RequestException

from graders.engine import boundary

MANAGED = "org.dockerlab.managed"
RUN = "org.dockerlab.run"
OWNER = "org.dockerlab.owner"
RETRY_SECONDS = 60
"""`host:boot:pidns:pid:start` of the process that made it: a sweep removes what dead processes left."""


class Session:
    def __init__(self, client: docker.DockerClient, purpose: str = "grade") -> None:
        self.client = client
        self.run_id = uuid.uuid4().hex[:12]
        self.labels = {MANAGED: "true", RUN: self.run_id, "org.dockerlab.purpose": purpose, OWNER: owner()}
        self.problems: list[str] = []
        self._previous_sigterm: Any = None

    def name(self, suffix: str) -> str:
        return f"dockerlab-{self.run_id}-{suffix}"

    def __enter__(self) -> Session:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, *exc_info: object) -> None:
        main = threading.current_thread() is threading.main_thread()
        previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        if main:  # a SIGTERM or Ctrl-C now would stop the cleanup half-way: it finishes first
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            self.cleanup()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous_sigint)
                signal.signal(signal.SIGTERM, self._previous_sigterm or signal.SIG_DFL)

    def cleanup(self) -> None:
        """Remove what this session made; when the engine is away (restarting), wait for it a while."""
        problems: list[str] = []
        remove_labelled(self.client, f"{RUN}={self.run_id}", problems)
        deadline = time.monotonic() + RETRY_SECONDS
        while problems and time.monotonic() < deadline:  # an engine shutting down or restarting
            time.sleep(2)
            if self._answers():
                problems = []
                remove_labelled(self.client, f"{RUN}={self.run_id}", problems)
        self.problems.extend(problems)

    def _answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except (DockerException, RequestException):
            return False


@boundary
def remove_labelled(client: docker.DockerClient, label: str, problems: list[str] | None = None) -> dict[str, int]:
    """Remove containers, networks, volumes and images carrying `label` (key=value)."""
    problems = problems if problems is not None else []
    removed = {"containers": 0, "networks": 0, "volumes": 0, "images": 0}
    filters: dict[str, Any] = {"label": label}
    steps = (
        ("containers", lambda: client.containers.list(all=True, filters=filters, sparse=True),
         lambda c: c.remove(force=True, v=True)),
        ("networks", lambda: client.networks.list(filters=filters), lambda n: n.remove()),
        ("volumes", lambda: client.volumes.list(filters=filters), lambda v: v.remove(force=True)),
        ("images", lambda: client.images.list(filters=filters), lambda i: client.images.remove(i.id, force=True)),
    )
    for kind, listing, remove in steps:
        try:
            found = listing()
        except (DockerException, RequestException) as error:
            problems.append(f"cleanup: could not list {kind}: {error}")
            continue
        def one(item: Any, kind: str = kind, remove: Callable[[Any], Any] = remove) -> None:
            try:
                remove(item)
                removed[kind] += 1
            except NotFound:
                pass
            except (DockerException, RequestException) as error:
                problems.append(f"cleanup: could not remove {kind[:-1]} {getattr(item, 'id', '?')[:12]}: {error}")

        if len(found) > 1:  # the engine removes them side by side (a grading leaves two or three of a kind)
            with ThreadPoolExecutor(max_workers=min(4, len(found))) as pool:
                list(pool.map(one, found))
        else:
            for item in found:
                one(item)
    return removed


def owner(pid: int | None = None) -> str:
    """This process (or `pid`) as `host:boot:pidns:pid:start`: unique, even after a pid is reused, and
    told apart from a process of another pid namespace on the same host (a container that shares the
    host's name, as `--network host` does)."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{_boot_id()}:{_pid_namespace()}:{pid}:{_start_time(pid)}"


def alive(owner_label: str) -> bool:
    """Whether the process an owner label names still runs. A process this one cannot see (another
    host, another pid namespace) counts as alive: an engine may serve several, and only they can tell."""
    fields = owner_label.split(":")
    if len(fields) == 4:  # written before the pid namespace was part of the label
        fields.insert(2, _pid_namespace())
    if len(fields) != 5:
        return True
    host, boot, namespace, pid, start = fields
    if host != socket.gethostname() or namespace != _pid_namespace() or not pid.isdigit():
        return True
    state, started = _process(int(pid))
    return boot == _boot_id() and started == start and state not in ("Z", "X")  # a zombie has died


@boundary
def sweep_dead(client: docker.DockerClient, problems: list[str] | None = None) -> dict[str, int]:
    """Remove what gradings whose process has died (kill -9, a lost worker) left on the engine."""
    removed = {"containers": 0, "networks": 0, "volumes": 0, "images": 0}
    try:
        owners = {c.labels.get(OWNER) for c in client.containers.list(all=True, filters={"label": OWNER})}
        owners |= {n.attrs.get("Labels", {}).get(OWNER) for n in client.networks.list(filters={"label": OWNER})}
        owners |= {v.attrs.get("Labels", {}).get(OWNER) for v in client.volumes.list(filters={"label": OWNER})}
        owners |= {(i.labels or {}).get(OWNER) for i in client.images.list(filters={"label": OWNER})}
    except (DockerException, RequestException) as error:
        (problems if problems is not None else []).append(f"sweep: could not list resources: {error}")
        return removed
    for label in sorted(o for o in owners if o and not alive(o)):
        for kind, count in remove_labelled(client, f"{OWNER}={label}", problems).items():
            removed[kind] += count
    return removed


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    """This process's pid namespace, as its inode number ("" where /proc does not say)."""
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:[").removesuffix("]")
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    return _process(pid)[1]


def _process(pid: int) -> tuple[str, str]:
    """(state, start time) of a process from /proc; ("", "") when there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return "", ""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
