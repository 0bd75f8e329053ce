"""The grader's own tools, for images that bring none (distroless, Chainguard, `FROM scratch`).

A static busybox and its applets, copied into the container's own layer at /.dockerlab (never a
host mount) before a look inside: `docker cp` of one small folder, which leaves the image alone.
"""

from __future__ import annotations

import io
import tarfile
from functools import cache
from pathlib import Path

from docker.models.containers import Container as EngineContainer

from graders.engine import boundary
from graders.errors import EngineError

BUSYBOX = Path("/bin/busybox")
"""Debian's busybox-static (the engine's set-up installs it)."""
FOLDER = "/.dockerlab/bin"
SLEEP = f"{FOLDER}/sleep"
SHELL = f"{FOLDER}/sh"
APPLETS = ("sh", "sleep", "cat", "id", "find", "du", "head", "tail", "ls", "stat", "timeout", "grep", "wc",
           "sort", "xargs", "test", "true", "false", "echo")
FIX = "install Debian's busybox-static (apt-get install busybox-static), which gives the grader /bin/busybox"


@boundary
def put(container: EngineContainer) -> None:
    """Copy the tools into the container (created or running)."""
    if not container.put_archive("/", _archive()):
        raise EngineError("the engine refused the grader's tools in the container")


def path(image_path: str) -> str:
    """PATH for a look inside: the image's own first, the grader's tools after them."""
    return f"{image_path}:{FOLDER}" if image_path else f"/usr/local/bin:/usr/bin:/bin:{FOLDER}"


@cache
def _archive() -> bytes:
    if not BUSYBOX.is_file():
        raise EngineError(f"this image has no shell, and this machine has no static busybox to look inside it ({FIX})")
    binary = BUSYBOX.read_bytes()
    if b"ld-linux" in binary[:4096]:
        raise EngineError(f"{BUSYBOX} is not statically linked, so it cannot run in an image without libraries ({FIX})")
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for folder in (".dockerlab", ".dockerlab/bin"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        info = tarfile.TarInfo(".dockerlab/bin/busybox")
        info.size, info.mode = len(binary), 0o755
        tar.addfile(info, io.BytesIO(binary))
        for applet in APPLETS:
            link = tarfile.TarInfo(f".dockerlab/bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return data.getvalue()
