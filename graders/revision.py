"""The revision a build is labelled with: the commit checked out where the submission lives, read
from the repository's own files (no git process), else the submission's content fingerprint."""

from __future__ import annotations

import re
from pathlib import Path

from graders import fingerprint

SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def revision(folder: Path) -> str:
    """The checked-out commit of the git work tree holding `folder`; else `sha256:` and the first
    16 digits of the submission's fingerprint (an archive in a batch has no commit)."""
    commit = _commit(folder.resolve())
    return commit or f"sha256:{fingerprint.digest(folder)[:16]}"


def _commit(folder: Path) -> str | None:
    for top in (folder, *folder.parents):
        dot = top / ".git"
        if dot.is_file():  # a worktree or submodule: "gitdir: PATH"
            text = dot.read_text(encoding="utf-8", errors="replace").strip()
            dot = (top / text.removeprefix("gitdir:").strip()).resolve() if text.startswith("gitdir:") else dot
        if dot.is_dir():
            return _resolve(dot)
    return None


def _resolve(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if SHA.match(head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head.removeprefix("ref:").strip()
    common = git
    if (git / "commondir").is_file():  # a linked worktree keeps its refs in the main repository
        common = (git / (git / "commondir").read_text(encoding="utf-8").strip()).resolve()
    for base in (git, common):
        loose = base / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8").strip()
            return value if SHA.match(value) else None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and SHA.match(parts[0]):
                return parts[0]
    return None  # a branch with no commit yet
