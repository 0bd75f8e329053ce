"""graders/engine/ is the only code that talks to Docker: nothing else imports the Docker SDK or
requests, or starts the docker or Compose CLIs; checks import nothing from engine/; and every error
that leaves engine/ is an EngineError (each function there that reaches the engine is a boundary); the
stages and checks reach it only through its interface, graders.engine.api."""

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


STARTS_PROCESSES = {
    "graders/batch/cluster.py": "a Dask worker runs `python -m graders check` (the grader itself, not Docker) "
                                "in a process group it can stop",
    "graders/commands/watch.py": "`check --watch` runs each check as `python -m graders check` (the grader itself), "
                                 "a child it stops when a file changes",
}
"""The modules outside engine/ that start a process, each with what it starts."""


def _violations(path: str, tree: ast.AST) -> list[str]:
    found = [f"{path} imports {m}" for m in _imports(tree) | _dynamic_imports(tree) if m.split(".")[0] in TALKERS]
    found += [f"{path}:{line} runs a docker CLI" for line in _cli_calls(tree)]
    found += [f"{path}:{line} uses a Docker SDK object" for line in _sdk_calls(tree)]
    if path not in STARTS_PROCESSES:
        found += [f"{path} starts a process ({how})" for how in _process_starts(tree)]
    return found


def test_only_the_engine_package_talks_to_docker():
    offenders = [v for path in _outside_engine()
                 for v in _violations(str(path.relative_to(ROOT)), ast.parse(path.read_text(), str(path)))]
    assert not offenders, "\n".join(offenders)


PLANTED = [  # each a way out of engine/ that the scan must catch
    "import docker",
    "from docker.models.containers import Container",
    "import requests.exceptions",
    "docker = __import__('docker')",
    "import importlib\nsdk = importlib.import_module('docker')",
    "import subprocess\ncommand = ['docker', 'ps']\nsubprocess.run(command)",
    "from subprocess import run\nrun(('docker', 'ps'))",
    "import subprocess\nsubprocess.run('docker ps', shell=True)",
    "import subprocess\nsubprocess.run(['hadolint', 'Dockerfile'])",
    "import subprocess\nsubprocess.Popen(['docker', 'compose', 'up'])",
    "import os\nos.system('docker ps')",
    "import os\nos.execvp('dive', ['dive', 'image'])",
    "from os import popen\npopen('docker ps')",
    "import asyncio\nasyncio.create_subprocess_exec('docker', 'ps')",
    "def look(handle):\n    return handle.containers.list()",
    "def look(box):\n    return box.exec_run(['id'])",
    "def look(engine):\n    return engine.images.get('python:3.11-slim')",
]


@pytest.mark.parametrize("source", PLANTED)
def test_a_planted_way_out_is_found(source):
    assert _violations("graders/planted.py", ast.parse(source)), source


def test_what_stays_inside_is_not_flagged():
    fine = ("import os\nimport json\nos.environ.get('X')\nos.path.join('a', 'b')\n"
            "def look(facts):\n    return facts.image.layers, facts.stack.services.get('api')\n")
    assert _violations("graders/fine.py", ast.parse(fine)) == []


def test_checks_read_facts_and_never_import_the_engine():
    offenders = [f"{path.relative_to(ROOT)} imports {module}"
                 for path in (PACKAGE / "checks").rglob("*.py")
                 for module in _imports(ast.parse(path.read_text()))
                 if module.startswith("graders.engine") or module.split(".")[0] in TALKERS]
    assert not offenders, "\n".join(offenders)


FILE_READS = {"open", "read_text", "read_bytes", "glob", "rglob", "iterdir", "walk", "scandir", "listdir", "submission"}


def _file_reads(tree: ast.AST) -> list[str]:
    """Where a module opens or lists files, or reaches for the learner's own folder (`facts.submission`)."""
    return [f"line {node.lineno}: {getattr(node, 'attr', getattr(node, 'id', ''))}" for node in ast.walk(tree)
            if (isinstance(node, ast.Attribute) and node.attr in FILE_READS)
            or (isinstance(node, ast.Name) and node.id == "open")]


