"""Extracting a learner's archive (.zip, .tar.gz, .tgz, .tar) into a workspace, refusing anything
that could reach outside it: absolute paths, `..`, links, device files, and archives too big."""

from __future__ import annotations

import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

MAX_BYTES = 512 * 2**20
MAX_FILES = 20_000
SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


class Refused(Exception):
    """The archive is unsafe or unreadable; the message says why, for the learner's result."""


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SUFFIXES)


def learner_name(path: Path) -> str:
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def extract(archive: Path, into: Path, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> Path:
    """Extract into `into` (created empty); return the folder that holds the submission."""
    into.mkdir(parents=True, exist_ok=False)
    try:
        if archive.name.lower().endswith(".zip"):
            _zip(archive, into, max_bytes, max_files)
        else:
            _tar(archive, into, max_bytes, max_files)
    except Refused:
        shutil.rmtree(into, ignore_errors=True)
        raise
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        shutil.rmtree(into, ignore_errors=True)
        raise Refused(f"{archive.name} cannot be read: {error}") from error
    entries = [p for p in into.iterdir() if p.name not in ("__MACOSX",)]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into  # one top folder: use it


def _safe_name(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith("/") or (path.parts and ":" in path.parts[0]):
        raise Refused(f"{archive.name} holds an absolute path ({name}); archives must hold relative paths only")
    if ".." in path.parts:
        raise Refused(f"{archive.name} holds a path that climbs out of its folder ({name})")
    return path


def _budget(total: int, count: int, archive: Path, max_bytes: int, max_files: int) -> None:
    if total > max_bytes:
        raise Refused(f"{archive.name} unpacks to over {max_bytes // 2**20} MiB; leave data and models out")
    if count > max_files:
        raise Refused(f"{archive.name} holds over {max_files} files")


def _zip(archive: Path, into: Path, max_bytes: int, max_files: int) -> None:
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        _budget(sum(m.file_size for m in members), len(members), archive, max_bytes, max_files)
        for member in members:
            path = _safe_name(member.filename, archive)
            kind = stat.S_IFMT(member.external_attr >> 16)
            if kind == stat.S_IFLNK:
                raise Refused(f"{archive.name} holds a symbolic link ({member.filename}); links are not accepted")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise Refused(f"{archive.name} holds a special file ({member.filename})")
            target = into / path
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with zipped.open(member) as source, open(target, "wb") as sink:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > max_bytes:  # the header lied about the size (a zip bomb)
                        raise Refused(f"{archive.name} unpacks to more than it declares")
                    sink.write(chunk)


def _tar(archive: Path, into: Path, max_bytes: int, max_files: int) -> None:
    with tarfile.open(archive, "r:*") as tarred:
        members, total = [], 0
        for member in tarred:  # streamed: a tar of a million entries is refused at max_files + 1
            members.append(member)
            total += member.size if member.isfile() else 0
            _budget(total, len(members), archive, max_bytes, max_files)
        tarred.members = []  # type: ignore[attr-defined]  # what tarfile kept while iterating, no longer needed
        for member in members:
            path = _safe_name(member.name, archive)
            if member.issym() or member.islnk():
                raise Refused(f"{archive.name} holds a link ({member.name} -> {member.linkname}); links are not accepted")
            if not (member.isfile() or member.isdir()):
                raise Refused(f"{archive.name} holds a special file ({member.name})")
            target = into / path
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tarred.extractfile(member)
            if source is None:  # a regular file always has its data
                raise Refused(f"{archive.name}: {member.name} cannot be read")
            with source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            target.chmod(0o644 | (0o111 if member.mode & 0o111 else 0))
