"""A Dockerfile parser that follows BuildKit's grammar closely enough to grade with.

It keeps what graders need: parser directives, the escape character, comments and blank lines
inside continuations, heredocs (RUN/COPY/ADD), flags (`--mount`, `--from`, `--chown`, ...),
exec (JSON) versus shell form, stages with their names, and ARG substitution in FROM.
Every instruction remembers the lines it came from, so results can point at them.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graders.errors import DockerfileError

INSTRUCTIONS = (
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN "
    "SHELL STOPSIGNAL USER VOLUME WORKDIR"
).split()
HEREDOC_INSTRUCTIONS = {"RUN", "COPY", "ADD"}
FLAG_INSTRUCTIONS = {"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"}
JSON_INSTRUCTIONS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD"}

_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([a-zA-Z_][a-zA-Z0-9_]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass
class Instruction:
    """One instruction as BuildKit sees it, with the lines (1-based) it spans."""

    keyword: str
    raw: str  # everything after the keyword, continuations joined
    line: int
    end_line: int
    flags: dict[str, list[str]] = field(default_factory=dict)
    exec_form: bool = False  # the arguments were a JSON array
    args: list[str] = field(default_factory=list)  # JSON items, or [shell string]
    heredocs: list[str] = field(default_factory=list)

    @property
    def shell(self) -> str:
        """The command text, whatever the form (for matching, e.g. 'pip install')."""
        return " ".join(self.args) if self.exec_form else (self.args[0] if self.args else "")

    def text(self) -> str:
        return f"{self.keyword} {self.raw}".strip()


@dataclass
class Stage:
    """A build stage: `FROM base [AS name]` and what follows it."""

    index: int
    base: str  # after ARG substitution
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def last(self, keyword: str) -> Instruction | None:
        found = [i for i in self.instructions if i.keyword == keyword]
        return found[-1] if found else None

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    """A parsed Dockerfile: directives, global ARGs, stages in order."""

    directives: dict[str, str]
    escape: str
    instructions: list[Instruction]
    stages: list[Stage]
    args: dict[str, str | None]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, ref: str) -> Stage | None:
        """A stage by name or index, as `COPY --from` and `FROM` refer to them."""
        for stage in self.stages:
            if stage.name and stage.name.lower() == ref.lower():
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def copies_from_stages(self, stage: Stage | None = None) -> list[tuple[Instruction, Stage]]:
        """The `COPY --from=<earlier stage>` instructions of a stage (default: the final one), each
        with the stage it copies from. `--from` naming an image rather than a stage is left out."""
        stage = stage or self.final
        found = []
        for instruction in stage.all("COPY"):
            for ref in instruction.flags.get("from", []):
                source = self.stage(ref)
                if source is not None and source.index < stage.index:
                    found.append((instruction, source))
        return found

    def root_base(self, stage: Stage | None = None) -> str:
        """The image a stage finally rests on, following `FROM <earlier stage>` chains."""
        stage = stage or self.final
        seen = set()
        while (parent := self.stage(stage.base)) is not None and parent.index < stage.index:
            if parent.index in seen:
                break
            seen.add(parent.index)
            stage = parent
        return stage.base


def parse_file(path: Path) -> Dockerfile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DockerfileError(None, f"{path.name} not found", f"create {path.name} in the lab folder") from None
    except UnicodeDecodeError:
        raise DockerfileError(None, f"{path.name} is not UTF-8 text", "save it as plain UTF-8") from None
    return parse(text)


def parse(text: str) -> Dockerfile:
    lines = text.removeprefix("\ufeff").splitlines()  # BuildKit skips a UTF-8 byte order mark too
    directives, start = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(1, f"invalid escape directive {escape!r}", "use \\ or `")
    instructions = list(_instructions(lines, start, escape))
    if not instructions:
        raise DockerfileError(None, "the Dockerfile has no instructions", "start it with a FROM line")
    return _stages(directives, escape, instructions)


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    for number, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() in found:
            return found, number
        found[match.group(1).lower()] = match.group(2)
    return found, len(lines)


def _is_comment_or_blank(line: str) -> bool:
    stripped = line.lstrip()
    return not stripped or stripped.startswith("#")


def _continues(line: str, escape: str) -> tuple[bool, str]:
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return True, stripped[: -len(escape)]
    return False, line


def _instructions(lines: list[str], start: int, escape: str) -> Iterator[Instruction]:
    index = start
    while index < len(lines):
        if _is_comment_or_blank(lines[index]):
            index += 1
            continue
        first = index
        more, body = _continues(lines[index].lstrip(), escape)
        index += 1
        while more and index < len(lines):
            if _is_comment_or_blank(lines[index]):  # BuildKit drops these inside continuations
                index += 1
                continue
            more, part = _continues(lines[index], escape)
            body += part
            index += 1
        instruction = _instruction(body, first + 1, index)
        if instruction.keyword in HEREDOC_INSTRUCTIONS:
            index = _read_heredocs(instruction, lines, index)
        yield instruction


def _instruction(body: str, line: int, end_line: int) -> Instruction:
    word, _, rest = body.strip().partition(" ")
    if not word.replace("\t", " ").split(" ")[0]:
        raise DockerfileError(line, "empty instruction")
    word, _, tab_rest = word.partition("\t")
    rest = (tab_rest + " " + rest).strip() if tab_rest else rest.strip()
    keyword = word.upper()
    if keyword not in INSTRUCTIONS:
        close = difflib.get_close_matches(keyword, INSTRUCTIONS, n=1)
        fix = f"did you mean {close[0]}?" if close else "see the Dockerfile reference for valid instructions"
        raise DockerfileError(line, f"unknown instruction: {word}", fix)
    instruction = Instruction(keyword=keyword, raw=rest, line=line, end_line=end_line)
    if keyword in FLAG_INSTRUCTIONS:
        rest = _take_flags(instruction, rest)
    if keyword == "HEALTHCHECK":
        rest = _healthcheck_command(instruction, rest)
    if keyword in JSON_INSTRUCTIONS or (keyword == "HEALTHCHECK" and instruction.args == []):
        _maybe_json(instruction, rest)
    if keyword == "SHELL" and not instruction.exec_form:
        raise DockerfileError(line, "SHELL must be written in JSON form", 'e.g. SHELL ["/bin/bash", "-c"]')
    return instruction


def _take_flags(instruction: Instruction, rest: str) -> str:
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        if token == "--":
            break
        name, _, value = token[2:].partition("=")
        instruction.flags.setdefault(name.lower(), []).append(value)
    return rest


def _healthcheck_command(instruction: Instruction, rest: str) -> str:
    word, _, command = rest.partition(" ")
    if word.upper() == "NONE":
        instruction.args = ["NONE"]
        return ""
    if word.upper() != "CMD":
        raise DockerfileError(
            instruction.line, "HEALTHCHECK must be followed by CMD or NONE", "write HEALTHCHECK [OPTIONS] CMD command"
        )
    return command.strip()


def _maybe_json(instruction: Instruction, rest: str) -> None:
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            instruction.exec_form, instruction.args = True, value
            return
    instruction.args = [rest]


def _read_heredocs(instruction: Instruction, lines: list[str], index: int) -> int:
    for strip_tabs, _quote, word in _HEREDOC.findall(instruction.raw):
        body = []
        while index < len(lines) and (lines[index].lstrip("\t") if strip_tabs else lines[index]) != word:
            body.append(lines[index].lstrip("\t") if strip_tabs else lines[index])
            index += 1
        if index >= len(lines):
            raise DockerfileError(instruction.line, f"heredoc <<{word} is never closed", f"end it with a line {word}")
        instruction.heredocs.append("\n".join(body) + "\n")
        index += 1
        instruction.end_line = index
    return index


def _stages(directives: dict[str, str], escape: str, instructions: list[Instruction]) -> Dockerfile:
    args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            stages.append(_stage(instruction, len(stages), args))
        elif not stages:
            if instruction.keyword != "ARG":
                raise DockerfileError(
                    instruction.line,
                    f"{instruction.keyword} comes before the first FROM",
                    "only ARG may come before FROM; start the build stage with FROM <image>",
                )
            args.update(parse_assignments(instruction.raw, allow_bare=True))
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise DockerfileError(instructions[0].line, "the Dockerfile has no FROM", "start it with FROM <image>:<tag>")
    return Dockerfile(directives, escape, instructions, stages, args)


def _stage(instruction: Instruction, index: int, args: dict[str, str | None]) -> Stage:
    words = instruction.raw.split()
    if not words:
        raise DockerfileError(instruction.line, "FROM needs an image", "e.g. FROM python:3.11-slim")
    name = None
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2]
    elif len(words) != 1:
        raise DockerfileError(instruction.line, "FROM takes an image and an optional 'AS name'", "e.g. FROM python:3.11-slim AS builder")
    return Stage(index=index, base=substitute(words[0], args), name=name, line=instruction.line)


def substitute(text: str, values: dict[str, str | None]) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} the way BuildKit does for FROM."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        value = values.get(name) or ""
        if match.group(2) == "-":
            return value or match.group(3)
        if match.group(2) == "+":
            return match.group(3) if value else ""
        return value

    return _VAR.sub(replace, text)


def parse_assignments(raw: str, allow_bare: bool = False) -> dict[str, str | None]:
    """`KEY=value KEY2="x y"` (ENV, ARG, LABEL). The legacy `ENV KEY value` form too."""
    try:
        words = shlex.split(raw, posix=True)
    except ValueError:
        words = raw.split()
    if words and "=" not in words[0] and not allow_bare and len(words) > 1:
        return {words[0]: raw.split(None, 1)[1]}
    result: dict[str, str | None] = {}
    for word in words:
        key, sep, value = word.partition("=")
        result[key] = value if sep else None
    return result
