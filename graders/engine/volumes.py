"""Named volumes for a job's outputs, and what the job left in them.

`docker run -v NAME:/checkpoints` fills a new, empty volume from the image's own folder there,
owner and mode included. So whether the image's user can write its outputs is decided by the image
(the `chown` the guide teaches), as it is where the job really runs, and not by the grader.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator

from graders.engine import boundary
from graders.engine.session import Session

READ_LIMIT = 256 * 2**20
"""Bytes read back from one job's folders at most; a job that writes more is listed up to there."""
TEXT_LIMIT = 2**20


@boundary
def create(session: Session, targets: list[str], prefix: str) -> dict[str, str]:
    """A fresh labelled volume for each container path: path -> volume name."""
    names = {}
    for target in targets:
        name = session.name(f"{prefix}-{target.strip('/').replace('/', '-')}")
        session.client.volumes.create(name=name, labels=session.labels)
        names[target] = name
    return names


@boundary
def written(session: Session, container_name: str, targets: list[str],
            text_suffixes: set[str]) -> tuple[dict[str, int], dict[str, str]]:
    """What the (stopped) container left under each path: path -> bytes, and the text of the small
    text files. Read through the engine's archive of the folder, never through a host mount."""
    container = session.client.containers.get(session.name(container_name))
    files: dict[str, int] = {}
    texts: dict[str, str] = {}
    budget = READ_LIMIT
    for target in targets:
        stream, _stat = container.get_archive(target)
        reader = _Capped(stream, budget)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    relative = member.name.partition("/")[2]
                    if not member.isfile() or not relative:
                        continue
                    path = f"{target.rstrip('/')}/{relative}"
                    files[path] = member.size
                    if member.size < TEXT_LIMIT and any(relative.endswith(s) for s in text_suffixes):
                        handle = archive.extractfile(member)
                        texts[path] = handle.read().decode(errors="replace") if handle else ""
        except (tarfile.TarError, _Exhausted):
            pass  # what was read so far stands; the rest is beyond what the grader reads back
        budget -= reader.read_bytes
        if budget <= 0:
            break
    return files, texts


class _Exhausted(Exception):
    pass


class _Capped:
    """A file-like reader over the engine's archive chunks that stops after `limit` bytes."""

    def __init__(self, chunks: Iterable[bytes], limit: int) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self._limit = limit
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and len(self._buffer) <= self._limit:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        self.read_bytes += len(out)
        if self.read_bytes > self._limit:
            raise _Exhausted
        return out
