"""Every hint points where the answer is: each section it names exists (with the title it quotes),
and the names it gives (environment variables, command-line flags, code in backticks) are in one of
the sections it points to, so a learner who follows the hint finds what it talks about."""

import re
from pathlib import Path

import pytest

from graders.course import load

ROOT = Path(__file__).resolve().parents[2]
COURSE = load(ROOT / "course.yml")
REFERENCE = re.compile(r'(?:(?P<lab>Lab (?P<number>\d\d)), )?sections? (?P<sections>\d+(?: and \d+)*)(?: "(?P<title>[^"]+)")?')
NAMES = (r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", r"(?<![\w-])--[a-z][a-z0-9-]+", r"`([^` ]+)`")


def sections(readme: Path) -> dict[str, tuple[str, str]]:
    """number -> (title, text) of each `## N. Title` section."""
    text = readme.read_text()
    heads = list(re.finditer(r"^## (\d+)\. (.+)$", text, re.M))
    return {h.group(1): (h.group(2).strip(), text[h.start():heads[i + 1].start() if i + 1 < len(heads) else len(text)])
            for i, h in enumerate(heads)}


CASES = [(lab, criterion) for lab in COURSE.labs for criterion in lab.rubric]


@pytest.mark.parametrize("lab, criterion", CASES, ids=[f"{lab.id}:{c.id}" for lab, c in CASES])
def test_a_hint_names_sections_that_exist_and_teach_what_it_names(lab, criterion):
    found = list(REFERENCE.finditer(criterion.hint))
    assert found, f"the hint names no section: {criterion.hint}"
    taught = ""
    for match in found:
        folder = lab.folder
        if match.group("lab"):
            folder = next(other.folder for other in COURSE.labs if other.id.startswith(match.group("number")))
        known = sections(ROOT / folder / "README.md")
        for number in re.findall(r"\d+", match.group("sections")):
            assert number in known, f"{folder}/README.md has no section {number} ({criterion.hint})"
            title, text = known[number]
            if match.group("title"):
                assert match.group("title") == title, f"section {number} is {title!r}, the hint says {match.group('title')!r}"
            taught += text
    names = {name for pattern in NAMES for name in re.findall(pattern, criterion.hint)}
    missing = sorted(name for name in names if name not in taught)
    assert not missing, f"{missing} are in none of the sections the hint names: {criterion.hint}"
