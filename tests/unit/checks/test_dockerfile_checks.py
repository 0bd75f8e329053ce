"""The checks that read the Dockerfile itself: base image, exec form, hadolint, stages, pip's cache."""

import pytest

from graders.facts import Finding
from tests.unit.checks.helpers import MULTI, run, run03
from tests.unit.fakes import facts, image


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


def test_entrypoint_required():
    params = {"require_entrypoint": True}
    assert run03("exec_form", params, _facts=facts('FROM x\nENTRYPOINT ["python", "-m", "t"]\n')).fraction == 1
    assert "no ENTRYPOINT" in run03("exec_form", params, _facts=facts('FROM x\nCMD ["python"]\n')).message


def test_hadolint_costs_a_share_per_finding():
    findings = [Finding("DL3007", "warning", 1, "Using latest"), Finding("DL3059", "info", 3, "merge RUNs")]
    outcome = run("hadolint", lint=findings)
    assert outcome.fraction == 0.75 and "DL3007" in outcome.message
    assert run("hadolint", {"ignore": ["DL3007"]}, lint=findings).fraction == 1


@pytest.mark.parametrize(
    "text, fraction, words",
    [
        (MULTI, 1.0, "copies from 'builder'"),
        ("FROM python:3.11-slim\nCMD [\"x\"]\n", 0.0, "single stage"),
        (MULTI.replace("COPY --from=builder", "COPY"), 0.5, "copies nothing from a named"),
        (MULTI.replace("FROM python:3.11-slim\nCOPY", "FROM python:3.11\nCOPY"), 0.5, "not slim"),
        (MULTI.replace("--from=builder", "--from=0").replace(" AS builder", ""), 0.5, "named"),
    ],
)
def test_multi_stage(text, fraction, words):
    outcome = run("multi_stage", _facts=facts(text))
    assert outcome.fraction == fraction and words in outcome.message


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
    # uv: --no-cache or UV_NO_CACHE, `uv cache clean`, or a cache mount
    ("RUN uv pip install --system -r r.txt", [2]),
    ("RUN uv sync --locked", [2]),
    ("RUN uv pip sync r.txt", [2]),
    ("RUN uv pip install --system --no-cache -r r.txt", []),
    ("RUN uv sync --locked --no-cache", []),
    ("ENV UV_NO_CACHE=1\nRUN uv sync --locked", []),
    ("ENV PIP_NO_CACHE_DIR=1\nRUN uv sync --locked", [3]),  # pip's variable tells uv nothing
    ("RUN uv sync --locked && uv cache clean", []),
    ("RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked", []),
    ("RUN pip install --no-cache-dir uv && uv pip install --system --no-cache x", []),
])
def test_pip_told_to_keep_no_cache(lines, careless):
    from graders.checks.pip_cache import careless_installs
    from graders.dockerfile import parse

    found = careless_installs(parse(f"FROM python:3.11-slim\n{lines}\n"), {})
    assert [line for line, _, _ in found] == careless


def test_pip_practice_judged_even_when_the_network_left_no_cache():
    from graders.checks.pip_cache import FIND_PIP_CACHE

    told_nothing = facts("FROM python:3.11-slim\nRUN pip install -r requirements.txt\nCMD [\"x\"]\n",
                         inside={FIND_PIP_CACHE: (0, "")})
    outcome = run("pip_no_cache", _facts=told_nothing)
    assert outcome.fraction == 0 and "line 2" in outcome.message and "without --no-cache-dir" in outcome.message
    told_by_base = facts("FROM python:3.11-slim\nRUN pip install -r requirements.txt\nCMD [\"x\"]\n",
                         inside={FIND_PIP_CACHE: (0, "")}, image=image(env={"PIP_NO_CACHE_DIR": "1"}))
    assert run("pip_no_cache", _facts=told_by_base).fraction == 1

