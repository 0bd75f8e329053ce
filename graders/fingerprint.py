"""A fingerprint of a submission: its files' names and contents (or an archive's bytes), so that a
result can say which version of the work it judged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

NOTEBOOK_FILES = (".ipynb", ".ipynb_checkpoints")
"""Left out of a self-check's fingerprint: saving the notebook (its outputs) changes nothing the grader judges."""


def digest(source: Path, skip: tuple[str, ...] = ()) -> str:
    """SHA-256 over every file below `source` (links as their target's name, not followed), or over
    `source` itself when it is a file. Paths with a part matching a `skip` suffix are left out."""
    hashed = hashlib.sha256()
    if source.is_file():
        paths = [source]
    else:
        paths = sorted(p for p in source.rglob("*") if (p.is_file() or p.is_symlink())
                       and not any(part.endswith(skip) for part in p.relative_to(source).parts))
    for path in paths:
        hashed.update(str(path.relative_to(source) if path != source else path.name).encode() + b"\0")
        if path.is_symlink():
            hashed.update(b"link:" + os.readlink(path).encode())
        else:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    hashed.update(block)
        hashed.update(b"\0")
    return hashed.hexdigest()
