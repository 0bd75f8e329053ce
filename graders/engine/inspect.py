"""What an image is: size, base, user, ports, command, healthcheck, layers."""

from __future__ import annotations

import docker
from docker.errors import DockerException, ImageNotFound

from graders.engine import boundary
from graders.errors import EngineError
from graders.facts import HistoryEntry, Image

STAND_IN_LABEL = "org.dockerlab.stand-in"


@boundary
def image(client: docker.DockerClient, image_id: str, base_ref: str) -> Image:
    try:
        attrs = client.api.inspect_image(image_id)
        history = _history(client, image_id)
        base_size, base_length = _base(client, base_ref)
    except DockerException as error:
        raise EngineError(f"cannot inspect the built image: {error}") from error
    config = attrs.get("Config") or {}
    return Image(
        id=attrs["Id"],
        size_bytes=unpacked_size(history),
        base_ref=base_ref,
        base_size_bytes=base_size,
        base_history_length=base_length,
        user=config.get("User") or "",
        exposed_ports=sorted(config.get("ExposedPorts") or {}),
        volumes=sorted(config.get("Volumes") or {}),
        cmd=config.get("Cmd"),
        entrypoint=config.get("Entrypoint"),
        healthcheck=config.get("Healthcheck"),
        env=dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item),
        labels=config.get("Labels") or {},
        workdir=config.get("WorkingDir") or "",
        history=history,
    )


@boundary
def stand_in(client: docker.DockerClient, ref: str) -> str | None:
    """The stand-in label of a local image (what it stands in for), or None if real or absent."""
    try:
        labels = client.api.inspect_image(ref).get("Config", {}).get("Labels") or {}
    except ImageNotFound:
        return None
    return labels.get(STAND_IN_LABEL)


def _history(client: docker.DockerClient, image_id: str) -> list[HistoryEntry]:
    entries = []
    for item in reversed(client.api.history(image_id)):  # oldest first
        created_by = clean_instruction(item.get("CreatedBy") or "")
        size = int(item.get("Size") or 0)
        entries.append(HistoryEntry(created_by, size, empty=size == 0 and _metadata_only(created_by)))
    return entries


def _base(client: docker.DockerClient, ref: str) -> tuple[int, int]:
    if ref == "scratch":
        return 0, 0
    try:
        attrs = client.api.inspect_image(ref)
    except ImageNotFound:
        return 0, 0
    history = _history(client, attrs["Id"])
    return unpacked_size(history), len(history)


def unpacked_size(history: list[HistoryEntry]) -> int:
    """An image's size unpacked: its layers' sizes as its history gives them. The image's own `Size`
    is that too with a graph driver, but the containerd image store reports its blobs there,
    compressed or not as they came (Lab 01's reference: 248 MB there, 436 MB unpacked), which no
    budget can be written against."""
    return sum(entry.size_bytes for entry in history)


def clean_instruction(created_by: str) -> str:
    """`/bin/sh -c #(nop)  CMD [...]` -> `CMD [...]`; `RUN /bin/sh -c x # buildkit` -> `RUN x`."""
    text = created_by.strip()
    text = text.removesuffix("# buildkit").strip()
    if text.startswith("/bin/sh -c #(nop) "):
        return text[len("/bin/sh -c #(nop) "):].strip()
    if text.startswith("/bin/sh -c "):
        return "RUN " + text[len("/bin/sh -c "):]
    if text.startswith("RUN /bin/sh -c "):
        return "RUN " + text[len("RUN /bin/sh -c "):]
    return text


def _metadata_only(instruction: str) -> bool:
    word = instruction.split(" ", 1)[0].upper()
    return word in {"ENV", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "LABEL", "HEALTHCHECK", "WORKDIR", "ARG", "VOLUME",
                    "STOPSIGNAL", "SHELL", "ONBUILD", "MAINTAINER"}
