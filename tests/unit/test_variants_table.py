"""tests/integration/VARIANTS.md stays true: a row for every criterion of every lab, and every case it
names is one the real-engine tests grade."""

from __future__ import annotations

import importlib
import re

from tests.conftest import ROOT

TABLE = ROOT / "tests" / "integration" / "VARIANTS.md"
LABS = {"Lab 01": "01-basic-dockerfile", "Lab 02": "02-multi-stage", "Lab 03": "03-gpu-training",
        "Lab 04": "04-compose-stack", "Lab 05": "05-ship-it"}


def sections() -> dict[str, str]:
    parts = re.split(r"^## (Lab \d\d)\n", TABLE.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def names(text: str) -> set[str]:
    """Backticked case names, leaving out what parentheses say about them."""
    return set(re.findall(r"`([A-Za-z0-9-]+)`", re.sub(r"\([^()]*\)", "", text)))


def rows(section: str) -> dict[str, list[str]]:
    found = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3 and cells[0] not in ("criterion", "---"):
            found[cells[0]] = cells[1:]
    return found


def cases(lab: str, section: str) -> set[str]:
    module = importlib.import_module(f"tests.integration.test_lab{lab[4:6]}")
    graded = set(getattr(module, "VARIANTS", {})) | set(getattr(module, "VALID_FORMS", {}))
    first = section.strip().split("\n\n")[0]
    labels = first if first.startswith("Labels") else ""
    return graded | names(labels)


def test_every_criterion_of_every_lab_has_a_row(course):
    table = sections()
    assert set(table) == set(LABS)
    for heading, lab_id in LABS.items():
        assert set(rows(table[heading])) == {c.id for c in course.lab(lab_id).rubric}, heading


def test_every_case_the_table_names_is_graded():
    for heading, section in sections().items():
        known = cases(heading, section)
        for criterion, cells in rows(section).items():
            unknown = names(" ".join(cells)) - known
            assert not unknown, f"{heading} {criterion}: {sorted(unknown)} are not cases of the tests"


def test_every_row_but_the_unreachable_ones_has_a_flaw_and_a_valid_form():
    for heading, section in sections().items():
        for criterion, (flaws, valid) in rows(section).items():
            if flaws.startswith("—"):  # a GPU, an image no registry here gives, or a gap: said in the cell
                assert "GPU" in flaws or "offline" in flaws or "a gap:" in flaws, (heading, criterion)
                if "a gap:" in flaws:
                    assert names(valid), (heading, criterion)
                continue
            assert names(flaws) and names(valid), (heading, criterion)
