"""graders/engine/ is the only code that talks to Docker: nothing else imports the Docker SDK or
requests, or starts the docker or Compose CLIs, and checks import nothing from engine/."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "graders"
ENGINE = PACKAGE / "engine"
TALKERS = {"docker", "requests"}
CLIS = {"docker", "docker-compose", "dockerd"}
RUNNERS = {"run", "Popen", "call", "check_call", "check_output"}


def _outside_engine() -> list[Path]:
    return [path for path in PACKAGE.rglob("*.py") if ENGINE not in path.parents]


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _cli_calls(tree: ast.AST) -> list[int]:
    """Lines that start a docker CLI: subprocess.X([...'docker'...]) with the program named literally."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS \
                and node.args and isinstance(node.args[0], ast.List) and node.args[0].elts:
            first = node.args[0].elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and Path(first.value).name in CLIS:
                lines.append(node.lineno)
    return lines


def test_only_the_engine_package_talks_to_docker():
    offenders = []
    for path in _outside_engine():
        tree = ast.parse(path.read_text(), str(path))
        for module in _imports(tree):
            if module.split(".")[0] in TALKERS:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
        offenders += [f"{path.relative_to(ROOT)}:{line} runs a docker CLI" for line in _cli_calls(tree)]
    assert not offenders, "\n".join(offenders)


def test_checks_read_facts_and_never_import_the_engine():
    offenders = [f"{path.relative_to(ROOT)} imports {module}"
                 for path in (PACKAGE / "checks").rglob("*.py")
                 for module in _imports(ast.parse(path.read_text()))
                 if module.startswith("graders.engine") or module.split(".")[0] in TALKERS]
    assert not offenders, "\n".join(offenders)


def test_the_scan_finds_what_it_looks_for():
    """The scan itself can fail: an SDK import and a docker CLI call are found."""
    tree = ast.parse("import docker.errors\nfrom requests import get\nimport subprocess\n"
                     "subprocess.run(['docker', 'compose', 'up'])\nsubprocess.run(['/usr/bin/docker-compose'])\n")
    assert {"docker.errors", "requests"} <= _imports(tree)
    assert _cli_calls(tree) == [4, 5]
