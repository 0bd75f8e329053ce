"""Everything a grading creates carries its labels and is removed when the session ends:
on success, failure, time-out and Ctrl-C (SIGTERM is turned into the same path)."""

from __future__ import annotations

import signal
import threading
import uuid

import docker
from docker.errors import DockerException, NotFound

MANAGED = "org.dockerlab.managed"
RUN = "org.dockerlab.run"


class Session:
    def __init__(self, client: docker.DockerClient, purpose: str = "grade"):
        self.client = client
        self.run_id = uuid.uuid4().hex[:12]
        self.labels = {MANAGED: "true", RUN: self.run_id, "org.dockerlab.purpose": purpose}
        self.problems: list[str] = []
        self._previous_sigterm = None

    def name(self, suffix: str) -> str:
        return f"dockerlab-{self.run_id}-{suffix}"

    def __enter__(self) -> "Session":
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.cleanup()
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)

    def cleanup(self) -> None:
        remove_labelled(self.client, f"{RUN}={self.run_id}", self.problems)


def remove_labelled(client: docker.DockerClient, label: str, problems: list[str] | None = None) -> dict[str, int]:
    """Remove containers, networks, volumes and images carrying `label` (key=value)."""
    problems = problems if problems is not None else []
    removed = {"containers": 0, "networks": 0, "volumes": 0, "images": 0}
    filters = {"label": label}
    steps = (
        ("containers", lambda: client.containers.list(all=True, filters=filters), lambda c: c.remove(force=True, v=True)),
        ("networks", lambda: client.networks.list(filters=filters), lambda n: n.remove()),
        ("volumes", lambda: client.volumes.list(filters=filters), lambda v: v.remove(force=True)),
        ("images", lambda: client.images.list(filters=filters), lambda i: client.images.remove(i.id, force=True)),
    )
    for kind, listing, remove in steps:
        try:
            found = listing()
        except DockerException as error:
            problems.append(f"cleanup: could not list {kind}: {error}")
            continue
        for item in found:
            try:
                remove(item)
                removed[kind] += 1
            except NotFound:
                pass
            except DockerException as error:
                problems.append(f"cleanup: could not remove {kind[:-1]} {getattr(item, 'id', '?')[:12]}: {error}")
    return removed


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")