def test_checks_read_the_facts_and_never_the_learners_files():
    """What a check reads went through the copy stage's guards (no links, no FIFOs, sizes bounded)."""
    offenders = [f"{path.relative_to(ROOT)} {read}" for path in (PACKAGE / "checks").rglob("*.py")
                 for read in _file_reads(ast.parse(path.read_text()))]
    assert not offenders, "\n".join(offenders)
    planted = ("def pins(facts):\n    return [p.read_text() for p in facts.submission.glob('requirements*.txt')]\n"
               "def raw(path):\n    return open(path).read()\n")
    assert len(_file_reads(ast.parse(planted))) == 4


def test_the_scan_finds_what_it_looks_for():
    """The scan itself can fail: an SDK import and a docker CLI call are found."""
    tree = ast.parse("import docker.errors\nfrom requests import get\nimport subprocess\n"
                     "subprocess.run(['docker', 'compose', 'up'])\nsubprocess.run(['/usr/bin/docker-compose'])\n")
    assert {"docker.errors", "requests"} <= _imports(tree)
    assert _cli_calls(tree) == [4, 5]


HANDLES = {"client", "session", "container"}
SDK_CALLS = {"from_env", "DockerClient", "APIClient", "exec_run", "put_archive", "get_archive"}
COLLECTIONS = {"containers", "images", "volumes", "networks", "api"}
PROCESS_MODULES = {"subprocess", "pty", "asyncio.subprocess"}
OS_STARTS = ("system", "popen", "exec", "spawn", "posix_spawn", "fork")


def _dynamic_imports(tree: ast.AST) -> set[str]:
    """Modules named to __import__ or importlib.import_module."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def _process_starts(tree: ast.AST) -> list[str]:
    """Every way a module could start a process: the modules that do it, and os's and asyncio's calls."""
    found = [f"imports {m}" for m in _imports(tree) | _dynamic_imports(tree) if m in PROCESS_MODULES]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "os" and node.attr.startswith(OS_STARTS) or node.attr.startswith("create_subprocess"):
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "asyncio") and any(
                a.name.startswith(OS_STARTS) or a.name.startswith("create_subprocess") for a in node.names):
            found.append(f"line {node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
    return found


def _sdk_calls(tree: ast.AST) -> list[int]:
    """Lines that use a Docker SDK object, however it arrived: `x.containers.get(…)`, `x.exec_run(…)`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (node.attr in SDK_CALLS or (
                isinstance(node.value, ast.Attribute) and node.value.attr in COLLECTIONS
                and node.attr in ("get", "list", "run", "create", "build", "pull", "prune", "remove"))):
            lines.append(node.lineno)
    return lines


