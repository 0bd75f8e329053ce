"""Every check, on fake facts: what passes, what fails, and what the message says."""

import pytest

from graders import checks
from graders.facts import Finding
from tests.unit.fakes import container, facts, image, response, steps


def run(type_name, params=None, **fact_changes):
    check = checks.get(type_name)
    return check.grade(check.Params.model_validate(params or {}), fact_changes.pop("_facts", None) or facts(**fact_changes))


@pytest.mark.parametrize(
    "line, fraction, words",
    [
        ("FROM python:3.11-slim", 1.0, "pinned and slim"),
        ("FROM python:3.11", 0.5, "not a slim variant"),
        ("FROM python:slim", 0.5, "not pinned"),
        ("FROM python:latest", 0.0, "'latest' moves"),
        ("FROM python", 0.0, "not pinned"),
        ("FROM python:3.11-slim@sha256:abc", 1.0, "pinned"),
        ("FROM registry.local:5000/ml/python:3.11-slim", 1.0, "pinned"),
    ],
)
def test_base_image(line, fraction, words):
    outcome = run("base_image", _facts=facts(f"{line}\nCMD [\"x\"]\n"))
    assert outcome.fraction == fraction and words in outcome.message


def test_base_image_follows_stage_chains():
    outcome = run("base_image", _facts=facts("FROM python:3.11-slim AS base\nFROM base\nCMD [\"x\"]\n"))
    assert outcome.fraction == 1.0 and "line 1" in outcome.message


def test_builds():
    assert run("builds").fraction == 1
    from graders.facts import Build

    failed = Build(False, None, "buildkit", 1.0, "#5 ERROR: boom\nfailed", [], "boom", 7)
    outcome = run("builds", build=failed)
    assert outcome.fraction == 0 and "line 7" in outcome.message and "boom" in outcome.message


@pytest.mark.parametrize(
    "text, passed, words",
    [
        ('FROM x\nCMD ["uvicorn", "a:b"]\n', True, "exec form"),
        ("FROM x\nCMD uvicorn a:b\n", False, "shell form"),
        ('FROM x\nENTRYPOINT python -m a\nCMD ["--port", "1"]\n', False, "ENTRYPOINT is in shell form"),
        ("FROM x\nRUN true\n", False, "no CMD or ENTRYPOINT"),
        ('FROM x AS a\nCMD ["y"]\nFROM a\nRUN true\n', True, "exec form"),
    ],
)
def test_exec_form(text, passed, words):
    outcome = run("exec_form", _facts=facts(text))
    assert (outcome.fraction == 1) is passed and words in outcome.message


def test_exposed_port():
    assert run("exposed_port", {"port": 8000}).fraction == 1
    outcome = run("exposed_port", {"port": 8000}, image=image(exposed_ports=["80/tcp"]))
    assert outcome.fraction == 0 and "80/tcp" in outcome.message


def test_files_absent_partial_by_group():
    from graders.checks.files_absent import LIST_FILES

    listing = "/app/app/main.py\n/app/tests/test_app.py\n/app/lab.ipynb\n/usr/lib/x/tests/test_y.py\n"
    params = {"groups": {"tests": ["*/tests/test_*.py"], "notebooks": ["*.ipynb"], "git": ["*/.git"]}}
    outcome = run("files_absent", params, inside={LIST_FILES: (0, listing)})
    assert outcome.fraction == pytest.approx(1 / 3)
    assert "/app/tests/test_app.py" in outcome.message and "git" not in outcome.evidence["found"]
    assert run("files_absent", params, inside={LIST_FILES: (0, "/app/app/main.py\n")}).fraction == 1


def test_hadolint_costs_a_share_per_finding():
    findings = [Finding("DL3007", "warning", 1, "Using latest"), Finding("DL3059", "info", 3, "merge RUNs")]
    outcome = run("hadolint", lint=findings)
    assert outcome.fraction == 0.75 and "DL3007" in outcome.message
    assert run("hadolint", {"ignore": ["DL3007"]}, lint=findings).fraction == 1


