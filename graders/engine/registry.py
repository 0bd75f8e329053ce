"""The course registry on this engine: where Lab 05's CI scripts push, and what they deploy by digest.

One registry per engine (the registry:2.8 course image, a stand-in when no registry is in reach),
published on the engine's loopback, where the engine pushes to it over plain HTTP as it does to
any 127.0.0.0/8 registry. It is kept between gradings, as the build cache is, and each grading
pushes under a namespace of its own (`127.0.0.1:PORT/dockerlab-RUNID`, as a real CI pushes under
`ghcr.io/ORG`): a layer already pushed by another grading is then mounted, not compressed and sent
again (a Lab 01 image: about 20 s to a new registry, 0.2 s to this one after a one-line change).
A grading's relay (graders.engine.ci_relay) names only its own namespace. `dockerlab clean
--registry` removes the registry and its volume.
"""

from __future__ import annotations

import time
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from docker.types import LogConfig
from requests.exceptions import RequestException

from graders.engine import boundary
from graders.errors import EngineError

IMAGE = "registry:2.8"
NAME = "dockerlab-registry"
VOLUME = "dockerlab-registry"
LABEL = "org.dockerlab.registry"
"""On the registry and its volume: a course cache, not a grading's (a grading's cleanup leaves it)."""
PORT = "5000/tcp"


@boundary
def ensure(client: docker.DockerClient, image: str = IMAGE, wait_seconds: float = 20) -> str:
    """The running course registry's address as the engine reaches it (`127.0.0.1:PORT`), started when needed."""
    container = _get(client)
    if container is None:
        try:
            ports: dict[str, Any] = {PORT: ("127.0.0.1", None)}  # a free port of the engine's loopback
            restart: Any = {"Name": "unless-stopped"}
            container = client.containers.create(
                image, name=NAME, labels={LABEL: "true"}, detach=True, ports=ports,
                volumes={VOLUME: {"bind": "/var/lib/registry", "mode": "rw"}}, mem_limit="256m", pids_limit=128,
                cap_drop=["ALL"], security_opt=["no-new-privileges"], restart_policy=restart,
                log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}))
        except APIError as error:
            if error.status_code != 409:  # 409: another grading made it first
                raise EngineError(f"the course registry could not be made from {image}: {error.explanation}",
                                  "dockerlab images prepare --lab 05-ship-it") from error
            container = _get(client)
    if container is None:
        raise EngineError("the course registry was removed while it was being started; grade again")
    started = time.time()
    if container.status == "running" and (address := _address(container.attrs)):
        return address
    container.start()
    deadline = time.monotonic() + wait_seconds
    while True:
        container.reload()
        address = _address(container.attrs)
        if address and b"listening on" in container.logs(since=int(started) - 1):
            return address
        if container.status != "running" or time.monotonic() > deadline:
            raise EngineError(f"the course registry did not start: {container.logs(tail=5).decode(errors='replace')}",
                              "dockerlab clean --registry, then grade again")
        time.sleep(0.1)


@boundary
def digest_of(client: docker.DockerClient, ref: str) -> str | None:
    """The manifest digest the registry holds for `ref` (a tag or a digest), asked through the engine;
    None when it holds none."""
    try:
        return str(client.images.get_registry_data(ref).id)
    except NotFound:
        return None
    except APIError as error:  # the engine answers 500 for what a registry answered 404 ("manifest unknown")
        if error.status_code == 404 or "manifest unknown" in str(error.explanation):
            return None
        raise


@boundary
def remove(client: docker.DockerClient) -> bool:
    """Remove the course registry and what it holds; whether there was one."""
    found = _get(client)
    if found is not None:
        found.remove(force=True)
    try:
        client.volumes.get(VOLUME).remove(force=True)
    except NotFound:
        pass
    return found is not None


def _get(client: docker.DockerClient) -> Container | None:
    try:
        container = client.containers.get(NAME)
    except NotFound:
        return None
    except (DockerException, RequestException) as error:
        raise EngineError(f"could not look for the course registry: {error}") from error
    if (container.labels or {}).get(LABEL) != "true":
        raise EngineError(f"a container named {NAME} that is not the course's is on this engine",
                          f"rename or remove it (docker rm -f {NAME})")
    return container


def _address(attrs: dict[str, Any]) -> str | None:
    bound = ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(PORT) or []
    ports = [entry.get("HostPort") for entry in bound if entry.get("HostIp") in ("127.0.0.1", "")]
    return f"127.0.0.1:{ports[0]}" if ports and ports[0] else None
