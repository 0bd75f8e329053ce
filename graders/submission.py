"""The stages that read the submission without the engine: copy it into a private build context,
then check and parse its Dockerfile and lint it. A Dockerfile they refuse decides the grading
before the engine is asked anything (graders.pipeline)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from graders import dockerfile as parser
from graders.course import ImageLab, Lab, LabBase
from graders.engine import context as context_mod
from graders.errors import DockerfileError
from graders.facts import BuildContext, Facts, Missing

CONTEXT_LIMIT_BYTES = 512 * 2**20


def copy_submission(facts: Facts, lab: Lab, context: Path) -> None:
    """Copy the submission into a private build context, so grading never touches the learner's files.

    An empty `.git` folder is added when there is none, as a real project would have one: the
    .dockerignore criterion can then see whether .git is kept out of the image.
    """
    total = 0

    def skip_special(folder: str, names: list[str]) -> list[str]:
        nonlocal total
        skipped = []
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                skipped.append(name)
            elif stat.S_ISREG(info.st_mode):
                total += info.st_size
        if total > CONTEXT_LIMIT_BYTES:
            raise _TooBig(total)
        return skipped

    try:
        shutil.copytree(facts.submission, context, symlinks=True, ignore=skip_special)
    except _TooBig as too_big:
        facts.dockerfile = Missing(
            f"the submission folder holds over {too_big.size // 2**20} MiB; the limit is {CONTEXT_LIMIT_BYTES // 2**20} MiB",
            learner=True,
            fix="move data and model files out of the folder and mount them at run time",
        )
        return
    if not (context / ".git").exists():
        (context / ".git").mkdir()
        (context / ".git" / "HEAD").write_text("ref: refs/heads/main\n")


REQUIREMENTS_FILES = 20


def requirements(context: Path) -> dict[str, str]:
    """The text of the context's top-level `requirements*.txt` files, the first 20 by name: a link, a
    FIFO, a device or a file over 256 KB is left out (the copy has refused most already)."""
    texts = {path.name: small_text(path) for path in sorted(context.glob("requirements*.txt"))[:REQUIREMENTS_FILES]}
    return {name: text for name, text in texts.items() if text is not None}


def small_text(path: Path, limit: int = 256 * 2**10) -> str | None:
    """A learner's text file, or None when it is not a plain file of at most `limit` bytes: never
    through a link (it could name a host file), never a FIFO or device (a read could hang or not end)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return handle.read(limit + 1)[:limit].decode("utf-8", "replace")


def static(facts: Facts, lab: ImageLab, context: Path, needs: set[str], context_paths: Sequence[str] = ()) -> None:
    """Parse the Dockerfile the way BuildKit does, read what the build context leaves out, and run
    hadolint on it."""
    if isinstance(facts.dockerfile, Missing) and facts.dockerfile.learner:
        facts.lint = facts.context = facts.dockerfile
        return
    try:
        check_dockerfile(context, lab.dockerfile, lab)
        check_ignore_file(context, lab.dockerfile)
        facts.dockerfile = parser.parse_file(context / lab.dockerfile)
        if len(facts.dockerfile.instructions) > lab.limits.dockerfile_instructions:
            raise DockerfileError(None, f"it has {len(facts.dockerfile.instructions):,} instructions; the limit is "
                                  f"{lab.limits.dockerfile_instructions:,}", "write only the instructions the image needs")
        found = context_mod.ignore_file(context, lab.dockerfile)
        paths = list(dict.fromkeys(context_paths))
        facts.context = BuildContext(found.name if found else None,
                                     context_mod.excluded(context, paths, lab.dockerfile) if paths else {},
                                     requirements(context))
    except DockerfileError as error:
        where = f"{lab.dockerfile}:{error.line}" if error.line else lab.dockerfile
        facts.dockerfile = Missing(f"{where}: {error.message}", learner=True, fix=error.fix)
        facts.lint = facts.context = facts.dockerfile
        return
    from graders.engine import hadolint  # only for a Dockerfile that parsed

    facts.lint = hadolint.lint(context / lab.dockerfile)


def check_dockerfile(context: Path, name: str, lab: LabBase) -> None:
    """The Dockerfile `name` is a regular file inside the submission, and not absurdly large:
    checked before the parser, hadolint or the engine read it (a link could show a host file)."""
    path = context / name
    if not os.path.lexists(path):
        return  # the parser says how to fix that
    real = os.path.realpath(path)
    if os.path.commonpath([os.path.realpath(context), real]) != os.path.realpath(context):
        raise DockerfileError(None, f"{name} is a link to a file outside the submission",
                              f"make {name} a plain file")
    if not os.path.isfile(real):
        raise DockerfileError(None, f"{name} is not a file", f"make {name} a plain text file")
    size = os.path.getsize(real)
    if size > lab.limits.dockerfile_bytes:
        raise DockerfileError(None, f"it is {size:,} bytes; the limit is {lab.limits.dockerfile_bytes:,}",
                              "write only the instructions the image needs")
    with open(real, "rb") as handle:
        if b"\0" in handle.read(8192):
            raise DockerfileError(None, f"{name} is a binary file, not text", "save it as plain UTF-8 text")


IGNORE_FILE_BYTES = 64 * 1024


def check_ignore_file(context: Path, dockerfile: str) -> None:
    """The .dockerignore files the docker CLI reads are plain files inside the submission, and small."""
    root = os.path.realpath(context)
    for name in (".dockerignore", f"{dockerfile}.dockerignore"):
        path = context / name
        if not os.path.lexists(path):
            continue
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root or not os.path.isfile(real):
            raise DockerfileError(None, f"{name} is a link to something outside the submission, or not a file",
                                  f"make {name} a plain text file")
        if os.path.getsize(real) > IGNORE_FILE_BYTES:
            raise DockerfileError(None, f"{name} is over {IGNORE_FILE_BYTES // 1024} KiB",
                                  f"list only the patterns the build context needs in {name}")


def not_built(facts: Facts, names: set[str]) -> None:
    """A Dockerfile that cannot be read: every fact the engine would have gathered is missing for its reason."""
    if not isinstance(facts.dockerfile, Missing):
        return
    missing = _refused(facts.dockerfile)
    for name in names:
        setattr(facts, name, missing)


def _refused(why: Missing) -> Missing:
    return Missing(why.reason, learner=True, fix=why.fix)


class _TooBig(Exception):
    def __init__(self, size: int) -> None:
        self.size = size
