"""Reading an image's layers (the files each adds, changes or deletes) through `docker save`."""

from __future__ import annotations

import json
import tarfile
import tempfile
from typing import IO

import docker
from docker.errors import DockerException

from graders.engine import boundary
from graders.errors import EngineError
from graders.layers import Entry


@boundary
def entries(client: docker.DockerClient, image_id: str) -> tuple[list[list[Entry]], list[int]]:
    """For each layer, bottom first, the members of its tar; and each layer's index in the history."""
    with tempfile.TemporaryFile(prefix="dockerlab-save-") as spool:
        try:
            for chunk in client.api.get_image(image_id):
                spool.write(chunk)
        except DockerException as error:
            raise EngineError(f"docker save failed: {error}") from error
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r:") as saved:
            manifest = json.load(_member(saved, "manifest.json"))
            config = json.load(_member(saved, manifest[0]["Config"]))
            history = [i for i, step in enumerate(config.get("history", [])) if not step.get("empty_layer")]
            layers = []
            for name in manifest[0]["Layers"]:
                with tarfile.open(fileobj=saved.extractfile(name), mode="r:*") as layer:
                    layers.append([_entry(member) for member in layer])
    return layers, history if len(history) == len(layers) else list(range(len(layers)))


def _entry(member: tarfile.TarInfo) -> Entry:
    path = member.name
    while path.startswith(("./", "/")):
        path = path[2:] if path.startswith("./") else path[1:]
    return Entry(path.rstrip("/"), member.size if member.isfile() else 0, member.isdir())


def _member(saved: tarfile.TarFile, name: str) -> IO[bytes]:
    """A file of `docker save`'s archive (the engine wrote it, so it is there)."""
    found = saved.extractfile(name)
    if found is None:
        raise EngineError(f"docker save wrote no {name}")
    return found