def test_healthcheck():
    assert run("healthcheck").fraction == 1
    assert "no HEALTHCHECK" in run("healthcheck", image=image(healthcheck=None)).message
    curl = run("healthcheck", container=container(health="unhealthy", health_log=["/bin/sh: 1: curl: not found"]))
    assert curl.fraction == 0 and "curl" in curl.message
    never = run("healthcheck", container=container(health="starting", health_log=["refused"]))
    assert never.fraction == 0 and "never became healthy" in never.message


def test_http_cases_give_partial_credit():
    params = {"cases": [
        {"path": "/health", "status": 200, "within_ms": 100},
        {"method": "POST", "path": "/predict", "json": {"f": [1]}, "expect": {"class": "setosa"}},
    ]}
    good = {"GET /health": response(), 'POST /predict {"f": [1]}': response(body='{"class": "setosa"}')}
    assert run("http", params, http=good).fraction == 1
    wrong = dict(good, **{'POST /predict {"f": [1]}': response(body='{"class": "virginica"}')})
    outcome = run("http", params, http=wrong)
    assert outcome.fraction == 0.5 and "virginica" in outcome.message
    slow = dict(good, **{"GET /health": response(ms=900)})
    assert "over the 100 ms budget" in run("http", params, http=slow).message


def test_layer_cache():
    good = steps(("COPY requirements.txt .", True), ("RUN pip install -r requirements.txt", True), ("COPY app/ ./app/", False))
    assert run("layer_cache", rebuild=_build(good)).fraction == 1
    bad = steps(("COPY . .", False), ("RUN pip install -r requirements.txt", False))
    outcome = run("layer_cache", rebuild=_build(bad))
    assert outcome.fraction == 0 and "ran again" in outcome.message
    unchanged = steps(("RUN pip install x", True), ("COPY app/ ./app/", True))
    assert "changed nothing" in run("layer_cache", rebuild=_build(unchanged)).message
    assert "no build step installs" in run("layer_cache", rebuild=_build(steps(("COPY . .", False)))).message


def test_non_root_user():
    from graders.checks.non_root import PROCESS_UID

    assert run("non_root_user", inside={PROCESS_UID: 10001}).fraction == 1
    assert run("non_root_user", image=image(user=""), inside={PROCESS_UID: 0}).fraction == 0
    assert run("non_root_user", image=image(user="root:root"), inside={PROCESS_UID: 0}).fraction == 0
    assert "runs as uid 0" in run("non_root_user", inside={PROCESS_UID: 0}).message


def test_pip_no_cache():
    from graders.checks.pip_cache import FIND_PIP_CACHE

    assert run("pip_no_cache", inside={FIND_PIP_CACHE: (0, "")}).fraction == 1
    outcome = run("pip_no_cache", inside={FIND_PIP_CACHE: (0, "48213\t/root/.cache/pip\n")})
    assert outcome.fraction == 0 and "/root/.cache/pip" in outcome.message


@pytest.mark.parametrize("lines, careless", [
    ("RUN pip install --no-cache-dir -r r.txt", []),
    ("RUN pip install -r r.txt", [2]),
    ("RUN python -m pip install x", [2]),
    ("RUN pip install --no-cache-dir x && python3 -m pip install y", [2]),  # each install counts
    ("RUN pip install x && pip cache purge", []),
    ("RUN pip install x && rm -rf /root/.cache/pip", []),
    ("RUN --mount=type=cache,target=/root/.cache/pip pip install x", []),
    ("RUN export PIP_NO_CACHE_DIR=1 && pip install x", []),
    ("ENV PIP_NO_CACHE_DIR=1\nRUN pip install x", []),
    ("RUN pip install x\nENV PIP_NO_CACHE_DIR=1", [2]),  # set too late for that install
    ("RUN <<EOF\npip install x\nEOF", [2]),
    ("RUN apt-get install -y python3-pip", []),
])
def test_pip_told_to_keep_no_cache(lines, careless):
    from graders.checks.pip_cache import careless_installs
    from graders.dockerfile import parse

    found = careless_installs(parse(f"FROM python:3.11-slim\n{lines}\n"), {})
    assert [line for line, _ in found] == careless


