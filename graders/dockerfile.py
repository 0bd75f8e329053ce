"""The Dockerfile as the checks read it: stages, their bases with ARGs substituted, and each
instruction's flags, form (exec or shell), heredocs and lines.

The grammar is BuildKit's own: the `dockerfile` package runs moby/buildkit's Go parser
(parser directives, the escape character, continuations with comments inside, heredocs, flags,
JSON form, line numbers). This module adds what a grader needs on top: instruction names and
forms BuildKit would refuse at build time, told with their line and a fix, and the stages.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graders.errors import DockerfileError

if TYPE_CHECKING:
    import dockerfile as buildkit

INSTRUCTIONS = (
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN "
    "SHELL STOPSIGNAL USER VOLUME WORKDIR"
).split()
JSON_INSTRUCTIONS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD"}
MAX_LINE = 65535
"""BuildKit's longest line."""

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
class BuildStage:
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
    """A parsed Dockerfile: global ARGs, stages in order."""

    instructions: list[Instruction]
    stages: list[BuildStage]
    args: dict[str, str | None]
    syntax: str | None = None
    """The `# syntax=` parser directive: the frontend that builds it, when not the engine's own."""

    @property
    def final(self) -> BuildStage:
        return self.stages[-1]

    def stage(self, ref: str) -> BuildStage | None:
        """A stage by name or index, as `COPY --from` and `FROM` refer to them."""
        for stage in self.stages:
            if stage.name and stage.name.lower() == ref.lower():
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def copies_from_stages(self, stage: BuildStage | None = None) -> list[tuple[Instruction, BuildStage]]:
        """The instructions of a stage (default: the final one) that take files from an earlier stage,
        each with that stage: `COPY --from=<stage>`, and `RUN --mount=type=bind,from=<stage>`, which
        installs from the stage (wheels, say) without a layer to hold them. A `from` naming an image
        rather than a stage is left out."""
        stage = stage or self.final
        found = []
        for instruction in stage.all("COPY"):
            for ref in instruction.flags.get("from", []):
                source = self.stage(ref)
                if source is not None and source.index < stage.index:
                    found.append((instruction, source))
        for instruction in stage.all("RUN"):
            for mount in instruction.flags.get("mount", []):
                options = dict(part.partition("=")[::2] for part in mount.split(","))
                source = self.stage(options["from"]) if options.get("type", "bind") == "bind" and options.get("from") else None
                if source is not None and source.index < stage.index:
                    found.append((instruction, source))
        return found

    def root_base(self, stage: BuildStage | None = None) -> str:
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
    # Imported here: the parser is Go, and a process must start Go's runtime itself (a fork of one
    # that has it hangs in its first call), so the batch's workers are forked from a process without it.
    import dockerfile as buildkit

    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError as error:
        raise _refused(str(error), text) from None
    instructions = [_instruction(command) for command in commands]
    if not instructions:
        raise DockerfileError(None, "the Dockerfile has no instructions", "start it with a FROM line")
    parsed = _stages(instructions)
    parsed.syntax = _syntax(text)
    return parsed


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")


def _syntax(text: str) -> str | None:
    """The `# syntax=` directive: directives are the comments at the very top, before anything else."""
    for line in text.lstrip("\ufeff").splitlines():
        found = _DIRECTIVE.match(line.strip())
        if not found:
            return None
        if found.group(1).lower() == "syntax":
            return found.group(2)
    return None


def _refused(message: str, text: str) -> DockerfileError:
    """BuildKit's parser refused the file: its reason, at the line where it can be found."""
    lines = text.splitlines()
    if "no instructions" in message:
        return DockerfileError(None, "the Dockerfile has no instructions", "start it with a FROM line")
    if "heredoc" in message:
        for number, line in reversed(list(enumerate(lines, 1))):
            for _dash, _quote, word in _HEREDOC.findall(line):
                if not any(later.strip() == word for later in lines[number:]):
                    return DockerfileError(number, f"heredoc <<{word} is never closed", f"end it with a line {word}")
    if "max allowed size" in message:
        long_line = next((n for n, line in enumerate(lines, 1) if len(line) > MAX_LINE), None)
        return DockerfileError(long_line, f"a line is longer than BuildKit's limit of {MAX_LINE:,} characters",
                               "split it with \\ at the ends of lines")
    return DockerfileError(None, f"BuildKit's parser refuses it: {message}")


def _instruction(command: buildkit.Command) -> Instruction:
    keyword = command.cmd.upper()
    line = command.start_line
    if keyword not in INSTRUCTIONS:
        close = difflib.get_close_matches(keyword, INSTRUCTIONS, n=1)
        fix = f"did you mean {close[0]}?" if close else "see the Dockerfile reference for valid instructions"
        raise DockerfileError(line, f"unknown instruction: {command.cmd}", fix)
    first_line = command.original.split("\n", 1)[0]  # a heredoc's body is in `heredocs`
    instruction = Instruction(keyword=keyword, raw=first_line[len(command.cmd):].strip(), line=line,
                              end_line=command.end_line, exec_form=command.json)
    for flag in command.flags:
        name, _, value = flag[2:].partition("=")
        instruction.flags.setdefault(name.lower(), []).append(value)
    for heredoc, (dash, _quote, _word) in zip(command.heredocs, _HEREDOC.findall(first_line), strict=False):
        content = heredoc.content
        if dash:  # <<-WORD: BuildKit takes the leading tabs off each line
            content = "".join(part.lstrip("\t") for part in content.splitlines(keepends=True))
        instruction.heredocs.append(content)
    value = list(command.value)
    if keyword == "HEALTHCHECK":
        if value[:1] == ["NONE"]:
            instruction.args = ["NONE"]
            return instruction
        if value[:1] != ["CMD"]:
            raise DockerfileError(line, "HEALTHCHECK must be followed by CMD or NONE",
                                  "write HEALTHCHECK [OPTIONS] CMD command")
        value = value[1:]
    if keyword in JSON_INSTRUCTIONS or keyword == "HEALTHCHECK":
        instruction.args = value if command.json else [" ".join(value)]
    if keyword == "SHELL" and not instruction.exec_form:
        raise DockerfileError(line, "SHELL must be written in JSON form", 'e.g. SHELL ["/bin/bash", "-c"]')
    return instruction


def _stages(instructions: list[Instruction]) -> Dockerfile:
    args: dict[str, str | None] = {}
    stages: list[BuildStage] = []
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
    return Dockerfile(instructions, stages, args)


def _stage(instruction: Instruction, index: int, args: dict[str, str | None]) -> BuildStage:
    words = instruction.raw.split()
    while words and words[0].startswith("--"):  # --platform: in `flags`
        words.pop(0)
    if not words:
        raise DockerfileError(instruction.line, "FROM needs an image", "e.g. FROM python:3.11-slim")
    name = None
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2]
    elif len(words) != 1:
        raise DockerfileError(instruction.line, "FROM takes an image and an optional 'AS name'", "e.g. FROM python:3.11-slim AS builder")
    return BuildStage(index=index, base=substitute(words[0], args), name=name, line=instruction.line)


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
