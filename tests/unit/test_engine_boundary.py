"""graders/engine/ is the only code that talks to Docker: nothing else imports the Docker SDK or
requests, or starts the docker or Compose CLIs; checks import nothing from engine/; and every error
that leaves engine/ is an EngineError (each function there that reaches the engine is a boundary)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine import boundary, machine_trouble
from graders.errors import EngineError
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


HANDLES = {"client", "session", "container"}


def _unguarded(tree: ast.Module) -> list[str]:
    """Public functions that reach the engine (take a client, session or container, or make a
    client) without the @boundary decorator."""
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        params = {a.arg for a in node.args.args + node.args.kwonlyargs}
        makes_client = any(isinstance(n, ast.Attribute) and n.attr == "from_env" for n in ast.walk(node))
        guarded = any(isinstance(d, ast.Name) and d.id == "boundary" for d in node.decorator_list)
        if (params & HANDLES or makes_client) and not guarded:
            found.append(node.name)
    return found


def test_every_engine_function_that_reaches_docker_is_a_boundary():
    offenders = [f"{path.relative_to(ROOT)}: {name}" for path in sorted(ENGINE.glob("*.py"))
                 for name in _unguarded(ast.parse(path.read_text()))]
    assert not offenders, "\n".join(offenders)


def test_the_boundary_scan_finds_an_unguarded_function():
    tree = ast.parse("def state(client, ref): pass\n@boundary\ndef ok(client): pass\n"
                     "def connect(): return docker.from_env()\ndef _private(client): pass\ndef pure(text): pass\n")
    assert _unguarded(tree) == ["state", "connect"]


def test_sdk_errors_leave_the_engine_as_engine_errors():
    from docker.errors import APIError
    from requests.exceptions import ConnectionError as Unreachable

    @boundary
    def refused() -> None:
        raise APIError("500 Server Error: the engine went away")

    @boundary
    def unreachable() -> None:
        raise Unreachable("connection aborted")

    @boundary
    def buggy() -> None:
        raise KeyError("a bug in the grader stays a bug")

    with pytest.raises(EngineError, match="the engine went away"):
        refused()
    with pytest.raises(EngineError, match="connection aborted"):
        unreachable()
    with pytest.raises(KeyError):
        buggy()
    assert machine_trouble(EngineError("x")) and not machine_trouble(APIError("x")) and not machine_trouble(KeyError())


def test_a_dockerfile_refused_statically_loads_nothing_of_the_engine(tmp_path):
    """The answer to a Dockerfile that cannot be read comes without the SDK, requests or the stages
    (they load on first use): that is what keeps it under a third of a second."""
    (tmp_path / "Dockerfile").write_text("FORM python:3.11-slim\n")
    code = ("import sys; from pathlib import Path; from graders import course, pipeline; "
            "result = pipeline.grade(course.load().lab('01-basic-dockerfile'), Path(sys.argv[1])); "
            "print(result.score, sorted(m for m in ('docker', 'requests', 'rich', 'graders.stages', 'graders.engine.run') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split(" ", 1)[1].strip() == "[]", done.stdout
