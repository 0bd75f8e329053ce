"""A Compose project's side of the engine, for graders.compose_stages: whether a service's image can
be had, whether it carries a healthcheck, the services' states and addresses, and the volumes left."""

from __future__ import annotations

import re

import docker
from docker.errors import DockerException, NotFound
from docker.models.containers import Container

from graders.engine import boundary, images
from graders.engine import state as state_mod
from graders.engine.api import Availability
from graders.facts import ServiceState

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
UNKNOWN_IMAGE = re.compile(r"manifest unknown|not found: manifest|repository does not exist")


@boundary
def have_image(client: docker.DockerClient, ref: str) -> Availability:
    """On this machine, or pulled now."""
    if images.present(client, ref):
        return Availability(True)
    try:
        client.images.pull(ref)
        return Availability(True)
    except DockerException as error:  # the whole message: the registry's answer may be past its first line
        return Availability(False, bool(UNKNOWN_IMAGE.search(str(error))))


@boundary
def image_healthcheck(client: docker.DockerClient, ref: str) -> bool | None:
    """Whether the image declares a healthcheck (None: the image could not be read)."""
    try:
        test = ((client.images.get(ref).attrs.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    except DockerException:
        return None
    return bool(test) and test[0] != "NONE"


@boundary
def image_volumes(client: docker.DockerClient, ref: str) -> list[str] | None:
    """The folders the image declares with VOLUME (None: the image could not be read)."""
    try:
        return sorted((client.images.get(ref).attrs.get("Config") or {}).get("Volumes") or {})
    except DockerException:
        return None


def _service(container: Container) -> str:
    """The Compose service a container runs (its name, for one Compose did not label)."""
    return str(container.labels.get(SERVICE_LABEL, container.name))


def _containers(client: docker.DockerClient, project: str) -> list[Container]:
    return client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})


@boundary
def failed_health_output(client: docker.DockerClient, project: str) -> list[tuple[str, str]]:
    """(service, output) of every failed healthcheck the project's containers kept."""
    try:
        found = _containers(client, project)
    except DockerException:
        return []
    failed = []
    for container in found:
        for entry in (container.attrs.get("State", {}).get("Health") or {}).get("Log") or []:
            if entry.get("ExitCode") not in (0, None):
                failed.append((_service(container), (entry.get("Output") or "").strip()))
    return failed


@boundary
def starting(client: docker.DockerClient, project: str) -> set[str]:
    """Services whose healthcheck has not passed or failed for good yet (health "starting")."""
    try:
        return {_service(c) for c in _containers(client, project) if state_mod.health(c.attrs.get("State", {})) == "starting"}
    except DockerException:
        return set()


@boundary
def states(client: docker.DockerClient, project: str, services: list[str]) -> tuple[dict[str, ServiceState], set[str]]:
    """Each service's state (missing when it has no container), and the named volumes they mount."""
    found = {name: ServiceState("missing", None, None, [], "") for name in services}
    volumes: set[str] = set()
    for container in _containers(client, project):
        container.reload()
        name = _service(container)
        state = container.attrs.get("State", {})
        try:
            logs = container.logs(tail=80).decode("utf-8", "replace")
        except DockerException:
            logs = ""
        found[name] = ServiceState(
            status=state.get("Status", "unknown"),
            health=state_mod.health(state),
            exit_code=None if state.get("Status") == "running" else state.get("ExitCode"),
            health_log=state_mod.health_log(state)[-3:],
            logs=logs,
        )
        volumes.update(m["Name"] for m in container.attrs.get("Mounts", []) if m.get("Type") == "volume" and m.get("Name"))
    return found, volumes


@boundary
def address(client: docker.DockerClient, project: str, service: str, port: int) -> str | None:
    for container in _containers(client, project):
        if container.labels.get(SERVICE_LABEL) == service and container.status == "running":
            found = state_mod.address(container.attrs, port)
            if found:
                return found
    return None


@boundary
def remove_volumes(client: docker.DockerClient, names: set[str]) -> list[str]:
    """Remove the project's named volumes; the problems, if any, for the session's record."""
    problems = []
    for name in names:
        try:
            client.volumes.get(name).remove(force=True)
        except NotFound:
            pass
        except DockerException as error:
            problems.append(f"cleanup: could not remove volume {name[:12]}: {error}")
    return problems