def _reaches(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    params = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    return bool(params & HANDLES) or bool(_sdk_calls(node)) or any(
        isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "subprocess" for n in ast.walk(node))


def _calls(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A protocol's declaration: a docstring and `...`, nothing that runs."""
    return all(isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant) for item in node.body)


def _unguarded(tree: ast.Module) -> list[str]:
    """Public functions and methods (async ones too) that reach the engine — take a client, session or
    container, use an SDK object, start a process, or call a private helper of the module that does —
    without the @boundary decorator. Private ones are reached only through a public one."""
    units = [(node, "") for node in tree.body] + [
        (item, f"{node.name}.") for node in tree.body if isinstance(node, ast.ClassDef) for item in node.body]
    functions = [(n, owner) for n, owner in units
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _stub(n)]
    helpers = {n.name for n, owner in functions if n.name.startswith("_") and not owner and _reaches(n)}
    for _ in range(3):  # helpers that call helpers
        helpers |= {n.name for n, owner in functions if n.name.startswith("_") and not owner and _calls(n) & helpers}
    found = []
    for node, owner in functions:
        if node.name.startswith("_"):
            continue
        guarded = any(isinstance(d, ast.Name) and d.id == "boundary" for d in node.decorator_list)
        if (_reaches(node) or _calls(node) & helpers) and not guarded:
            found.append(owner + node.name)
    return found


def test_every_engine_function_that_reaches_docker_is_a_boundary():
    offenders = [f"{path.relative_to(ROOT)}: {name}" for path in sorted(ENGINE.glob("*.py"))
                 for name in _unguarded(ast.parse(path.read_text()))]
    assert not offenders, "\n".join(offenders)


def test_the_boundary_scan_finds_an_unguarded_function():
    tree = ast.parse("def state(client, ref): pass\n@boundary\ndef ok(client): pass\n"
                     "def connect(): return docker.from_env()\ndef _private(client): pass\ndef pure(text): pass\n"
                     "async def later(session): pass\ndef lint(path): return subprocess.run(['hadolint', path])\n"
                     "def peek(box): return box.exec_run(['id'])\n"
                     "class Run:\n    def cleanup(self): self.handle.containers.list()\n"
                     "    @boundary\n    def fine(self, client): pass\n    def pure(self): return 1\n"
                     "def _run(args): return subprocess.run(args)\ndef _again(args): return _run(args)\n"
                     "def config(path): return _again(['compose', 'config'])\n"
                     "class Api(Protocol):\n    def ask(self, container: str) -> str: ...\n"
                     "class Real:\n    def ask(self, container: str) -> str: return self._c.exec_run(container)\n")
    assert _unguarded(tree) == ["state", "connect", "later", "lint", "peek", "config", "Run.cleanup", "Real.ask"]


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

    @boundary
    def no_cli() -> None:
        raise FileNotFoundError(2, "No such file or directory", "docker")

    @boundary
    def too_long() -> None:
        raise subprocess.TimeoutExpired(["docker", "compose", "up"], 120)

    with pytest.raises(EngineError, match="No such file or directory"):
        no_cli()
    with pytest.raises(EngineError, match="timed out after 120 seconds"):
        too_long()

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


SDK = TALKERS | {"testinfra"}
STAGE_MODULES = ["graders/stages.py", "graders/compose_stages.py", "graders/runner.py", "graders/submission.py",
                 "graders/scoring.py", "graders/facts.py", *sorted(str(p.relative_to(ROOT)) for p in (PACKAGE / "checks").glob("*.py"))]
"""Where the pipelines' work and the checks live: they reach Docker only through graders.engine.api."""


def _engine_imports(tree: ast.AST) -> set[str]:
    """The graders.engine modules a module imports, in any spelling (`from graders.engine import run`)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "graders.engine":
            found |= {f"graders.engine.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("graders.engine."):
            found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("graders.engine.")}
    found |= {m for m in _dynamic_imports(tree) if m.startswith("graders.engine.")}
    return found


PURE_SDK_USES = {
    "graders.engine.context": "docker-py's .dockerignore matcher: a pure function, no client and no engine call",
}
"""Engine modules that load the SDK for a pure function only, each with what it uses."""


def _sdk_free() -> set[str]:
    """The engine modules that hold no SDK object: neither they nor what they import from engine/ load it."""
    trees = {f"graders.engine.{p.stem}": ast.parse(p.read_text()) for p in ENGINE.glob("*.py") if p.stem != "__init__"}
    free = {name for name, tree in trees.items()
            if name in PURE_SDK_USES or not {m.split(".")[0] for m in _imports(tree)} & SDK}
    for _ in range(len(trees)):  # an engine module is free only when what it imports from engine/ is
        free = {name for name in free if _engine_imports(trees[name]) & set(trees) <= free}
    return free


def _through_the_interface(path: str, tree: ast.AST, free: set[str]) -> list[str]:
    return [f"{path} imports {module}, which holds Docker SDK objects: use graders.engine.api.Engine"
            for module in sorted(_engine_imports(tree)) if module in _sdk_free_candidates() and module not in free]


def _sdk_free_candidates() -> set[str]:
    return {f"graders.engine.{p.stem}" for p in ENGINE.glob("*.py") if p.stem != "__init__"}


def test_the_stages_and_checks_reach_the_engine_only_through_its_interface():
    free = _sdk_free()
    assert "graders.engine.api" in free and "graders.engine.run" not in free and "graders.engine.session" not in free
    offenders = [v for path in STAGE_MODULES
                 for v in _through_the_interface(path, ast.parse((ROOT / path).read_text()), free)]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("source", [
    "from graders.engine import run as run_mod",
    "from graders.engine.session import Session",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from graders.engine.client import DockerClient",
    "import graders.engine.inside",
    "import importlib\nimportlib.import_module('graders.engine.stack_state')",
    "def later():\n    from graders.engine import docker_engine",
])
def test_a_planted_sdk_module_in_a_stage_is_found(source):
    assert _through_the_interface("graders/stages.py", ast.parse(source), _sdk_free()), source
