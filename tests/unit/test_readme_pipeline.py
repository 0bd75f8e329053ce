"""README's two pipeline tables name every stage the code runs, in the code's own words; its layout names every module."""

import re

from graders import pipeline
from tests.conftest import ROOT


def _stage_table(text: str, after: str) -> set[str]:
    """The first cells of the first `| Stage |` table after the line holding `after`."""
    rest = text[text.index(after):]
    table = rest[rest.index("| Stage |"):].split("\n\n", 1)[0]
    names: set[str] = set()
    for row in table.splitlines()[2:]:
        names |= {name.strip() for name in row.split("|")[1].split(",")}
    return names


def test_every_stage_of_both_pipelines_is_in_the_readme():
    text = (ROOT / "README.md").read_text()
    image = _stage_table(text, "## How grading works")
    stack = _stage_table(text, "Lab 04 grades a `compose.yaml`")
    assert {stage.name for stage in pipeline.IMAGE} <= image, {stage.name for stage in pipeline.IMAGE} - image
    assert {stage.name for stage in pipeline.STACK} <= stack, {stage.name for stage in pipeline.STACK} - stack
    assert all(re.fullmatch(r"[a-z]+", name) for name in image | stack)


def test_the_readme_layout_names_every_module():
    text = (ROOT / "README.md").read_text()
    start = text.index("## Project layout")
    layout = text[start:text.index("```", text.index("```", start) + 3)]
    named = set(re.findall(r"[\w]+\.py", layout))
    modules = [*(ROOT / "graders").glob("*.py"), *(ROOT / "graders" / "engine").glob("*.py")]
    missing = sorted(str(p.relative_to(ROOT)) for p in modules if p.name not in named | {"__init__.py", "__main__.py"})
    assert not missing, f"README's Project layout does not name: {missing}"