def test_pip_practice_judged_even_when_the_network_left_no_cache():
    from graders.checks.pip_cache import FIND_PIP_CACHE

    told_nothing = facts("FROM python:3.11-slim\nRUN pip install -r requirements.txt\nCMD [\"x\"]\n",
                         inside={FIND_PIP_CACHE: (0, "")})
    outcome = run("pip_no_cache", _facts=told_nothing)
    assert outcome.fraction == 0 and "line 2" in outcome.message and "without --no-cache-dir" in outcome.message
    told_by_base = facts("FROM python:3.11-slim\nRUN pip install -r requirements.txt\nCMD [\"x\"]\n",
                         inside={FIND_PIP_CACHE: (0, "")}, image=image(env={"PIP_NO_CACHE_DIR": "1"}))
    assert run("pip_no_cache", _facts=told_by_base).fraction == 1


def _read_context(folder, paths):
    """The fact the static stage makes from the folder's ignore file."""
    from graders.engine import context
    from graders.facts import BuildContext

    found = context.ignore_file(folder)
    return BuildContext(found.name if found else None, context.excluded(folder, paths))


def test_ignore_file_judged_with_the_image(tmp_path):
    from graders.checks.files_absent import LIST_FILES

    params = {"groups": {"tests": ["*/tests/test_*.py"], "git": ["*/.git"]},
              "context": {"tests": ["tests/test_app.py"], "git": [".git/HEAD"], "secrets": [".env"]}}
    paths = checks.get("files_absent").context_paths(checks.get("files_absent").Params.model_validate(params))
    assert paths == ["tests/test_app.py", ".git/HEAD", ".env"]
    clean = {LIST_FILES: (0, "/app/app/main.py\n")}
    folder = facts(inside=clean)
    folder.context = _read_context(tmp_path, paths)
    none = run("files_absent", params, _facts=folder)
    assert none.fraction == 0.5 and "there is no .dockerignore" in none.message  # selective COPY, no file
    (tmp_path / ".dockerignore").write_text("# keep out\ntests/\n.git\n")
    folder.context = _read_context(tmp_path, paths)
    some = run("files_absent", params, _facts=folder)
    assert some.fraction == pytest.approx(0.5 + 0.5 * 2 / 3) and "secrets (.env)" in some.message
    (tmp_path / ".dockerignore").write_text("tests/\n.git\n.env\n")
    folder.context = _read_context(tmp_path, paths)
    assert run("files_absent", params, _facts=folder).fraction == 1
    (tmp_path / "Dockerfile.dockerignore").write_text(".git\n")  # BuildKit reads this one first
    folder.context = _read_context(tmp_path, paths)
    assert "tests (tests/test_app.py)" in run("files_absent", params, _facts=folder).message


def test_stops_on_signal():
    from graders.facts import Stopped

    stopped = run("stops_on_signal", stop=Stopped("SIGTERM", ["uvicorn", "app.main:app"], 0.4, True, 0, 5.0))
    assert stopped.fraction == 1 and "SIGTERM stopped it in 0.4 s" in stopped.message
    held = run("stops_on_signal", stop=Stopped("SIGTERM", ["/bin/sh", "-c", "uvicorn app.main:app"], 5.0, False, None, 5.0))
    assert held.fraction == 0 and "PID 1 is `/bin/sh -c 'uvicorn app.main:app'`" in held.message
    gone = run("stops_on_signal", stop=Stopped("SIGTERM", ["uvicorn"], 0.0, True, 1, 5.0))
    assert gone.fraction == 0 and "already exited" in gone.message


@pytest.mark.parametrize("added_mb, fraction", [(100, 1.0), (320, 1.0), (420, 0.5), (520, 0.0), (900, 0.0)])
def test_size_added_is_linear_between_bounds(added_mb, fraction):
    outcome = run("size_added", {"full_mb": 320, "zero_mb": 520},
                  image=image(size_bytes=160_000_000 + added_mb * 1_000_000))
    assert outcome.fraction == pytest.approx(fraction)


def _build(step_list):
    from graders.facts import Build

    return Build(True, "sha256:z", "buildkit", 1.0, "", step_list)
