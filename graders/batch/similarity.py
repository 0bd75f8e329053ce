"""Submissions of a batch that are unusually alike: a flag for the instructor to look at, never a grade.

Each learner's Dockerfile (a Compose lab: its compose file) is normalised so that disguises do not
hide a copy: comments, whitespace and line continuations go; user names, paths and variable names
become placeholders; flags are put in one order; runs of ENV, ARG, LABEL and EXPOSE are sorted.
What the lab's starter and reference already say is shared boilerplate and left out (as MOSS's base
files are). Two submissions are compared as sequences of what is left; a pair at or above the lab's
threshold (course.yml `similarity`) is listed in summary.html with a side-by-side view.
"""

from __future__ import annotations

import difflib
import itertools
import re
import shlex
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from graders import safeyaml
from graders.batch.archives import Refused, extract
from graders.batch.discover import Submission
from graders.course import Lab, StackLab
from graders.errors import DockerlabError
from graders.submission import small_text

MIN_LINES = 4
"""Fewer lines of one's own than this (beyond the starter and reference) say nothing either way."""
UNORDERED = ("ENV", "ARG", "LABEL", "EXPOSE")
USER_MAKERS = re.compile(r"\b(?:useradd|adduser|groupadd|addgroup)\b[^&;|]*?\s([a-z_][\w-]*)\s*(?:$|&&|;|\|)")


@dataclass(frozen=True)
class Work:
    """One learner's file, as written and as compared."""
    learner: str
    lines: list[str]
    """The instructions (or Compose settings) as written, one per line."""
    normal: list[str]
    """The same, normalised; parallel to `lines`."""


@dataclass(frozen=True)
class Pair:
    a: Work
    b: Work
    score: float
    """0 to 1: how much of the two normalised sequences match, beyond the shared boilerplate."""


def lab_file(lab: Lab) -> str:
    return lab.compose.file if isinstance(lab, StackLab) else lab.dockerfile


def read(lab: Lab, submission: Submission) -> str | None:
    """The learner's file: from the folder, or from the archive through the batch's own guards."""
    if not submission.archive:
        return small_text(submission.source / lab_file(lab))
    with tempfile.TemporaryDirectory(prefix="dockerlab-similar-") as tmp:
        try:
            folder = extract(submission.source, Path(tmp) / "x")
        except (Refused, DockerlabError, OSError):
            return None
        return small_text(folder / lab_file(lab))


def work(learner: str, text: str, compose: bool) -> Work:
    if compose:
        lines = _compose_lines(text)
        return Work(learner, lines, list(lines))
    ordered = _normalised(_instructions(text))
    return Work(learner, [line for line, _ in ordered], [normal for _, normal in ordered])


def pairs(works: list[Work], boilerplate: list[Work], threshold: float) -> list[Pair]:
    """The pairs at or above `threshold`, most alike first."""
    shared = {line for item in boilerplate for line in item.normal}
    own = {item.learner: [line for line in item.normal if line not in shared] for item in works}
    found = []
    for a, b in itertools.combinations(works, 2):
        left, right = own[a.learner], own[b.learner]
        if min(len(left), len(right)) < MIN_LINES:
            continue
        score = difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()
        if score >= threshold:
            found.append(Pair(a, b, round(score, 3)))
    return sorted(found, key=lambda pair: (-pair.score, pair.a.learner, pair.b.learner))


def _instructions(text: str) -> list[str]:
    """One line per instruction: comments and blank lines dropped, continuations joined, spaces collapsed."""
    joined, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            joined.append(" ".join(current.split()))
            current = ""
    if current:
        joined.append(" ".join(current.split()))
    return joined


def _normalised(lines: list[str]) -> list[tuple[str, str]]:
    """(line, normalised line), with runs of ENV, ARG, LABEL and EXPOSE in one order."""
    users = set()
    for line in lines:
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "USER":
            users.add(rest.split(":")[0].strip())
        users |= set(USER_MAKERS.findall(rest))
        users |= {m.split(":")[0] for m in re.findall(r"--chown=(\S+)", rest)}
    users -= {"root", "0", ""}
    both = [(line, normal) for line in lines for normal in _split(_one(line, users))]
    out: list[tuple[str, str]] = []
    for keyword, group in itertools.groupby(both, key=lambda item: item[1].split(" ", 1)[0]):
        items = list(group)
        out += sorted(items, key=lambda item: item[1]) if keyword in UNORDERED else items
    return out


