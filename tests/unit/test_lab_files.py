"""The course's own files agree with each other: solutions carry the lab's code unchanged, hints
point at sections that exist, notebooks are valid."""

import filecmp
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lab", ["01-basic-dockerfile", "02-multi-stage", "03-gpu-training", "04-compose-stack"])
def test_solution_carries_the_lab_code_unchanged(lab):
    # A solution folder is a complete submission, so it holds copies of the starter's code.
    starter, solution = ROOT / "labs" / lab, ROOT / "solutions" / lab
    own = {"README.md", "lab.ipynb"} | ({"compose.yaml"} if lab.startswith("04") else {"Dockerfile"})
    shared = [p.relative_to(starter) for p in starter.rglob("*")
              if p.is_file() and p.relative_to(starter).as_posix() not in own and "__pycache__" not in p.parts]
    assert shared, "nothing compared"
    _match, mismatch, errors = filecmp.cmpfiles(starter, solution, [str(p) for p in shared], shallow=False)
    assert mismatch == [] and errors == []


def test_every_hint_points_at_a_real_section(course):
    for lab in course.labs:
        readme = (ROOT / lab.folder / "README.md").read_text()
        headings = set(re.findall(r"^## (\d+)\. (.+)$", readme, flags=re.MULTILINE))
        for criterion in lab.rubric:
            for number, title in re.findall(r'section (\d+) "([^"]+)"', criterion.hint):
                assert (number, title) in headings, f"{lab.id}/{criterion.id} cites a missing section {number}"
        assert any('section' in c.hint for c in lab.rubric)


def test_lab_notebooks_are_valid_nbformat_4(course):
    for lab in course.labs:
        notebook = json.loads((ROOT / lab.folder / "lab.ipynb").read_text())
        assert notebook["nbformat"] == 4 and notebook["cells"]
        assert {cell["cell_type"] for cell in notebook["cells"]} == {"markdown", "code"}
        assert all(cell.get("outputs", []) == [] for cell in notebook["cells"])  # shipped without outputs


def test_lab04s_untouched_starter_is_a_file_compose_reads(tmp_path):
    """The notebook's first step runs `docker compose config` before the learner has changed anything."""
    import subprocess

    from graders.engine import compose

    shutil.copytree(ROOT / "labs" / "04-compose-stack", tmp_path / "stack")
    shutil.copy(tmp_path / "stack" / ".env.example", tmp_path / "stack" / ".env")
    done = subprocess.run([*compose.command(), "config", "--quiet"], cwd=tmp_path / "stack", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_lab03s_run_cell_chooses_the_cpu_where_there_is_no_nvidia_smi(tmp_path, monkeypatch):
    """The lab promises a CPU path: the cell that picks `--gpus` must not raise where nvidia-smi is missing."""
    notebook = json.loads((ROOT / "labs" / "03-gpu-training" / "lab.ipynb").read_text())
    cell = next("".join(c["source"]) for c in notebook["cells"] if "gpus = " in "".join(c["source"]))
    choice = "\n".join(line for line in cell.splitlines() if line.startswith(("import ", "has_gpu", "gpus = ")))
    assert "gpus = " in choice
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi anywhere
    names: dict = {}
    exec(choice, names)
    assert names["gpus"] == []
    fake = tmp_path / "nvidia-smi"  # a machine whose driver answers
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    exec(choice, names)
    assert names["gpus"] == ["--gpus", "all"]
