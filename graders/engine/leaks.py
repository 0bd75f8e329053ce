"""Where a secret is written in an image: its config (history, environment, labels) and every file
of every layer, read from `docker save` as it streams (the legacy layout's layer.tar files and the
OCI layout's blobs, gzip-compressed or not)."""

from __future__ import annotations

import io
import itertools
import json
import tarfile
from collections.abc import Iterator
from typing import IO

import docker
from docker.errors import DockerException

from graders.engine import boundary
from graders.errors import EngineError

CHUNK = 1 << 20
MAX_PLACES = 20
JSON_MAX = 16 << 20


class _Stream(io.RawIOBase):
    """The chunks of a streamed response as a file tarfile can read in stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._rest = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._rest:
            self._rest = next(self._chunks, b"")
            if not self._rest:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size], self._rest = self._rest[:size], self._rest[size:]
        return size


@boundary
def find(client: docker.DockerClient, image_id: str, secret: str) -> list[str]:
    """The places in the image that hold `secret`, at most MAX_PLACES."""
    needle = secret.encode()
    places: list[str] = []
    try:
        chunks = client.api.get_image(image_id, chunk_size=CHUNK)
        with tarfile.open(fileobj=io.BufferedReader(_Stream(iter(chunks)), CHUNK), mode="r|") as saved:
            for member in saved:
                handle = saved.extractfile(member) if member.isfile() else None
                if handle is None:
                    continue
                head = handle.read(1)
                if head == b"{":  # a JSON document: the config (with the history), a manifest, an index
                    data = head + handle.read(JSON_MAX)
                    if needle in data:
                        places.append(_describe(member.name, data, needle))
                    continue
                layer = io.BufferedReader(_Stream(itertools.chain([head], _chunks(handle))), CHUNK)
                name = member.name.split("/")[-2 if member.name.endswith("layer.tar") else -1][:12]
                places += [f"layer {name}: {path}" for path in _in_layer(layer, needle)]
                if len(places) >= MAX_PLACES:
                    break
    except (DockerException, tarfile.TarError, OSError) as error:
        raise EngineError(f"could not read the image back to look for the build secret: {error}") from error
    return places[:MAX_PLACES]


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def _describe(name: str, data: bytes, needle: bytes) -> str:
    """Which part of a JSON document (the config's history, env or labels) holds the secret."""
    try:
        document = json.loads(data)
    except ValueError:
        return name
    if isinstance(document, dict) and "history" in document:
        parts = [f"history: {entry.get('created_by', '')[:160]}" for entry in document.get("history") or []
                 if needle.decode() in json.dumps(entry)]
        config = document.get("config") or {}
        parts += [f"config {key}" for key in ("Env", "Labels", "Cmd", "Entrypoint")
                  if needle.decode() in json.dumps(config.get(key))]
        return "; ".join(parts) or "the image config"
    return name


def _in_layer(handle: IO[bytes], needle: bytes) -> list[str]:
    """The files of one layer (a tar, compressed or not) whose contents hold `needle`."""
    found: list[str] = []
    try:
        with tarfile.open(fileobj=handle, mode="r|*") as layer:
            for member in layer:
                inner = layer.extractfile(member) if member.isfile() else None
                if inner is not None and _holds(inner, needle):
                    found.append("/" + member.name.lstrip("./"))
    except tarfile.ReadError:  # not a layer (a manifest or index that is not JSON-named)
        return []
    return found


def _holds(handle: IO[bytes], needle: bytes) -> bool:
    tail = b""
    while chunk := handle.read(CHUNK):
        if needle in tail + chunk:
            return True
        tail = chunk[-len(needle):]
    return False
