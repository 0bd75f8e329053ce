"""The files Compose would read for a learner's stack, checked before Compose reads any of them.

`docker compose config` expands YAML aliases without bound and follows `include`, `extends.file`,
`env_file` and `label_file` wherever they point (`/dev/zero` included). So the grader reads each
compose file itself first, bounded (graders.safeyaml), follows the same keys, and refuses a file
that is too big, explodes, or points outside the submission folder. No engine, no Compose.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders import safeyaml, yamlines

MAX_FILE_BYTES = 1 * 2**20
MAX_FILES = 20


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    fix: str = ""
    key: str = ""
    """The key that points outside the folder: a policy refusal rather than a mistake in the file."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class Read:
    data: dict[str, Any]
    node: object
    lines: dict[str, int]


def check(folder: Path, names: list[str]) -> tuple[dict[str, Read], Problem | None]:
    """Read `names` (relative to `folder`) and every file they make Compose read. Returns what was
    read, by relative name, and the first problem found (then Compose must not run)."""
    root = Path(os.path.realpath(folder))
    read: dict[str, Read] = {}
    queue: list[tuple[str, str | None, int | None, str]] = [(name, None, None, "") for name in names]
    if (root / ".env").exists():
        queue.append((".env", None, None, ""))
    while queue:
        name, referrer, line, key = queue.pop(0)
        if name in read:
            continue
        where = referrer or name
        path, why = _inside(root, name)
        if why:
            return read, Problem(where, line, why, "use a plain relative path to a file in the submission folder", key)
        if not path.exists():
            continue
        if len(read) >= MAX_FILES:
            return read, Problem(where, line, f"the stack reads over {MAX_FILES} files", "keep the stack in a few files")
        if (size := path.stat().st_size) > MAX_FILE_BYTES:
            return read, Problem(name, None, f"the file is {size / 2**20:.1f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB",
                                 "keep only configuration in it")
        if not name.endswith((".yaml", ".yml")) and name not in names:
            read[name] = Read({}, None, {})  # an env file: Compose reads it as lines, size is what matters
            continue
        try:
            document = safeyaml.load(path.read_text(encoding="utf-8"), max_bytes=MAX_FILE_BYTES)
        except UnicodeDecodeError:
            return read, Problem(name, None, "the file is not UTF-8 text", "save it as UTF-8")
        except safeyaml.YamlError as error:
            return read, Problem(name, error.line, error.message, error.fix)
        data = document.data if isinstance(document.data, dict) else {}
        lines = yamlines.record(document.node)
        read[name] = Read(data, document.node, lines)
        for key_path, target in references(data):
            queue.append((_relative(root, path.parent, target), name, yamlines.line_of(lines, key_path), key_path))
    return read, None


def references(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, path as written) of every file a compose document makes Compose read."""
    found: list[tuple[str, Any]] = []
    for index, entry in enumerate(_list(data.get("include"))):
        if isinstance(entry, dict):
            for p_index, path in enumerate(_list(entry.get("path"))):
                found.append((f"include[{index}].path[{p_index}]", path))
            for e_index, path in enumerate(_list(entry.get("env_file"))):
                found.append((f"include[{index}].env_file[{e_index}]", path))
        else:
            found.append((f"include[{index}]", entry))
    services = data.get("services")
    for name, service in (services.items() if isinstance(services, dict) else []):
        if not isinstance(service, dict):
            continue
        extends = service.get("extends")
        if isinstance(extends, dict) and extends.get("file") is not None:
            found.append((f"services.{name}.extends.file", extends["file"]))
        for key in ("env_file", "label_file"):
            for index, entry in enumerate(_list(service.get(key))):
                path = entry.get("path") if isinstance(entry, dict) else entry
                found.append((f"services.{name}.{key}[{index}]", path))
    return [(key, str(path)) for key, path in found if path is not None]


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _relative(root: Path, base: Path, written: str) -> str:
    if "$" in written:
        return "\0" + written  # refused by _inside: the grader cannot know where it points
    target = Path(os.path.normpath(base / written))
    try:
        return str(target.relative_to(root))
    except ValueError:
        return "\0" + written


def _inside(root: Path, name: str) -> tuple[Path, str]:
    if name.startswith("\0"):
        written = name[1:]
        if "$" in written:
            return root, f"the path {written!r} is made from variables"
        return root, f"{written!r} is outside the submission folder"
    path = root / name
    real = Path(os.path.realpath(path))
    if os.path.commonpath([root, real]) != str(root):
        return path, f"{name!r} leads outside the submission folder (through a link)"
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return path, ""  # nothing to read: Compose reports a missing file itself
    if not stat.S_ISREG(mode):
        return path, f"{name!r} is not a regular file"
    return real, ""