def _split(normal: str) -> list[str]:
    """`ENV K=1 K=2` as `ENV K=1` and `ENV K=2`: one setting per line, however they were grouped."""
    keyword, _, rest = normal.partition(" ")
    if keyword not in UNORDERED or " " not in rest:
        return [normal]
    return [f"{keyword} {word}" for word in rest.split(" ")]


def _one(line: str, users: set[str]) -> str:
    keyword, _, rest = line.partition(" ")
    keyword = keyword.upper()
    for user in sorted(users, key=len, reverse=True):
        rest = re.sub(rf"(?<![\w-]){re.escape(user)}(?![\w-])", "U", rest)
    rest = re.sub(r"\$\{?\w+\}?", "$V", rest)  # variable names
    if keyword in ("ENV", "ARG", "LABEL"):
        rest = re.sub(r"(?<![\w$])[A-Za-z_]\w*(?==)", "K", rest)  # the names they set
    own, rest = re.fullmatch(r"((?:--\S+\s+)*)(.*)", rest, re.DOTALL).groups()  # type: ignore[union-attr]
    commands = [" ".join(sorted(_path(flag) for flag in own.split()))] if own else []
    for command in re.split(r"\s*(?:&&|;|\|\|)\s*", rest):
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        words = [_path(word) for word in words]
        flags = sorted(word for word in words[1:] if word.startswith("-"))
        commands.append(" ".join([*words[:1], *flags, *(w for w in words[1:] if not w.startswith("-"))]))
    return f"{keyword} {' && '.join(commands)}".strip()


def _compose_lines(text: str) -> list[str]:
    """`services.api.ports[0]=8000:8000`, one per setting, sorted (YAML's key order says nothing)."""
    try:
        data = safeyaml.load(text).data
    except safeyaml.YamlError:
        return []
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        else:
            found.append(f"{path}={value}")

    walk(data, "")
    return sorted(found)


def side_by_side(pair: Pair, lab_title: str) -> str:
    """The two files next to each other, the lines that match (once normalised) marked."""
    matcher = difflib.SequenceMatcher(None, pair.a.normal, pair.b.normal, autojunk=False)
    left: set[int] = set()
    right: set[int] = set()
    for block in matcher.get_matching_blocks():
        left |= set(range(block.a, block.a + block.size))
        right |= set(range(block.b, block.b + block.size))

    def column(item: Work, marked: set[int]) -> str:
        # a line split in several settings (ENV A=1 B=2) is shown once, marked when any of them matched
        shown = [(line, any(i in marked for i, _ in group))
                 for line, group in itertools.groupby(enumerate(item.lines), key=lambda pair: pair[1])]
        rows = "".join(f'<div class="{"same" if same else ""}">{escape(line)}</div>' for line, same in shown)
        return f'<div class="col"><h2>{escape(item.learner)}</h2>{rows}</div>'

    return (f"<!doctype html><meta charset='utf-8'><title>{escape(lab_title)}: {escape(pair.a.learner)} and "
            f"{escape(pair.b.learner)}</title><style>body{{font-family:system-ui;margin:1.5rem}}"
            ".cols{display:flex;gap:1rem}.col{flex:1;font-family:monospace;font-size:12px;white-space:pre-wrap}"
            ".col div{padding:1px 4px;border-bottom:1px solid #eee}.same{background:#fde68a}</style>"
            f"<h1>{escape(lab_title)}: {pair.score:.0%} alike</h1><p>Marked: lines that match once comments, "
            "spacing, user and path names, variable names and flag order are set aside. The starter's and "
            "reference's lines do not count. A flag to look at, not a verdict.</p>"
            f'<div class="cols">{column(pair.a, left)}{column(pair.b, right)}</div>')


def page_name(pair: Pair) -> str:
    return f"{pair.a.learner}--{pair.b.learner}.html"


def _path(word: str) -> str:
    """A path becomes P (in `--flag=path` and `KEY=path` too): where files go is a name one chooses."""
    head, equals, value = word.rpartition("=")
    if equals and "/" in value:
        return f"{head}=P"
    return "P" if "/" in word and not word.startswith("-") else word
